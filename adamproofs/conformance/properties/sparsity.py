"""The sparsity property: mostly-zero gradients agree with the oracle, and a coordinate
whose gradients are all exactly 0 never moves (ε > 0, no decay)."""

from __future__ import annotations

from ...variants import Variant
from .._model import Case, Finding, Judgement
from .._replay import check_case
from .._strategies import SparsitySetup, sparsity
from ..protocol import Implementation
from ._property import Property


def check(impl: Implementation, case: Case, variant: Variant) -> Judgement:
    col = case.setup_as(SparsitySetup).zero_col
    run, j = check_case(impl, case, variant)
    if not j.passed:
        return j
    for k, thetas in enumerate(run.thetas[1:], start=1):
        a, b = run.thetas[0][0].ravel()[col], thetas[0].ravel()[col]
        if a != b:
            j.passed = False
            j.finding = Finding(
                f"params[0][{col}] has only zero gradients but moved from "
                f"{float(a)!r} to {float(b)!r} by step {k}",
                param=0,
                step=k,
                index=col,
                impl=float(b),
                exact=float(a),
            )
            break
    return j


PROPERTY = Property(
    "sparsity", "mostly-zero gradients; all-zero coordinates never move", 6, sparsity, check
)
