r"""The conformance properties: each a hypothesis strategy of cases plus a check.

A property is a :class:`Property` with ``strategy(ctx)`` (a strategy of
:class:`~adamproofs.conformance.model.Case`) and ``check(impl, case, variant)``
returning a :class:`~adamproofs.conformance.model.Judgement`. Unless a property
says otherwise its check is the per-step replay of :mod:`.replay` (agreement with
the oracle within the bound of :mod:`adamproofs.tolerance`), so every property
also checks agreement, on inputs chosen to stress one aspect:

=========================  ====================================================================
``first_step``             one step: Δ1 = α g/(|g|+ε) for Algorithm 1
``agreement``              random hyperparameters, shapes and gradient sequences
``step_bound``             |Δ_t| ≤ α S(t) on the maximising sequence g_i ∝ (β2/β1)^i (the exact
                           worst case of the reference notes, not the paper's approximation)
``scale_invariance``       ε = 0 and gradients times 2^k: θ trajectories equal (up to the bounds)
``sparsity``               mostly-zero gradients; a coordinate whose gradients are all exactly 0
                           never moves (ε > 0, no decay)
``nonstationary``          gradients from the implementation's own θ (moving quadratic), then
                           the oracle on the recorded gradients
``long_horizon``           1-2 coordinates, hundreds of steps, β2 close to 1
``tiny_gradients``         magnitudes down to where g² still is a normal number
``huge_gradients``         magnitudes up to where g² still does not overflow
``eps_zero``               ε = 0
``beta1_zero``             β1 = 0
``many_params``            3-6 arrays, equal and different shapes, 0-d and empty arrays
``late_first_gradient``    parameters whose gradient is ``None`` for a while (skipped; the
                           step counter per the variant's scope)
``groups``                 two parameter groups with different hyperparameters
``checkpoint``             save after k steps, restore into a fresh session, continue: the
                           trajectory equals the uninterrupted one bit for bit
``inputs_unmutated``       gradients and initial values are never written (every case checks
                           this; this property reports it on its own)
``hyperparameters``        α, β1, β2, ε, λ each changed alone: the result changes as the
                           oracle says
``nonfinite``              a NaN or ±inf gradient in one coordinate: that coordinate becomes
                           non-finite (IEEE propagation) or the whole step is skipped; every
                           other coordinate is bit-for-bit unaffected
=========================  ====================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st

from .. import reference
from ..dtypes import as_dtype, float_format
from ..tolerance import bias_correction_relative_error, error_bound
from ..variants import Guarantee, Variant, guarantees
from .cases import (
    SHAPES,
    Context,
    cases,
    exact_step_bound,
    grad_rows,
    hypers,
    maximizing_sequence,
    representable,
    values,
)
from .drive import drive
from .model import Case, Finding, Judgement, Run
from .replay import check_case, judge, oracle_config, scalar_dtype


@dataclass(frozen=True)
class Property:
    """A named property: cases to draw, how to check one, what it needs."""

    name: str
    doc: str
    strategy: Callable[[Context], st.SearchStrategy[Case]]
    check: Callable[[Any, Case, Variant], Judgement] = field(
        default=lambda impl, case, variant: check_case(impl, case, variant)[1])
    needs: frozenset[str] = frozenset()
    #: the guarantees of the variant's definition the property relies on
    requires: frozenset[Guarantee] = frozenset()

    def applies(self, variant: Variant) -> bool:
        """Whether ``variant``'s definition gives every guarantee this property relies on."""
        return self.requires <= guarantees(variant)


def _combine(*judgements: Judgement) -> Judgement:
    out = Judgement(True)
    for j in judgements:
        out.worst_excess = max(out.worst_excess, j.worst_excess)
        out.worst_ulps = max(out.worst_ulps, j.worst_ulps)
        out.checked += j.checked
        out.unchecked += j.unchecked
        if not j.passed and out.passed:
            out.passed = False
            out.finding = j.finding
    return out


# --- strategies -----------------------------------------------------------------------------

def _first_step(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 1), n_params=(1, 2), lo=1e-12, hi=1e9)


def _agreement(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(2, 20))


def _tiny(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 8), lo=1e-300, hi=1e-5, zero_probability=0.05)


def _huge(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 8), lo=1e2, hi=1e300, zero_probability=0.05)


def _eps_zero(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 10), hyper=hypers(ctx, eps=st.just(0.0)), zero_probability=0.0)


def _beta1_zero(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, steps=(1, 10), hyper=hypers(ctx, beta1=st.just(0.0)))


def _many(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        k = draw(st.integers(3, 6))
        if draw(st.booleans()):
            shapes = [draw(st.sampled_from(SHAPES))] * k
        else:
            shapes = [draw(st.sampled_from((*SHAPES, (0,), (1, 3)))) for _ in range(k)]
        return draw(cases(ctx, shapes=shapes, steps=(1, 6)))
    return build()


def _long(ctx: Context) -> st.SearchStrategy[Case]:
    low = ctx.dtype in ("float16", "bfloat16")
    b2 = st.sampled_from((0.99, 0.999)) if low else st.sampled_from((0.99, 0.999, 0.9999))

    @st.composite
    def build(draw: Any) -> Case:
        n = draw(st.sampled_from(((), (1,), (2,))))
        steps = draw(st.integers(max(2, ctx.long_steps // 2), ctx.long_steps))
        h = draw(hypers(ctx, beta2=b2, lr=st.sampled_from((1e-3, 1e-2))))
        centre = draw(st.floats(-3, 3))
        spread = draw(st.floats(0, 3))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        shape = n
        p0 = draw(values(ctx.dtype, shape))
        mags = 10.0 ** (centre + spread * rng.uniform(-1, 1, size=(steps, *shape)))
        signs = np.where(rng.uniform(size=(steps, *shape)) < 0.3, -1.0, 1.0)
        g = (mags * signs).astype(as_dtype(ctx.dtype))
        return Case(ctx.dtype, h, [p0], [[g[k]] for k in range(steps)])
    return build()


def _sparsity(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        h = draw(hypers(ctx, eps=st.sampled_from((1e-8, 1e-3) if ctx.dtype in (
            "float32", "float64") else (1e-3, 0.1)), decay=False))
        steps = draw(st.integers(3, 20))
        density = draw(st.sampled_from((0.05, 0.2, 0.5)))
        shape = (draw(st.integers(3, 5)),)
        rows = draw(grad_rows(ctx.dtype, [shape], steps, zero_probability=1 - density))
        zero_col = draw(st.integers(0, shape[0] - 1))
        for row in rows:
            row[0] = row[0].copy()
            row[0][zero_col] = 0
        p0 = draw(values(ctx.dtype, shape))
        return Case(ctx.dtype, h, [p0], rows, extra={"zero_col": zero_col})
    return build()


def _check_sparsity(impl: Any, case: Case, variant: Variant) -> Judgement:
    run, j = check_case(impl, case, variant)
    if not j.passed:
        return j
    col = case.extra["zero_col"]
    for k, thetas in enumerate(run.thetas[1:], start=1):
        a, b = run.thetas[0][0].ravel()[col], thetas[0].ravel()[col]
        if a != b:
            j.passed = False
            j.finding = Finding(f"params[0][{col}] has only zero gradients but moved from "
                                f"{float(a)!r} to {float(b)!r} by step {k}", param=0, step=k,
                                index=col, impl=float(b), exact=float(a))
            break
    return j


def _nonstationary(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        shape = draw(st.sampled_from(((2,), (3,))))
        h = draw(hypers(ctx, lr=st.sampled_from((1e-2, 0.1))))
        curvature = np.array(draw(st.lists(st.floats(0.1, 10), min_size=shape[0],
                                           max_size=shape[0])))
        omega = draw(st.floats(0.05, 1.0))
        amp = draw(st.floats(0.1, 5.0))
        steps = draw(st.integers(5, 30))
        dt = as_dtype(ctx.dtype)

        def grad_fn(params: list[np.ndarray], t: int) -> list[np.ndarray]:
            theta = params[0].astype(np.float64)
            target = amp * np.sin(omega * t + np.arange(theta.size))
            return [(curvature * (theta - target)).astype(dt)]

        p0 = draw(values(ctx.dtype, shape, lo=0.1, hi=10))
        return Case(ctx.dtype, h, [p0], grad_fn=grad_fn, steps=steps,
                    extra={"objective": f"{curvature.tolist()}*(θ - {amp}*sin({omega}*t + i))"})
    return build()


def _step_bound(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        low = ctx.dtype in ("float16", "bfloat16")
        h = draw(hypers(ctx, eps=st.sampled_from((0.0,)), decay=False, maximize=False,
                        beta1=st.sampled_from((0.5, 0.8, 0.9, 0.95)),
                        beta2=st.sampled_from((0.99, 0.999) if low else (0.99, 0.999, 0.9999))))
        steps = draw(st.integers(2, 40))
        scale = draw(st.sampled_from((1.0, 1e-3, 1e3))) if not low else 1.0
        g = maximizing_sequence(h.beta1, h.beta2, steps, scale, ctx.dtype)
        g2 = -g
        p0 = draw(values(ctx.dtype, (2,)))
        rows = [[np.array([g[k], g2[k]])] for k in range(steps)]
        return Case(ctx.dtype, h, [p0], rows)
    return build()


def _check_step_bound(impl: Any, case: Case, variant: Variant) -> Judgement:
    run, j = check_case(impl, case, variant)
    if not j.passed:
        return j
    h = case.hyper
    u = float_format(case.dtype).unit_roundoff
    dt = case.dtype
    all_zero = np.ones(case.params[0].shape, dtype=bool)  # every gradient so far exactly 0
    for k in range(1, len(run.thetas)):
        s = exact_step_bound(h.beta1, h.beta2, k)
        before = run.thetas[k - 1][0].astype(np.float64)
        after = run.thetas[k][0].astype(np.float64)
        g = run.grads[k - 1][0].astype(np.float64)
        all_zero &= g == 0
        # A coordinate already non-finite was judged at the step it became so; a non-finite
        # gradient is the non-finite property's. From a finite θ and gradient the exact step
        # is finite (≤ α·S(t)), so a non-finite θ after it exceeds the bound, except NaN
        # under the ε = 0 convention 0/0 := 0 (all gradients so far exactly 0).
        judged = np.isfinite(before) & np.isfinite(g)
        accepted_nan = np.isnan(after) & all_zero & (h.eps == 0)
        nonfinite = judged & ~np.isfinite(after) & ~accepted_nan
        with np.errstate(invalid="ignore", over="ignore"):
            step = np.abs(after - before)
            # S(t) is exact; a correct implementation adds its rounding: the bias corrections
            # (relative error ρ of 1-β^t in the compute dtype, as in adamproofs.tolerance),
            # a few operations on the step (16u) and the rounding of θ (u|θ| each side)
            us = float_format(scalar_dtype(dt)).unit_roundoff
            rho = (bias_correction_relative_error(h.beta1, k, us)
                   + bias_correction_relative_error(h.beta2, k, us) / 2)
            allowed = h.lr * s * (1 + rho + 16 * u) + u * (np.abs(after) + np.abs(before)) * 2
            too_large = judged & np.isfinite(after) & (step > allowed)
        bad = np.nonzero((nonfinite | too_large).ravel())[0]
        if bad.size:
            i = int(bad[0])
            x = float(after.ravel()[i])
            why = "" if math.isfinite(x) else (
                f": θ became {x!r} from the finite {float(before.ravel()[i])!r} with the finite "
                f"gradient {float(g.ravel()[i])!r} (e.g. v or √v + ε underflowed to 0)")
            j.passed = False
            j.finding = Finding(
                f"|Δ_{k}| = {float(step.ravel()[i])!r} exceeds α·S({k}) = {h.lr * s!r} "
                f"(exact worst case; {dt}){why}", param=0, step=k, index=i,
                impl=float(step.ravel()[i]), exact=h.lr * s)
            break
    return j


def _scale(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        low = ctx.dtype in ("float16", "bfloat16")
        kmax = 3 if low else 30
        k = draw(st.integers(-kmax, kmax).filter(lambda x: x != 0))
        case = draw(cases(ctx, steps=(2, 10), hyper=hypers(ctx, eps=st.just(0.0), decay=False),
                          lo=0.1 if low else 1e-4, hi=10 if low else 1e4, zero_probability=0))
        case.extra["scale_exponent"] = k
        return case
    return build()


def _scaled(case: Case, c: float) -> Case:
    dt = as_dtype(case.dtype)
    grads = [[None if g is None else (g.astype(np.float64) * c).astype(dt) for g in row]
             for row in case.grads]
    return Case(case.dtype, case.hyper, [p.copy() for p in case.params], grads)


def _check_scale(impl: Any, case: Case, variant: Variant) -> Judgement:
    c = 2.0 ** case.extra["scale_exponent"]
    run1, j1 = check_case(impl, case, variant)
    scaled = _scaled(case, c)
    run2, j2 = check_case(impl, scaled, variant)
    j = _combine(j1, j2)
    if not j.passed:
        return j
    cfg = oracle_config(variant, case.hyper)
    for i in range(len(case.params)):
        a = np.array([t[i].astype(np.float64).ravel() for t in run1.thetas])
        b = np.array([t[i].astype(np.float64).ravel() for t in run2.thetas])
        g1 = np.array([r[i].astype(np.float64).ravel() for r in case.grads])
        g2 = np.array([r[i].astype(np.float64).ravel() for r in scaled.grads])
        sd = scalar_dtype(case.dtype)
        # the error model reads the oracle's state (m, v do not depend on θ here: ε = 0,
        # no decay)
        s1 = reference.run(cfg, case.params[i].ravel(), list(g1)).to_numpy("float64")
        s2 = reference.run(cfg, case.params[i].ravel(), list(g2)).to_numpy("float64")
        with np.errstate(all="ignore"):
            b1 = error_bound(cfg, {**s1, "theta": a, "grad": g1}, compute_dtype=case.dtype,
                             scalar_dtype=sd).theta
            b2 = error_bound(cfg, {**s2, "theta": b, "grad": g2}, compute_dtype=case.dtype,
                             scalar_dtype=sd).theta
        diff = np.abs(a - b)
        bad = np.argwhere(diff > b1 + b2)
        if bad.size:
            k, idx = (int(x) for x in bad[0])
            j.passed = False
            j.finding = Finding(
                f"ε = 0, gradients × 2^{case.extra['scale_exponent']}: θ after step {k} is "
                f"{b[k, idx]!r} instead of {a[k, idx]!r} (Adam with ε = 0 is invariant)",
                param=i, step=k, index=idx, impl=float(b[k, idx]), exact=float(a[k, idx]),
                bound=float((b1 + b2)[k, idx]))
            break
    return j


def _late(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
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


def _groups(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        case = draw(cases(ctx, n_params=(2, 4), steps=(2, 10)))
        h2 = draw(hypers(ctx, maximize=False).filter(lambda h: h != case.hyper))
        split = draw(st.integers(1, len(case.params) - 1))
        h1 = case.hyper if not case.hyper.maximize else case.hyper.replace(maximize=False)
        case.hyper = h1
        case.groups = [(h1, split), (h2.replace(maximize=False), len(case.params) - split)]
        return case
    return build()


def _checkpoint(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        case = draw(cases(ctx, steps=(2, 12)))
        case.extra["save_at"] = draw(st.integers(1, len(case.grads) - 1))
        return case
    return build()


def _check_checkpoint(impl: Any, case: Case, variant: Variant) -> Judgement:
    full, j = check_case(impl, case, variant)
    if not j.passed:
        return j
    k = case.extra["save_at"]
    first = drive(impl, case, stop=k)
    if first.error or first.mutated:
        return judge(first, case, variant)
    try:
        blob = first.session.save()  # type: ignore[attr-defined]
        dtype = as_dtype(case.dtype)
        fresh_params = [np.zeros_like(p) for p in case.params]
        if case.groups:
            groups, n = [], 0
            for hyper, count in case.groups:
                groups.append((hyper, fresh_params[n:n + count]))
                n += count
            fresh = impl.create_groups(groups, dtype)
        else:
            fresh = impl.create(case.hyper, fresh_params, dtype)
        fresh.restore(blob)
    except Exception as err:
        return judge(Run(thetas=[], grads=[], error=f"{type(err).__name__}: {err}",
                         error_step=k), case, variant)
    second = drive(impl, case, session=fresh, start=k)
    if second.error or second.mutated:
        return judge(second, case, variant)
    for step, (a, b) in enumerate(zip(full.thetas[k:], second.thetas, strict=False), start=k):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same = (x == y) | (np.isnan(x.astype(np.float64)) & np.isnan(y.astype(np.float64)))
            if not np.all(same):
                idx = int(np.argmin(same.ravel()))
                j.passed = False
                j.finding = Finding(
                    f"after save at step {k} and restore, θ at step {step} is "
                    f"{float(y.ravel()[idx])!r}; the uninterrupted run has "
                    f"{float(x.ravel()[idx])!r}", param=i, step=step, index=idx,
                    impl=float(y.ravel()[idx]), exact=float(x.ravel()[idx]))
                return j
    return j


_HYPER_CHANGES: dict[str, Callable[[Any, str], float]] = {
    "lr": lambda h, dt: representable(h.lr * 3.0 if h.lr < 0.3 else h.lr / 3.0, dt),
    "beta1": lambda h, dt: representable(0.5 if h.beta1 != 0.5 else 0.9, dt, below_one=True),
    "beta2": lambda h, dt: representable(0.9 if h.beta2 > 0.95 else 0.999, dt, below_one=True),
    "eps": lambda h, dt: representable(h.eps * 30.0 if h.eps else 1e-3, dt),
    "weight_decay": lambda h, dt: representable(0.5 if h.weight_decay != 0.5 else 0.1, dt),
}


def _hyperparameters(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        low = ctx.dtype in ("float16", "bfloat16")
        names = [n for n in _HYPER_CHANGES if n != "weight_decay" or ctx.has("weight_decay")]
        which = draw(st.sampled_from(names))
        eps = 1e-3 if low else draw(st.sampled_from((1e-6, 1e-4)))
        h = draw(hypers(ctx, eps=st.just(eps), lr=st.sampled_from((1e-2, 0.1)),
                        beta1=st.just(0.9), beta2=st.sampled_from((0.99, 0.999)),
                        maximize=False))
        # gradients around ε so that ε matters, varying so that the betas matter
        case = draw(cases(ctx, steps=(3, 8), hyper=st.just(h), lo=eps / 10, hi=eps * 1e3,
                          zero_probability=0.0))
        case.extra["changed"] = which
        return case
    return build()


def _check_hyperparameters(impl: Any, case: Case, variant: Variant) -> Judgement:
    _, j1 = check_case(impl, case, variant)
    which = case.extra["changed"]
    new = _HYPER_CHANGES[which](case.hyper, case.dtype)
    other = Case(case.dtype, case.hyper.replace(**{which: new}),
                 [p.copy() for p in case.params], case.grads)
    _, j2 = check_case(impl, other, variant)
    j = _combine(j1, j2)
    if not j.passed and j.finding is not None:
        j.finding.message = (f"with {which} changed from {getattr(case.hyper, which)!r} to "
                             f"{new!r}: " + j.finding.message)
    return j


def _nonfinite(ctx: Context) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        case = draw(cases(ctx, shapes=[(3,), (2,)], steps=(2, 6), zero_probability=0.0))
        k = draw(st.integers(1, len(case.grads) - 1))  # after step 1: m ≠ 0 there
        idx = draw(st.integers(0, 2))
        bad = draw(st.sampled_from((math.nan, math.inf, -math.inf)))
        case.extra.update(bad_step=k, bad_index=idx, bad_value=bad)
        return case
    return build()


def _with_bad(case: Case) -> Case:
    k, idx, bad = case.extra["bad_step"], case.extra["bad_index"], case.extra["bad_value"]
    grads = [list(row) for row in case.grads]
    g = grads[k][0].copy()
    g[idx] = bad
    grads[k][0] = g
    return Case(case.dtype, case.hyper, [p.copy() for p in case.params], grads)


def _check_nonfinite(impl: Any, case: Case, variant: Variant) -> Judgement:
    clean, j = check_case(impl, case, variant)
    if not j.passed:
        return j
    k, idx = case.extra["bad_step"], case.extra["bad_index"]
    dirty = drive(impl, _with_bad(case))
    if dirty.error is not None:
        return judge(dirty, case, variant)
    if dirty.mutated is not None:
        return judge(dirty, case, variant)
    before = dirty.thetas[k]
    after = dirty.thetas[k + 1]
    skipped = all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    if skipped:
        return j  # the whole step was skipped (a documented variant: found_inf skipping)
    hit = after[0].ravel()[idx]
    if math.isfinite(float(hit)) and hit != before[0].ravel()[idx]:
        j.passed = False
        j.finding = Finding(f"a {case.extra['bad_value']} gradient at step {k + 1} gave the "
                            f"finite value {float(hit)!r} (expected NaN/inf propagation, or an "
                            "unchanged parameter when the step is skipped)", param=0,
                            step=k + 1, index=idx, impl=float(hit))
        return j
    # every other coordinate, at every step, is unaffected
    for step in range(len(clean.thetas)):
        for i, (a, b) in enumerate(zip(clean.thetas[step], dirty.thetas[step], strict=True)):
            mask = np.ones(a.size, dtype=bool)
            if i == 0:
                mask[idx] = False
            x, y = a.ravel()[mask], b.ravel()[mask]
            if not np.array_equal(x, y):
                where = int(np.argmax(x != y))
                j.passed = False
                j.finding = Finding(
                    f"a {case.extra['bad_value']} gradient in params[0][{idx}] at step {k + 1} "
                    f"changed another coordinate of params[{i}] at step {step}: "
                    f"{float(y[where])!r} instead of {float(x[where])!r}", param=i, step=step,
                    impl=float(y[where]), exact=float(x[where]))
                return j
    return j


def _unmutated(ctx: Context) -> st.SearchStrategy[Case]:
    return cases(ctx, n_params=(1, 3), steps=(1, 5))


PROPERTIES: dict[str, Property] = {p.name: p for p in (
    Property("first_step", "one step from random θ, g: Δ1 = α g/(|g|+ε)", _first_step),
    Property("agreement", "random configurations and sequences agree with the oracle",
             _agreement),
    Property("step_bound", "|Δ_t| ≤ α·S(t), the exact worst case, on the maximising sequence",
             _step_bound, _check_step_bound, requires=frozenset({Guarantee.STEP_BOUND})),
    Property("tiny_gradients", "gradients down to the dtype's safe minimum", _tiny),
    Property("nonfinite", "NaN/inf gradients propagate to their coordinate only (or skip)",
             _nonfinite, _check_nonfinite),
    Property("checkpoint", "save, restore into a fresh optimizer, continue: same trajectory",
             _checkpoint, _check_checkpoint, needs=frozenset({"checkpoint"})),
    Property("sparsity", "mostly-zero gradients; all-zero coordinates never move",
             _sparsity, _check_sparsity),
    Property("long_horizon", "hundreds of steps, β2 near 1", _long),
    Property("huge_gradients", "gradients up to the dtype's safe maximum", _huge),
    Property("eps_zero", "ε = 0", _eps_zero),
    Property("beta1_zero", "β1 = 0", _beta1_zero),
    Property("scale_invariance", "ε = 0: gradients × 2^k leave the trajectory unchanged",
             _scale, _check_scale),
    Property("nonstationary", "gradients from the implementation's own θ (moving target)",
             _nonstationary),
    Property("many_params", "3-6 arrays of equal and different shapes (0-d, empty)", _many),
    Property("late_first_gradient", "parameters skipped (grad None) for a while", _late,
             needs=frozenset({"skip"})),
    Property("groups", "two parameter groups with their own hyperparameters", _groups,
             needs=frozenset({"groups"})),
    Property("inputs_unmutated", "gradients and initial values are never written",
             _unmutated),
    Property("hyperparameters", "α, β1, β2, ε, λ each honoured", _hyperparameters,
             _check_hyperparameters),
)}


def check_property(name: str, impl: Any, case: Case, variant: Variant) -> Judgement:
    """Check one case of property ``name`` (what a reproducer calls)."""
    if name not in PROPERTIES:
        raise KeyError(f"property {name!r} is not one of {sorted(PROPERTIES)}")
    return PROPERTIES[name].check(impl, case, variant)
