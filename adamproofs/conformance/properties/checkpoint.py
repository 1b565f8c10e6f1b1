"""The checkpoint property: save after k steps, restore into a fresh session, continue: the
trajectory equals the uninterrupted one bit for bit."""

from __future__ import annotations

import numpy as np

from ...dtypes import as_dtype
from ...variants import Variant
from .._drive import drive
from .._model import Case, Finding, Judgement, Run
from .._replay import check_case, judge
from .._strategies import CheckpointSetup, checkpoint
from ..protocol import Hyper, Implementation, Session, TargetError, takes_groups
from ._property import Property


def _fresh_session(impl: Implementation, case: Case) -> Session:
    """A new session over zeros of the case's shapes (restore must overwrite them)."""
    dtype = as_dtype(case.dtype)
    fresh = [np.zeros_like(p) for p in case.params]
    if not case.groups:
        return impl.create(case.hyper, fresh, dtype)
    groups: list[tuple[Hyper, list[np.ndarray]]] = []
    n = 0
    for hyper, count in case.groups:
        groups.append((hyper, fresh[n : n + count]))
        n += count
    if not takes_groups(impl):
        raise TargetError(f"{impl.name} has no create_groups() for a case with groups")
    return impl.create_groups(groups, dtype)


def _first_difference(full: Run, second: Run, k: int) -> Finding | None:
    for step, (a, b) in enumerate(zip(full.thetas[k:], second.thetas, strict=False), start=k):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same = (x == y) | (np.isnan(x.astype(np.float64)) & np.isnan(y.astype(np.float64)))
            if not np.all(same):
                idx = int(np.argmin(same.ravel()))
                return Finding(
                    f"after save at step {k} and restore, θ at step {step} is "
                    f"{float(y.ravel()[idx])!r}; the uninterrupted run has "
                    f"{float(x.ravel()[idx])!r}",
                    param=i,
                    step=step,
                    index=idx,
                    impl=float(y.ravel()[idx]),
                    exact=float(x.ravel()[idx]),
                )
    return None


def check(impl: Implementation, case: Case, variant: Variant) -> Judgement:
    k = case.setup_as(CheckpointSetup).save_at
    full, j = check_case(impl, case, variant)
    if not j.passed:
        return j
    first = drive(impl, case, stop=k)
    if first.failed or first.session is None:
        return judge(first, case, variant)
    try:
        blob = first.session.save()
        fresh = _fresh_session(impl, case)
        fresh.restore(blob)
    except Exception as err:  # the implementation's failure, reported
        return judge(
            Run(thetas=[], grads=[], error=f"{type(err).__name__}: {err}", error_step=k),
            case,
            variant,
        )
    second = drive(impl, case, session=fresh, start=k)
    if second.failed:
        return judge(second, case, variant)
    finding = _first_difference(full, second, k)
    if finding is not None:
        j.passed = False
        j.finding = finding
    return j


PROPERTY = Property(
    "checkpoint",
    "save, restore into a fresh optimizer, continue: same trajectory",
    5,
    checkpoint,
    check,
    needs=frozenset({"checkpoint"}),
)
