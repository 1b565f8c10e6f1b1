r"""The update rules, written once, generic over the arithmetic.

Every rule has the signature ``rule(cfg, h, t, theta, grad, state, A)`` where

- ``cfg`` is the :mod:`adamproofs.config` object (variant flags),
- ``h`` holds the hyperparameters already converted to the arithmetic ``A``,
- ``t`` is the 1-based step number of *this* update,
- ``theta``, ``grad`` are lists of coordinates, ``state`` a dict of such lists,

and returns ``(new_theta, new_state)`` without mutating its inputs. All
coordinates are independent, so the rules compute plain per-coordinate lists,
with the per-step scalars (bias corrections) computed once per step.

Adam follows Kingma & Ba, Algorithm 1, line by line; comments give each formula.
Each variant axis is matched exhaustively once per step (an ``assert_never``
arm makes a new axis value a type error until it is handled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from typing_extensions import assert_never

from ..config import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, OptimizerConfig, RMSProp
from ..variants import Amsgrad, Decay, EpsPlacement
from ._arithmetic import Arithmetic

State = dict[str, list]
Rule = Callable[..., tuple[list, State]]


def initial_state(cfg: OptimizerConfig, size: int, A: Arithmetic) -> State:
    """The state before step 1: zeros (AdaGrad: its initial accumulator)."""
    zero = A.number(0)
    if isinstance(cfg, Adam):
        names = cfg.active_state
    else:
        names = cfg.state_names
    state: State = {name: [zero] * size for name in names}
    if isinstance(cfg, AdaGrad):
        state["s"] = [A.number(cfg.initial_accumulator)] * size
    return state


def _signed(cfg: OptimizerConfig, g: Any) -> Any:
    """maximize: g ← -g (before any decay term)."""
    return -g if cfg.maximize else g


def _bias_corrections(enabled: bool, h: Any, t: int, one: Any) -> tuple[Any, Any]:
    """``(1-β1^t, 1-β2^t)``, or ``(1, 1)`` without bias correction."""
    b1, b2 = h.beta1, h.beta2
    match enabled:
        case True:
            bc1 = one - b1**t  # 1 - β1^t
            bc2 = one - b2**t  # 1 - β2^t
            return bc1, bc2
        case False:
            return one, one
        case _:
            assert_never(enabled)


def _adam_gradients(cfg: Adam, h: Any, theta: list, grad: list) -> list:
    """g_t, negated for ``maximize``, plus λθ_{t-1} under L2 decay."""
    g = [-gi for gi in grad] if cfg.maximize else grad  # maximize: g <- -g
    if not cfg.has_decay:
        return g
    wd = h.weight_decay
    match cfg.decay:
        case Decay.L2:
            return [gi + wd * th for gi, th in zip(g, theta)]  # g_t <- g_t + λ θ_{t-1}
        case Decay.DECOUPLED | Decay.DECOUPLED_AFTER:
            return g
        case _:
            assert_never(cfg.decay)


def _second_moments(
    form: Amsgrad | None, v: list, state: State, bc2: Any, A: Arithmetic
) -> tuple[list, list, list | None]:
    """``(v̂, v, vmax_t)``: the second moment in the denominator, in "corrected space"
    (divided by 1-β2^t) and in "raw space", and the running maximum kept (AMSGrad;
    ``state["vmax"]`` holds the previous one)."""
    match form:
        case None:
            hat = [vi / bc2 for vi in v]  # v̂_t = v_t / (1-β2^t)
            return hat, v, None
        case Amsgrad.MAX_RAW:  # max of raw v, corrected by today's 1-β2^t
            raw = [A.maximum(a, vi) for a, vi in zip(state["vmax"], v)]
            return [x / bc2 for x in raw], raw, raw
        case Amsgrad.MAX_CORRECTED:
            hat = [A.maximum(a, vi / bc2) for a, vi in zip(state["vmax"], v)]  # max of v̂
            return hat, [x * bc2 for x in hat], hat
        case Amsgrad.MAX_UNCORRECTED:  # the AMSGrad paper: max of v, never bias-corrected
            hat = [A.maximum(a, vi) for a, vi in zip(state["vmax"], v)]
            return hat, [x * bc2 for x in hat], hat
        case _:
            assert_never(form)


def _adam_deltas(
    placement: EpsPlacement, h: Any, m: list, vc: list, vr: list, bc1: Any, bc2: Any, A: Arithmetic
) -> list:
    """Δ_t per coordinate, by where ε enters (``vc`` corrected, ``vr`` raw second moment)."""
    lr, eps = h.lr, h.eps
    match placement:
        case EpsPlacement.PAPER:  # α m̂ / (√v̂ + ε)
            return [lr * A.quotient(mi / bc1, A.sqrt(vi) + eps) for mi, vi in zip(m, vc)]
        case EpsPlacement.ROOT:  # α m̂ / √(v̂ + ε)
            return [lr * A.quotient(mi / bc1, A.sqrt(vi + eps)) for mi, vi in zip(m, vc)]
        case EpsPlacement.HAT:  # α_t m / (√v + ε̂)
            lr_t = lr * A.sqrt(bc2) / bc1  # α_t = α √(1-β2^t) / (1-β1^t)
            return [lr_t * A.quotient(mi, A.sqrt(vi) + eps) for mi, vi in zip(m, vr)]
        case _:
            assert_never(placement)


def _adam_thetas(cfg: Adam, h: Any, theta: list, deltas: list, one: Any) -> list:
    """θ_t = θ_{t-1} - Δ_t; decoupled decay multiplies by 1-αλ before (or after) the step."""
    if cfg.has_decay:
        shrink = one - h.lr * h.weight_decay  # 1 - αλ
        match cfg.decay:
            case Decay.DECOUPLED:  # θ_{t-1}(1 - αλ) - Δ_t
                return [th * shrink - d for th, d in zip(theta, deltas)]
            case Decay.DECOUPLED_AFTER:  # (θ_{t-1} - Δ_t)(1 - αλ)
                return [(th - d) * shrink for th, d in zip(theta, deltas)]
            case Decay.L2:
                pass
            case _:
                assert_never(cfg.decay)
    return [th - d for th, d in zip(theta, deltas)]  # θ_t = θ_{t-1} - Δ_t


def _first_moments(h: Any, m: list, g: list, one: Any) -> list:
    """m_t = β1 m_{t-1} + (1-β1) g_t."""
    b1 = h.beta1
    c1 = one - b1  # 1 - β1
    return [b1 * mi + c1 * gi for mi, gi in zip(m, g)]


def _raw_second_moments(h: Any, v: list, g: list, one: Any) -> list:
    """v_t = β2 v_{t-1} + (1-β2) g_t²."""
    b2 = h.beta2
    c2 = one - b2  # 1 - β2
    return [b2 * vi + c2 * gi * gi for vi, gi in zip(v, g)]


@dataclass(frozen=True)
class AdamStages:
    """The stages of one Adam step, each one line (or one formula) of Algorithm 1.

    :func:`adam_step` looks every stage up here, so a model of a *different* update
    (a known defect, :mod:`adamproofs.conformance.diagnosis`) is this table with one
    stage replaced: ``DEFAULT_STAGES.replace(first_moments=...)``. The signatures:

    - ``bias_corrections(enabled, h, t, one) -> (1-β1^t, 1-β2^t)``
    - ``gradients(cfg, h, theta, grad) -> g`` (maximize, L2 decay)
    - ``first_moments(h, m_prev, g, one) -> m``; ``raw_second_moments(h, v_prev, g, one) -> v``
    - ``second_moments(amsgrad, v, state, bc2, A) -> (v̂, v_raw, vmax)``
    - ``deltas(placement, h, m, v̂, v_raw, bc1, bc2, A) -> Δ``
    - ``thetas(cfg, h, theta, Δ, one) -> θ``
    """

    bias_corrections: Callable[[bool, Any, int, Any], tuple[Any, Any]] = _bias_corrections
    gradients: Callable[[Adam, Any, list, list], list] = _adam_gradients
    first_moments: Callable[[Any, list, list, Any], list] = _first_moments
    raw_second_moments: Callable[[Any, list, list, Any], list] = _raw_second_moments
    second_moments: Callable[..., tuple[list, list, list | None]] = _second_moments
    deltas: Callable[..., list] = _adam_deltas
    thetas: Callable[[Adam, Any, list, list, Any], list] = _adam_thetas

    def replace(self, **stages: Callable[..., Any]) -> AdamStages:
        """A copy with some stages replaced (names as the fields)."""
        return replace(self, **stages)


#: Algorithm 1 (with the variant axes of :class:`~adamproofs.config.Adam`).
DEFAULT_STAGES = AdamStages()


def adam_step(
    cfg: Adam,
    h: Any,
    t: int,
    theta: list,
    grad: list,
    state: State,
    A: Arithmetic,
    stages: AdamStages = DEFAULT_STAGES,
) -> tuple[list, State]:
    r"""One Adam step for every coordinate (all variants of :class:`~adamproofs.config.Adam`).

    :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
    :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2`,
    :math:`\theta_t = \theta_{t-1} - \Delta_t`, where L2 decay first sets
    :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}` and decoupled decay multiplies
    :math:`\theta` by :math:`1-\alpha\lambda` before (or after) the step;
    :math:`\Delta_t` depends on the ε placement and the AMSGrad form (see
    :mod:`adamproofs.variants`). Each axis is matched once per step, not per coordinate.
    Every stage is looked up in ``stages`` (:class:`AdamStages`; default: Algorithm 1).
    """
    one = A.number(1)
    bc1, bc2 = stages.bias_corrections(cfg.bias_correction, h, t, one)
    g = stages.gradients(cfg, h, theta, grad)
    m = stages.first_moments(h, state["m"], g, one)  # m_t = β1 m_{t-1} + (1-β1) g_t
    v = stages.raw_second_moments(h, state["v"], g, one)  # β2 v_{t-1} + (1-β2) g_t²
    vc, vr, vmax = stages.second_moments(cfg.amsgrad, v, state, bc2, A)
    deltas = stages.deltas(cfg.eps_placement, h, m, vc, vr, bc1, bc2, A)
    new_state: State = {"m": m, "v": v}
    if vmax is not None:
        new_state["vmax"] = vmax
    return stages.thetas(cfg, h, theta, deltas, one), new_state


def adamax_step(
    cfg: AdaMax, h: Any, t: int, theta: list, grad: list, state: State, A: Arithmetic
) -> tuple[list, State]:
    r"""AdaMax: :math:`u_t = \max(\beta_2 u_{t-1}, |g_t|)`, :math:`\theta_t = \theta_{t-1} -
    \frac{\alpha}{1-\beta_1^t} m_t/(u_t+\epsilon)`."""
    b1, b2, lr, eps = h.beta1, h.beta2, h.lr, h.eps
    one = A.number(1)
    lr_t = lr / (one - b1**t)
    new_theta, new_m, new_u = [], [], []
    for i, (th, g) in enumerate(zip(theta, grad)):
        g = _signed(cfg, g)
        m = b1 * state["m"][i] + (one - b1) * g
        u = A.maximum(b2 * state["u"][i], A.absolute(g))
        new_m.append(m)
        new_u.append(u)
        new_theta.append(th - lr_t * A.quotient(m, u + eps))
    return new_theta, {"m": new_m, "u": new_u}


def sgd_step(
    cfg: SGD, h: Any, t: int, theta: list, grad: list, state: State, A: Arithmetic
) -> tuple[list, State]:
    r"""Gradient descent: :math:`\theta_t = \theta_{t-1} - \alpha g_t`."""
    return [th - h.lr * _signed(cfg, g) for th, g in zip(theta, grad)], {}


def momentum_step(
    cfg: Momentum | Nesterov, h: Any, t: int, theta: list, grad: list, state: State, A: Arithmetic
) -> tuple[list, State]:
    r"""Heavy ball :math:`b_t = \mu b_{t-1} + g_t`, :math:`\theta_t = \theta_{t-1} - \alpha b_t`;
    Nesterov uses :math:`\alpha (g_t + \mu b_t)` instead."""
    mu, lr = h.momentum, h.lr
    nesterov = isinstance(cfg, Nesterov)
    new_theta, new_b = [], []
    for i, (th, g) in enumerate(zip(theta, grad)):
        g = _signed(cfg, g)
        b = mu * state["b"][i] + g
        new_b.append(b)
        new_theta.append(th - lr * ((g + mu * b) if nesterov else b))
    return new_theta, {"b": new_b}


def adagrad_step(
    cfg: AdaGrad, h: Any, t: int, theta: list, grad: list, state: State, A: Arithmetic
) -> tuple[list, State]:
    r"""AdaGrad: :math:`s_t = s_{t-1} + g_t^2`, :math:`\theta_t = \theta_{t-1} -
    \alpha g_t/(\sqrt{s_t}+\epsilon)`."""
    new_theta, new_s = [], []
    for i, (th, g) in enumerate(zip(theta, grad)):
        g = _signed(cfg, g)
        s = state["s"][i] + g * g
        new_s.append(s)
        new_theta.append(th - h.lr * A.quotient(g, A.sqrt(s) + h.eps))
    return new_theta, {"s": new_s}


def rmsprop_step(
    cfg: RMSProp, h: Any, t: int, theta: list, grad: list, state: State, A: Arithmetic
) -> tuple[list, State]:
    r"""RMSProp: :math:`s_t = \rho s_{t-1} + (1-\rho) g_t^2`, :math:`\theta_t = \theta_{t-1} -
    \alpha g_t/(\sqrt{s_t}+\epsilon)`."""
    one = A.number(1)
    new_theta, new_s = [], []
    for i, (th, g) in enumerate(zip(theta, grad)):
        g = _signed(cfg, g)
        s = h.rho * state["s"][i] + (one - h.rho) * g * g
        new_s.append(s)
        new_theta.append(th - h.lr * A.quotient(g, A.sqrt(s) + h.eps))
    return new_theta, {"s": new_s}


RULES: dict[type, Rule] = {
    Adam: adam_step,
    AdaMax: adamax_step,
    SGD: sgd_step,
    Momentum: momentum_step,
    Nesterov: momentum_step,
    AdaGrad: adagrad_step,
    RMSProp: rmsprop_step,
}


def rule_for(cfg: OptimizerConfig) -> Rule:
    """The update rule of an optimizer configuration."""
    try:
        return RULES[type(cfg)]
    except KeyError:
        raise TypeError(
            f"no reference rule for {type(cfg).__name__}; known: {[c.__name__ for c in RULES]}"
        ) from None
