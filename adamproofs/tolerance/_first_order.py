r"""The first-order running error model, one per optimizer, read along the oracle's trajectory.

Each model is a function ``local(cfg, prec, step, carried) -> Local``: given one step of
the exact trajectory (θ before and after, the gradient, the exact state before and after,
all float64) and the error bounds carried from the previous step (the state's), it returns
the *local* bound on θ (the error committed in this step, including the accumulated error
of the state it reads) and the new carried bounds. :data:`MODELS` is keyed like the
oracle's :data:`adamproofs.reference.rules.RULES`. The running bound of θ is then
:math:`B_t = |1-\alpha\lambda|\,B_{t-1} + b_t` (:func:`error_bound`); the replay of the
checker reads :math:`b_t` directly (:func:`local_error_bound`). The formulas are derived in
``docs/error-analysis.md`` and summarised in :mod:`adamproofs.tolerance`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, OptimizerConfig, RMSProp
from ..dtypes import float_format
from ..variants import Amsgrad, Decay, EpsPlacement

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

#: Multiplier on the first-order *running* bound of :func:`error_bound` (second-order
#: terms; not proved, see the docs). The checker's replay does not use it.
SAFETY = 2.0
#: A first-order relative term above this makes the bound invalid (inf).
MAX_RELATIVE = 0.05
#: Operations per step that may each add an absolute underflow error η.
UNDERFLOW_OPS = 12


@dataclass(frozen=True)
class Precisions:
    """The unit roundoffs of the model: compute ``u``, scalars ``us``, θ storage ``up``."""

    u: float
    us: float
    up: float
    eta: float  # absolute underflow allowance per step (UNDERFLOW_OPS roundings)
    eta_theta: float  # ... of the θ update (plus θ's storage rounding)
    max: float  # largest finite value of the compute dtype

    @classmethod
    def of(
        cls, compute_dtype: Any, param_dtype: Any = None, scalar_dtype: Any = None
    ) -> Precisions:
        fmt = float_format(compute_dtype)
        up = eta_p = 0.0
        if param_dtype is not None and float_format(param_dtype).p < fmt.p:
            up = float_format(param_dtype).unit_roundoff
            eta_p = float_format(param_dtype).underflow_abs
        us = (
            float_format(scalar_dtype).unit_roundoff
            if scalar_dtype is not None
            else (fmt.unit_roundoff)
        )
        eta = fmt.underflow_abs * UNDERFLOW_OPS
        return cls(u=fmt.unit_roundoff, us=us, up=up, eta=eta, eta_theta=eta + eta_p, max=fmt.max)


@dataclass(frozen=True)
class Step:
    """One step of the exact trajectory, flattened coordinates (float64)."""

    t: int
    theta_prev: np.ndarray
    theta: np.ndarray
    grad: np.ndarray
    prev: dict[str, np.ndarray]  # exact state before the step
    now: dict[str, np.ndarray]  # exact state after it
    #: bound on |δθ_{t-1}| (the running bound; zero in the replay, which starts each
    #: step from the implementation's own θ)
    e_theta: np.ndarray


@dataclass
class Local:
    """A step's local bound on θ, its shrink factor |1−αλ|, the carried state bounds."""

    theta: np.ndarray
    shrink: float = 1.0
    carried: dict[str, np.ndarray] = field(default_factory=dict)
    valid: np.ndarray | bool = True


Model = Callable[[Any, Precisions, Step, dict[str, np.ndarray]], Local]


def bias_correction_relative_error(beta: float, t: int, us: float) -> float:
    """Relative error bound of 1 − β^t computed in precision ``us``: (t+2)·us·β^t/(1−β^t) + us."""
    bt = beta**t
    if bt == 0.0:
        return us
    return (t + 2) * us * bt / (1.0 - bt) + us


def sqrt_error(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Bound on |√(x+δ) − √x| for |δ| ≤ e, x ≥ 0 (first order; valid also when x ~ 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lin = np.where(x > 0, e / (2.0 * np.sqrt(np.maximum(x, 0.0))), np.inf)
    return np.minimum(lin, np.sqrt(e))


def quotient_error(
    num: np.ndarray, e_num: np.ndarray, den: np.ndarray, e_den: np.ndarray
) -> np.ndarray:
    """Bound on |n'/d' − n/d| given |n'−n| ≤ e_num, |d'−d| ≤ e_den.

    Zero when the numerator is exactly zero with no error (0/d = 0, and 0/0 := 0);
    ``inf`` when the perturbed denominator may reach zero.
    """
    safe_den = np.where(den > 0, den, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = np.abs(num) / safe_den
        out = np.where(den > e_den, (e_num + q * e_den) / (den - e_den), np.inf)
    return np.where((num == 0) & (e_num == 0), 0.0, out)


def _step_of(
    scale: float,
    num: np.ndarray,
    e_num: np.ndarray,
    den: np.ndarray,
    e_den: np.ndarray,
    rho: float,
    P: Precisions,
) -> tuple[np.ndarray, np.ndarray]:
    """|Δ| = scale·|num|/den and its bound (the step's relative error ``rho`` + 2u)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        step = scale * np.where(num == 0, 0.0, np.abs(num) / np.where(den > 0, den, 1.0))
        step = np.where((num != 0) & (den == 0), np.inf, step)
        e_step = scale * quotient_error(num, e_num, den, e_den) + step * (rho + 2 * P.u) + P.eta
    return step, e_step


def _theta_rounding(step: Step, P: Precisions) -> np.ndarray:
    """θ_t = θ_{t-1} − Δ rounded (2u: the subtraction and one spare) and stored (u_p)."""
    return (2 * P.u + P.up) * np.abs(step.theta) + P.eta_theta


# --- Adam -------------------------------------------------------------------------------


def _l2_gradient(cfg: Adam, step: Step, u: float) -> tuple[np.ndarray, np.ndarray]:
    """The effective gradient (maximize, then L2 decay) and its error bound."""
    g = -step.grad if cfg.maximize else step.grad
    if not (cfg.has_decay and cfg.decay == Decay.L2):
        return g, np.zeros_like(g)
    lam = float(cfg.weight_decay)
    e_g = lam * step.e_theta + 3 * u * (np.abs(g) + lam * np.abs(step.theta_prev))
    return g + lam * step.theta_prev, e_g


def _bias(cfg: Adam, t: int, us: float) -> tuple[float, float, float, float]:
    """1 − β1^t, 1 − β2^t and their relative error bounds (1, 1, 0, 0 without correction)."""
    if not cfg.bias_correction:
        return 1.0, 1.0, 0.0, 0.0
    b1, b2 = float(cfg.beta1), float(cfg.beta2)
    return (
        1.0 - b1**t,
        1.0 - b2**t,
        bias_correction_relative_error(b1, t, us),
        bias_correction_relative_error(b2, t, us),
    )


def _second_moment(
    cfg: Adam,
    step: Step,
    e_v: np.ndarray,
    carried: dict[str, np.ndarray],
    bc2: float,
    r2: float,
    u: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The corrected second moment in the denominator, its bound, the new bound of v̂max."""
    form = cfg.amsgrad
    match form:
        case None:
            vc = step.now["v"] / bc2
            return vc, e_v / bc2 + vc * (r2 + 2 * u), None
        case Amsgrad.MAX_RAW:
            e_max = np.maximum(carried["vmax"], e_v)
            vc = step.now["vmax"] / bc2
            return vc, e_max / bc2 + vc * (r2 + 2 * u), e_max
        case Amsgrad.MAX_CORRECTED:
            cur = step.now["v"] / bc2
            e_max = np.maximum(carried["vmax"], e_v / bc2 + cur * (r2 + 2 * u))
            return step.now["vmax"], e_max, e_max
        case Amsgrad.MAX_UNCORRECTED:
            e_max = np.maximum(carried["vmax"], e_v)
            return step.now["vmax"], e_max, e_max
        case _:
            assert_never(form)


def _denominator(
    cfg: Adam,
    vc: np.ndarray,
    e_vc: np.ndarray,
    bc1: float,
    bc2: float,
    r1: float,
    r2: float,
    u: float,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The denominator D, its bound, the scale s of Δ = s·m/D and s's relative error."""
    eps, lr = float(cfg.eps), float(cfg.lr)
    placement = cfg.eps_placement
    match placement:
        case EpsPlacement.ROOT:
            inner = vc + eps
            e_in = e_vc + u * eps + u * inner
            den = np.sqrt(inner)
            return den, sqrt_error(inner, e_in) + u * den, lr / bc1, r1 + 3 * u
        case EpsPlacement.PAPER:
            root = np.sqrt(vc)
            e_den = sqrt_error(vc, e_vc) + 3 * u * root + 2 * u * eps
            return root + eps, e_den, lr / bc1, r1 + 3 * u
        case EpsPlacement.HAT:  # α_t m/(√v + ε̂): the paper form with ε_t = ε/√bc2
            root = np.sqrt(vc)
            eps_t = eps / np.sqrt(bc2)
            e_den = sqrt_error(vc, e_vc) + 3 * u * root + eps_t * (r2 / 2 + 3 * u)
            return root + eps_t, e_den, lr / bc1, r1 + r2 / 2 + 4 * u
        case _:
            assert_never(placement)


def _decoupled(cfg: Adam, step: Step, u: float) -> tuple[float, np.ndarray | float]:
    """Decoupled decay: the shrink factor |1 − αλ| and the error of θ·(1 − αλ)."""
    if not cfg.has_decay:
        return 1.0, 0.0
    decay = cfg.decay
    match decay:
        case Decay.L2:
            return 1.0, 0.0
        case Decay.DECOUPLED | Decay.DECOUPLED_AFTER:
            lr_lam = float(cfg.lr) * float(cfg.weight_decay)
            shrink = abs(1.0 - lr_lam)
            theta = np.abs(step.theta_prev)
            return shrink, 3 * u * theta * shrink + 2 * u * lr_lam * theta
        case _:
            assert_never(decay)


def adam_local(cfg: Adam, P: Precisions, step: Step, carried: dict[str, np.ndarray]) -> Local:
    """Adam and every variant of :class:`~adamproofs.config.Adam` (see the module docs)."""
    u = P.u
    b1, b2 = float(cfg.beta1), float(cfg.beta2)
    c1, c2 = 1.0 - b1, 1.0 - b2
    g, e_g = _l2_gradient(cfg, step, u)
    m_prev, v_prev = step.prev["m"], step.prev["v"]
    e_m = 4 * u * (np.abs(m_prev) + c1 * np.abs(g)) + b1 * carried["m"] + c1 * e_g + P.eta
    e_v = (
        5 * u * (v_prev + c2 * g * g)
        + b2 * carried["v"]
        + 2 * c2 * np.abs(g) * e_g
        + c2 * e_g * e_g
        + P.eta
    )
    bc1, bc2, r1, r2 = _bias(cfg, step.t, P.us)
    vc, e_vc, e_vmax = _second_moment(cfg, step, e_v, carried, bc2, r2, u)
    den, e_den, scale, rho = _denominator(cfg, vc, e_vc, bc1, bc2, r1, r2, u)
    _, e_step = _step_of(scale, step.now["m"], e_m, den, e_den, rho, P)
    shrink, e_decay = _decoupled(cfg, step, u)
    with np.errstate(over="ignore", invalid="ignore"):
        overflow = np.maximum(step.now["v"], np.maximum(g * g, vc)) > P.max
    valid = (max(r1, r2, rho) <= MAX_RELATIVE) & np.isfinite(e_step) & ~overflow
    carry = {"m": e_m, "v": e_v} | ({} if e_vmax is None else {"vmax": e_vmax})
    return Local(e_step + e_decay + _theta_rounding(step, P), shrink, carry, valid)


# --- the comparison optimizers ----------------------------------------------------------


def adamax_local(cfg: AdaMax, P: Precisions, step: Step, carried: dict[str, np.ndarray]) -> Local:
    """AdaMax: m as Adam's, u = max(β2 u, |g|) exact up to the rounding of β2·u."""
    u = P.u
    b1, b2 = float(cfg.beta1), float(cfg.beta2)
    g = -step.grad if cfg.maximize else step.grad
    e_m = 4 * u * (np.abs(step.prev["m"]) + (1 - b1) * np.abs(g)) + b1 * carried["m"] + P.eta
    e_u = b2 * carried["u"] + 2 * u * b2 * step.prev["u"] + P.eta
    den = step.now["u"] + float(cfg.eps)
    e_den = e_u + u * den + u * float(cfg.eps)
    r1 = bias_correction_relative_error(b1, step.t, P.us)
    _, e_step = _step_of(
        float(cfg.lr) / (1.0 - b1**step.t), step.now["m"], e_m, den, e_den, r1 + 3 * u, P
    )
    return Local(e_step + _theta_rounding(step, P), 1.0, {"m": e_m, "u": e_u}, r1 <= MAX_RELATIVE)


def sgd_local(
    cfg: SGD | Momentum | Nesterov, P: Precisions, step: Step, carried: dict[str, np.ndarray]
) -> Local:
    """Gradient descent, heavy ball and Nesterov (b = μb + g; direction g, b or g + μb)."""
    u = P.u
    g = -step.grad if cfg.maximize else step.grad
    if isinstance(cfg, SGD):
        direction, e_dir, carry = np.abs(g), np.zeros_like(g), {}
    else:
        mu = float(cfg.momentum)
        e_b = mu * carried["b"] + 2 * u * (mu * np.abs(step.prev["b"]) + np.abs(g)) + P.eta
        carry = {"b": e_b}
        if isinstance(cfg, Nesterov):
            direction = np.abs(g + mu * step.now["b"])
            e_dir = mu * e_b + 3 * u * (np.abs(g) + mu * np.abs(step.now["b"]))
        else:
            direction, e_dir = np.abs(step.now["b"]), e_b
    lr = float(cfg.lr)
    return Local(lr * e_dir + 2 * u * lr * direction + _theta_rounding(step, P), 1.0, carry)


def adagrad_local(
    cfg: AdaGrad | RMSProp, P: Precisions, step: Step, carried: dict[str, np.ndarray]
) -> Local:
    """AdaGrad (s += g²) and RMSProp (s = ρs + (1−ρ)g²); Δ = α g/(√s + ε)."""
    u = P.u
    rho, c = (1.0, 1.0) if isinstance(cfg, AdaGrad) else (float(cfg.rho), 1.0 - float(cfg.rho))
    g = -step.grad if cfg.maximize else step.grad
    e_s = rho * carried["s"] + 5 * u * (step.prev["s"] + c * g * g) + P.eta
    root = np.sqrt(step.now["s"])
    den = root + float(cfg.eps)
    e_den = sqrt_error(step.now["s"], e_s) + 2 * u * root + 2 * u * float(cfg.eps)
    _, e_step = _step_of(float(cfg.lr), g, np.zeros_like(g), den, e_den, 2 * u, P)
    return Local(e_step + _theta_rounding(step, P), 1.0, {"s": e_s})


#: The error model of each optimizer class, keyed as :data:`adamproofs.reference.RULES`.
MODELS: dict[type, Model] = {
    Adam: adam_local,
    AdaMax: adamax_local,
    SGD: sgd_local,
    Momentum: sgd_local,
    Nesterov: sgd_local,
    AdaGrad: adagrad_local,
    RMSProp: adagrad_local,
}


def model_for(cfg: OptimizerConfig) -> Model:
    """The error model of an optimizer configuration (as :func:`~adamproofs.reference.rule_for`)."""
    try:
        return MODELS[type(cfg)]
    except KeyError:
        raise TypeError(
            f"no error model for {type(cfg).__name__}; known: {[c.__name__ for c in MODELS]}"
        ) from None
