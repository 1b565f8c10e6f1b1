"""The late_first_gradient property: parameters skipped (grad None) for a while."""

from __future__ import annotations

from .._strategies import late_first_gradient
from ._property import Property

PROPERTY = Property(
    "late_first_gradient",
    "parameters skipped (grad None) for a while",
    14,
    late_first_gradient,
    needs=frozenset({"skip"}),
)
