r"""In-place NumPy kernels, one per optimizer, applied to cache-sized chunks.

Each kernel updates the chunk views ``p`` (parameters, compute dtype), ``state``
and reads ``g`` using ufuncs with an ``out`` argument and two chunk-sized scratch buffers, so a
step makes no allocation the size of the parameters. The per-step scalars
(``Scalars``) are computed in float64 by Python and rounded once to the compute
dtype; the array operations then run in the compute dtype in a fixed order,
which the optional compiled kernel (:mod:`adamproofs.fast.compiled`) repeats
exactly. Adam's order of operations (PyTorch's):

.. math::

    m &\leftarrow \beta_1 m + (1-\beta_1) g \\
    v &\leftarrow \beta_2 v + (1-\beta_2) (g g) \\
    d &\leftarrow \sqrt{v} / \sqrt{1-\beta_2^t} + \epsilon \\
    \theta &\leftarrow \theta - \frac{\alpha}{1-\beta_1^t}\,(m / d)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..config import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, OptimizerConfig, RMSProp


@dataclass(frozen=True)
class Scalars:
    """Per-step scalars, already rounded to the compute dtype (``None`` where unused)."""

    lr: float
    b1: float = 0.0
    c1: float = 0.0  # 1 - β1
    b2: float = 0.0
    c2: float = 0.0  # 1 - β2
    eps: float = 0.0
    wd: float = 0.0
    shrink: float = 1.0  # 1 - lr*wd
    bc2: float = 1.0  # 1 - β2^t
    sqrt_bc2: float = 1.0
    step_size: float = 0.0  # lr / (1 - β1^t), or α_t for ε-hat

    def operands(self, dtype: np.dtype) -> Scalars:
        """The same values as 0-d arrays of the compute ``dtype``.

        A ufunc takes a 0-d array about twice as fast as a NumPy scalar, which matters
        when a step makes thousands of calls on cache-sized chunks. Every field is cast
        to ``dtype`` (NumPy 2 does not treat 0-d arrays as "weak" scalars, so a float64
        operand would otherwise compute a float32 chunk in float64). For the output of
        :func:`scalars` with the same dtype the values, and so every rounding, are
        unchanged; an input already in that form is returned as is.
        """
        dt = np.dtype(dtype)
        if all(isinstance(v, np.ndarray) and v.dtype == dt
               for v in (getattr(self, f.name) for f in fields(self))):
            return self
        return Scalars(**{f.name: np.asarray(getattr(self, f.name), dtype=dt)
                          for f in fields(self)})


def scalars(cfg: OptimizerConfig, t: int, dtype: np.dtype) -> Scalars:
    """The per-step scalars of step ``t`` (computed in float64, then rounded to ``dtype``)."""
    cast = dtype.type
    lr = float(cfg.lr)
    if isinstance(cfg, Adam):
        b1, b2 = float(cfg.beta1), float(cfg.beta2)
        if cfg.bias_correction:
            bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
        else:
            bc1 = bc2 = 1.0
        if cfg.eps_placement == "hat":
            step_size = lr * math.sqrt(bc2) / bc1
        else:
            step_size = lr / bc1
        wd = float(cfg.weight_decay)
        return Scalars(lr=cast(lr), b1=cast(b1), c1=cast(1.0 - b1), b2=cast(b2),
                       c2=cast(1.0 - b2), eps=cast(float(cfg.eps)), wd=cast(wd),
                       shrink=cast(1.0 - lr * wd), bc2=cast(bc2),
                       sqrt_bc2=cast(math.sqrt(bc2)), step_size=cast(step_size))
    if isinstance(cfg, AdaMax):
        b1, b2 = float(cfg.beta1), float(cfg.beta2)
        return Scalars(lr=cast(lr), b1=cast(b1), c1=cast(1.0 - b1), b2=cast(b2),
                       eps=cast(float(cfg.eps)), step_size=cast(lr / (1.0 - b1**t)))
    if isinstance(cfg, (Momentum, Nesterov)):
        return Scalars(lr=cast(lr), b1=cast(float(cfg.momentum)))
    if isinstance(cfg, AdaGrad):
        return Scalars(lr=cast(lr), eps=cast(float(cfg.eps)))
    if isinstance(cfg, RMSProp):
        rho = float(cfg.rho)
        return Scalars(lr=cast(lr), b2=cast(rho), c2=cast(1.0 - rho), eps=cast(float(cfg.eps)))
    return Scalars(lr=cast(lr))


def _safe_divide(num: np.ndarray, den_out: np.ndarray, eps: float, free: np.ndarray) -> None:
    """den_out = num / den_out, with 0/0 := 0 when ε = 0 (a coordinate whose gradients were
    all zero does not move). ``free`` is a scratch buffer not in use (its bytes hold the
    mask, so the step allocates nothing)."""
    if eps == 0:
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(num, den_out, den_out)
        zero = np.equal(num, 0, out=free.view(np.bool_)[:num.shape[0]])
        np.copyto(den_out, 0, where=zero)
    else:
        np.divide(num, den_out, den_out)


@dataclass(frozen=True)
class AdamPlan:
    """The variant choices of an :class:`~adamproofs.config.Adam`, read once per config.

    ``Adam.has_decay`` converts the decay exactly (about a microsecond); a chunked step
    asks per chunk, so the kernels read these flags instead.
    """

    l2: bool  # λθ folded into the gradient
    decoupled: bool  # θ shrunk by 1-αλ before the step
    decoupled_after: bool  # ... or after it
    maximize: bool
    amsgrad: str | None
    eps_placement: str


_PLANS: dict[int, tuple[Adam, AdamPlan]] = {}


def adam_plan(cfg: Adam) -> AdamPlan:
    """:class:`AdamPlan` of ``cfg`` (cached per config object)."""
    hit = _PLANS.get(id(cfg))
    if hit is not None and hit[0] is cfg:
        return hit[1]
    decay = cfg.decay if cfg.has_decay else None
    plan = AdamPlan(l2=decay == "l2", decoupled=decay == "decoupled",
                    decoupled_after=decay == "decoupled_after", maximize=bool(cfg.maximize),
                    amsgrad=cfg.amsgrad, eps_placement=cfg.eps_placement)
    if len(_PLANS) > 1024:
        _PLANS.clear()
    _PLANS[id(cfg)] = (cfg, plan)  # the stored reference keeps id(cfg) from being reused
    return plan


def adam_kernel(cfg: Adam, s: Scalars, p: np.ndarray, g: np.ndarray, st: dict,
                w1: np.ndarray, w2: np.ndarray) -> None:
    """One Adam step on a chunk (all variants), in place.

    Thirteen ufunc calls for the default variant, each with a positional ``out`` (the
    cheapest call NumPy offers; pass :meth:`Scalars.operands` for the cheapest scalars).
    """
    plan = adam_plan(cfg)
    m, v = st["m"], st["v"]
    # effective gradient: maximize and L2 decay
    if plan.l2:
        np.multiply(p, s.wd, w1)  # λθ
        (np.subtract if plan.maximize else np.add)(w1, g, w1)  # ±g + λθ
        g = w1
        sub = False
    else:
        sub = plan.maximize
    # m = β1 m + (1-β1) g
    np.multiply(m, s.b1, m)
    np.multiply(g, s.c1, w2)
    (np.subtract if sub else np.add)(m, w2, m)
    # v = β2 v + (1-β2) g²
    np.multiply(v, s.b2, v)
    np.multiply(g, g, w2)
    np.multiply(w2, s.c2, w2)
    np.add(v, w2, v)
    # denominator d in w2 (w1 is free again)
    form, place = plan.amsgrad, plan.eps_placement
    if form is None:
        vr = v
    elif form == "max_raw" or form == "max_uncorrected":
        np.maximum(st["vmax"], v, out=st["vmax"])
        vr = st["vmax"]
    else:  # max_corrected: max of v / bc2
        np.divide(v, s.bc2, w2)
        np.maximum(st["vmax"], w2, out=st["vmax"])
        vr = st["vmax"]
    corrected = form in ("max_corrected", "max_uncorrected")  # vr already in corrected space
    if place == "paper":
        np.sqrt(vr, w2)
        if not corrected:
            np.divide(w2, s.sqrt_bc2, w2)
        np.add(w2, s.eps, w2)
    elif place == "root":
        if corrected:
            np.add(vr, s.eps, w2)
        else:
            np.divide(vr, s.bc2, w2)
            np.add(w2, s.eps, w2)
        np.sqrt(w2, w2)
    else:  # hat: α_t m / (√v + ε̂), v in raw space
        if corrected:
            np.multiply(vr, s.bc2, w2)
            np.sqrt(w2, w2)
        else:
            np.sqrt(vr, w2)
        np.add(w2, s.eps, w2)
    _safe_divide(m, w2, s.eps, w1)
    np.multiply(w2, s.step_size, w2)
    if plan.decoupled:
        np.multiply(p, s.shrink, p)
    np.subtract(p, w2, p)
    if plan.decoupled_after:
        np.multiply(p, s.shrink, p)


def adamax_kernel(cfg: AdaMax, s: Scalars, p: np.ndarray, g: np.ndarray, st: dict,
                  w1: np.ndarray, w2: np.ndarray) -> None:
    """AdaMax on a chunk: u = max(β2 u, |g|), θ -= (α/(1-β1^t)) m/(u+ε)."""
    m, u = st["m"], st["u"]
    np.multiply(m, s.b1, m)
    np.multiply(g, s.c1, w2)
    (np.subtract if cfg.maximize else np.add)(m, w2, m)
    np.multiply(u, s.b2, u)
    np.absolute(g, w2)
    np.maximum(u, w2, out=u)
    np.add(u, s.eps, w2)
    _safe_divide(m, w2, s.eps, w1)
    np.multiply(w2, s.step_size, w2)
    np.subtract(p, w2, p)


def sgd_kernel(cfg: SGD, s: Scalars, p: np.ndarray, g: np.ndarray, st: dict,
               w1: np.ndarray, w2: np.ndarray) -> None:
    """θ -= α g."""
    np.multiply(g, s.lr, w2)
    (np.add if cfg.maximize else np.subtract)(p, w2, p)


def momentum_kernel(cfg: Momentum | Nesterov, s: Scalars, p: np.ndarray, g: np.ndarray,
                    st: dict, w1: np.ndarray, w2: np.ndarray) -> None:
    """b = μ b + g; θ -= α b (Nesterov: θ -= α (g + μ b))."""
    b = st["b"]
    if cfg.maximize:
        np.negative(g, w1)
        g = w1
    np.multiply(b, s.b1, b)
    np.add(b, g, b)
    if isinstance(cfg, Nesterov):
        np.multiply(b, s.b1, w2)
        np.add(g, w2, w2)
    else:
        np.copyto(w2, b)
    np.multiply(w2, s.lr, w2)
    np.subtract(p, w2, p)


def adagrad_kernel(cfg: AdaGrad, s: Scalars, p: np.ndarray, g: np.ndarray, st: dict,
                   w1: np.ndarray, w2: np.ndarray) -> None:
    """s += g²; θ -= α g/(√s + ε)."""
    acc = st["s"]
    np.multiply(g, g, w2)
    np.add(acc, w2, acc)
    _scaled_step(cfg, s, p, g, acc, w1, w2)


def rmsprop_kernel(cfg: RMSProp, s: Scalars, p: np.ndarray, g: np.ndarray, st: dict,
                   w1: np.ndarray, w2: np.ndarray) -> None:
    """s = ρ s + (1-ρ) g²; θ -= α g/(√s + ε)."""
    acc = st["s"]
    np.multiply(acc, s.b2, acc)
    np.multiply(g, g, w2)
    np.multiply(w2, s.c2, w2)
    np.add(acc, w2, acc)
    _scaled_step(cfg, s, p, g, acc, w1, w2)


def _scaled_step(cfg: OptimizerConfig, s: Scalars, p: np.ndarray, g: np.ndarray,
                 acc: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> None:
    np.sqrt(acc, w2)
    np.add(w2, s.eps, w2)
    _safe_divide(g, w2, s.eps, w1)
    np.multiply(w2, s.lr, w2)
    (np.add if cfg.maximize else np.subtract)(p, w2, p)


KERNELS = {
    Adam: adam_kernel,
    AdaMax: adamax_kernel,
    SGD: sgd_kernel,
    Momentum: momentum_kernel,
    Nesterov: momentum_kernel,
    AdaGrad: adagrad_kernel,
    RMSProp: rmsprop_kernel,
}
