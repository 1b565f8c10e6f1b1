"""The nonstationary property: gradients from the implementation's own θ (moving target)."""

from __future__ import annotations

from .._strategies import nonstationary
from ._property import Property

PROPERTY = Property(
    "nonstationary", "gradients from the implementation's own θ (moving target)", 12, nonstationary
)
