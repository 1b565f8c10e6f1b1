"""The conformance test the pytest plugin collects when a target is given.

``test_adam_conforms`` is parametrized by the plugin (``pytest_generate_tests``) with one
row per property and dtype, plus ``variant`` (the fingerprint): its test IDs, such as
``test_adam_conforms[agreement-float32]``, are stable and can be pasted back into pytest
(``pytest --adam-target=... 'PATH::test_adam_conforms[agreement-float32]'``).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.adamproofs


def test_adam_conforms(
    adamproofs_row: tuple[str | None, str], request: pytest.FixtureRequest
) -> None:
    """One row of the conformance check (see :mod:`adamproofs.pytest_plugin`)."""
    from .pytest_plugin import run_row

    run_row(request.config, *adamproofs_row, test_id=request.node.name)
