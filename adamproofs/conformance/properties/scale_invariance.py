"""The scale_invariance property: with ε = 0, gradients times 2^k leave the θ trajectory
unchanged (up to the error bounds of both runs)."""

from __future__ import annotations

import numpy as np

from ... import reference
from ...dtypes import as_dtype
from ...tolerance import error_bound
from ...variants import Variant
from .._model import Case, Finding, GradRows, Judgement, Run
from .._replay import check_case, oracle_config, scalar_dtype
from .._strategies import ScaleSetup, scale_invariance
from ..protocol import Implementation
from ._property import Property, combine


def _scaled(case: Case, c: float) -> Case:
    dt = as_dtype(case.dtype)
    grads: GradRows = [
        [None if g is None else (g.astype(np.float64) * c).astype(dt) for g in row]
        for row in case.grads
    ]
    return Case(case.dtype, case.hyper, [p.copy() for p in case.params], grads)


def _rows(rows: list[list[np.ndarray]] | GradRows, i: int) -> np.ndarray:
    out = []
    for row in rows:
        x = row[i]
        assert x is not None  # the strategy gives every parameter a gradient at every step
        out.append(x.astype(np.float64).ravel())
    return np.array(out)


def _first_excess(
    case: Case, variant: Variant, exponent: int, runs: tuple[Run, Run], scaled: Case
) -> Finding | None:
    cfg = oracle_config(variant, case.hyper)
    compute = variant.precision.compute_dtype(case.dtype)
    sd = scalar_dtype(compute)
    for i in range(len(case.params)):
        a, b = _rows(runs[0].thetas, i), _rows(runs[1].thetas, i)
        g1, g2 = _rows(case.grads, i), _rows(scaled.grads, i)
        # the error model reads the oracle's state (m, v do not depend on θ here: ε = 0,
        # no decay)
        s1 = reference.run(cfg, case.params[i].ravel(), list(g1)).to_numpy("float64")
        s2 = reference.run(cfg, case.params[i].ravel(), list(g2)).to_numpy("float64")
        with np.errstate(all="ignore"):
            b1 = error_bound(
                cfg,
                {**s1, "theta": a, "grad": g1},
                compute_dtype=compute,
                param_dtype=case.dtype,
                scalar_dtype=sd,
            ).theta
            b2 = error_bound(
                cfg,
                {**s2, "theta": b, "grad": g2},
                compute_dtype=compute,
                param_dtype=case.dtype,
                scalar_dtype=sd,
            ).theta
        bad = np.argwhere(np.abs(a - b) > b1 + b2)
        if bad.size:
            k, idx = (int(x) for x in bad[0])
            return Finding(
                f"ε = 0, gradients × 2^{exponent}: θ after step {k} is "
                f"{b[k, idx]!r} instead of {a[k, idx]!r} (Adam with ε = 0 is invariant)",
                param=i,
                step=k,
                index=idx,
                impl=float(b[k, idx]),
                exact=float(a[k, idx]),
                bound=float((b1 + b2)[k, idx]),
            )
    return None


def check(impl: Implementation, case: Case, variant: Variant) -> Judgement:
    exponent = case.setup_as(ScaleSetup).exponent
    run1, j1 = check_case(impl, case, variant)
    scaled = _scaled(case, 2.0**exponent)
    run2, j2 = check_case(impl, scaled, variant)
    j = combine(j1, j2)
    if not j.passed:
        return j
    finding = _first_excess(case, variant, exponent, (run1, run2), scaled)
    if finding is not None:
        j.passed = False
        j.finding = finding
    return j


PROPERTY = Property(
    "scale_invariance",
    "ε = 0: gradients × 2^k leave the trajectory unchanged",
    11,
    scale_invariance,
    check,
)
