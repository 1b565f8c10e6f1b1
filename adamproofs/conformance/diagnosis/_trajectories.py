"""The diagnostic trajectories: a small fixed set of cases chosen to separate the models.

Each trajectory fixes hyperparameters far from the usual ones (β1, β2 far apart and
far from 0.9/0.999, α ≠ 1, ε large enough to matter or tiny), gradients of varied
scale (1e-3 to 4, a burst that makes v shrink afterwards, exact zeros, 1e-13 values,
a parameter whose gradient is all zero at two steps) and a second parameter whose first
gradient arrives late (when the implementation skips ``None`` gradients). Every
coordinate keeps one sign of g and θ, so the moments never cancel and the error of a
step is relative to the step (see :mod:`.replay`). All values are exact in float32.

Which trajectories run depends on the implementation's features: ``decay`` needs
``weight_decay``, ``maximize`` needs ``maximize``; ``tiny_eps`` runs in float32 and
float64 only (ε = 2⁻⁴⁰ is below float16's range).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._model import Case, GradRows
from ..protocol import Hyper

#: the number of steps of the long trajectories (past 50: a bias correction dropped late)
STEPS = 60


@dataclass(frozen=True)
class Trajectory:
    """One diagnostic case and the trajectory features it exercises."""

    name: str
    case: Case
    features: frozenset[str]


def _signs(n: int) -> np.ndarray:
    return np.array([1.0 if j % 2 == 0 else -1.0 for j in range(n)])


def _rows(
    scales: np.ndarray, steps: int, seed: int, *, zeros: bool, burst: bool
) -> list[np.ndarray]:
    """Gradients of one parameter: sign·scale·(0.5 … 1.5), a ×4 burst at steps 10-14, exact
    zeros where (k + j) % 7 == 0 and 1e-13 in the last coordinate every 5th step."""
    rng = np.random.default_rng(seed)
    n = len(scales)
    out = []
    for k in range(1, steps + 1):
        g = _signs(n) * scales * (0.5 + rng.random(n))
        if burst and 10 <= k < 15:
            g = g * 4.0
        if zeros:
            g[(np.arange(n) + k) % 7 == 0] = 0.0
            if k % 5 == 0:
                g[-1] = _signs(n)[-1] * 1e-13
        out.append(g)
    return out


def _case(
    dtype: str, hyper: Hyper, thetas: list[np.ndarray], grads: list[list[np.ndarray | None]]
) -> Case:
    rows: GradRows = [list(row) for row in zip(*grads, strict=True)]
    return Case(dtype=dtype, hyper=hyper, params=thetas, grads=rows)


def _two_parameters(dtype: str, hyper: Hyper, seed: int, late: bool) -> tuple[Case, frozenset[str]]:
    scales0 = np.array([1.0, 3e-3, 0.25, 4.0, 1e-3, 0.05, 2.0, 0.5])
    scales1 = np.array([0.5, 2e-3, 1.5, 0.125])
    theta0 = _signs(8) * (3.0 + 0.25 * np.arange(8))
    theta1 = _signs(4) * (3.5 + 0.25 * np.arange(4))
    g0: list[np.ndarray | None] = list(_rows(scales0, STEPS, seed, zeros=True, burst=True))
    g1: list[np.ndarray | None] = list(_rows(scales1, STEPS, seed + 1, zeros=False, burst=False))
    for k in (19, 20):  # an all-zero gradient of the whole parameter at steps 20 and 21
        g1[k] = np.zeros(4)
    features = {"two_parameters"}
    if late:  # the second parameter's first gradient arrives at step 7
        for k in range(6):
            g1[k] = None
        features.add("late_parameter")
    return _case(dtype, hyper, [theta0, theta1], [g0, g1]), frozenset(features)


def diagnostic_trajectories(features: frozenset[str], dtype: str) -> list[Trajectory]:
    """The trajectories to run for an implementation with ``features`` in ``dtype``."""
    late = "skip" in features
    out = []
    moments = Hyper(lr=2.0**-5, beta1=0.625, beta2=0.9375, eps=2.0**-10)
    case, feats = _two_parameters(dtype, moments, 1, late)
    out.append(Trajectory("moments", case, feats))
    if "weight_decay" in features:
        decay = Hyper(lr=2.0**-6, beta1=0.75, beta2=0.96875, eps=2.0**-12, weight_decay=0.125)
        case, feats = _two_parameters(dtype, decay, 2, late)
        out.append(Trajectory("decay", case, feats | {"weight_decay"}))
    if dtype in ("float32", "float64"):
        tiny = Hyper(lr=2.0**-4, beta1=0.875, beta2=0.984375, eps=2.0**-40)
        scales = np.array([1e-10, 3e-9, 1e-7, 1e-6, 5e-11, 1e-8])
        theta = _signs(6) * (5.0 + 0.5 * np.arange(6))
        rows = _rows(scales, 40, 3, zeros=False, burst=True)
        out.append(
            Trajectory(
                "tiny_eps", _case(dtype, tiny, [theta], [list(rows)]), frozenset({"tiny_eps"})
            )
        )
    if "maximize" in features:
        up = Hyper(lr=2.0**-5, beta1=0.75, beta2=0.9375, eps=2.0**-10, maximize=True)
        scales = np.array([1.0, 0.01, 3.0, 0.3, 2e-3, 1.5])
        theta = -_signs(6) * (3.0 + 0.5 * np.arange(6))
        rows = _rows(scales, 20, 4, zeros=False, burst=False)
        out.append(
            Trajectory("maximize", _case(dtype, up, [theta], [list(rows)]), frozenset({"maximize"}))
        )
    return out
