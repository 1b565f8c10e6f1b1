"""The first_step property: one step from random θ, g: Δ1 = α g/(|g|+ε)."""

from __future__ import annotations

from .._strategies import first_step
from ._property import Property

PROPERTY = Property("first_step", "one step from random θ, g: Δ1 = α g/(|g|+ε)", 0, first_step)
