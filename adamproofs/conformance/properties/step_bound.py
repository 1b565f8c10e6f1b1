r"""The step_bound property: :math:`|\Delta_t| \le \alpha S(t)` on the maximising sequence
:math:`g_i \propto (\beta_2/\beta_1)^i` (the exact worst case of the reference notes, not the
paper's approximation), for variants whose definition guarantees it."""

from __future__ import annotations

import math

import numpy as np

from ...dtypes import float_format
from ...tolerance import bias_correction_relative_error
from ...variants import Guarantee, Variant
from .._cases import exact_step_bound
from .._model import Case, Finding, Judgement
from .._replay import check_case, scalar_dtype
from .._strategies import step_bound
from ..protocol import Hyper, Implementation
from ._property import Property


def _allowed(
    h: Hyper, k: int, compute: str, param: str, after: np.ndarray, before: np.ndarray
) -> np.ndarray:
    """α·S(t) plus a correct implementation's rounding: the bias corrections (relative error ρ
    of 1-β^t in the compute dtype, as in adamproofs.tolerance), a few operations on the step
    in the compute dtype (16u, α's own rounding included) and the rounding of θ (2u'|θ| each
    side, u' the larger of the compute and parameter unit roundoffs)."""
    u = float_format(compute).unit_roundoff
    us = float_format(scalar_dtype(compute)).unit_roundoff
    u_theta = max(u, float_format(param).unit_roundoff)
    rho = (
        bias_correction_relative_error(h.beta1, k, us)
        + bias_correction_relative_error(h.beta2, k, us) / 2
    )
    s = exact_step_bound(h.beta1, h.beta2, k)
    with np.errstate(invalid="ignore", over="ignore"):
        return h.lr * s * (1 + rho + 16 * u) + u_theta * (np.abs(after) + np.abs(before)) * 2


def _finding(
    h: Hyper,
    k: int,
    dtype: str,
    i: int,
    before: np.ndarray,
    after: np.ndarray,
    g: np.ndarray,
    step: np.ndarray,
) -> Finding:
    x = float(after.ravel()[i])
    s = exact_step_bound(h.beta1, h.beta2, k)
    why = (
        ""
        if math.isfinite(x)
        else (
            f": θ became {x!r} from the finite {float(before.ravel()[i])!r} with the finite "
            f"gradient {float(g.ravel()[i])!r} (e.g. v or √v + ε underflowed to 0)"
        )
    )
    return Finding(
        f"|Δ_{k}| = {float(step.ravel()[i])!r} exceeds α·S({k}) = {h.lr * s!r} "
        f"(exact worst case; {dtype}){why}",
        param=0,
        step=k,
        index=i,
        impl=float(step.ravel()[i]),
        exact=h.lr * s,
    )


def check(impl: Implementation, case: Case, variant: Variant) -> Judgement:
    run, j = check_case(impl, case, variant)
    if not j.passed:
        return j
    h = case.hyper
    compute = variant.precision.compute_dtype(case.dtype)
    all_zero = np.ones(case.params[0].shape, dtype=bool)  # every gradient so far exactly 0
    for k in range(1, len(run.thetas)):
        before = run.thetas[k - 1][0].astype(np.float64)
        after = run.thetas[k][0].astype(np.float64)
        grad = run.grads[k - 1][0]
        g = np.zeros_like(before) if grad is None else grad.astype(np.float64)
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
            too_large = (
                judged
                & np.isfinite(after)
                & (step > _allowed(h, k, compute, case.dtype, after, before))
            )
        bad = np.nonzero((nonfinite | too_large).ravel())[0]
        if bad.size:
            j.passed = False
            j.finding = _finding(h, k, case.dtype, int(bad[0]), before, after, g, step)
            break
    return j


PROPERTY = Property(
    "step_bound",
    "|Δ_t| ≤ α·S(t), the exact worst case, on the maximising sequence",
    2,
    step_bound,
    check,
    requires=frozenset({Guarantee.STEP_BOUND}),
)
