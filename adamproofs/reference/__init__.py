"""The reference optimizer (oracle): mpmath at any precision, intervals, or sympy.

The arithmetic is chosen by name (:func:`get_arithmetic`). ``"mp"`` (the default)
computes on MPFR (gmpy2) when installed and records the same mpmath numbers, bit
for bit, as ``"mpmath"``, which always computes on mpmath.

>>> from adamproofs import reference
>>> from adamproofs.config import Adam
>>> theta, state = reference.step(Adam(lr=0.1), [2.0], [3.0])
>>> float(theta[0])  # first step is -lr * g/(|g| + eps)
1.9000000003333333
"""

from ._arithmetic import (
    MAX_DPS,
    MIN_DPS,
    Arithmetic,
    FloatArithmetic,
    IntervalArithmetic,
    MPArithmetic,
    SympyArithmetic,
)
from ._mpfr import GmpyArithmetic
from ._oracle import Storage, Trajectory, run, step
from ._registry import ARITHMETICS, get_arithmetic
from ._rounding import round_to_format
from .rules import RULES, initial_state, rule_for

__all__ = [
    "ARITHMETICS",
    "MAX_DPS",
    "MIN_DPS",
    "RULES",
    "Arithmetic",
    "FloatArithmetic",
    "GmpyArithmetic",
    "IntervalArithmetic",
    "MPArithmetic",
    "Storage",
    "SympyArithmetic",
    "Trajectory",
    "get_arithmetic",
    "initial_state",
    "round_to_format",
    "rule_for",
    "run",
    "step",
]
