"""The hypothesis strategies of the properties: one function per property, each drawing
:class:`~.model.Case` objects (built from the general pieces of :mod:`.cases`).

A property that needs more than the case itself (the column that only sees zero
gradients, the step a checkpoint is saved at, ...) gets it as the case's
:attr:`~.model.Case.setup`, a frozen dataclass of its own defined here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from ..dtypes import as_dtype
from ._cases import (
    SHAPES,
    Context,
    cases,
    grad_rows,
    hypers,
    maximizing_sequence,
    values,
)
from ._model import Case, GradRows, Setup


def _low(ctx: Context) -> bool:
    return ctx.dtype in ("float16", "bfloat16")


@dataclass(frozen=True)
class SparsitySetup(Setup):
    """``zero_col``: the coordinate of ``params[0]`` whose gradients are all exactly 0."""

    zero_col: int


@dataclass(frozen=True)
class NonstationarySetup(Setup):
    """``objective``: the moving quadratic the gradients come from (for the reader)."""

    objective: str


@dataclass(frozen=True)
class ScaleSetup(Setup):
    """``exponent`` k: the second run's gradients are the first's times 2^k."""

    exponent: int


@dataclass(frozen=True)
class CheckpointSetup(Setup):
    """``save_at``: the step after which the session is saved and restored."""

    save_at: int


#: The hyperparameters the hyperparameters property changes, one at a time.
CHANGEABLE: tuple[str, ...] = ("lr", "beta1", "beta2", "eps", "weight_decay")


@dataclass(frozen=True)
class HyperparameterSetup(Setup):
    """``changed``: the hyperparameter (one of :data:`CHANGEABLE`) changed in the second run."""

    changed: str


@dataclass(frozen=True)
class NonfiniteSetup(Setup):
    """A gradient of ``value`` (NaN or ±inf) in ``params[0][index]`` at step ``step + 1``."""

    step: int
    index: int
    value: float


def first_step(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 1), n_params=(1, 2), lo=1e-12, hi=1e9)


def agreement(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(2, 20))


def tiny_gradients(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 8), lo=1e-300, hi=1e-5, zero_probability=0.05)


def huge_gradients(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 8), lo=1e2, hi=1e300, zero_probability=0.05)


def eps_zero(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 10), hyper=hypers(ctx, eps=st.just(0.0)), zero_probability=0.0)


def beta1_zero(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 10), hyper=hypers(ctx, beta1=st.just(0.0)))


def inputs_unmutated(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, n_params=(1, 3), steps=(1, 5))


def many_params(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        k = draw(st.integers(3, 6))
        if draw(st.booleans()):
            shapes = [draw(st.sampled_from(SHAPES))] * k
        else:
            shapes = [draw(st.sampled_from((*SHAPES, (0,), (1, 3)))) for _ in range(k)]
        return draw(cases(ctx, shapes=shapes, steps=(1, 6)))

    return build()


def long_horizon(ctx: Context) -> st.SearchStrategy[Case]:
    b2 = st.sampled_from((0.99, 0.999)) if _low(ctx) else st.sampled_from((0.99, 0.999, 0.9999))

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        shape = draw(st.sampled_from(((), (1,), (2,))))
        steps = draw(st.integers(max(2, ctx.long_steps // 2), ctx.long_steps))
        h = draw(hypers(ctx, beta2=b2, lr=st.sampled_from((1e-3, 1e-2))))
        centre = draw(st.floats(-3, 3))
        spread = draw(st.floats(0, 3))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        p0 = draw(values(ctx.dtype, shape))
        mags = 10.0 ** (centre + spread * rng.uniform(-1, 1, size=(steps, *shape)))
        signs = np.where(rng.uniform(size=(steps, *shape)) < 0.3, -1.0, 1.0)
        g = (mags * signs).astype(as_dtype(ctx.dtype))
        rows: GradRows = [[g[k]] for k in range(steps)]
        return Case(ctx.dtype, h, [p0], rows)

    return build()


def sparsity(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        h = draw(
            hypers(
                ctx,
                eps=st.sampled_from(
                    (1e-8, 1e-3) if ctx.dtype in ("float32", "float64") else (1e-3, 0.1)
                ),
                decay=False,
            )
        )
        steps = draw(st.integers(3, 20))
        density = draw(st.sampled_from((0.05, 0.2, 0.5)))
        shape = (draw(st.integers(3, 5)),)
        rows = draw(grad_rows(ctx.dtype, [shape], steps, zero_probability=1 - density))
        zero_col = draw(st.integers(0, shape[0] - 1))
        for row in rows:
            row[0] = row[0].copy()
            row[0][zero_col] = 0
        p0 = draw(values(ctx.dtype, shape))
        grads: GradRows = [list(row) for row in rows]
        return Case(ctx.dtype, h, [p0], grads, setup=SparsitySetup(zero_col))

    return build()


def nonstationary(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        shape = draw(st.sampled_from(((2,), (3,))))
        h = draw(hypers(ctx, lr=st.sampled_from((1e-2, 0.1))))
        curvature = np.array(
            draw(st.lists(st.floats(0.1, 10), min_size=shape[0], max_size=shape[0]))
        )
        omega = draw(st.floats(0.05, 1.0))
        amp = draw(st.floats(0.1, 5.0))
        steps = draw(st.integers(5, 30))
        dt = as_dtype(ctx.dtype)

        def grad_fn(params: list[np.ndarray], t: int) -> list[np.ndarray]:
            theta = params[0].astype(np.float64)
            target = amp * np.sin(omega * t + np.arange(theta.size))
            return [(curvature * (theta - target)).astype(dt)]

        p0 = draw(values(ctx.dtype, shape, lo=0.1, hi=10))
        objective = f"{curvature.tolist()}*(θ - {amp}*sin({omega}*t + i))"
        return Case(
            ctx.dtype, h, [p0], grad_fn=grad_fn, steps=steps, setup=NonstationarySetup(objective)
        )

    return build()


def step_bound(ctx: Context) -> st.SearchStrategy[Case]:
    low = _low(ctx)

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        h = draw(
            hypers(
                ctx,
                eps=st.sampled_from((0.0,)),
                decay=False,
                maximize=False,
                beta1=st.sampled_from((0.5, 0.8, 0.9, 0.95)),
                beta2=st.sampled_from((0.99, 0.999) if low else (0.99, 0.999, 0.9999)),
            )
        )
        steps = draw(st.integers(2, 40))
        scale = draw(st.sampled_from((1.0, 1e-3, 1e3))) if not low else 1.0
        g = maximizing_sequence(h.beta1, h.beta2, steps, scale, ctx.dtype)
        p0 = draw(values(ctx.dtype, (2,)))
        rows: GradRows = [[np.array([g[k], -g[k]])] for k in range(steps)]
        return Case(ctx.dtype, h, [p0], rows)

    return build()


def scale_invariance(ctx: Context) -> st.SearchStrategy[Case]:
    low = _low(ctx)

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        kmax = 3 if low else 30
        k = draw(st.integers(-kmax, kmax).filter(lambda x: x != 0))
        case = draw(
            cases(
                ctx,
                steps=(2, 10),
                hyper=hypers(ctx, eps=st.just(0.0), decay=False),
                lo=0.1 if low else 1e-4,
                hi=10 if low else 1e4,
                zero_probability=0,
            )
        )
        case.setup = ScaleSetup(k)
        return case

    return build()


def late_first_gradient(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        case = draw(cases(ctx, n_params=(2, 3), steps=(4, 12)))
        steps = len(case.grads)
        late = draw(st.integers(1, len(case.params) - 1))
        first = draw(st.integers(1, steps - 1))
        for k in range(first):
            case.grads[k][late] = None
        if draw(st.booleans()):  # intermittent: another skipped step later
            k = draw(st.integers(first, steps - 1))
            case.grads[k][0] = None
        return case

    return build()


def groups(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        case = draw(cases(ctx, n_params=(2, 4), steps=(2, 10)))
        h2 = draw(hypers(ctx, maximize=False).filter(lambda h: h != case.hyper))
        split = draw(st.integers(1, len(case.params) - 1))
        h1 = case.hyper if not case.hyper.maximize else case.hyper.replace(maximize=False)
        case.hyper = h1
        case.groups = [(h1, split), (h2.replace(maximize=False), len(case.params) - split)]
        return case

    return build()


def checkpoint(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        case = draw(cases(ctx, steps=(2, 12)))
        case.setup = CheckpointSetup(draw(st.integers(1, len(case.grads) - 1)))
        return case

    return build()


def hyperparameters(ctx: Context) -> st.SearchStrategy[Case]:
    low = _low(ctx)

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        names = [n for n in CHANGEABLE if n != "weight_decay" or ctx.has("weight_decay")]
        which = draw(st.sampled_from(names))
        eps = 1e-3 if low else draw(st.sampled_from((1e-6, 1e-4)))
        h = draw(
            hypers(
                ctx,
                eps=st.just(eps),
                lr=st.sampled_from((1e-2, 0.1)),
                beta1=st.just(0.9),
                beta2=st.sampled_from((0.99, 0.999)),
                maximize=False,
            )
        )
        # gradients around ε so that ε matters, varying so that the betas matter
        case = draw(
            cases(
                ctx, steps=(3, 8), hyper=st.just(h), lo=eps / 10, hi=eps * 1e3, zero_probability=0.0
            )
        )
        case.setup = HyperparameterSetup(which)
        return case

    return build()


def nonfinite(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        case = draw(cases(ctx, shapes=[(3,), (2,)], steps=(2, 6), zero_probability=0.0))
        k = draw(st.integers(1, len(case.grads) - 1))  # after step 1: m ≠ 0 there
        idx = draw(st.integers(0, 2))
        bad = draw(st.sampled_from((math.nan, math.inf, -math.inf)))
        case.setup = NonfiniteSetup(k, idx, bad)
        return case

    return build()
