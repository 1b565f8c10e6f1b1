r"""Newton's method, the one update rule this package writes (it needs the Hessian).

.. math::

    \theta_{k+1} = \theta_k - s_k\, H(\theta_k)^{-1} \nabla f(\theta_k)

with :math:`s_k = 1` (pure Newton; on a quadratic
:math:`f = \tfrac12(\theta-\theta^*)^T H (\theta-\theta^*)` one step lands on θ*
exactly, up to rounding) or, with ``line_search=True``, the largest
:math:`s_k \in \{1, \tfrac12, \tfrac14, \dots\}` satisfying Armijo's condition
:math:`f(\theta_k - s d) \le f(\theta_k) - c\, s\, \nabla f^T d` (damped Newton, for
convex non-quadratic objectives such as logistic regression).

The linear solve costs :math:`\tfrac23 n^3` flops (LU; ``numpy.linalg.solve``),
against :math:`O(n)` for one first-order update: that is the point of the cost figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

GradFn = Callable[[np.ndarray], np.ndarray]
HessFn = Callable[[np.ndarray], np.ndarray]
LossFn = Callable[[np.ndarray], float]


def newton_step(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """The Newton direction d = H⁻¹ g (a clear error if H is not a square finite matrix)."""
    hess = np.asarray(hess, dtype=np.float64)
    grad = np.asarray(grad, dtype=np.float64)
    if hess.ndim != 2 or hess.shape[0] != hess.shape[1] or hess.shape[0] != grad.size:
        raise ValueError(f"hessian has shape {hess.shape}; expected ({grad.size}, {grad.size})")
    if not (np.all(np.isfinite(hess)) and np.all(np.isfinite(grad))):
        raise FloatingPointError("Newton's method got a non-finite gradient or Hessian")
    return np.linalg.solve(hess, grad)


@dataclass
class NewtonTrace:
    """Iterates, losses, step sizes and wall time (seconds) after each iteration."""

    thetas: list[np.ndarray] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    step_sizes: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def newton(
    loss: LossFn,
    grad: GradFn,
    hess: HessFn,
    theta0: np.ndarray,
    steps: int,
    *,
    line_search: bool = False,
    armijo: float = 1e-4,
    max_halvings: int = 40,
    tol: float = 0.0,
) -> NewtonTrace:
    """Run ``steps`` Newton iterations from a copy of ``theta0`` (``theta0`` is not modified).

    Stops early when the Newton decrement :math:`\\lambda^2 = g^T H^{-1} g` falls to ``tol``
    or below.
    """
    if steps < 0:
        raise ValueError(f"steps={steps!r} must be >= 0")
    theta = np.array(theta0, dtype=np.float64, copy=True)
    trace = NewtonTrace([theta.copy()], [float(loss(theta))], [], [0.0])
    start = time.perf_counter()
    for _ in range(steps):
        g = grad(theta)
        d = newton_step(g, hess(theta))
        decrement = float(g @ d)
        if decrement <= tol:
            break
        s = 1.0
        if line_search:
            f0 = trace.losses[-1]
            for _ in range(max_halvings):
                if loss(theta - s * d) <= f0 - armijo * s * decrement:
                    break
                s *= 0.5
        theta = theta - s * d
        trace.thetas.append(theta.copy())
        trace.losses.append(float(loss(theta)))
        trace.step_sizes.append(s)
        trace.seconds.append(time.perf_counter() - start)
    return trace
