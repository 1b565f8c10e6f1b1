r"""The experiments behind the "Learn" pages: real runs of :mod:`adamproofs.fast` and
:mod:`adamproofs.reference`, returning the numbers that the figures draw and the tests check.

Nothing here re-types an update rule that the package implements: every optimizer is an
:mod:`adamproofs.config` object run by :class:`adamproofs.fast.Optimizer` (NumPy backend,
float64) or by :func:`adamproofs.reference.run`. The only hand-written updates are the ones the
pages compare *against*: sign descent, :math:`\theta \leftarrow \theta - \alpha\,\mathrm{sign}(g)`.

The common problem is the ill-conditioned bowl

.. math:: f(\theta) = \tfrac12(h_1\theta_1^2 + h_2\theta_2^2),\quad h = (1, 25),
   \quad \theta_0 = (-4, 1.5),

whose gradient is :math:`h \odot \theta`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from adamproofs.config import (
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    OptimizerConfig,
    RMSProp,
)
from adamproofs.fast import Optimizer
from adamproofs.variants import Decay

Array = np.ndarray
GradFn = Callable[[Array, int], Array]

#: Curvatures of the bowl (condition number 25) and the common starting point.
CURVATURE = np.array([1.0, 25.0])
THETA0 = np.array([-4.0, 1.5])
BOWL_STEPS = 100


def bowl_loss(theta: Array) -> Array:
    r""":math:`f(\theta) = \tfrac12 \sum_i h_i\theta_i^2` over the last axis."""
    return 0.5 * np.sum(CURVATURE * np.asarray(theta) ** 2, axis=-1)


def bowl_grad(theta: Array, t: int) -> Array:
    r""":math:`\nabla f(\theta) = h \odot \theta` (the step number is unused)."""
    return CURVATURE * theta


@dataclass(frozen=True)
class Run:
    """A fast-optimizer run: θ_0…θ_T (shape (T+1, n)), and m̂_t, v̂_t for Adam (shape (T, n))."""

    thetas: Array
    m_hat: Array | None = None
    v_hat: Array | None = None

    @property
    def steps(self) -> Array:
        r"""The updates :math:`\Delta_t = \theta_{t-1} - \theta_t`, shape (T, n)."""
        return -np.diff(self.thetas, axis=0)


def run(
    config: OptimizerConfig,
    theta0: Sequence[float] | Array,
    grad: GradFn,
    steps: int,
    *,
    lr: Callable[[int], float] | None = None,
) -> Run:
    """Run ``config`` with the fast NumPy optimizer from ``theta0`` for ``steps`` steps.

    ``grad(theta, t)`` gives the gradient at step ``t`` (1-based) from the current θ.
    ``lr(t)``, if given, is the learning rate of step ``t`` (a schedule such as warm-up).
    For Adam the bias-corrected moments m̂_t, v̂_t are read from the optimizer's state.
    """
    theta = np.array(theta0, dtype=np.float64)
    opt = Optimizer(config, [theta], backend="numpy")
    thetas = [theta.copy()]
    is_adam = isinstance(config, Adam)
    m_hat, v_hat = [], []
    for t in range(1, steps + 1):
        if lr is not None:  # a schedule: the same optimizer and state, this step's α
            opt.config = config.replace(lr=lr(t))
        opt.step([grad(theta, t)])
        thetas.append(theta.copy())
        if is_adam:
            assert isinstance(config, Adam)
            c1 = 1 - float(config.beta1) ** t if config.bias_correction else 1.0
            c2 = 1 - float(config.beta2) ** t if config.bias_correction else 1.0
            m_hat.append(opt.state[0]["m"] / c1)
            v_hat.append(opt.state[0]["v"] / c2)
    return Run(
        np.array(thetas), np.array(m_hat) if is_adam else None, np.array(v_hat) if is_adam else None
    )


# --- from gradient descent to Adam --------------------------------------------------------------

#: The ancestors, in the order of the reading path, at the settings the pages use.
ANCESTORS: dict[str, OptimizerConfig] = {
    "gradient-descent": SGD(lr=0.075),
    "momentum": Momentum(lr=0.04, momentum=0.7),
    "nesterov": Nesterov(lr=0.04, momentum=0.7),
    "adagrad": AdaGrad(lr=0.5),
    "rmsprop": RMSProp(lr=0.1, rho=0.9),
    "adam": Adam(lr=0.1, beta1=0.9, beta2=0.999),
}

#: The three pieces of Adam, added one at a time (same α and β2 as Adam above).
ADAM_PARTS: dict[str, Adam] = {
    r"RMSProp ($\beta_1 = 0$, no bias correction)": Adam(
        lr=0.1, beta1=0, beta2=0.999, bias_correction=False
    ),
    "+ momentum (no bias correction)": Adam(lr=0.1, beta1=0.9, beta2=0.999, bias_correction=False),
    "+ bias correction = Adam": Adam(lr=0.1, beta1=0.9, beta2=0.999),
}


def constant_gradient_steps(config: Adam, steps: int = 3000) -> Array:
    """|Δ_t|/α of ``config`` fed the constant gradient g = 1 (from θ = 0)."""
    r = run(config, [0.0], lambda th, t: np.ones(1), steps)
    return np.abs(r.steps[:, 0]) / float(config.lr)


def bowl_run(config: OptimizerConfig, steps: int = BOWL_STEPS, theta0: Array = THETA0) -> Run:
    """``config`` on the bowl from θ_0."""
    return run(config, theta0, bowl_grad, steps)


def sign_descent(lr: float, theta0: Array, grad: GradFn, steps: int) -> Array:
    r"""θ_0…θ_T of :math:`\theta_t = \theta_{t-1} - \alpha\,\mathrm{sign}(g_t)` (written out:
    the package has no sign-descent optimizer; it is the comparison, not the subject)."""
    theta = np.array(theta0, dtype=np.float64)
    out = [theta.copy()]
    for t in range(1, steps + 1):
        theta = theta - lr * np.sign(grad(theta, t))
        out.append(theta)
    return np.array(out)


def sign_descent_limit(steps: int = 40, lr: float = 0.12) -> dict[str, Array]:
    """Adam with β1 = β2 = 0 against sign descent and default-β Adam on the bowl."""
    return {
        "adam_b0": bowl_run(Adam(lr=lr, beta1=0, beta2=0), steps).thetas,
        "sign": sign_descent(lr, THETA0, bowl_grad, steps),
        "adam": bowl_run(Adam(lr=lr), steps).thetas,
    }


# --- scale invariance: per coordinate yes, rotation no -----------------------------------------

#: Per-coordinate gradient scaling used on the page: the second coordinate's gradient ×0.02.
GRADIENT_SCALE = np.array([1.0, 0.02])
ROTATION_DEG = 45.0


def rotation(degrees: float) -> Array:
    """The 2-D rotation matrix by ``degrees``."""
    a = np.deg2rad(degrees)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def scaled_gradient_run(config: OptimizerConfig, steps: int = 60) -> tuple[Array, Array]:
    r"""θ on the bowl with the true gradient, and with :math:`D\nabla f` (D = diag of
    :data:`GRADIENT_SCALE`): the optimizer sees every gradient rescaled per coordinate."""
    plain = bowl_run(config, steps).thetas
    scaled = run(config, THETA0, lambda th, t: GRADIENT_SCALE * bowl_grad(th, t), steps).thetas
    return plain, scaled


def rotated_run(
    config: OptimizerConfig, steps: int = 60, degrees: float = ROTATION_DEG
) -> tuple[Array, Array]:
    r"""θ on the bowl, and the run on the rotated bowl :math:`f(R^\top\phi)` from
    :math:`R\theta_0`, mapped back by :math:`R^\top` (equal iff the optimizer is
    rotation-equivariant)."""
    rot = rotation(degrees)
    plain = bowl_run(config, steps).thetas
    phis = run(config, rot @ THETA0, lambda phi, t: rot @ bowl_grad(rot.T @ phi, t), steps)
    return plain, phis.thetas @ rot  # each row φ ↦ Rᵀφ


# --- signal-to-noise annealing -------------------------------------------------------------------


@dataclass(frozen=True)
class Annealing:
    """Noisy quadratic, many independent coordinates: per-step averages over coordinates."""

    distance: Array  # mean |θ_t|
    snr: Array  # mean |m̂_t|/√v̂_t
    step: Array  # mean |Δ_t|/α


def snr_annealing(
    steps: int = 1500,
    n: int = 400,
    lr: float = 0.01,
    sigma: float = 1.0,
    theta0: float = 2.0,
    seed: int = 0,
) -> Annealing:
    r"""Adam (defaults, α = ``lr``) on :math:`f(\theta)=\tfrac12\theta^2` per coordinate with
    gradient :math:`g_t = \theta_{t-1} + \sigma\xi_t`, :math:`\xi_t \sim N(0,1)`."""
    rng = np.random.default_rng(seed)
    cfg = Adam(lr=lr)
    out = run(cfg, np.full(n, theta0), lambda th, t: th + sigma * rng.standard_normal(n), steps)
    assert out.m_hat is not None and out.v_hat is not None
    return Annealing(
        distance=np.abs(out.thetas).mean(axis=1),
        snr=(np.abs(out.m_hat) / np.sqrt(out.v_hat)).mean(axis=1),
        step=np.abs(out.steps).mean(axis=1) / lr,
    )


def pure_noise_step(beta1: float = 0.9) -> float:
    r"""The mean |Δ|/α once only noise is left: :math:`\hat m` is then an EMA of
    :math:`N(0,\sigma^2)` with variance :math:`\sigma^2(1-\beta_1)/(1+\beta_1)` and
    :math:`\sqrt{\hat v}\approx\sigma`, so :math:`E|\Delta|/\alpha \approx
    \sqrt{2/\pi}\sqrt{(1-\beta_1)/(1+\beta_1)}` (0.183 at β1 = 0.9)."""
    return float(np.sqrt(2 / np.pi) * np.sqrt((1 - beta1) / (1 + beta1)))


@dataclass(frozen=True)
class StepScale:
    """Mean |Δ_t|/α over the run, per gradient scale, for Adam and for gradient descent."""

    scales: Array
    adam: Array
    gd: Array


def step_versus_scale(
    steps: int = 200, eps: float = 1e-8, lr: float = 1e-3, seed: int = 1
) -> StepScale:
    r"""Coordinates whose gradients are :math:`s_i(1 + \tfrac12\xi_t)` for scales
    :math:`s_i` from 1e-12 to 1e4: Adam's steps against gradient descent's (same α)."""
    scales = np.geomspace(1e-12, 1e4, 33)
    noise = np.random.default_rng(seed).standard_normal((steps, scales.size))
    grads = scales * (1 + 0.5 * noise)
    adam = run(Adam(lr=lr, eps=eps), np.zeros(scales.size), lambda th, t: grads[t - 1], steps)
    gd = run(SGD(lr=lr), np.zeros(scales.size), lambda th, t: grads[t - 1], steps)
    return StepScale(
        scales, np.abs(adam.steps).mean(axis=0) / lr, np.abs(gd.steps).mean(axis=0) / lr
    )


# --- practical Adam ------------------------------------------------------------------------------


def step_versus_eps(
    eps_values: Sequence[float] = (1e-8, 1e-4, 1e-1), steps: int = 20, lr: float = 1e-3
) -> tuple[Array, dict[float, Array]]:
    r"""|Δ_T|/α for a constant gradient of scale :math:`s` (from 1e-12 to 1e2), per ε.

    With a constant gradient :math:`\hat m_t = g` and :math:`\hat v_t = g^2` exactly, so the
    run measures :math:`|g|/(|g| + \epsilon)`."""
    scales = np.geomspace(1e-12, 1e2, 57)
    out = {}
    for eps in eps_values:
        r = run(Adam(lr=lr, eps=eps), np.zeros(scales.size), lambda th, t: scales, steps)
        out[eps] = np.abs(r.steps[-1]) / lr
    return scales, out


def gradient_jump(
    beta2: float, *, scale: float = 0.01, at: int = 200, steps: int = 3000, lr: float = 1e-3
) -> Array:
    """|Δ_t|/α of Adam (β1 = 0.9, ``beta2``) on two coordinates: column 0 is fed g = ``scale``
    up to step ``at`` and g = 1 after (a jump up), column 1 the reverse (a drop)."""

    def grad(theta: Array, t: int) -> Array:
        return np.array([scale, 1.0]) if t <= at else np.array([1.0, scale])

    return np.abs(run(Adam(lr=lr, beta2=beta2), [0.0, 0.0], grad, steps).steps) / lr


#: The two memory lengths the page compares: (β2, steps run).
JUMP_RUNS = ((0.99, 3000), (0.999, 12000))


def recovery_after_drop(beta2: float, scale: float = 0.01) -> float:
    r"""Steps after a drop of the gradient from 1 to ``scale`` until :math:`\hat v` has
    forgotten the old scale enough for :math:`|\Delta| = lpha/\sqrt2`:
    :math:`eta_2^k = s^2`, so :math:`k = \ln(s^{-2})/\ln(1/eta_2)` (ignoring the few steps
    :math:`\hat m` needs and :math:`1-eta_2^t`, which is ≈ 1 long after the start)."""
    return float(np.log(scale**-2) / np.log(1 / beta2))


def back_to(steps_over_alpha: Array, at: int, level: float) -> int | None:
    """Steps after ``at`` until |Δ|/α, having fallen below ``level``, is back at ``level``
    (None: it never falls below, or never comes back within the run)."""
    after = steps_over_alpha[at:]
    below = np.flatnonzero(after < level)
    if below.size == 0:
        return None
    back = np.flatnonzero(after[below[0] :] >= level)
    return int(below[0] + back[0]) + 1 if back.size else None


def recovery_steps(steps_over_alpha: Array, at: int, within: float = 0.1) -> int | None:
    """Steps after the jump at ``at`` until |Δ|/α stays within ``within`` of 1 (None: never)."""
    after = np.abs(steps_over_alpha[at:] - 1.0) > within
    bad = np.flatnonzero(after)
    if bad.size == 0:
        return 0
    last = int(bad[-1]) + 1
    return None if last >= after.size else last


#: Gradient-noise scales of the three groups of coordinates in the weight-decay experiment.
DECAY_SIGMAS = (0.01, 1.0, 100.0)


def weight_decay_runs(
    steps: int = 3000,
    per_group: int = 200,
    lr: float = 0.01,
    weight_decay: float = 0.1,
    seed: int = 2,
) -> dict[str, Array]:
    r"""Mean θ_t per noise group for ``decay="l2"`` and ``decay="decoupled"``.

    Every coordinate starts at θ = 1 and its loss gradient is pure noise
    :math:`\sigma\xi_t` (a weight the data does not determine), so only the decay pulls it
    to 0. Returns ``{"l2": (T+1, 3), "decoupled": (T+1, 3)}``, columns in
    :data:`DECAY_SIGMAS` order."""
    sigma = np.repeat(np.array(DECAY_SIGMAS), per_group)
    out = {}
    for form in (Decay.L2, Decay.DECOUPLED):
        noise = np.random.default_rng(seed).standard_normal  # the same noise for both forms

        def grad(theta: Array, t: int, noise: Callable[..., Array] = noise) -> Array:
            return sigma * noise(sigma.size)

        cfg = Adam(lr=lr, weight_decay=weight_decay, decay=form)
        r = run(cfg, np.ones(sigma.size), grad, steps)
        out[form.value] = r.thetas.reshape(steps + 1, len(DECAY_SIGMAS), per_group).mean(axis=2)
    return out


def half_life(mean_theta: Array) -> int | None:
    """First step at which the mean θ falls to half its start (None: never)."""
    below = np.flatnonzero(mean_theta <= 0.5 * mean_theta[0])
    return int(below[0]) if below.size else None


@dataclass(frozen=True)
class EarlySteps:
    """Per-step averages over coordinates of a low-SNR gradient g = μ + σξ."""

    size: Array  # mean |Δ_t|/α (α the peak learning rate)
    right_way: Array  # fraction of coordinates with sign(Δ_t) = sign(μ)


def early_steps(
    config: Adam,
    steps: int = 300,
    n: int = 4000,
    mu: float = 0.1,
    sigma: float = 1.0,
    warmup: int = 0,
    seed: int = 3,
) -> EarlySteps:
    r"""``config`` fed :math:`g_t = \mu + \sigma\xi_t` in ``n`` independent coordinates,
    optionally with a linear warm-up :math:`\alpha_t = \alpha\min(1, t/\text{warmup})`."""
    rng = np.random.default_rng(seed)
    alpha = float(config.lr)
    schedule = (lambda t: alpha * min(1.0, t / warmup)) if warmup else None
    r = run(
        config, np.zeros(n), lambda th, t: mu + sigma * rng.standard_normal(n), steps, lr=schedule
    )
    return EarlySteps(
        size=np.abs(r.steps).mean(axis=1) / alpha,
        right_way=(np.sign(r.steps) == np.sign(mu)).mean(axis=1),
    )


#: The three early-step runs of the warm-up figure: (label, config, warm-up length).
WARMUP_RUNS: tuple[tuple[str, Adam, int], ...] = (
    ("Adam", Adam(lr=0.01), 0),
    ("Adam without bias correction", Adam(lr=0.01, bias_correction=False), 0),
    ("Adam, linear warm-up over 100 steps", Adam(lr=0.01), 100),
)
