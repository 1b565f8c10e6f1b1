r"""MPFR (gmpy2) floating point: mpmath's numbers, computed several times faster.

:class:`GmpyArithmetic` runs the rules of :mod:`adamproofs.reference.rules` on
``gmpy2.mpfr`` with a private gmpy2 context of exactly mpmath's working precision
for ``dps`` (``prec = dps_to_prec(dps)`` bits, round to nearest even) and records
its results as mpmath numbers of :class:`~adamproofs.reference.MPArithmetic`
(converted exactly, :func:`to_mpmath`). MPFR rounds every ``+ - * / sqrt`` and
integer power correctly; mpmath rounds ``+ - * / sqrt`` correctly and computes
``β^t`` exactly while ``bits(β)·t < 1000`` and otherwise with ``4·log2(t)+4``
guard bits, so the two can differ only when a power lies that close to a rounding
boundary. The tests find all 96 Adam variants bit-identical to mpmath over 25
steps (float and decimal hyperparameters), and the default Adam, AdaMax and
momentum over 200 steps.

``get_arithmetic("mp")`` is this arithmetic when gmpy2 is installed (:func:`available`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mpmath import libmp

from ._arithmetic import FloatArithmetic, MPArithmetic, check_dps, mp_arithmetic

try:  # gmpy2 is optional (the ``speed`` / ``test`` extras)
    import gmpy2
except ImportError:  # pragma: no cover - exercised where gmpy2 is absent
    gmpy2 = None

#: mpmath's mantissa type: gmpy2.mpz with mpmath's gmpy backend, else int.
MPZ = libmp.MPZ


def available() -> bool:
    """True when gmpy2 is importable, so ``get_arithmetic("mp")`` computes on MPFR."""
    return gmpy2 is not None


class GmpyArithmetic(FloatArithmetic):
    """MPFR binary floating point (gmpy2) at mpmath's precision for ``dps`` digits.

    Python operators on ``gmpy2.mpfr`` round to the *current* gmpy2 context, so
    the rules must run inside :meth:`scope` (a fresh copy of a private context,
    entered for the duration; the caller's context is restored on exit, and scopes
    nest). Conversions never depend on the current context. Inputs other than
    floats, ints and mpmath numbers go through :class:`MPArithmetic`, so they
    round (and fail) exactly as there.
    """

    name = "mpfr"

    def __init__(self, dps: int = 50) -> None:
        if gmpy2 is None:
            raise ImportError("GmpyArithmetic needs gmpy2 (pip install gmpy2)")
        self.dps = check_dps(dps)
        self.prec = libmp.dps_to_prec(dps)
        self.ctx = gmpy2.context(
            precision=self.prec,
            round=gmpy2.RoundToNearest,
            emax=gmpy2.get_emax_max(),
            emin=gmpy2.get_emin_min(),
            subnormalize=False,
            allow_complex=False,
        )
        self.mpfr = gmpy2.mpfr

    def with_dps(self, dps: int) -> GmpyArithmetic:
        return gmpy_arithmetic(check_dps(dps))

    def scope(self) -> Any:
        """Context manager making this arithmetic's precision current (restored on exit).

        A fresh copy per call: entering a gmpy2 context object that is already
        entered corrupts gmpy2's context stack (a crash), so the template
        :attr:`ctx` itself is never entered. Nested and concurrent scopes are safe.
        """
        return self.ctx.copy()

    @property
    def results(self) -> MPArithmetic:
        """mpmath at the same precision: runs record mpmath numbers."""
        return mp_arithmetic(self.dps)

    def result(self, x: Any) -> Any:
        return to_mpmath(x, self.results)

    def result_row(self, xs: list) -> list:
        A = self.results
        return [to_mpmath(x, A) for x in xs]

    def number(self, value: Any) -> Any:
        # Every conversion names its precision, so none depends on the current context
        # (and none enters the private one: gmpy2 contexts must not be entered twice).
        mpfr, prec = self.mpfr, self.prec
        if type(value) is float or type(value) is mpfr:
            return mpfr(value, prec)  # a float is exact at prec >= 53
        if hasattr(value, "_mpf_"):  # an mpf of any mpmath context
            return self.from_mpf(value)
        if type(value) is int:
            return mpfr(value, prec)  # correctly rounded, as mpmath's mpf(int)
        # Strings ("1/3" too), rationals, Decimal, numpy scalars...: mpmath's own conversion
        # (its rounding and its errors), then exactly to MPFR.
        return self.from_mpf(mp_arithmetic(self.dps).number(value))

    def from_mpf(self, value: Any) -> Any:
        """The mpmath number ``value`` (any context, any precision) as an mpfr, exactly."""
        sign, man, exp, bc = value._mpf_
        if not man:
            return self.mpfr(float(value), self.prec)  # zero, inf, nan
        bits = max(self.prec, bc)
        # The sign goes on the mantissa: a unary minus would round to the current context.
        return gmpy2.context(precision=bits).mul_2exp(self.mpfr(-man if sign else man, bits), exp)

    def sqrt(self, x: Any) -> Any:
        return gmpy2.sqrt(x)

    def __repr__(self) -> str:
        return f"GmpyArithmetic(dps={self.dps})"


@cache
def gmpy_arithmetic(dps: int) -> GmpyArithmetic:
    """A cached :class:`GmpyArithmetic`."""
    return GmpyArithmetic(dps)


def to_mpmath(x: Any, A: MPArithmetic) -> Any:
    """The mpmath number of ``A``'s context equal to the MPFR number ``x`` (exact).

    ``x = man · 2^exp`` with ``man`` made odd, as mpmath stores it.
    """
    if not gmpy2.is_regular(x):  # zero (mpmath has one zero), inf, nan
        return A.ctx.zero if gmpy2.is_zero(x) else A.ctx.mpf(float(x))
    man, exp = x.as_mantissa_exp()
    sign = 0
    if man < 0:
        sign, man = 1, -man
    tz = gmpy2.bit_scan1(man)
    man >>= tz
    return A.ctx.make_mpf((sign, MPZ(man), int(exp) + tz, gmpy2.bit_length(man)))
