"""The reference optimizer (oracle): mpmath at any precision, intervals, or sympy.

mpmath results are computed on MPFR (gmpy2) when installed, bit for bit the same
(see :func:`run`; ``arithmetic="mpmath"`` forces plain mpmath).

>>> from adamproofs import reference
>>> from adamproofs.config import Adam
>>> theta, state = reference.step(Adam(lr=0.1), [2.0], [3.0])
>>> float(theta[0])  # first step is -lr * g/(|g| + eps)
1.9000000003333333
"""

from .arithmetic import (
    Arithmetic,
    IntervalArithmetic,
    MPArithmetic,
    SympyArithmetic,
    get_arithmetic,
)
from .oracle import Storage, Trajectory, run, step
from .rounding import round_to_format
from .rules import RULES, initial_state, rule_for

__all__ = [
    "RULES",
    "Arithmetic",
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
