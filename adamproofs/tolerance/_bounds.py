"""The first-order bounds along a trajectory: running (:func:`error_bound`) and local."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Adam, OptimizerConfig
from ._first_order import SAFETY, Local, Precisions, Step, model_for


@dataclass(frozen=True)
class ErrorBound:
    """Absolute error bounds, arrays of shape ``(T+1, *shape)`` (row 0: the initial state).

    ``inf`` marks entries where the model makes no claim (see :attr:`valid`).
    """

    theta: np.ndarray
    state: dict[str, np.ndarray]
    unit_roundoff: float

    @property
    def valid(self) -> np.ndarray:
        """Where the bound applies (finite): a boolean array shaped like :attr:`theta`."""
        return np.isfinite(self.theta)

    @property
    def is_valid(self) -> bool:
        """True when the bound applies at every step and coordinate."""
        return bool(np.all(self.valid))

    def excess(self, actual: np.ndarray, exact: np.ndarray) -> np.ndarray:
        """``|actual − exact| / bound`` per entry of the θ trajectory (> 1 violates the model).

        ``actual`` and ``exact`` have the shape of :attr:`theta`. A NaN in ``actual`` gives
        inf, and so does every entry where the bound is not valid: no result is accepted
        where the model makes no claim (check :attr:`valid` first).
        """
        err = np.abs(np.asarray(actual, dtype=np.float64) - np.asarray(exact, dtype=np.float64))
        err = np.where(np.isnan(err), np.inf, err)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(err == 0, 0.0, err / self.theta)
        return np.where(self.valid, ratio, np.inf)


def state_names(config: OptimizerConfig) -> tuple[str, ...]:
    """The state arrays the oracle keeps for ``config`` (its trajectory's keys)."""
    return config.active_state if isinstance(config, Adam) else config.state_names


def _flat_trajectory(
    config: OptimizerConfig, exact: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
    """The trajectory's arrays as float64 ``(rows, n)``; checks every key is there."""
    needed = ("theta", "grad", *state_names(config))
    missing = [k for k in needed if k not in exact]
    if missing:
        raise ValueError(
            f"the exact trajectory lacks {missing} (has {sorted(exact)}); pass "
            "reference.run(...).to_numpy('float64'), which has θ, the gradients "
            f"and the state of {type(config).__name__}"
        )
    theta = np.asarray(exact["theta"], dtype=np.float64)
    steps = np.asarray(exact["grad"]).shape[0]
    shape = theta.shape[1:]
    flat = {k: np.asarray(exact[k], dtype=np.float64).reshape(len(exact[k]), -1) for k in needed}
    before = exact.get("theta_before")
    flat["theta_before"] = (
        flat["theta"][:-1]
        if before is None
        else np.asarray(before, dtype=np.float64).reshape(steps, -1)
    )
    ts = exact.get("t")
    flat["t"] = np.arange(1, steps + 1) if ts is None else np.asarray(ts, dtype=np.int64)
    return flat, shape


def _walk(
    config: OptimizerConfig, exact: dict[str, np.ndarray], prec: Precisions, running: bool
) -> tuple[list[Local], tuple[int, ...]]:
    """The model's :class:`Local` of every step; ``running`` feeds θ's bound back (L2 decay)."""
    flat, shape = _flat_trajectory(config, exact)
    names = state_names(config)
    model = model_for(config)
    n = flat["theta"].shape[1]
    carried = {name: np.zeros(n) for name in names}
    e_theta = np.zeros(n)
    out: list[Local] = []
    for k in range(flat["grad"].shape[0]):
        step = Step(
            t=int(flat["t"][k]),
            theta_prev=flat["theta_before"][k],
            theta=flat["theta"][k + 1],
            grad=flat["grad"][k],
            prev={s: flat[s][k] for s in names},
            now={s: flat[s][k + 1] for s in names},
            e_theta=e_theta,
        )
        with np.errstate(over="ignore", invalid="ignore"):
            local = model(config, prec, step, carried)
            local.theta = np.where(local.valid & ~np.isnan(local.theta), local.theta, np.inf)
            if running:
                e_theta = local.shrink * e_theta + local.theta
        carried = local.carried
        out.append(local)
    return out, shape


def error_bound(
    config: OptimizerConfig,
    exact: dict[str, np.ndarray],
    *,
    compute_dtype: Any = "float64",
    param_dtype: Any = None,
    scalar_dtype: Any = None,
) -> ErrorBound:
    """Running bounds on ``|θ_impl − θ_exact|`` for arithmetic in ``compute_dtype``.

    Args:
      config: the optimizer (any :mod:`adamproofs.config` class).
      exact: the oracle's trajectory, ``reference.run(...).to_numpy("float64")``: ``theta``
        (T+1, ...), ``grad`` (T, ...) and the state arrays (T+1, ...), read, not recomputed.
      compute_dtype: dtype of the implementation's arithmetic and state.
      param_dtype: dtype θ is stored in (default: ``compute_dtype``).
      scalar_dtype: precision of the per-step scalars 1 − β^t (default:
        ``compute_dtype``, the least precise legitimate choice).

    The first-order bound times :data:`~adamproofs.tolerance.SAFETY`; ``inf`` where invalid.
    """
    prec = Precisions.of(compute_dtype, param_dtype, scalar_dtype)
    locals_, shape = _walk(config, exact, prec, running=True)
    n = int(np.prod(shape, dtype=np.int64))
    theta = np.zeros((len(locals_) + 1, n))
    states: dict[str, np.ndarray] = {}
    for k, local in enumerate(locals_):
        theta[k + 1] = local.shrink * theta[k] + local.theta
        for name, arr in local.carried.items():  # the state's bounds (m, v, ...)
            states.setdefault(name, np.zeros((len(locals_) + 1, n)))[k + 1] = arr

    def shaped(arr: np.ndarray) -> np.ndarray:
        return (SAFETY * arr).reshape((len(locals_) + 1, *shape))

    return ErrorBound(
        theta=shaped(theta),
        state={name: shaped(arr) for name, arr in states.items()},
        unit_roundoff=prec.u,
    )


def local_error_bound(
    config: OptimizerConfig,
    exact: dict[str, np.ndarray],
    *,
    compute_dtype: Any = "float64",
    param_dtype: Any = None,
    scalar_dtype: Any = None,
) -> np.ndarray:
    """The first-order bound on the error committed in each step alone, shape ``(T, *shape)``.

    ``exact`` is as for :func:`error_bound`, plus optionally ``theta_before`` (T, ...): the
    θ each step starts from (default ``theta[:-1]``), and ``t`` (T,): each step's number
    (default 1..T). The checker's replay passes the
    implementation's own θ there and the oracle's step from it as ``theta``. The bound
    contains the accumulated error of the state (the moments carry rounding errors of all
    past steps) but not that of θ. ``inf`` where the first-order model declares itself
    invalid. No safety factor.
    """
    prec = Precisions.of(compute_dtype, param_dtype, scalar_dtype)
    locals_, shape = _walk(config, exact, prec, running=False)
    if not locals_:
        return np.zeros((0, *shape))
    return np.array([local.theta for local in locals_]).reshape((len(locals_), *shape))
