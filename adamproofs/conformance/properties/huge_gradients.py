"""The huge_gradients property: gradients up to the dtype's safe maximum."""

from __future__ import annotations

from .._strategies import huge_gradients
from ._property import Property

PROPERTY = Property("huge_gradients", "gradients up to the dtype's safe maximum", 8, huge_gradients)
