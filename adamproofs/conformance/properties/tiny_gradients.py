"""The tiny_gradients property: gradients down to the dtype's safe minimum."""

from __future__ import annotations

from .._strategies import tiny_gradients
from ._property import Property

PROPERTY = Property(
    "tiny_gradients", "gradients down to the dtype's safe minimum", 3, tiny_gradients
)
