"""The groups property: two parameter groups with their own hyperparameters."""

from __future__ import annotations

from .._strategies import groups
from ._property import Property

PROPERTY = Property(
    "groups",
    "two parameter groups with their own hyperparameters",
    15,
    groups,
    needs=frozenset({"groups"}),
)
