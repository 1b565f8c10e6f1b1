"""Hypothesis strategies for optimizer configurations and gradient sequences (public API).

>>> from hypothesis import given
>>> from adamproofs import strategies as aps
>>> @given(cfg=aps.adam_configs(), grads=aps.gradient_sequences(shape=(3,), steps=5))
... def test_my_adam(cfg, grads): ...

Strategies follow Hypothesis' API style: plural nouns, keyword-only arguments,
values validated eagerly. Gradient magnitudes are drawn log-uniformly over
decades so that tiny and huge gradients are as likely as ordinary ones, and
exact zeros are drawn on purpose (sparsity).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .config import (
    AMSGRAD_FORMS,
    DECAY_FORMS,
    EPS_PLACEMENTS,
    SGD,
    AdaGrad,
    Adam,
    AdaMax,
    Momentum,
    Nesterov,
    OptimizerConfig,
    RMSProp,
)
from .dtypes import as_dtype, float_format
from .variants import AXES, Amsgrad, Decay, EpsPlacement, Variant

__all__ = [
    "adam_configs",
    "betas",
    "dtypes",
    "gradient_sequences",
    "learning_rates",
    "magnitude_range",
    "optimizer_configs",
    "scale_factors",
    "sparse_gradient_sequences",
    "variants",
]


def learning_rates(*, min_value: float = 1e-5, max_value: float = 1.0) -> st.SearchStrategy[float]:
    """Learning rates, log-uniform between the bounds (common values favoured)."""
    if not 0 < min_value <= max_value:
        raise ValueError(f"need 0 < min_value <= max_value, got {min_value}, {max_value}")
    lo, hi = math.log10(min_value), math.log10(max_value)
    common = [x for x in (1e-3, 1e-2, 0.1, 0.5) if min_value <= x <= max_value]
    return st.one_of(
        st.sampled_from(common or [min_value]), st.floats(lo, hi).map(lambda e: float(10.0**e))
    )


def betas(*, min_value: float = 0.0, max_value: float = 0.9999) -> st.SearchStrategy[float]:
    """Decay rates in ``[min_value, max_value]`` with the usual values and 0 favoured."""
    if not 0 <= min_value <= max_value < 1:
        raise ValueError(f"need 0 <= min_value <= max_value < 1, got {min_value}, {max_value}")
    common = [b for b in (0.0, 0.5, 0.9, 0.99, 0.999, 0.9999) if min_value <= b <= max_value]
    return st.one_of(st.sampled_from(common or [min_value]), st.floats(min_value, max_value))


def variants(**fixed: Any) -> st.SearchStrategy[Variant]:
    """Any :class:`~adamproofs.variants.Variant`, one value per axis of
    :data:`~adamproofs.variants.AXES`; keyword arguments fix axes (``precision="native"``)."""
    unknown = set(fixed) - set(AXES)
    if unknown:
        raise ValueError(f"unknown axes {sorted(unknown)}; allowed: {', '.join(AXES)}")
    return st.builds(
        Variant,
        **{
            name: st.just(axis.coerce(fixed[name]))
            if name in fixed
            else st.sampled_from(axis.values)
            for name, axis in AXES.items()
        },
    )


def adam_configs(
    *,
    eps_placements: tuple[EpsPlacement, ...] = EPS_PLACEMENTS,
    amsgrad_forms: tuple[Amsgrad | None, ...] = AMSGRAD_FORMS,
    decay_forms: tuple[Decay, ...] = DECAY_FORMS,
    allow_decay: bool = True,
    allow_maximize: bool = True,
    allow_no_bias_correction: bool = True,
    eps_values: tuple[float, ...] = (0.0, 1e-8, 1e-12, 1e-6, 1e-3),
    lr: st.SearchStrategy[float] | None = None,
    beta1: st.SearchStrategy[float] | None = None,
    beta2: st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[Adam]:
    """Adam configurations across every variant axis of :class:`adamproofs.config.Adam`."""
    return st.builds(
        Adam,
        lr=lr if lr is not None else learning_rates(),
        beta1=beta1 if beta1 is not None else betas(max_value=0.99),
        beta2=beta2 if beta2 is not None else betas(min_value=0.5),
        eps=st.sampled_from(eps_values),
        eps_placement=st.sampled_from(eps_placements),
        bias_correction=st.just(True) if not allow_no_bias_correction else st.booleans(),
        amsgrad=st.sampled_from(amsgrad_forms),
        weight_decay=st.sampled_from((0.0, 1e-2, 0.5)) if allow_decay else st.just(0.0),
        decay=st.sampled_from(decay_forms),
        maximize=st.booleans() if allow_maximize else st.just(False),
    )


def optimizer_configs() -> st.SearchStrategy[OptimizerConfig]:
    """Any optimizer of :mod:`adamproofs.config` (Adam variants and the comparison methods)."""
    return st.one_of(
        adam_configs(),
        st.builds(
            AdaMax,
            lr=learning_rates(),
            beta1=betas(max_value=0.99),
            beta2=betas(min_value=0.5),
            eps=st.sampled_from((0.0, 1e-8)),
        ),
        st.builds(SGD, lr=learning_rates(), maximize=st.booleans()),
        st.builds(Momentum, lr=learning_rates(), momentum=betas(max_value=0.99)),
        st.builds(Nesterov, lr=learning_rates(), momentum=betas(max_value=0.99)),
        st.builds(
            AdaGrad,
            lr=learning_rates(),
            eps=st.sampled_from((0.0, 1e-10)),
            initial_accumulator=st.sampled_from((0.0, 0.1)),
        ),
        st.builds(
            RMSProp, lr=learning_rates(), rho=betas(min_value=0.5), eps=st.sampled_from((0.0, 1e-8))
        ),
    )


def dtypes(*, names: tuple[str, ...] = ("float32", "float64")) -> st.SearchStrategy[np.dtype]:
    """NumPy dtypes among ``names`` (bfloat16 only where ml_dtypes is installed)."""
    return st.sampled_from([as_dtype(name) for name in names])


def magnitude_range(dtype: Any, *, squares: bool = True) -> tuple[float, float]:
    """Gradient magnitudes that are normal in ``dtype``, with a factor-4 margin.

    With ``squares=True`` (the default) also g² stays normal, i.e. the range where
    an implementation computing in ``dtype`` neither underflows nor overflows
    (see the error-analysis docs). 16-bit dtypes use ``squares=False`` in
    :func:`gradient_sequences`, since the fast Adam computes them in float32.
    """
    fmt = float_format(dtype)
    if squares:
        return math.sqrt(fmt.smallest_normal) * 4, math.sqrt(fmt.max) / 4
    return fmt.smallest_normal * 4, fmt.max / 4


def _elements(
    min_magnitude: float, max_magnitude: float, zero_probability: float
) -> st.SearchStrategy[float]:
    lo, hi = math.log10(min_magnitude), math.log10(max_magnitude)
    nonzero = st.tuples(st.floats(lo, hi), st.booleans()).map(
        lambda es: (-1.0 if es[1] else 1.0) * 10.0 ** es[0]
    )
    if zero_probability <= 0:
        return nonzero
    weight = max(1, round(zero_probability * 10))
    return st.one_of(*([st.just(0.0)] * weight), *([nonzero] * (10 - weight)))


def gradient_sequences(
    *,
    shape: tuple[int, ...] = (3,),
    steps: int = 10,
    dtype: Any = "float64",
    min_magnitude: float | None = None,
    max_magnitude: float | None = None,
    zero_probability: float = 0.1,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of shape ``(steps, *shape)`` in ``dtype``: random signs, log-uniform magnitudes.

    Each element is 0 with about ``zero_probability``; otherwise its magnitude is
    ``10**x`` with ``x`` uniform over the decades between the bounds (defaults: the
    dtype's :func:`magnitude_range`, intersected with [1e-12, 1e12]). Values are
    rounded to ``dtype``.
    """
    dt = as_dtype(dtype)
    lo_safe, hi_safe = magnitude_range(dt, squares=dt.itemsize > 2)
    lo = max(lo_safe, 1e-12) if min_magnitude is None else min_magnitude
    hi = min(hi_safe, 1e12) if max_magnitude is None else max_magnitude
    if not 0 < lo <= hi:
        raise ValueError(f"need 0 < min_magnitude <= max_magnitude, got {lo}, {hi}")
    if steps < 0 or any(s < 0 for s in shape):
        raise ValueError(f"steps={steps} and shape={shape} must be non-negative")
    size = steps * math.prod(shape)
    elems = _elements(lo, hi, zero_probability)
    return st.lists(elems, min_size=size, max_size=size).map(
        lambda xs: np.array(xs, dtype=np.float64).astype(dt).reshape((steps, *shape))
    )


def sparse_gradient_sequences(
    *, shape: tuple[int, ...] = (4,), steps: int = 20, dtype: Any = "float64", density: float = 0.1
) -> st.SearchStrategy[np.ndarray]:
    """Mostly-zero gradients: each coordinate is non-zero with probability ``density``."""
    if not 0 <= density <= 1:
        raise ValueError(f"density={density} must be in [0, 1]")
    return gradient_sequences(shape=shape, steps=steps, dtype=dtype, zero_probability=1.0 - density)


def scale_factors(
    *, min_exponent: int = -12, max_exponent: int = 12, powers_of_two: bool = False
) -> st.SearchStrategy[float]:
    """Gradient scale factors ±10^k (or ±2^k) across many orders of magnitude."""
    if powers_of_two:
        lo = math.floor(min_exponent * math.log2(10))
        hi = math.ceil(max_exponent * math.log2(10))
        mags = st.integers(lo, hi).map(lambda k: 2.0**k)
    else:
        mags = st.floats(min_exponent, max_exponent).map(lambda e: float(10.0**e))
    return st.tuples(mags, st.booleans()).map(lambda ms: -ms[0] if ms[1] else ms[0])
