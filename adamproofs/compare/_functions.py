r"""Analytic objectives: the oblong quadratic, Rosenbrock, Reddi's counterexample, and
non-stationary quadratics. All follow the problem protocol of :mod:`.runner`.

Seeds only move the starting point (deterministic problems) or draw the noise
and the targets (online problems).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Quadratic:
    r"""f(θ) = ½ (θ-θ*)ᵀ H (θ-θ*) with H = diag(1, κ): the oblong bowl (condition number κ).

    Start: ``start`` + N(0, ``jitter``² I) (seed 0 of the figures uses the same rule).
    """

    kappa: float = 20.0
    start: tuple[float, float] = (-4.0, 1.5)
    jitter: float = 0.25
    dim: int = 2

    def __post_init__(self) -> None:
        self.h = np.array([1.0, float(self.kappa)])
        self.opt = np.zeros(2)

    @property
    def hessian(self) -> np.ndarray:
        return np.diag(self.h)

    def init(self, rng: np.random.Generator) -> np.ndarray:
        return np.array(self.start) + self.jitter * rng.standard_normal(2)

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return 0.5 * (self.h[0] * x**2 + self.h[1] * y**2)

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return self.h * (theta - self.opt)

    def loss(self, theta: np.ndarray, t: int) -> float:
        d = theta - self.opt
        return float(0.5 * np.dot(self.h * d, d))


@dataclass
class Rosenbrock:
    r"""f(x, y) = (a-x)² + b (y-x²)², minimum 0 at (a, a²); start (-1.5, 2) + jitter."""

    a: float = 1.0
    b: float = 100.0
    start: tuple[float, float] = (-1.5, 2.0)
    jitter: float = 0.1
    dim: int = 2

    @property
    def opt(self) -> np.ndarray:
        return np.array([self.a, self.a**2])

    def init(self, rng: np.random.Generator) -> np.ndarray:
        return np.array(self.start) + self.jitter * rng.standard_normal(2)

    def value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        x, y = theta
        r = y - x * x
        return np.array([-2.0 * (self.a - x) - 4.0 * self.b * x * r, 2.0 * self.b * r])

    def loss(self, theta: np.ndarray, t: int) -> float:
        return float(self.value(theta[0], theta[1]))


@dataclass
class Reddi:
    r"""Reddi, Kale & Kumar (2018), Theorem 1, on F = [-1, 1]: :math:`f_t(x) = C x` if
    t mod 3 = 1, else :math:`-x`, with C > 2, so the optimum is x* = -1.

    ``loss`` returns x itself (the experiment computes the regret from the path);
    ``project`` clips to F after each step.
    """

    C: float = 3.0
    x1: float = 1.0
    dim: int = 1

    def __post_init__(self) -> None:
        if not self.C > 2:
            raise ValueError(f"C={self.C!r} must be > 2 (else x* = -1 is not the optimum)")

    def coefficient(self, t: int) -> float:
        """f_t(x) = coefficient(t)·x."""
        return float(self.C) if t % 3 == 1 else -1.0

    def init(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([float(self.x1)])

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return np.array([self.coefficient(t)])

    def loss(self, theta: np.ndarray, t: int) -> float:
        return float(theta[0])

    def project(self, theta: np.ndarray) -> None:
        np.clip(theta, -1.0, 1.0, out=theta)


@dataclass
class MovingTarget:
    r"""Online quadratic :math:`f_t(θ) = ½‖θ - c_t‖²` with noisy gradients
    :math:`g_t = θ_{t-1} - c_t + σ ξ_t`, ξ ~ N(0, I); ``loss`` = tracking error ‖θ - c_t‖.

    ``kind="drift"``: c_t circles with radius 1 and period ``period`` in each coordinate
    pair (phases drawn per seed). ``kind="jump"``: c_t is piecewise constant and jumps to a
    fresh N(0, I) point every ``period`` steps.
    """

    kind: str = "drift"
    dim: int = 10
    sigma: float = 0.5
    period: int = 400
    horizon: int = 2000
    target_seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("drift", "jump"):
            raise ValueError(f"kind={self.kind!r} is not one of ('drift', 'jump')")
        if self.dim % 2:
            raise ValueError(f"dim={self.dim!r} must be even (coordinates move in pairs)")
        rng = np.random.default_rng(self.target_seed)
        t = np.arange(self.horizon + 1)
        if self.kind == "drift":
            phase = rng.uniform(0, 2 * math.pi, self.dim // 2)
            ang = 2 * math.pi * t[:, None] / self.period + phase[None, :]
            c = np.empty((t.size, self.dim))
            c[:, 0::2], c[:, 1::2] = np.cos(ang), np.sin(ang)
        else:
            jumps = rng.standard_normal((self.horizon // self.period + 2, self.dim))
            c = jumps[np.maximum(t - 1, 0) // self.period]
        self.targets = c

    def init(self, rng: np.random.Generator) -> np.ndarray:
        return 0.1 * rng.standard_normal(self.dim)

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return theta - self.targets[t] + self.sigma * rng.standard_normal(self.dim)

    def loss(self, theta: np.ndarray, t: int) -> float:
        return float(np.linalg.norm(theta - self.targets[t]))


def quadratic(**kw: object) -> Quadratic:
    return Quadratic(**kw)  # type: ignore[arg-type]


def rosenbrock(**kw: object) -> Rosenbrock:
    return Rosenbrock(**kw)  # type: ignore[arg-type]


def reddi(**kw: object) -> Reddi:
    return Reddi(**kw)  # type: ignore[arg-type]


def moving_target(**kw: object) -> MovingTarget:
    return MovingTarget(**kw)  # type: ignore[arg-type]
