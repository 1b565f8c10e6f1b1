"""The arithmetics the reference update rules run on.

The rules in :mod:`adamproofs.reference.rules` use Python's ``+ - * / **`` and
the few functions below, so the *same* code runs on:

- :class:`MPArithmetic`: mpmath floating point at a chosen precision (the oracle);
- :class:`IntervalArithmetic`: mpmath intervals, a guaranteed enclosure of the
  exact real-number result;
- :class:`SympyArithmetic`: sympy expressions (exact rationals or symbols), which
  the derivations use to obtain closed forms.

Each arithmetic owns a *private* mpmath context, so nothing here reads or
changes mpmath's global precision.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from typing import Any

import mpmath
from mpmath import libmp
from mpmath.ctx_iv import MPIntervalContext

from ..config import exact


class Arithmetic:
    """Interface: conversion of inputs and the non-operator functions the rules need."""

    name = "abstract"

    def number(self, value: Any) -> Any:
        """Convert an input exactly where possible (floats are dyadic rationals)."""
        raise NotImplementedError

    def sqrt(self, x: Any) -> Any:
        raise NotImplementedError

    def maximum(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def absolute(self, x: Any) -> Any:
        return abs(x)

    def is_zero(self, x: Any) -> bool:
        """True when ``x`` is exactly zero."""
        return x == 0

    def quotient(self, numerator: Any, denominator: Any) -> Any:
        """``numerator / denominator`` with the convention 0/0 := 0 (ε = 0, zero gradients)."""
        if self.is_zero(numerator):
            return self.number(0)
        return numerator / denominator

    def to_float(self, x: Any) -> float:
        """Nearest float64 (for intervals: of the midpoint)."""
        return float(x)


class MPArithmetic(Arithmetic):
    """mpmath binary floating point with ``dps`` decimal digits (round to nearest)."""

    name = "mp"

    def __init__(self, dps: int = 50) -> None:
        if not isinstance(dps, int) or dps < 16:
            raise ValueError(f"dps={dps!r} must be an int >= 16 (the oracle must beat float64)")
        self.dps = dps
        self.ctx = mpmath.MPContext()
        self.ctx.dps = dps
        self._mpf_type = type(self.ctx.mpf(0))

    def number(self, value: Any) -> Any:
        if isinstance(value, self._mpf_type):
            return value
        if hasattr(value, "_mpf_"):  # an mpf of any context: exact, whatever its precision
            return self.ctx.make_mpf(value._mpf_)
        if isinstance(value, float):
            return self.ctx.mpf(value)  # exact: a double has 53 bits
        if isinstance(value, str):
            return self.ctx.mpf(value)  # correctly rounded decimal
        q = exact(value)
        return self.ctx.mpf(q.numerator) / q.denominator

    def sqrt(self, x: Any) -> Any:
        return self.ctx.sqrt(x)

    def maximum(self, a: Any, b: Any) -> Any:
        return a if a >= b else b

    def __repr__(self) -> str:
        return f"MPArithmetic(dps={self.dps})"


class IntervalArithmetic(Arithmetic):
    """mpmath interval arithmetic: every value is an interval containing the exact result."""

    name = "iv"

    def __init__(self, dps: int = 50) -> None:
        if not isinstance(dps, int) or dps < 16:
            raise ValueError(f"dps={dps!r} must be an int >= 16")
        self.dps = dps
        self.ctx = MPIntervalContext()
        self.ctx.dps = dps

    def number(self, value: Any) -> Any:
        if isinstance(value, mpmath.mpf):
            return self.ctx.mpf(value)
        if isinstance(value, float):
            return self.ctx.mpf(value)
        if isinstance(value, self.ctx.mpf):
            return value
        q = exact(value)
        return self.ctx.mpf(q.numerator) / q.denominator

    def sqrt(self, x: Any) -> Any:
        return self.ctx.sqrt(x)

    def maximum(self, a: Any, b: Any) -> Any:
        (alo, ahi), (blo, bhi) = a._mpi_, b._mpi_
        lo = alo if libmp.mpf_cmp(alo, blo) >= 0 else blo
        hi = ahi if libmp.mpf_cmp(ahi, bhi) >= 0 else bhi
        return self.ctx.make_mpf((lo, hi))

    def is_zero(self, x: Any) -> bool:
        lo, hi = x._mpi_
        return lo == libmp.fzero and hi == libmp.fzero

    def to_float(self, x: Any) -> float:
        return float(x.mid)

    def __repr__(self) -> str:
        return f"IntervalArithmetic(dps={self.dps})"


class SympyArithmetic(Arithmetic):
    """Exact symbolic arithmetic: rationals stay rational, symbols stay symbols."""

    name = "sympy"

    def __init__(self) -> None:
        import sympy

        self.sp = sympy

    def number(self, value: Any) -> Any:
        sp = self.sp
        if isinstance(value, sp.Basic):
            return value
        if isinstance(value, str):
            return sp.Rational(value)
        q = Fraction(value) if isinstance(value, (int, Fraction)) else exact(value)
        return sp.Rational(q.numerator, q.denominator)

    def sqrt(self, x: Any) -> Any:
        return self.sp.sqrt(x)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.sp.Max(a, b)

    def absolute(self, x: Any) -> Any:
        return self.sp.Abs(x)

    def is_zero(self, x: Any) -> bool:
        return x == 0 or (isinstance(x, self.sp.Basic) and x.is_zero is True)

    def quotient(self, numerator: Any, denominator: Any) -> Any:
        if self.is_zero(numerator):
            return self.sp.Integer(0)
        return numerator / denominator

    def to_float(self, x: Any) -> float:
        return float(x)

    def __repr__(self) -> str:
        return "SympyArithmetic()"


@cache
def mp_arithmetic(dps: int) -> MPArithmetic:
    """A cached :class:`MPArithmetic` (contexts are cheap but not free to build)."""
    return MPArithmetic(dps)


@cache
def interval_arithmetic(dps: int) -> IntervalArithmetic:
    return IntervalArithmetic(dps)


def get_arithmetic(mode: str | Arithmetic, dps: int = 50) -> Arithmetic:
    """``"mp"``, ``"iv"`` or ``"sympy"`` (or an :class:`Arithmetic` instance)."""
    if isinstance(mode, Arithmetic):
        return mode
    if mode == "mp":
        return mp_arithmetic(dps)
    if mode == "iv":
        return interval_arithmetic(dps)
    if mode == "sympy":
        return SympyArithmetic()
    raise ValueError(f"arithmetic={mode!r} is not one of 'mp', 'iv', 'sympy'")
