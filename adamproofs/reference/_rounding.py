"""Correct rounding of exact or high-precision values to a binary format (round half to even).

Converting an mpf to float64 and then to float32 can round twice; this rounds
once, directly from the exact significand, including subnormals and overflow.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..dtypes import FloatFormat, float_format


def _man_exp(x: Any) -> tuple[int, int]:
    """x = man * 2**exp exactly (mpf or Fraction with power-of-two denominator, or float)."""
    if hasattr(x, "_mpf_"):  # mpmath's mpf or gmpy2's mpfr
        sign, man, exp, _ = x._mpf_
        if man == 0 and exp != 0:
            raise ValueError(f"cannot round the special value {x}")
        return int(-man if sign else man), int(exp)  # an mpz would make the result an mpfr
    if isinstance(x, float):
        q = Fraction(x)
    elif isinstance(x, Fraction):
        q = x
    else:
        raise TypeError(f"cannot round {type(x).__name__}")
    den = q.denominator
    if den & (den - 1):
        raise ValueError("only dyadic rationals have an exact man * 2**exp form")
    return q.numerator, -(den.bit_length() - 1)


def shift_right_to_nearest_even(man: int, shift: int) -> int:
    """``man / 2^shift`` rounded to the nearest integer, ties to even (``man >= 0``, ``shift > 0``).

    A ``man`` below ``2^(shift-1)`` (half a unit) rounds to 0 without forming ``2^shift``,
    so a tiny value with a huge exponent costs no more than any other.
    """
    if man.bit_length() < shift:
        return 0
    r = man >> shift
    rem = man - (r << shift)
    half = 1 << (shift - 1)
    if rem > half or (rem == half and (r & 1)):
        r += 1
    return r


def round_to_format(x: Any, fmt: FloatFormat | str) -> float:
    """The value of ``fmt`` nearest to ``x`` (ties to even), returned as a Python float.

    Every value of float16, bfloat16 and float32 is exactly representable as a
    float64, so the returned float is exact and ``numpy.dtype(fmt.name).type(r)`` is
    the correctly rounded result.
    """
    if not isinstance(fmt, FloatFormat):
        fmt = float_format(fmt)
    if hasattr(x, "_mpf_"):
        special = x._mpf_
        if special[1] == 0 and special[2] != 0:  # inf or nan
            return float(x)
    man, exp = _man_exp(x)
    if man == 0:
        return 0.0
    sign = -1 if man < 0 else 1
    man = abs(man)
    e = exp + man.bit_length() - 1  # floor(log2 |x|)
    if e > fmt.emax:
        return sign * float("inf")
    q = max(e, fmt.emin) - (fmt.p - 1)  # exponent of the last significand bit
    if exp >= q:
        r, rexp = man, exp
    else:
        r, rexp = shift_right_to_nearest_even(man, q - exp), q
    value = r * 2.0**rexp if rexp >= -1074 else float(Fraction(r) * Fraction(2) ** rexp)
    if value > fmt.max:
        return sign * float("inf")
    return sign * value
