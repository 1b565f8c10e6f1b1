"""Diagnosis: which known defect (or legitimate variant) explains a failing trajectory.

:func:`diagnose` drives an implementation on a few diagnostic trajectories and searches
the legitimate variants and the :data:`CATALOGUE` of known defects (single and in pairs)
for the model that explains its steps within the error bound.
"""

from __future__ import annotations

from ._catalogue import CATALOGUE, Defect
from ._model import Diagnosis
from ._search import diagnose, diagnose_failure

__all__ = ["CATALOGUE", "Defect", "Diagnosis", "diagnose", "diagnose_failure"]
