"""The long_horizon property: hundreds of steps, β2 near 1."""

from __future__ import annotations

from .._strategies import long_horizon
from ._property import Property

PROPERTY = Property("long_horizon", "hundreds of steps, β2 near 1", 7, long_horizon)
