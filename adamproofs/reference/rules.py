r"""The update rules, written once, generic over the arithmetic.

Every rule has the signature ``rule(cfg, h, t, theta, grad, state, A)`` where

- ``cfg`` is the :mod:`adamproofs.config` object (variant flags),
- ``h`` holds the hyperparameters already converted to the arithmetic ``A``,
- ``t`` is the 1-based step number of *this* update,
- ``theta``, ``grad`` are lists of coordinates, ``state`` a dict of such lists,

and returns ``(new_theta, new_state)`` without mutating its inputs. All
coordinates are independent, so the rules are plain loops over coordinates with
the per-step scalars (bias corrections) computed once per step.

Adam follows Kingma & Ba, Algorithm 1, line by line; comments give each formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from typing_extensions import assert_never

from ..config import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, OptimizerConfig, RMSProp
from ..variants import Amsgrad, Decay, EpsPlacement
from .arithmetic import Arithmetic

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


#: ``(vmax_{t-1}, v_t, 1-β2^t) -> (v̂, v, vmax_t)``: the second moment in the
#: denominator, in "corrected space" v̂ and "raw space" v, and the kept maximum.
SecondMoment = Callable[[Any, Any, Any], tuple[Any, Any, Any]]
#: ``(m_t, v̂, v) -> Δ_t``: the step before decay.
AdamDelta = Callable[[Any, Any, Any], Any]


def _bias_corrections(enabled: bool, h: Any, t: int, one: Any) -> tuple[Any, Any]:
    """``(1-β1^t, 1-β2^t)``, or ``(1, 1)`` without bias correction."""
    match enabled:
        case True:
            return one - h.beta1**t, one - h.beta2**t
        case False:
            return one, one
        case _:
            assert_never(enabled)


def _second_moment(form: Amsgrad | None, A: Arithmetic) -> SecondMoment:
    """The AMSGrad form's second moment (see :class:`~adamproofs.variants.Amsgrad`)."""

    def plain(vmax: Any, v: Any, bc2: Any) -> tuple[Any, Any, Any]:
        return v / bc2, v, None  # v̂_t = v_t / (1-β2^t)

    def max_raw(vmax: Any, v: Any, bc2: Any) -> tuple[Any, Any, Any]:
        vr = A.maximum(vmax, v)  # max of raw v, corrected by today's 1-β2^t
        return vr / bc2, vr, vr

    def max_corrected(vmax: Any, v: Any, bc2: Any) -> tuple[Any, Any, Any]:
        vc = A.maximum(vmax, v / bc2)  # max of v̂
        return vc, vc * bc2, vc

    def max_uncorrected(vmax: Any, v: Any, bc2: Any) -> tuple[Any, Any, Any]:
        vc = A.maximum(vmax, v)  # the AMSGrad paper: max of v, never bias-corrected
        return vc, vc * bc2, vc

    match form:
        case None:
            return plain
        case Amsgrad.MAX_RAW:
            return max_raw
        case Amsgrad.MAX_CORRECTED:
            return max_corrected
        case Amsgrad.MAX_UNCORRECTED:
            return max_uncorrected
        case _:
            assert_never(form)


def _adam_delta(placement: EpsPlacement, h: Any, bc1: Any, bc2: Any,
                A: Arithmetic) -> AdamDelta:
    """Δ_t for the ε placement (see :class:`~adamproofs.variants.EpsPlacement`)."""
    lr, eps, quotient, sqrt = h.lr, h.eps, A.quotient, A.sqrt

    def paper(m: Any, vc: Any, vr: Any) -> Any:
        return lr * quotient(m / bc1, sqrt(vc) + eps)  # α m̂ / (√v̂ + ε)

    def root(m: Any, vc: Any, vr: Any) -> Any:
        return lr * quotient(m / bc1, sqrt(vc + eps))  # α m̂ / √(v̂ + ε)

    match placement:
        case EpsPlacement.PAPER:
            return paper
        case EpsPlacement.ROOT:
            return root
        case EpsPlacement.HAT:
            lr_t = lr * sqrt(bc2) / bc1  # α_t = α √(1-β2^t) / (1-β1^t)

            def hat(m: Any, vc: Any, vr: Any) -> Any:
                return lr_t * quotient(m, sqrt(vr) + eps)  # α_t m / (√v + ε̂)

            return hat
        case _:
            assert_never(placement)


def _decay_places(cfg: Adam) -> tuple[bool, bool, bool]:
    """Where λ enters: ``(gradient (L2), before the step, after the step)``."""
    if not cfg.has_decay:
        return False, False, False
    match cfg.decay:
        case Decay.L2:
            return True, False, False
        case Decay.DECOUPLED:
            return False, True, False
        case Decay.DECOUPLED_AFTER:
            return False, False, True
        case _:
            assert_never(cfg.decay)


def adam_step(cfg: Adam, h: Any, t: int, theta: list, grad: list, state: State,
              A: Arithmetic) -> tuple[list, State]:
    r"""One Adam step for every coordinate (all variants of :class:`~adamproofs.config.Adam`).

    :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
    :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2`,
    :math:`\theta_t = \theta_{t-1} - \Delta_t`, where L2 decay first sets
    :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}` and decoupled decay multiplies
    :math:`\theta` by :math:`1-\alpha\lambda` before (or after) the step,
    and :math:`\Delta_t` depends on the ε placement and the AMSGrad form
    (see :mod:`adamproofs.variants`).
    """
    b1, b2, wd = h.beta1, h.beta2, h.weight_decay
    one = A.number(1)
    bc1, bc2 = _bias_corrections(cfg.bias_correction, h, t, one)
    moment = _second_moment(cfg.amsgrad, A)
    delta = _adam_delta(cfg.eps_placement, h, bc1, bc2, A)
    l2, decay_before, decay_after = _decay_places(cfg)
    shrink = one - h.lr * wd  # 1 - αλ (decoupled decay)
    vmaxes = state.get("vmax") or [None] * len(theta)
    new_theta, new_m, new_v, new_vmax = [], [], [], []
    for i, (th, g) in enumerate(zip(theta, grad)):
        g = _signed(cfg, g)
        if l2:
            g = g + wd * th  # g_t <- g_t + λ θ_{t-1}
        m = b1 * state["m"][i] + (one - b1) * g  # m_t = β1 m_{t-1} + (1-β1) g_t
        v = b2 * state["v"][i] + (one - b2) * g * g  # v_t = β2 v_{t-1} + (1-β2) g_t²
        new_m.append(m)
        new_v.append(v)
        vc, vr, vmax = moment(vmaxes[i], v, bc2)
        new_vmax.append(vmax)
        step = delta(m, vc, vr)
        if decay_before:
            th = th * shrink  # θ_{t-1}(1 - αλ)
        th = th - step  # θ_t = θ_{t-1} - Δ_t
        if decay_after:
            th = th * shrink
        new_theta.append(th)
    new_state: State = {"m": new_m, "v": new_v}
    if cfg.amsgrad is not None:
        new_state["vmax"] = new_vmax
    return new_theta, new_state


def adamax_step(cfg: AdaMax, h: Any, t: int, theta: list, grad: list, state: State,
                A: Arithmetic) -> tuple[list, State]:
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


def sgd_step(cfg: SGD, h: Any, t: int, theta: list, grad: list, state: State,
             A: Arithmetic) -> tuple[list, State]:
    r"""Gradient descent: :math:`\theta_t = \theta_{t-1} - \alpha g_t`."""
    return [th - h.lr * _signed(cfg, g) for th, g in zip(theta, grad)], {}


def momentum_step(cfg: Momentum | Nesterov, h: Any, t: int, theta: list, grad: list,
                  state: State, A: Arithmetic) -> tuple[list, State]:
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


def adagrad_step(cfg: AdaGrad, h: Any, t: int, theta: list, grad: list, state: State,
                 A: Arithmetic) -> tuple[list, State]:
    r"""AdaGrad: :math:`s_t = s_{t-1} + g_t^2`, :math:`\theta_t = \theta_{t-1} -
    \alpha g_t/(\sqrt{s_t}+\epsilon)`."""
    new_theta, new_s = [], []
    for i, (th, g) in enumerate(zip(theta, grad)):
        g = _signed(cfg, g)
        s = state["s"][i] + g * g
        new_s.append(s)
        new_theta.append(th - h.lr * A.quotient(g, A.sqrt(s) + h.eps))
    return new_theta, {"s": new_s}


def rmsprop_step(cfg: RMSProp, h: Any, t: int, theta: list, grad: list, state: State,
                 A: Arithmetic) -> tuple[list, State]:
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
        raise TypeError(f"no reference rule for {type(cfg).__name__}; "
                        f"known: {[c.__name__ for c in RULES]}") from None
