"""Shared test configuration: Hypothesis profiles chosen by HYPOTHESIS_PROFILE.

- ``dev`` (default): quick local runs;
- ``ci``: extends Hypothesis' own ``ci`` profile (derandomized, no deadline);
- ``thorough``: many more examples, for occasional deep runs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile("ci", parent=settings.get_profile("ci"), max_examples=60, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
