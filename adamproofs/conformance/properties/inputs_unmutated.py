"""The inputs_unmutated property: gradients and initial values are never written."""

from __future__ import annotations

from .._strategies import inputs_unmutated
from ._property import Property

PROPERTY = Property(
    "inputs_unmutated", "gradients and initial values are never written", 16, inputs_unmutated
)
