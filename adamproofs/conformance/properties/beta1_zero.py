"""The beta1_zero property: β1 = 0."""

from __future__ import annotations

from .._strategies import beta1_zero
from ._property import Property

PROPERTY = Property("beta1_zero", "β1 = 0", 10, beta1_zero)
