"""The reference optimizer: exact-input, high-precision trajectories for any configuration.

>>> from adamproofs import reference
>>> from adamproofs.config import Adam
>>> tr = reference.run(Adam(lr=0.1), theta0=[1.0], grads=[[0.5], [0.25]])
>>> tr.to_numpy()["theta"][:, 0].tolist()
[1.0, 0.900000002, 0.8067820404774616]

Inputs are taken *exactly*: a float64 (or float32, float16) is a dyadic rational,
so the oracle answers "what would exact arithmetic give for these float inputs";
strings are decimals (``"0.1"`` is one tenth, correctly rounded at ``dps``).
Precision is a per-call argument and each arithmetic has a private mpmath
context: mpmath's global ``mp.dps`` is never read or changed. With gmpy2
installed, ``arithmetic="mp"`` computes on MPFR (:mod:`.fastpath`) and returns
the same mpmath numbers bit for bit; ``arithmetic="mpmath"`` forces plain mpmath.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..config import OptimizerConfig
from ..dtypes import FloatFormat, float_format
from .arithmetic import (
    Arithmetic,
    IntervalArithmetic,
    MPArithmetic,
    SympyArithmetic,
    get_arithmetic,
)
from .rounding import round_to_format
from .rules import State, initial_state, rule_for

GradFn = Callable[[np.ndarray, int], Any]


@dataclass(frozen=True)
class Storage:
    """Model an implementation that *stores* θ and its state in low precision.

    After every step the oracle rounds θ to ``params`` and each state array to
    ``state`` (round to nearest even), exactly as storing into those dtypes does;
    the arithmetic in between stays exact. ``None`` keeps full precision.
    """

    params: str | None = None
    state: str | None = None


def _to_objects(values: Any, A: Arithmetic, what: str) -> np.ndarray:
    """Convert an array-like of numbers to an object array of arithmetic values."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        if values.dtype.kind == "f" and values.dtype.itemsize <= 8:
            flat = [A.number(float(x)) for x in values.ravel()]
        else:
            flat = [A.number(x.item()) for x in values.ravel()]
        return np.array(flat + [None], dtype=object)[:-1].reshape(values.shape)
    arr = np.array(values, dtype=object)
    if arr.dtype != object:  # pragma: no cover - np.array(dtype=object) always is
        arr = arr.astype(object)
    out = np.empty(arr.shape, dtype=object)
    for idx, x in np.ndenumerate(arr):
        if isinstance(x, (bool, np.bool_)) or x is None:
            raise TypeError(f"{what} contains {x!r}; expected real numbers")
        if isinstance(x, np.generic):
            x = float(x) if isinstance(x, np.floating) else x.item()
        out[idx] = A.number(x)
    return out


def _hyper(cfg: OptimizerConfig, A: Arithmetic,
           overrides: dict[str, Any] | None) -> SimpleNamespace:
    values = {name: A.number(value) for name, value in cfg.hyperparameters().items()}
    for name, value in (overrides or {}).items():
        if name not in values:
            raise ValueError(f"hyper override {name!r} is not a hyperparameter of "
                             f"{type(cfg).__name__}; allowed: {sorted(values)}")
        values[name] = value
    return SimpleNamespace(**values)


@dataclass
class Trajectory:
    """θ and the optimizer state at every step ``t0 .. t0+T`` (flattened coordinates)."""

    config: OptimizerConfig
    arithmetic: Arithmetic
    shape: tuple[int, ...]
    t0: int
    thetas: list[list] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    grads: list[list] = field(default_factory=list)
    _rerun: Callable[[Arithmetic], Trajectory] | None = None

    @property
    def steps(self) -> int:
        """Number of updates T."""
        return len(self.grads)

    def theta(self, t: int | None = None) -> np.ndarray:
        """θ after step ``t`` (absolute step number; default: the last) as an object array."""
        k = self.steps if t is None else t - self.t0
        return np.array(self.thetas[k] + [None], dtype=object)[:-1].reshape(self.shape)

    def state(self, name: str, t: int | None = None) -> np.ndarray:
        k = self.steps if t is None else t - self.t0
        return np.array(self.states[k][name] + [None], dtype=object)[:-1].reshape(self.shape)

    def to_numpy(self, dtype: str = "float64") -> dict[str, np.ndarray]:
        """Every recorded quantity correctly rounded to ``dtype``, shape ``(T+1, *shape)``.

        Keys: ``"theta"``, the state names, and ``"grad"`` (shape ``(T, *shape)``).
        """
        fmt = float_format(dtype)
        np_dtype = np.dtype(dtype) if dtype != "bfloat16" else None
        A = self.arithmetic

        def convert(rows: list[list]) -> np.ndarray:
            if isinstance(A, SympyArithmetic):
                vals = [[float(x) for x in row] for row in rows]
            elif isinstance(A, IntervalArithmetic):
                vals = [[round_to_format(x.mid, fmt) for x in row] for row in rows]
            else:
                vals = [[round_to_format(x, fmt) for x in row] for row in rows]
            arr = np.array(vals, dtype=np.float64).reshape((len(rows), *self.shape))
            return arr.astype(np_dtype) if np_dtype is not None else arr

        out = {"theta": convert(self.thetas), "grad": convert(self.grads)}
        for name in self.states[0]:
            out[name] = convert([s[name] for s in self.states])
        return out

    def correct_digits(self) -> float:
        """Decimal digits of every recorded value that are correct (the minimum over all).

        Intervals: guaranteed, from the enclosure widths. mpmath: estimated by
        re-running at 20 more digits and comparing. sympy: exact (``inf``).
        """
        A = self.arithmetic
        if isinstance(A, SympyArithmetic):
            return math.inf
        rows = self._all_rows()
        if isinstance(A, IntervalArithmetic):
            worst = 0.0
            for x in rows:
                lo, hi = x.a, x.b
                mag = max(abs(float(lo)), abs(float(hi)))
                if mag == 0:
                    continue
                width = float(hi - lo)
                if not math.isfinite(width):
                    return 0.0
                worst = max(worst, width / mag)
            return float(A.dps) if worst == 0 else min(A.dps, -math.log10(worst))
        if self._rerun is None:
            raise RuntimeError("this trajectory cannot be re-run to estimate its accuracy")
        finer = self._rerun(MPArithmetic(A.dps + 20))
        worst = 0.0
        for x, y in zip(rows, finer._all_rows()):
            if y == 0:
                if x != 0:
                    return 0.0
                continue
            worst = max(worst, float(abs((x - y) / y)))
        return float(A.dps) if worst == 0 else max(0.0, min(A.dps, -math.log10(worst)))

    def _all_rows(self) -> list:
        values: list = []
        for k, th in enumerate(self.thetas):
            values.extend(th)
            for name in sorted(self.states[k]):
                values.extend(self.states[k][name])
        return values


def _round_state(cfg: OptimizerConfig, theta: list, state: State,
                 storage: Storage, A: Arithmetic) -> tuple[list, State]:
    def rnd(xs: list, fmt: FloatFormat) -> list:
        return [A.number(round_to_format(x, fmt)) for x in xs]

    if storage.params is not None:
        theta = rnd(theta, float_format(storage.params))
    if storage.state is not None:
        fmt = float_format(storage.state)
        state = {name: rnd(xs, fmt) for name, xs in state.items()}
    return theta, state


def _arithmetic(mode: str | Arithmetic, dps: int) -> Arithmetic:
    """:func:`get_arithmetic`, plus ``"mpmath"`` (plain mpmath, the same as ``"mp"`` here)."""
    if isinstance(mode, str) and mode not in ("mp", "mpmath", "iv", "sympy"):
        raise ValueError(f"arithmetic={mode!r} is not one of 'mp', 'mpmath', 'iv', 'sympy'")
    return get_arithmetic("mp" if mode == "mpmath" else mode, dps)


def run(config: OptimizerConfig, theta0: Any, grads: Sequence[Any] | GradFn, *,
        steps: int | None = None, dps: int = 50, arithmetic: str | Arithmetic = "mp",
        hyper: dict[str, Any] | None = None, storage: Storage | None = None,
        state0: State | None = None, t0: int = 0) -> Trajectory:
    """Run the reference optimizer from ``theta0``.

    Args:
      config: the optimizer and its variant flags.
      theta0: initial parameters, any shape (floats, ints, decimal strings, mpf).
      grads: a sequence of gradients (each of ``theta0``'s shape), or a function
        ``grad(theta, t)`` of the current parameters (an object array of the
        arithmetic's numbers) and the 1-based step number, so that objectives,
        including non-stationary ones, can drive the run.
      steps: number of updates (required with a gradient function; with a
        sequence, defaults to its length).
      dps: decimal digits of working precision (mpmath and intervals).
      arithmetic: ``"mp"`` (default: mpmath numbers), ``"mpmath"``, ``"iv"``
        (intervals), ``"sympy"``, or an :class:`Arithmetic`. With ``"mp"``, gmpy2
        installed, no ``hyper``, no ``storage`` and a gradient sequence, the rules
        run on MPFR (:mod:`adamproofs.reference.fastpath`): the same numbers, bit
        for bit, as mpmath objects, several times faster. ``"mpmath"`` always
        runs on plain mpmath (the same result, for comparison).
      hyper: replace converted hyperparameters, e.g. by sympy symbols.
      storage: round θ and/or the state to a dtype after every step.
      state0, t0: continue from a given state after ``t0`` steps.

    Returns:
      A :class:`Trajectory` with θ and the state at every step.
    """
    from . import fastpath  # lazy: fastpath imports this module

    if fastpath.applies(arithmetic, hyper, storage, grads):
        return fastpath.run(config, theta0, grads, steps=steps, dps=dps, state0=state0,
                            t0=t0)
    return _plain_run(config, theta0, grads, steps=steps, dps=dps, arithmetic=arithmetic,
                      hyper=hyper, storage=storage, state0=state0, t0=t0)


def _plain_run(config: OptimizerConfig, theta0: Any, grads: Sequence[Any] | GradFn, *,
               steps: int | None = None, dps: int = 50, arithmetic: str | Arithmetic = "mp",
               hyper: dict[str, Any] | None = None, storage: Storage | None = None,
               state0: State | None = None, t0: int = 0) -> Trajectory:
    """:func:`run` on ``arithmetic`` itself (never the MPFR fast path; ``"mpmath"`` is ``"mp"``)."""
    A = _arithmetic(arithmetic, dps)
    if storage is not None and not isinstance(A, MPArithmetic):
        raise ValueError("storage rounding is only defined for arithmetic='mp'")
    if not isinstance(t0, int) or t0 < 0:
        raise ValueError(f"t0={t0!r} must be a non-negative int")
    theta_arr = _to_objects(theta0, A, "theta0")
    shape = theta_arr.shape
    theta = list(theta_arr.ravel())
    if callable(grads):
        if steps is None:
            raise ValueError("steps is required when grads is a function")
        grad_fn: GradFn | None = grads
        grad_seq: list | None = None
    else:
        grad_fn = None
        grad_seq = list(grads)
        if steps is None:
            steps = len(grad_seq)
        if steps > len(grad_seq):
            raise ValueError(f"steps={steps} but only {len(grad_seq)} gradients were given")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps={steps!r} must be a non-negative int")
    h = _hyper(config, A, hyper)
    rule = rule_for(config)
    if state0 is None:
        state = initial_state(config, len(theta), A)
    else:
        state = {name: [A.number(x) for x in np.asarray(values, dtype=object).ravel()]
                 for name, values in state0.items() if name != "t"}
        expected = set(initial_state(config, len(theta), A))
        if set(state) != expected:
            raise ValueError(f"state0 has arrays {sorted(state)}; {type(config).__name__} "
                             f"with these flags needs {sorted(expected)}")
        for name, values in state.items():
            if len(values) != len(theta):
                raise ValueError(f"state0[{name!r}] has {len(values)} elements, theta0 has "
                                 f"{len(theta)}")
    traj = Trajectory(config=config, arithmetic=A, shape=shape, t0=t0,
                      thetas=[theta], states=[state])
    for k in range(steps):
        t = t0 + k + 1
        if grad_fn is not None:
            raw = grad_fn(np.array(theta + [None], dtype=object)[:-1].reshape(shape), t)
        else:
            raw = grad_seq[k]  # type: ignore[index]
        g_arr = _to_objects(raw, A, f"gradient {t}")
        if g_arr.shape != shape:
            raise ValueError(f"gradient at step {t} has shape {g_arr.shape}, "
                             f"theta0 has shape {shape}")
        g = list(g_arr.ravel())
        theta, state = rule(config, h, t, theta, g, state, A)
        if storage is not None:
            theta, state = _round_state(config, theta, state, storage, A)
        traj.thetas.append(theta)
        traj.states.append(state)
        traj.grads.append(g)

    def rerun(finer: Arithmetic) -> Trajectory:
        return _plain_run(config, theta0, grads, steps=steps, arithmetic=finer, hyper=hyper,
                          storage=storage, state0=state0, t0=t0)

    if hyper is None:
        traj._rerun = rerun
    return traj


def step(config: OptimizerConfig, theta: Any, grad: Any, state: State | None = None, *,
         t: int = 0, dps: int = 50, arithmetic: str | Arithmetic = "mp",
         hyper: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One reference update from a given state (:func:`run` with one gradient).

    ``t`` is the number of steps already taken (the update uses step ``t + 1``).
    ``arithmetic`` as in :func:`run` (``"mp"`` may take the MPFR fast path,
    ``"mpmath"`` never does). Returns ``(theta, state)`` as object arrays of the
    arithmetic's numbers.
    """
    traj = run(config, theta, [grad], dps=dps, arithmetic=arithmetic, hyper=hyper,
               state0=state, t0=t)
    return traj.theta(), {name: traj.state(name) for name in traj.states[-1]}
