"""The nonfinite property: a NaN or ±inf gradient in one coordinate makes that coordinate
non-finite (IEEE propagation) or skips the whole step; every other coordinate is bit for bit
unaffected."""

from __future__ import annotations

import math

import numpy as np

from ...variants import Variant
from .._drive import drive
from .._model import Case, Finding, Judgement, Run
from .._replay import check_case, judge
from .._strategies import NonfiniteSetup, nonfinite
from ..protocol import Implementation
from ._property import Property


def _with_bad(case: Case, bad: NonfiniteSetup) -> Case:
    grads = [list(row) for row in case.grads]
    g = grads[bad.step][0]
    assert g is not None  # the strategy gives every parameter a gradient at every step
    g = g.copy()
    g[bad.index] = bad.value
    grads[bad.step][0] = g
    return Case(case.dtype, case.hyper, [p.copy() for p in case.params], grads)


def _hit_finding(dirty: Run, bad: NonfiniteSetup) -> Finding | None:
    """The coordinate that got the bad gradient: non-finite or unchanged, never finite-moved."""
    k, idx = bad.step, bad.index
    hit = dirty.thetas[k + 1][0].ravel()[idx]
    if math.isfinite(float(hit)) and hit != dirty.thetas[k][0].ravel()[idx]:
        return Finding(
            f"a {bad.value} gradient at step {k + 1} gave the finite value "
            f"{float(hit)!r} (expected NaN/inf propagation, or an unchanged "
            "parameter when the step is skipped)",
            param=0,
            step=k + 1,
            index=idx,
            impl=float(hit),
        )
    return None


def _spill_finding(clean: Run, dirty: Run, bad: NonfiniteSetup) -> Finding | None:
    """Every other coordinate, at every step, equals the clean run's."""
    for step in range(len(clean.thetas)):
        for i, (a, b) in enumerate(zip(clean.thetas[step], dirty.thetas[step], strict=True)):
            mask = np.ones(a.size, dtype=bool)
            if i == 0:
                mask[bad.index] = False
            x, y = a.ravel()[mask], b.ravel()[mask]
            if not np.array_equal(x, y):
                where = int(np.argmax(x != y))
                return Finding(
                    f"a {bad.value} gradient in params[0][{bad.index}] at step {bad.step + 1} "
                    f"changed another coordinate of params[{i}] at step {step}: "
                    f"{float(y[where])!r} instead of {float(x[where])!r}",
                    param=i,
                    step=step,
                    impl=float(y[where]),
                    exact=float(x[where]),
                )
    return None


def check(impl: Implementation, case: Case, variant: Variant) -> Judgement:
    bad = case.setup_as(NonfiniteSetup)
    clean, j = check_case(impl, case, variant)
    if not j.passed:
        return j
    dirty = drive(impl, _with_bad(case, bad))
    if dirty.failed:
        return judge(dirty, case, variant)
    before, after = dirty.thetas[bad.step], dirty.thetas[bad.step + 1]
    if all(np.array_equal(a, b) for a, b in zip(before, after, strict=True)):
        return j  # the whole step was skipped (a documented variant: found_inf skipping)
    finding = _hit_finding(dirty, bad) or _spill_finding(clean, dirty, bad)
    if finding is not None:
        j.passed = False
        j.finding = finding
    return j


PROPERTY = Property(
    "nonfinite",
    "NaN/inf gradients propagate to their coordinate only (or skip)",
    4,
    nonfinite,
    check,
)
