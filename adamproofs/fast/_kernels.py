r"""In-place NumPy kernels, one per optimizer, applied to cache-sized chunks.

Each kernel reads the compiled :class:`~adamproofs.fast._plan.Plan` (never the config),
updates the chunk views ``p`` (parameters, compute dtype) and ``state``, and reads ``g``,
using ufuncs with an ``out`` argument and two chunk-sized scratch buffers, so a
step makes no allocation the size of the parameters. The per-step scalars
(:class:`~adamproofs.fast._plan.Scalars`) are computed in float64 by the plan and rounded
once to the compute dtype; the array operations then run in the compute dtype in a fixed order,
which the optional compiled kernel (:mod:`adamproofs.fast._compiled`) repeats
exactly. Adam's order of operations (PyTorch's):

.. math::

    m &\leftarrow \beta_1 m + (1-\beta_1) g \\
    v &\leftarrow \beta_2 v + (1-\beta_2) (g g) \\
    d &\leftarrow \sqrt{v} / \sqrt{1-\beta_2^t} + \epsilon \\
    \theta &\leftarrow \theta - \frac{\alpha}{1-\beta_1^t}\,(m / d)
"""

from __future__ import annotations

import numpy as np
from typing_extensions import assert_never

from ..variants import Amsgrad, Decay, EpsPlacement
from ._chunked import ChunkKernel
from ._plan import (
    AdaGradPlan,
    AdaMaxPlan,
    AdamPlan,
    MomentumPlan,
    Plan,
    RMSPropPlan,
    Scalars,
)

State = dict[str, np.ndarray]


def _safe_divide(num: np.ndarray, den_out: np.ndarray, eps: float, free: np.ndarray) -> None:
    """den_out = num / den_out, with 0/0 := 0 when ε = 0 (a coordinate whose gradients were
    all zero does not move). ``free`` is a scratch buffer not in use (its bytes hold the
    mask, so the step allocates nothing)."""
    if eps == 0:
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(num, den_out, den_out)
        zero = np.equal(num, 0, out=free.view(np.bool_)[: num.shape[0]])
        np.copyto(den_out, 0, where=zero)
    else:
        np.divide(num, den_out, den_out)


def _moments(
    plan: AdamPlan,
    s: Scalars,
    p: np.ndarray,
    g: np.ndarray,
    st: State,
    w1: np.ndarray,
    w2: np.ndarray,
) -> None:
    """m = β1 m + (1-β1) e, v = β2 v + (1-β2) e², e = ±g (+ λθ for L2 decay)."""
    m, v = st["m"], st["v"]
    sub = plan.maximize
    decay = plan.decay
    match decay:
        case Decay.L2:
            np.multiply(p, s.wd, w1)  # λθ
            (np.subtract if sub else np.add)(w1, g, w1)  # ±g + λθ
            g, sub = w1, False
        case None | Decay.DECOUPLED | Decay.DECOUPLED_AFTER:  # θ is shrunk in _apply
            pass
        case _:
            assert_never(decay)
    np.multiply(m, s.b1, m)
    np.multiply(g, s.c1, w2)
    (np.subtract if sub else np.add)(m, w2, m)
    np.multiply(v, s.b2, v)
    np.multiply(g, g, w2)
    np.multiply(w2, s.c2, w2)
    np.add(v, w2, v)


def _second_moment(
    plan: AdamPlan, s: Scalars, st: State, w2: np.ndarray
) -> tuple[np.ndarray, bool]:
    """The v the denominator uses (v or AMSGrad's running max) and whether it is already
    in corrected space (divided by 1-β2^t, or never to be)."""
    v = st["v"]
    form = plan.amsgrad
    match form:
        case None:
            return v, False
        case Amsgrad.MAX_RAW | Amsgrad.MAX_UNCORRECTED:
            np.maximum(st["vmax"], v, out=st["vmax"])
            return st["vmax"], form is Amsgrad.MAX_UNCORRECTED
        case Amsgrad.MAX_CORRECTED:  # max of v / bc2
            np.divide(v, s.bc2, w2)
            np.maximum(st["vmax"], w2, out=st["vmax"])
            return st["vmax"], True
        case _:
            assert_never(form)


def _denominator(
    plan: AdamPlan, s: Scalars, vr: np.ndarray, corrected: bool, w2: np.ndarray
) -> None:
    """w2 = the denominator of the ε placement: √v̂ + ε, √(v̂ + ε) or √v + ε̂."""
    place = plan.eps_placement
    match place:
        case EpsPlacement.PAPER:
            np.sqrt(vr, w2)
            if not corrected:
                np.divide(w2, s.sqrt_bc2, w2)
            np.add(w2, s.eps, w2)
        case EpsPlacement.ROOT:
            if corrected:
                np.add(vr, s.eps, w2)
            else:
                np.divide(vr, s.bc2, w2)
                np.add(w2, s.eps, w2)
            np.sqrt(w2, w2)
        case EpsPlacement.HAT:  # α_t m / (√v + ε̂), v in raw space
            if corrected:
                np.multiply(vr, s.bc2, w2)
                np.sqrt(w2, w2)
            else:
                np.sqrt(vr, w2)
            np.add(w2, s.eps, w2)
        case _:
            assert_never(place)


def _apply(plan: AdamPlan, s: Scalars, p: np.ndarray, w2: np.ndarray) -> None:
    """θ = θ - Δ, with the decoupled decay's 1-αλ before or after (Δ is in w2)."""
    decay = plan.decay
    match decay:
        case None | Decay.L2:
            np.subtract(p, w2, p)
        case Decay.DECOUPLED:
            np.multiply(p, s.shrink, p)
            np.subtract(p, w2, p)
        case Decay.DECOUPLED_AFTER:
            np.subtract(p, w2, p)
            np.multiply(p, s.shrink, p)
        case _:
            assert_never(decay)


def adam_kernel(
    plan: AdamPlan,
    s: Scalars,
    p: np.ndarray,
    g: np.ndarray,
    st: State,
    w1: np.ndarray,
    w2: np.ndarray,
) -> None:
    """One Adam step on a chunk (all variants), in place.

    Thirteen ufunc calls for the default variant, each with a positional ``out`` (the
    cheapest call NumPy offers; pass :meth:`Scalars.operands` for the cheapest scalars).
    """
    _moments(plan, s, p, g, st, w1, w2)
    vr, corrected = _second_moment(plan, s, st, w2)
    _denominator(plan, s, vr, corrected, w2)  # w1 is free again
    _safe_divide(st["m"], w2, s.eps, w1)
    np.multiply(w2, s.step_size, w2)
    _apply(plan, s, p, w2)


def adamax_kernel(
    plan: AdaMaxPlan,
    s: Scalars,
    p: np.ndarray,
    g: np.ndarray,
    st: State,
    w1: np.ndarray,
    w2: np.ndarray,
) -> None:
    """AdaMax on a chunk: u = max(β2 u, |g|), θ -= (α/(1-β1^t)) m/(u+ε)."""
    m, u = st["m"], st["u"]
    np.multiply(m, s.b1, m)
    np.multiply(g, s.c1, w2)
    (np.subtract if plan.maximize else np.add)(m, w2, m)
    np.multiply(u, s.b2, u)
    np.absolute(g, w2)
    np.maximum(u, w2, out=u)
    np.add(u, s.eps, w2)
    _safe_divide(m, w2, s.eps, w1)
    np.multiply(w2, s.step_size, w2)
    np.subtract(p, w2, p)


def sgd_kernel(
    plan: Plan, s: Scalars, p: np.ndarray, g: np.ndarray, st: State, w1: np.ndarray, w2: np.ndarray
) -> None:
    """θ -= α g."""
    np.multiply(g, s.lr, w2)
    (np.add if plan.maximize else np.subtract)(p, w2, p)


def momentum_kernel(
    plan: MomentumPlan,
    s: Scalars,
    p: np.ndarray,
    g: np.ndarray,
    st: State,
    w1: np.ndarray,
    w2: np.ndarray,
) -> None:
    """b = μ b + g; θ -= α b (Nesterov: θ -= α (g + μ b))."""
    b = st["b"]
    if plan.maximize:
        np.negative(g, w1)
        g = w1
    np.multiply(b, s.b1, b)
    np.add(b, g, b)
    if plan.nesterov:
        np.multiply(b, s.b1, w2)
        np.add(g, w2, w2)
    else:
        np.copyto(w2, b)
    np.multiply(w2, s.lr, w2)
    np.subtract(p, w2, p)


def adagrad_kernel(
    plan: AdaGradPlan,
    s: Scalars,
    p: np.ndarray,
    g: np.ndarray,
    st: State,
    w1: np.ndarray,
    w2: np.ndarray,
) -> None:
    """s += g²; θ -= α g/(√s + ε)."""
    acc = st["s"]
    np.multiply(g, g, w2)
    np.add(acc, w2, acc)
    _scaled_step(plan, s, p, g, acc, w1, w2)


def rmsprop_kernel(
    plan: RMSPropPlan,
    s: Scalars,
    p: np.ndarray,
    g: np.ndarray,
    st: State,
    w1: np.ndarray,
    w2: np.ndarray,
) -> None:
    """s = ρ s + (1-ρ) g²; θ -= α g/(√s + ε)."""
    acc = st["s"]
    np.multiply(acc, s.b2, acc)
    np.multiply(g, g, w2)
    np.multiply(w2, s.c2, w2)
    np.add(acc, w2, acc)
    _scaled_step(plan, s, p, g, acc, w1, w2)


def _scaled_step(
    plan: Plan,
    s: Scalars,
    p: np.ndarray,
    g: np.ndarray,
    acc: np.ndarray,
    w1: np.ndarray,
    w2: np.ndarray,
) -> None:
    np.sqrt(acc, w2)
    np.add(w2, s.eps, w2)
    _safe_divide(g, w2, s.eps, w1)
    np.multiply(w2, s.lr, w2)
    (np.add if plan.maximize else np.subtract)(p, w2, p)


#: The chunk kernel of each kind of plan.
KERNELS: dict[type[Plan], ChunkKernel] = {
    AdamPlan: adam_kernel,
    AdaMaxPlan: adamax_kernel,
    Plan: sgd_kernel,
    MomentumPlan: momentum_kernel,
    AdaGradPlan: adagrad_kernel,
    RMSPropPlan: rmsprop_kernel,
}


def kernel_for(plan: Plan) -> ChunkKernel:
    """The chunk kernel that reads ``plan``."""
    return KERNELS[type(plan)]
