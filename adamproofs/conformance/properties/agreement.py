"""The agreement property: random configurations and sequences agree with the oracle."""

from __future__ import annotations

from .._strategies import agreement
from ._property import Property

PROPERTY = Property(
    "agreement", "random configurations and sequences agree with the oracle", 1, agreement
)
