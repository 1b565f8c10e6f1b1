"""The reference optimizer: exact-input, high-precision trajectories for any configuration.

>>> from adamproofs import reference
>>> from adamproofs.config import Adam
>>> tr = reference.run(Adam(lr=0.1), theta0=[1.0], grads=[[0.5], [0.25]])
>>> tr.to_numpy()["theta"][:, 0].tolist()
[1.0, 0.900000002, 0.8067820404774616]

Inputs are taken *exactly*: a float64 (or float32, float16) is a dyadic rational,
so the oracle answers "what would exact arithmetic give for these float inputs";
strings are decimals (``"0.1"`` is one tenth, correctly rounded at ``dps``).
Precision is a per-call argument and each arithmetic has a private context:
mpmath's global ``mp.dps`` is never read or changed. The arithmetic is chosen by
name (:func:`~adamproofs.reference.get_arithmetic`): ``"mp"`` computes on MPFR
when gmpy2 is installed and records the same mpmath numbers, bit for bit, that
``"mpmath"`` computes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import OptimizerConfig
from ..dtypes import float_format
from ._arithmetic import Arithmetic, FloatArithmetic, IntervalArithmetic, SympyArithmetic
from ._inputs import hyperparameters, object_array, start_state, to_objects
from ._registry import get_arithmetic
from ._rounding import round_to_format
from .rules import State, rule_for

GradFn = Callable[[np.ndarray, int], Any]

#: Extra digits of the re-run that :meth:`Trajectory.correct_digits` compares with.
ESTIMATE_DIGITS = 20


@dataclass(frozen=True)
class Storage:
    """Model an implementation that *stores* θ and its state in low precision.

    After every step the oracle rounds θ to ``params`` and each state array to
    ``state`` (round to nearest even), exactly as storing into those dtypes does;
    the arithmetic in between stays exact. ``None`` keeps full precision.
    """

    params: str | None = None
    state: str | None = None


@dataclass
class Trajectory:
    """θ and the optimizer state at every step ``t0 .. t0+T`` (flattened coordinates).

    The values are numbers of :attr:`arithmetic` (for ``"mp"`` and ``"mpmath"``:
    mpmath numbers of :class:`~adamproofs.reference.MPArithmetic`).
    """

    config: OptimizerConfig
    arithmetic: Arithmetic
    shape: tuple[int, ...]
    t0: int
    thetas: list[list] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    grads: list[list] = field(default_factory=list)
    _rerun: Callable[[int], Trajectory] | None = field(default=None, repr=False)

    @property
    def steps(self) -> int:
        """Number of updates T."""
        return len(self.grads)

    def theta(self, t: int | None = None) -> np.ndarray:
        """θ after step ``t`` (absolute step number; default: the last) as an object array."""
        k = self.steps if t is None else t - self.t0
        return object_array(self.thetas[k], self.shape)

    def state(self, name: str, t: int | None = None) -> np.ndarray:
        """State array ``name`` after step ``t`` (default: the last) as an object array."""
        k = self.steps if t is None else t - self.t0
        return object_array(self.states[k][name], self.shape)

    def to_numpy(self, dtype: str = "float64") -> dict[str, np.ndarray]:
        """Every recorded quantity correctly rounded to ``dtype``, shape ``(T+1, *shape)``.

        Keys: ``"theta"``, the state names, and ``"grad"`` (shape ``(T, *shape)``).
        Intervals are represented by their midpoints, sympy values by ``float``.
        """
        fmt = float_format(dtype)
        np_dtype = np.dtype(dtype) if dtype != "bfloat16" else None
        A = self.arithmetic

        def rounded(x: Any) -> float:
            if isinstance(A, SympyArithmetic):
                return float(x)
            return round_to_format(x.mid if isinstance(A, IntervalArithmetic) else x, fmt)

        def convert(rows: list[list]) -> np.ndarray:
            vals = [[rounded(x) for x in row] for row in rows]
            arr = np.array(vals, dtype=np.float64).reshape((len(rows), *self.shape))
            return arr.astype(np_dtype) if np_dtype is not None else arr

        out = {"theta": convert(self.thetas), "grad": convert(self.grads)}
        for name in self.states[0]:
            out[name] = convert([s[name] for s in self.states])
        return out

    def correct_digits(self) -> float:
        """Decimal digits of every recorded value that are correct (the minimum over all).

        Intervals: guaranteed, ``-log10`` of the largest relative width ``(b - a)/max(|a|, |b|)``.
        Floating point: estimated, ``-log10`` of the largest relative difference
        ``|x - y|/|y|`` from a re-run ``y`` at :data:`ESTIMATE_DIGITS` more digits
        (so it needs ``dps + ESTIMATE_DIGITS <= MAX_DPS``). sympy: exact (``inf``).
        """
        A = self.arithmetic
        if isinstance(A, SympyArithmetic):
            return math.inf
        if isinstance(A, IntervalArithmetic):
            return enclosure_digits(self.values(), A.dps)
        if self._rerun is None or not isinstance(A, FloatArithmetic):
            raise RuntimeError("this trajectory cannot be re-run to estimate its accuracy")
        finer = self._rerun(A.dps + ESTIMATE_DIGITS)
        return agreeing_digits(self.values(), finer.values(), A.dps)

    def values(self) -> list:
        """Every recorded θ and state value, step by step (state arrays in name order)."""
        values: list = []
        for k, th in enumerate(self.thetas):
            values.extend(th)
            for name in sorted(self.states[k]):
                values.extend(self.states[k][name])
        return values


def enclosure_digits(boxes: list, dps: int) -> float:
    """Correct digits guaranteed by intervals: ``-log10`` of the largest relative width, ≤ dps."""
    worst = 0.0
    for x in boxes:
        lo, hi = x.a, x.b
        mag = max(abs(float(lo)), abs(float(hi)))
        if mag == 0:
            continue
        width = float(hi - lo)
        if not math.isfinite(width):
            return 0.0
        worst = max(worst, width / mag)
    return float(dps) if worst == 0 else float(min(dps, -math.log10(worst)))


def agreeing_digits(values: list, finer: list, dps: int) -> float:
    """Digits in which ``values`` agree with ``finer``: ``-log10 max |x - y|/|y|``, in [0, dps]."""
    worst = 0.0
    for x, y in zip(values, finer):
        if y == 0:
            if x != 0:
                return 0.0
            continue
        worst = max(worst, float(abs((x - y) / y)))
    return float(dps) if worst == 0 else float(max(0.0, min(dps, -math.log10(worst))))


def run(
    config: OptimizerConfig,
    theta0: Any,
    grads: Sequence[Any] | GradFn,
    *,
    steps: int | None = None,
    dps: int = 50,
    arithmetic: str | Arithmetic = "mp",
    hyper: dict[str, Any] | None = None,
    storage: Storage | None = None,
    state0: State | None = None,
    t0: int = 0,
) -> Trajectory:
    """Run the reference optimizer from ``theta0``: θ_t, state_t = rule(θ_{t-1}, g_t, state_{t-1}).

    Args:
      config: the optimizer and its variant flags.
      theta0: initial parameters, any shape (floats, ints, decimal strings, mpf).
      grads: a sequence of gradients (each of ``theta0``'s shape), or a function
        ``grad(theta, t)`` of the current parameters (an object array of the
        recorded numbers, e.g. mpmath numbers for ``"mp"``) and the 1-based step
        number, so that objectives, including non-stationary ones, can drive the run.
      steps: number of updates (required with a gradient function; with a
        sequence, defaults to its length).
      dps: decimal digits of working precision (all but sympy; unused when
        ``arithmetic`` is an instance), an int from ``MIN_DPS`` = 16 to
        ``MAX_DPS`` = 10 000 (see :mod:`adamproofs.reference._arithmetic`).
      arithmetic: ``"mp"`` (default), ``"mpmath"``, ``"iv"`` (intervals),
        ``"sympy"``, or an :class:`Arithmetic` (see :func:`get_arithmetic`). ``"mp"``
        computes on MPFR when gmpy2 is installed, several times faster, and records
        the same mpmath numbers, bit for bit, as ``"mpmath"``.
      hyper: replace hyperparameters, e.g. by sympy symbols (converted by the arithmetic).
      storage: round θ and/or the state to a dtype after every step (floating-point
        arithmetics only).
      state0, t0: continue from a given state after ``t0`` steps.

    Returns:
      A :class:`Trajectory` with θ and the state at every step.
    """
    A = get_arithmetic(arithmetic, dps)
    if storage is not None and not isinstance(A, FloatArithmetic):
        raise ValueError(
            f"storage rounding is only defined for floating-point arithmetic "
            f"('mp', 'mpmath'), not {A!r}"
        )
    if isinstance(t0, bool) or not isinstance(t0, int) or t0 < 0:
        raise ValueError(f"t0={t0!r} must be a non-negative int")
    theta_arr = to_objects(theta0, A, "theta0")
    shape = theta_arr.shape
    grad_at, steps = _gradient_source(grads, steps, shape)
    theta = list(theta_arr.ravel())
    h = hyperparameters(config, A, hyper)
    state = start_state(config, len(theta), A, state0)
    rule = rule_for(config)
    traj = Trajectory(
        config=config,
        arithmetic=A.results,
        shape=shape,
        t0=t0,
        thetas=[A.result_row(theta)],
        states=[_result_state(A, state)],
    )
    for k in range(steps):
        t = t0 + k + 1
        g_arr = to_objects(grad_at(k, traj.thetas[-1], t), A, f"gradient {t}")
        if g_arr.shape != shape:
            raise ValueError(
                f"gradient at step {t} has shape {g_arr.shape}, theta0 has shape {shape}"
            )
        g = list(g_arr.ravel())
        with A.scope():
            theta, state = rule(config, h, t, theta, g, state, A)
        if storage is not None:
            theta, state = _stored(theta, state, storage, A)
        traj.thetas.append(A.result_row(theta))
        traj.states.append(_result_state(A, state))
        traj.grads.append(A.result_row(g))

    if hyper is None and isinstance(A, FloatArithmetic):
        with_dps = A.with_dps

        def rerun(finer_dps: int) -> Trajectory:
            return run(
                config,
                theta0,
                grads,
                steps=steps,
                arithmetic=with_dps(finer_dps),
                storage=storage,
                state0=state0,
                t0=t0,
            )

        traj._rerun = rerun
    return traj


def _gradient_source(
    grads: Sequence[Any] | GradFn, steps: int | None, shape: tuple[int, ...]
) -> tuple[Callable[[int, list, int], Any], int]:
    """``(grad_at, steps)``: ``grad_at(k, theta, t)`` is the raw gradient of update ``k``.

    ``theta`` is the flat list of recorded parameters before step ``t``; a gradient
    function receives it as an object array of ``shape``.
    """
    if callable(grads):
        if steps is None:
            raise ValueError("steps is required when grads is a function")
        fn = grads

        def from_function(k: int, theta: list, t: int) -> Any:
            return fn(object_array(theta, shape), t)

        grad_at = from_function
    else:
        seq = list(grads)
        if steps is None:
            steps = len(seq)
        elif isinstance(steps, int) and steps > len(seq):
            raise ValueError(f"steps={steps} but only {len(seq)} gradients were given")

        def from_sequence(k: int, theta: list, t: int) -> Any:
            return seq[k]

        grad_at = from_sequence
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps={steps!r} must be a non-negative int")
    return grad_at, steps


def _result_state(A: Arithmetic, state: State) -> State:
    return {name: A.result_row(xs) for name, xs in state.items()}


def _stored(theta: list, state: State, storage: Storage, A: Arithmetic) -> tuple[list, State]:
    """θ rounded to ``storage.params`` and every state array to ``storage.state`` (if set)."""

    def rounded(xs: list, dtype: str) -> list:
        fmt = float_format(dtype)
        return [A.number(round_to_format(A.result(x), fmt)) for x in xs]

    if storage.params is not None:
        theta = rounded(theta, storage.params)
    if storage.state is not None:
        state = {name: rounded(xs, storage.state) for name, xs in state.items()}
    return theta, state


def step(
    config: OptimizerConfig,
    theta: Any,
    grad: Any,
    state: State | None = None,
    *,
    t: int = 0,
    dps: int = 50,
    arithmetic: str | Arithmetic = "mp",
    hyper: dict[str, Any] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One reference update from a given state (:func:`run` with one gradient).

    ``t`` is the number of steps already taken (the update uses step ``t + 1``).
    ``arithmetic`` as in :func:`run`. Returns ``(theta, state)`` as object arrays of
    the recorded numbers.
    """
    traj = run(
        config, theta, [grad], dps=dps, arithmetic=arithmetic, hyper=hyper, state0=state, t0=t
    )
    return traj.theta(), {name: traj.state(name) for name in traj.states[-1]}
