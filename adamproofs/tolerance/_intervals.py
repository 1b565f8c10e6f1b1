r"""Intervals rounded outward to a binary format (MPFR through gmpy2).

An :class:`Outward` holds two gmpy2 contexts that emulate a format exactly
(``p`` significand bits, its exponent range, subnormals), one rounding down and one
up. Each operation on intervals ``[a, b]`` returns the smallest interval of format
values that contains the exact result for every operand in the inputs, so it also
contains every correctly rounded result (round to nearest lies between the two
directed roundings), every result computed in a *more* precise format (each format
here nests in the more precise ones), and every fused result (an FMA rounds once).
Endpoints may be ±inf (overflow); an operation whose exact result is undefined for
some operands (∞ − ∞, a denominator that contains 0) returns the whole line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..dtypes import float_format

try:  # gmpy2 is optional (the ``speed`` / ``test`` extras)
    import gmpy2  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - exercised where gmpy2 is absent
    gmpy2 = None

Iv = tuple[Any, Any]  # (lo, hi), gmpy2.mpfr endpoints


def available() -> bool:
    """True when gmpy2 is importable (the enclosure needs it)."""
    return gmpy2 is not None


@dataclass(frozen=True)
class Outward:
    """Outward-rounded interval arithmetic in the format ``name`` (see the module doc)."""

    name: str
    down: Any
    up: Any
    #: 2u + u² (two relative roundings) and η (half the smallest subnormal), as mpfr
    lerp_rounding: Any = None
    eta: Any = None

    @property
    def inf(self) -> Any:
        return gmpy2.inf()

    def point(self, x: float) -> Iv:
        """The tightest interval of format values containing the float ``x``."""
        value = gmpy2.mpfr(x, 64)
        return self.down.plus(value), self.up.plus(value)

    def add(self, a: Iv, b: Iv) -> Iv:
        return safe(self.down.add(a[0], b[0]), self.up.add(a[1], b[1]))

    def sub(self, a: Iv, b: Iv) -> Iv:
        return safe(self.down.sub(a[0], b[1]), self.up.sub(a[1], b[0]))

    def mul(self, a: Iv, b: Iv) -> Iv:
        if a[0] >= 0 and b[0] >= 0:
            return safe(self.down.mul(a[0], b[0]), self.up.mul(a[1], b[1]))
        if _is_zero(a) or _is_zero(b):
            return a if _is_zero(a) else b
        corners = [(x, y) for x in a for y in b]
        return (
            lowest(self.down.mul(x, y) for x, y in corners),
            highest(self.up.mul(x, y) for x, y in corners),
        )

    def div(self, a: Iv, b: Iv) -> Iv:
        """``a / b`` with 0/0 := 0 (a numerator that is exactly 0 gives 0)."""
        if _is_zero(a):
            return a
        if b[0] <= 0 <= b[1]:
            return -self.inf, self.inf
        corners = [(x, y) for x in a for y in b]
        return (
            lowest(self.down.div(x, y) for x, y in corners),
            highest(self.up.div(x, y) for x, y in corners),
        )

    def sqrt(self, a: Iv) -> Iv:
        lo = a[0] if a[0] > 0 else gmpy2.mpfr(0)
        return safe(self.down.sqrt(lo), self.up.sqrt(a[1]) if a[1] > 0 else gmpy2.mpfr(0))

    def widen(self, a: Iv) -> Iv:
        """``a`` rounded outward to this format (from any finer format)."""
        return safe(self.down.plus(a[0]), self.up.plus(a[1]))


def ends(a: Iv) -> tuple[Any, ...]:
    """The distinct endpoints of ``a``."""
    return (a[0],) if a[0] == a[1] else a


def maximum(a: Iv, b: Iv) -> Iv:
    """Exact: max is monotone in both arguments (endpoints are never NaN)."""
    return max(a[0], b[0]), max(a[1], b[1])


def hull(*ivs: Iv) -> Iv:
    """The smallest interval containing every argument."""
    return lowest(x[0] for x in ivs), highest(x[1] for x in ivs)


def contains(a: Iv, x: Any) -> bool:
    return bool(a[0] <= x <= a[1])


def _is_zero(a: Iv) -> bool:
    return bool(a[0] == 0 and a[1] == 0)


def lowest(values: Iterable[Any]) -> Any:
    """The smallest value; −inf when any is NaN (an undefined corner bounds nothing)."""
    out = None
    for x in values:
        if gmpy2.is_nan(x):
            return -gmpy2.inf()
        out = x if out is None or x < out else out
    return out


def highest(values: Iterable[Any]) -> Any:
    """The largest value; +inf when any is NaN."""
    out = None
    for x in values:
        if gmpy2.is_nan(x):
            return gmpy2.inf()
        out = x if out is None or x > out else out
    return out


def safe(lo: Any, hi: Any) -> Iv:
    """NaN endpoints (∞ − ∞, 0·∞) become the whole line on that side."""
    return (-gmpy2.inf() if gmpy2.is_nan(lo) else lo), (gmpy2.inf() if gmpy2.is_nan(hi) else hi)


@cache
def outward(dtype: str) -> Outward:
    """The :class:`Outward` arithmetic of ``dtype`` (float16, bfloat16, float32, float64)."""
    if gmpy2 is None:
        raise ImportError("the guaranteed enclosure needs gmpy2 (pip install gmpy2)")
    fmt = float_format(dtype)
    # MPFR writes x = 0.1b…b × 2^e: the largest exponent is emax + 1 and the smallest
    # subnormal 2^(emin − p + 1) has MPFR exponent emin − p + 2.
    common = {
        "precision": fmt.p,
        "emin": fmt.emin - fmt.p + 2,
        "emax": fmt.emax + 1,
        "subnormalize": True,
        "allow_complex": False,
    }
    u = gmpy2.mpfr(fmt.unit_roundoff, 64)  # a power of two: exact
    exact = gmpy2.context(precision=256)
    return Outward(
        fmt.name,
        gmpy2.context(round=gmpy2.RoundDown, **common),
        gmpy2.context(round=gmpy2.RoundUp, **common),
        lerp_rounding=exact.add(exact.mul(2, u), exact.mul(u, u)),
        eta=gmpy2.mpfr(fmt.underflow_abs, 64),
    )
