"""The many_params property: 3-6 arrays of equal and different shapes (0-d, empty)."""

from __future__ import annotations

from .._strategies import many_params
from ._property import Property

PROPERTY = Property(
    "many_params", "3-6 arrays of equal and different shapes (0-d, empty)", 13, many_params
)
