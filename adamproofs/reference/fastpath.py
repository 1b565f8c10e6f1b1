r"""A faster oracle: the same generic rules on MPFR numbers (gmpy2), results as mpmath.

The rules of :mod:`adamproofs.reference.rules` stay the single definition; only
the arithmetic changes. :class:`GmpyArithmetic` runs them on ``gmpy2.mpfr`` with
a private gmpy2 context of exactly mpmath's working precision for ``dps``
(``prec = dps_to_prec(dps)`` bits, round to nearest even). MPFR rounds every
``+ - * / sqrt`` and integer power correctly; mpmath rounds ``+ - * / sqrt``
correctly and computes ``β^t`` exactly while ``bits(β)·t < 1000`` and otherwise
with ``4·log2(t)+4`` guard bits, so the two can differ only when a power lies that
close to a rounding boundary. The tests find all 96 Adam variants bit-identical to
mpmath over 25 steps (float and decimal hyperparameters), and the default Adam,
AdaMax and momentum over 200 steps.

:func:`run` has the signature of :func:`adamproofs.reference.run` and returns an
ordinary :class:`~adamproofs.reference.Trajectory` whose values are mpmath
numbers of :class:`~adamproofs.reference.MPArithmetic` (converted exactly), so
``to_numpy``, ``correct_digits`` and everything downstream are unchanged. It
falls back to mpmath where the fast path does not apply (no gmpy2, interval or
sympy arithmetic, ``hyper`` overrides, ``storage`` rounding, or a gradient
*function*, which may expect mpmath numbers).

:func:`adamproofs.reference.run` with ``arithmetic="mp"`` (the default) delegates
here when :func:`applies`, so every caller gets the speed-up;
``arithmetic="mpmath"`` forces the plain mpmath path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any

from mpmath import libmp

from ..config import OptimizerConfig
from . import oracle
from .arithmetic import Arithmetic, MPArithmetic, mp_arithmetic

try:  # gmpy2 is optional (the ``speed`` / ``test`` extras)
    import gmpy2 as _gmpy2
except ImportError:  # pragma: no cover - exercised where gmpy2 is absent
    _gmpy2 = None


def available() -> bool:
    """True when gmpy2 is importable, so :func:`run` takes the fast path."""
    return _gmpy2 is not None


def applies(arithmetic: object, hyper: object, storage: object, grads: object) -> bool:
    """True when :func:`run` with these arguments takes the fast path.

    Needs gmpy2, ``arithmetic == "mp"``, no ``hyper`` overrides, no ``storage``
    rounding and a gradient *sequence* (a gradient function may expect mpmath numbers).
    """
    return (available() and isinstance(arithmetic, str) and arithmetic == "mp"
            and hyper is None and storage is None and not callable(grads))


class GmpyArithmetic(Arithmetic):
    """MPFR binary floating point (gmpy2) at mpmath's precision for ``dps`` digits.

    Python operators on ``gmpy2.mpfr`` round to the *current* gmpy2 context, so
    the rules must run inside :meth:`scope` (a fresh copy of a private context,
    entered for the duration; the caller's context is restored on exit, and scopes
    nest). :func:`run` does this. Conversions of inputs other than floats, ints
    and mpmath numbers go through :class:`~adamproofs.reference.MPArithmetic`, so
    they round (and fail) exactly as there.
    """

    name = "gmpy"

    def __init__(self, dps: int = 50) -> None:
        if _gmpy2 is None:
            raise ImportError("GmpyArithmetic needs gmpy2 (pip install gmpy2)")
        if not isinstance(dps, int) or isinstance(dps, bool) or dps < 16:
            raise ValueError(f"dps={dps!r} must be an int >= 16 (the oracle must beat float64)")
        self.dps = dps
        self.prec = libmp.dps_to_prec(dps)
        self.ctx = _gmpy2.context(precision=self.prec, round=_gmpy2.RoundToNearest,
                                  emax=_gmpy2.get_emax_max(), emin=_gmpy2.get_emin_min(),
                                  subnormalize=False, allow_complex=False)
        self._mpfr = _gmpy2.mpfr

    def scope(self) -> Any:
        """Context manager making this arithmetic's precision current (restored on exit).

        A fresh copy per call: entering a gmpy2 context object that is already
        entered corrupts gmpy2's context stack (a crash), so the template
        :attr:`ctx` itself is never entered. Nested and concurrent scopes are safe.
        """
        return self.ctx.copy()

    def number(self, value: Any) -> Any:
        # Every conversion names its precision, so none depends on the current context
        # (and none enters the private one: gmpy2 contexts must not be entered twice).
        mpfr, prec = self._mpfr, self.prec
        if type(value) is float or type(value) is mpfr:
            return mpfr(value, prec)  # a float is exact at prec >= 53
        if hasattr(value, "_mpf_"):  # an mpf of any mpmath context
            sign, man, exp, bc = value._mpf_
            if not man:
                return mpfr(float(value), prec)  # zero, inf, nan
            bits = max(prec, bc)  # exact, whatever its precision (as MPArithmetic.number)
            # The sign goes on the mantissa: a unary minus would round to the current context.
            return _gmpy2.context(precision=bits).mul_2exp(mpfr(-man if sign else man, bits), exp)
        if type(value) is int:
            return mpfr(value, prec)  # correctly rounded, as mpmath's mpf(int)
        # Strings ("1/3" too), rationals, Decimal, numpy scalars...: mpmath's own conversion
        # (its rounding and its errors), then exactly to MPFR (same precision).
        return self.number(mp_arithmetic(self.dps).number(value))

    def sqrt(self, x: Any) -> Any:
        return _gmpy2.sqrt(x)

    def maximum(self, a: Any, b: Any) -> Any:
        return a if a >= b else b

    def to_float(self, x: Any) -> float:
        return float(x)

    def __repr__(self) -> str:
        return f"GmpyArithmetic(dps={self.dps})"


@cache
def gmpy_arithmetic(dps: int) -> GmpyArithmetic:
    """A cached :class:`GmpyArithmetic`."""
    return GmpyArithmetic(dps)


def to_mpmath(x: Any, A: MPArithmetic) -> Any:
    """The mpmath number of ``A``'s context equal to the MPFR number ``x`` (exact)."""
    if not _gmpy2.is_regular(x):  # zero (mpmath has one zero), inf, nan
        return A.ctx.zero if _gmpy2.is_zero(x) else A.ctx.mpf(float(x))
    man, exp = x.as_mantissa_exp()
    sign = 0
    if man < 0:
        sign, man = 1, -man
    tz = _gmpy2.bit_scan1(man)  # mpmath keeps odd mantissas
    man >>= tz
    return A.ctx.make_mpf((sign, _MPZ(man), int(exp) + tz, _gmpy2.bit_length(man)))


_MPZ = libmp.MPZ  # mpmath's mantissa type: gmpy2.mpz with the gmpy backend, else int


def _convert_rows(rows: list[list], A: MPArithmetic) -> list[list]:
    return [[to_mpmath(x, A) for x in row] for row in rows]


def run(config: OptimizerConfig, theta0: Any, grads: Sequence[Any] | oracle.GradFn, *,
        steps: int | None = None, dps: int = 50, arithmetic: str | Arithmetic = "mp",
        hyper: dict[str, Any] | None = None, storage: oracle.Storage | None = None,
        state0: dict | None = None, t0: int = 0) -> oracle.Trajectory:
    """:func:`adamproofs.reference.run` on MPFR when possible; same result, mpmath values.

    The arguments are those of :func:`adamproofs.reference.run`; where the fast path
    does not apply (see :func:`applies`) this is the plain mpmath oracle.
    """
    if not applies(arithmetic, hyper, storage, grads):
        return oracle._plain_run(config, theta0, grads, steps=steps, dps=dps,
                                 arithmetic=arithmetic, hyper=hyper, storage=storage,
                                 state0=state0, t0=t0)
    G = _gmpy_for(dps)
    with G.scope():
        traj = oracle._plain_run(config, theta0, grads, steps=steps, dps=dps, arithmetic=G,
                                 state0=state0, t0=t0)
    _to_mpmath_trajectory(traj, mp_arithmetic(dps))

    def rerun(finer: Arithmetic) -> oracle.Trajectory:  # accuracy estimate: plain mpmath
        return oracle._plain_run(config, theta0, grads, steps=steps, arithmetic=finer,
                                 state0=state0, t0=t0)

    traj._rerun = rerun
    return traj


def _gmpy_for(dps: Any) -> GmpyArithmetic:
    """The cached arithmetic for a valid ``dps``; else the constructor's ValueError."""
    if isinstance(dps, int) and not isinstance(dps, bool) and dps >= 16:
        return gmpy_arithmetic(dps)
    return GmpyArithmetic(dps)  # raises the same ValueError as mpmath's arithmetic


def _to_mpmath_trajectory(traj: oracle.Trajectory, A: MPArithmetic) -> None:
    """Convert a trajectory's MPFR values to ``A``'s mpmath numbers in place (exactly)."""
    traj.thetas = _convert_rows(traj.thetas, A)
    traj.grads = _convert_rows(traj.grads, A)
    traj.states = [{name: [to_mpmath(x, A) for x in xs] for name, xs in st.items()}
                   for st in traj.states]
    traj.arithmetic = A


def updates_per_second(dps: int = 50, n: int = 2000, steps: int = 5,
                       arithmetic: str = "gmpy") -> float:
    """Scalar Adam updates per second of the rule loop on ``arithmetic`` ("gmpy" or "mp").

    Times :func:`adamproofs.reference.rules.adam_step` directly (no conversions),
    the measure used in the performance notes; for benchmarks, not tests.
    """
    import time

    from ..config import Adam
    from .rules import adam_step, initial_state

    cfg = Adam()
    A: Arithmetic = gmpy_arithmetic(dps) if arithmetic == "gmpy" else mp_arithmetic(dps)
    scope = A.scope() if isinstance(A, GmpyArithmetic) else _null()
    with scope:
        h = oracle._hyper(cfg, A, None)
        theta = [A.number(math.sin(i + 1.0)) for i in range(n)]
        state = initial_state(cfg, n, A)
        grads = [[A.number(math.cos(i * (t + 2.0))) for i in range(n)] for t in range(steps)]
        start = time.perf_counter()
        for t in range(steps):
            theta, state = adam_step(cfg, h, t + 1, theta, grads[t], state, A)
        elapsed = time.perf_counter() - start
    return n * steps / elapsed


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


__all__ = ["GmpyArithmetic", "applies", "available", "gmpy_arithmetic", "run", "to_mpmath",
           "updates_per_second"]
