"""Hypothesis strategies that build :class:`~adamproofs.conformance._model.Case` objects.

Every hyperparameter is drawn as a value *exactly representable in the dtype under
test* (see :func:`representable`), so an implementation that casts α, β1, β2, ε, λ
to its dtype computes with exactly the numbers the oracle uses. Gradients come
from :func:`adamproofs.strategies.gradient_sequences` (log-uniform magnitudes,
random signs, exact zeros), initial values are log-uniform in [1e-3, 1e3].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import strategies as aps
from .._step_size import worst_case
from ..dtypes import as_dtype, float_format
from ..variants import Variant
from ._model import Case, GradRows
from .protocol import Hyper, Implementation, supports


def representable(x: float, dtype: Any, *, below_one: bool = False) -> float:
    """``x`` rounded to ``dtype`` (returned as a Python float); with ``below_one`` a
    value that rounds to 1 is replaced by the largest ``dtype`` value below 1."""
    dt = as_dtype(dtype)
    r = float(np.asarray(x, dtype=np.float64).astype(dt).astype(np.float64))
    if below_one and r >= 1.0:
        r = 1.0 - 2.0 ** -float_format(dt).p
    return r


@dataclass(frozen=True)
class Context:
    """What the strategies need to know: the implementation, dtype, variant and profile."""

    impl: Implementation
    dtype: str
    variant: Variant
    examples: int
    long_steps: int
    hidden: frozenset[str] = frozenset()  # implementation features left out (--without)

    def has(self, feature: str) -> bool:
        return feature not in self.hidden and supports(self.impl, feature)


def hypers(
    ctx: Context,
    *,
    lr: st.SearchStrategy[float] | None = None,
    beta1: st.SearchStrategy[float] | None = None,
    beta2: st.SearchStrategy[float] | None = None,
    eps: st.SearchStrategy[float] | None = None,
    decay: bool = True,
    maximize: bool = True,
) -> st.SearchStrategy[Hyper]:
    """Hyperparameters (dtype-representable) within what ``ctx.impl`` supports."""
    dt = ctx.dtype
    low = dt in ("float16", "bfloat16")
    lr = lr if lr is not None else aps.learning_rates(min_value=1e-6, max_value=1.0)
    beta1 = beta1 if beta1 is not None else aps.betas(max_value=0.99)
    beta2 = (
        beta2
        if beta2 is not None
        else (st.sampled_from((0.99, 0.999)) if low else aps.betas(min_value=0.5, max_value=0.9999))
    )
    eps_values = (0.0, 1e-3, 0.1) if low else (0.0, 1e-8, 1e-12, 1e-6, 1e-3)
    eps = eps if eps is not None else st.sampled_from(eps_values)
    wd = st.just(0.0)
    if decay and ctx.has("weight_decay"):
        wd = st.sampled_from((0.0, 0.0, 1e-2, 0.1, 0.5))
    mx = st.booleans() if maximize and ctx.has("maximize") else st.just(False)

    def build(args: tuple) -> Hyper:
        a, b1, b2, e, w, m = args
        return Hyper(
            lr=representable(a, dt),
            beta1=representable(b1, dt, below_one=True),
            beta2=representable(b2, dt, below_one=True),
            eps=representable(e, dt),
            weight_decay=representable(w, dt),
            maximize=m,
        )

    return (
        st.tuples(lr, beta1, beta2, eps, wd, mx)
        .map(build)
        .filter(lambda h: h.lr * h.weight_decay < 1.0)
    )


def values(
    dtype: str, shape: tuple[int, ...], *, lo: float = 1e-3, hi: float = 1e3
) -> st.SearchStrategy[np.ndarray]:
    """Initial parameter values of ``shape``: random signs, log-uniform magnitudes, some 0."""
    size = math.prod(shape)
    a, b = math.log10(lo), math.log10(hi)

    def build(args: tuple) -> np.ndarray:
        centre, seed = args
        rng = np.random.default_rng(seed)
        x = 10.0 ** np.clip(centre + rng.uniform(-1, 1, size), a, b)
        x *= rng.choice((1.0, -1.0, 0.0, 1.0, -1.0), size)
        return x.astype(as_dtype(dtype)).reshape(shape)

    return st.tuples(st.floats(a, b), st.integers(0, 2**32 - 1)).map(build)


SHAPES: tuple[tuple[int, ...], ...] = ((), (1,), (2,), (3,), (2, 2), (4,))


def safe_magnitudes(dtype: str) -> tuple[float, float]:
    """Gradient magnitudes whose squares stay normal and finite in ``dtype``:
    :func:`adamproofs.strategies.magnitude_range` (margin 2^8), or with a margin of
    2^2 for the 16-bit formats, where the 2^8 margin leaves an empty range."""
    lo, hi = aps.magnitude_range(dtype)
    if lo >= hi:
        fmt = float_format(dtype)
        lo, hi = math.sqrt(fmt.smallest_normal) * 4.0, math.sqrt(fmt.max) / 4.0
    return lo, hi


#: A plan for one parameter's gradients: (centre exponent, spread in decades across steps
#: and coordinates, sign mode 0:+ 1:- 2:random 3:alternating, share of exact zeros).
Plan = tuple[float, float, int, float]


def _plans(n: int, a: float, b: float, zero_probability: float) -> st.SearchStrategy:
    plan = st.tuples(
        st.floats(a, b),
        st.sampled_from((0.0, 0.3, 1.0, 3.0, b - a)),
        st.sampled_from((2, 0, 1, 3)),
        st.sampled_from((zero_probability, 0.0, min(1.0, 3 * zero_probability))),
    )
    return st.lists(plan, min_size=n, max_size=n)


def _realise(
    plan: Plan, steps: int, size: int, a: float, b: float, rng: np.random.Generator
) -> np.ndarray:
    centre, spread, sign, zp = plan
    e = np.clip(centre + spread * rng.uniform(-0.5, 0.5, (steps, size)), a, b)
    mag = 10.0**e
    if sign == 1:
        mag = -mag
    elif sign == 2:
        mag = np.where(rng.uniform(size=(steps, size)) < 0.5, -mag, mag)
    elif sign == 3:
        mag = mag * np.where(np.arange(steps) % 2 == 0, 1.0, -1.0)[:, None]
    mag[rng.uniform(size=(steps, size)) < zp] = 0.0
    return mag


def grad_rows(
    dtype: str,
    shapes: list[tuple[int, ...]],
    steps: int,
    *,
    lo: float | None = None,
    hi: float | None = None,
    zero_probability: float = 0.1,
) -> st.SearchStrategy[list[list[np.ndarray]]]:
    """Gradients ``rows[k][i]`` for ``steps`` steps and parameters of ``shapes``.

    Hypothesis draws a plan per parameter (typical magnitude, spread in decades,
    sign pattern, share of exact zeros, within ``[lo, hi]`` intersected with the
    dtype's :func:`adamproofs.strategies.magnitude_range`) and a seed; the values
    are realised with NumPy. A case costs a handful of draws (hypothesis spends
    about a millisecond per draw), and shrinking still reduces steps, shapes,
    magnitudes and spread.
    """
    lo_safe, hi_safe = safe_magnitudes(dtype)
    lo = max(lo_safe, 1e-10 if lo is None else lo)
    hi = min(hi_safe, 1e6 if hi is None else hi)
    if lo > hi:  # the requested range lies outside the dtype's: take its nearest end
        lo = hi = min(max(lo, lo_safe), hi_safe)
    a, b = math.log10(lo), math.log10(hi)
    dt = as_dtype(dtype)

    def build(args: tuple) -> list[list[np.ndarray]]:
        plans, seed = args
        rng = np.random.default_rng(seed)
        arrays = [
            _realise(pl, steps, math.prod(shape), a, b, rng).astype(dt)
            for pl, shape in zip(plans, shapes, strict=True)
        ]
        return [
            [arr[k].reshape(shape) for arr, shape in zip(arrays, shapes, strict=True)]
            for k in range(steps)
        ]

    return st.tuples(_plans(len(shapes), a, b, zero_probability), st.integers(0, 2**32 - 1)).map(
        build
    )


@st.composite
def cases(
    draw: st.DrawFn,
    ctx: Context,
    *,
    shapes: list[tuple[int, ...]] | None = None,
    n_params: tuple[int, int] = (1, 2),
    steps: tuple[int, int] = (1, 12),
    hyper: st.SearchStrategy[Hyper] | None = None,
    lo: float | None = None,
    hi: float | None = None,
    zero_probability: float = 0.1,
) -> Case:
    """A general case: a few small parameter arrays, a few steps."""
    if shapes is None:
        k = draw(st.integers(*n_params))
        shapes = [draw(st.sampled_from(SHAPES)) for _ in range(k)]
    t = draw(st.integers(*steps))
    h = draw(hyper if hyper is not None else hypers(ctx))
    params = [draw(values(ctx.dtype, s)) for s in shapes]
    rows = draw(grad_rows(ctx.dtype, shapes, t, lo=lo, hi=hi, zero_probability=zero_probability))
    grads: GradRows = [[g for g in row] for row in rows]  # typed: list[ndarray | None]
    return Case(ctx.dtype, h, params, grads)


def exact_step_bound(beta1: float, beta2: float, t: int) -> float:
    r"""The exact worst case :math:`S(t)` of :math:`|\hat m_t/\sqrt{\hat v_t}|` over all
    gradient sequences (ε = 0), from the reference notes (adam-math §4):

    .. math::
        S(t)^2 = \Big(\frac{1-\beta_1}{1-\beta_1^t}\Big)^2 \frac{1-\beta_2^t}{1-\beta_2}
                 \sum_{i=0}^{t-1} \rho^i,\qquad \rho = \beta_1^2/\beta_2,

    attained at :math:`g_i \propto (\beta_2/\beta_1)^i`. Not the paper's approximation.
    """
    return float(worst_case(beta1, beta2, t))


def maximizing_sequence(
    beta1: float, beta2: float, steps: int, scale: float, dtype: str
) -> np.ndarray:
    """g_i ∝ (β2/β1)^i, normalised so that the largest is ``scale`` (no overflow)."""
    i = np.arange(1, steps + 1, dtype=np.float64)
    logs = i * math.log(beta2 / beta1)
    g = scale * np.exp(logs - logs.max())
    return g.astype(as_dtype(dtype))
