r"""The update rules, written once, generic over the arithmetic.

Every rule has the signature ``rule(cfg, h, t, theta, grad, state, A)`` where

- ``cfg`` is the :mod:`adamproofs.config` object (variant flags),
- ``h`` holds the hyperparameters already converted to the arithmetic ``A``,
- ``t`` is the 1-based step number of *this* update,
- ``theta``, ``grad`` are lists of coordinates, ``state`` a dict of such lists,

and returns ``(new_theta, new_state)`` without mutating its inputs. All
coordinates are independent, so the rules are plain loops over coordinates with
the per-step scalars (bias corrections) computed once per step.

Adam, line by line (Kingma & Ba, Algorithm 1; comments give the formula):
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, OptimizerConfig, RMSProp
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
    # maximize: g <- -g (before any decay term)
    return -g if cfg.maximize else g


def adam_step(cfg: Adam, h: Any, t: int, theta: list, grad: list, state: State,
              A: Arithmetic) -> tuple[list, State]:
    r"""One Adam step for every coordinate (all variants of :class:`~adamproofs.config.Adam`)."""
    b1, b2, lr, eps, wd = h.beta1, h.beta2, h.lr, h.eps, h.weight_decay
    one = A.number(1)
    if cfg.bias_correction:
        bc1 = one - b1**t  # 1 - β1^t
        bc2 = one - b2**t  # 1 - β2^t
    else:
        bc1 = bc2 = one
    decay = cfg.has_decay
    shrink = one - lr * wd  # 1 - αλ (decoupled decay)
    if cfg.eps_placement == "hat":
        lr_t = lr * A.sqrt(bc2) / bc1  # α_t = α √(1-β2^t) / (1-β1^t)
    form = cfg.amsgrad
    new_theta, new_m, new_v, new_vmax = [], [], [], []
    for i, (th, g) in enumerate(zip(theta, grad)):
        g = _signed(cfg, g)
        if decay and cfg.decay == "l2":
            g = g + wd * th  # g_t <- g_t + λ θ_{t-1}
        m = b1 * state["m"][i] + (one - b1) * g  # m_t = β1 m_{t-1} + (1-β1) g_t
        v = b2 * state["v"][i] + (one - b2) * g * g  # v_t = β2 v_{t-1} + (1-β2) g_t²
        new_m.append(m)
        new_v.append(v)
        # the second moment in the denominator, "corrected space" vc and "raw space" vr
        if form is None:
            vr = v
            vc = v / bc2  # v̂_t = v_t / (1-β2^t)
        elif form == "max_raw":
            vr = A.maximum(state["vmax"][i], v)  # max of raw v, corrected by today's bc2
            vc = vr / bc2
            new_vmax.append(vr)
        elif form == "max_corrected":
            vc = A.maximum(state["vmax"][i], v / bc2)  # max of v̂
            vr = vc * bc2
            new_vmax.append(vc)
        else:  # max_uncorrected: the AMSGrad paper, v never bias-corrected
            vc = A.maximum(state["vmax"][i], v)
            vr = vc * bc2
            new_vmax.append(vc)
        if cfg.eps_placement == "paper":
            step = lr * A.quotient(m / bc1, A.sqrt(vc) + eps)  # α m̂ / (√v̂ + ε)
        elif cfg.eps_placement == "root":
            step = lr * A.quotient(m / bc1, A.sqrt(vc + eps))  # α m̂ / √(v̂ + ε)
        else:
            step = lr_t * A.quotient(m, A.sqrt(vr) + eps)  # α_t m / (√v + ε̂)
        if decay and cfg.decay == "decoupled":
            th = th * shrink  # θ_{t-1}(1 - αλ)
        th = th - step  # θ_t = θ_{t-1} - Δ_t
        if decay and cfg.decay == "decoupled_after":
            th = th * shrink
        new_theta.append(th)
    new_state: State = {"m": new_m, "v": new_v}
    if form is not None:
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
