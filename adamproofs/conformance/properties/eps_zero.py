"""The eps_zero property: ε = 0."""

from __future__ import annotations

from .._strategies import eps_zero
from ._property import Property

PROPERTY = Property("eps_zero", "ε = 0", 9, eps_zero)
