"""The arithmetics the reference update rules run on.

The rules in :mod:`adamproofs.reference.rules` use Python's ``+ - * / **`` and
the few functions below, so the *same* code runs on:

- :class:`MPArithmetic`: mpmath binary floating point with ``dps`` decimal digits
  (every ``+ - * / sqrt`` correctly rounded to nearest), the oracle;
- :class:`~adamproofs.reference._mpfr.GmpyArithmetic`: the same numbers on MPFR
  (:mod:`adamproofs.reference._mpfr`);
- :class:`IntervalArithmetic`: mpmath intervals, a guaranteed enclosure of the
  exact real-number result;
- :class:`SympyArithmetic`: sympy expressions (exact rationals or symbols), which
  the derivations use to obtain closed forms.

Each arithmetic owns a *private* context, so nothing here reads or changes
mpmath's global precision. :func:`adamproofs.reference.get_arithmetic` picks one
by name.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from functools import cache
from typing import Any, ClassVar

import mpmath
from mpmath import libmp
from mpmath.ctx_iv import MPIntervalContext

from ..config import exact

#: The precision range, in decimal digits, of every arithmetic that has one.
#: 16 digits is the least that beats float64 (53 bits ≈ 15.95 digits). The top,
#: 10 000 digits (33 223 bits), bounds the cost of one update (about a millisecond
#: per coordinate, against tens of microseconds at 50 digits) and of one stored
#: value (about 4 KiB), while leaving two orders of magnitude above what any
#: float64 question needs: 17 digits for the answer, at most about 16 more lost to
#: cancellation in 1 - β^t, and log10(T) to rounding over T steps.
MIN_DPS = 16
MAX_DPS = 10_000


def check_dps(dps: object) -> int:
    """``dps`` itself when it is an int in ``[MIN_DPS, MAX_DPS]``; else a ValueError naming it."""
    if isinstance(dps, bool) or not isinstance(dps, int) or not MIN_DPS <= dps <= MAX_DPS:
        raise ValueError(
            f"dps={dps!r} must be an int from {MIN_DPS} to {MAX_DPS} "
            f"(at least float64's precision; at most {MAX_DPS} digits, "
            f"which bounds the cost of every operation)"
        )
    return dps


def normalized(mpf_value: tuple) -> tuple:
    """A nonzero finite ``_mpf_`` tuple ``(sign, man, exp, bc)`` in mpmath's normal form.

    The same number, ``(-1)^sign · man · 2^exp``. mpmath keeps mantissas odd and
    compares tuples; gmpy2's ``mpfr._mpf_`` need not be normalized, so it is
    normalized here (at its own bit count: no rounding).
    """
    sign, man, exp, bc = mpf_value
    if man & 1:
        return mpf_value
    return libmp.normalize(sign, libmp.MPZ(man), exp, bc, bc, libmp.round_nearest)


class Arithmetic:
    """Interface: conversion of inputs and the non-operator functions the rules need.

    A run converts its inputs with :meth:`number`, applies the rules inside
    :meth:`scope`, and records every value as :meth:`result`, a number of
    :attr:`results`.
    """

    name: ClassVar[str] = "abstract"

    def number(self, value: Any) -> Any:
        """Convert an input exactly where possible (floats are dyadic rationals)."""
        raise NotImplementedError

    def sqrt(self, x: Any) -> Any:
        """√x."""
        raise NotImplementedError

    def maximum(self, a: Any, b: Any) -> Any:
        """max(a, b)."""
        raise NotImplementedError

    def absolute(self, x: Any) -> Any:
        """|x|."""
        return abs(x)

    def is_zero(self, x: Any) -> bool:
        """True when ``x`` is exactly zero."""
        return bool(x == 0)

    def quotient(self, numerator: Any, denominator: Any) -> Any:
        """``numerator / denominator`` with the convention 0/0 := 0 (ε = 0, zero gradients)."""
        if self.is_zero(numerator):
            return self.number(0)
        return numerator / denominator

    def scope(self) -> contextlib.AbstractContextManager[Any]:
        """Context in which the operators on this arithmetic's numbers round as it says.

        Nothing to enter here: mpmath and sympy numbers carry their context.
        """
        return contextlib.nullcontext()

    @property
    def results(self) -> Arithmetic:
        """The arithmetic whose numbers a run records (this one)."""
        return self

    def result(self, x: Any) -> Any:
        """``x`` as a number of :attr:`results`, exactly (here: ``x`` itself)."""
        return x

    def result_row(self, xs: list) -> list:
        """:meth:`result` of every element (the list itself when nothing changes)."""
        return xs


class FloatArithmetic(Arithmetic):
    """Binary floating point with ``dps`` decimal digits: every value is one number m·2^e."""

    dps: int

    def with_dps(self, dps: int) -> FloatArithmetic:
        """The same kind of arithmetic at ``dps`` digits."""
        raise NotImplementedError

    def maximum(self, a: Any, b: Any) -> Any:
        return a if a >= b else b


class MPArithmetic(FloatArithmetic):
    """mpmath binary floating point with ``dps`` decimal digits (round to nearest even).

    Its precision is ``prec = dps_to_prec(dps)`` bits; ``+ - * / sqrt`` are correctly
    rounded, and ``β**t`` is exact while ``bits(β)·t < 1000``, otherwise computed
    with ``4·log2(t) + 4`` guard bits.
    """

    name = "mp"

    def __init__(self, dps: int = 50) -> None:
        self.dps = check_dps(dps)
        self.ctx = mpmath.MPContext()
        self.ctx.dps = dps
        self.mpf_type = type(self.ctx.mpf(0))

    def with_dps(self, dps: int) -> MPArithmetic:
        return mp_arithmetic(check_dps(dps))

    def number(self, value: Any) -> Any:
        if isinstance(value, self.mpf_type):
            return value
        if hasattr(value, "_mpf_"):  # an mpf of any context, or an mpfr: exact
            if not value._mpf_[1]:  # zero, inf, nan (gmpy2 encodes them differently)
                return self.ctx.mpf(float(value))
            return self.ctx.make_mpf(normalized(value._mpf_))
        if isinstance(value, float):
            return self.ctx.mpf(value)  # exact: a double has 53 bits
        if isinstance(value, str):
            return self.ctx.mpf(value)  # correctly rounded decimal
        q = exact(value)
        return self.ctx.mpf(q.numerator) / q.denominator

    def sqrt(self, x: Any) -> Any:
        return self.ctx.sqrt(x)

    def __repr__(self) -> str:
        return f"MPArithmetic(dps={self.dps})"


class IntervalArithmetic(Arithmetic):
    """mpmath interval arithmetic: every value is an interval [a, b] containing the exact result.

    Operations round the lower end down and the upper end up at ``dps`` digits.
    """

    name = "iv"

    def __init__(self, dps: int = 50) -> None:
        self.dps = check_dps(dps)
        self.ctx = MPIntervalContext()
        self.ctx.dps = dps

    def number(self, value: Any) -> Any:
        if isinstance(value, self.ctx.mpf):
            return value
        if hasattr(value, "_mpi_"):  # an interval of another context: the same end points
            return self.ctx.make_mpf(value._mpi_)
        if isinstance(value, (mpmath.mpf, float)):
            return self.ctx.mpf(value)
        q = exact(value)
        return self.ctx.mpf(q.numerator) / q.denominator

    def sqrt(self, x: Any) -> Any:
        return self.ctx.sqrt(x)

    def maximum(self, a: Any, b: Any) -> Any:
        """[max(a₁, b₁), max(a₂, b₂)]: the exact hull of max over the two intervals."""
        (alo, ahi), (blo, bhi) = a._mpi_, b._mpi_
        lo = alo if libmp.mpf_cmp(alo, blo) >= 0 else blo
        hi = ahi if libmp.mpf_cmp(ahi, bhi) >= 0 else bhi
        return self.ctx.make_mpf((lo, hi))

    def is_zero(self, x: Any) -> bool:
        """True for the point interval [0, 0] only."""
        lo, hi = x._mpi_
        return bool(lo == libmp.fzero and hi == libmp.fzero)

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
        return bool(x == 0 or (isinstance(x, self.sp.Basic) and x.is_zero is True))

    def __repr__(self) -> str:
        return "SympyArithmetic()"


@cache
def mp_arithmetic(dps: int) -> MPArithmetic:
    """A cached :class:`MPArithmetic` (contexts are cheap but not free to build)."""
    return MPArithmetic(dps)


@cache
def interval_arithmetic(dps: int) -> IntervalArithmetic:
    """A cached :class:`IntervalArithmetic`."""
    return IntervalArithmetic(dps)
