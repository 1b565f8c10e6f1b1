"""Logistic regression on sparse bag-of-words features (the paper's IMDB experiment,
Figure 1 right, on generated documents: nothing is downloaded)."""

from __future__ import annotations

from .._report import ProblemReport
from .._roster import ALL
from .._runner import ProblemSpec
from . import Context
from ._common import (
    SWEEP_COLUMNS,
    around,
    family,
    family_findings,
    shown_columns,
    sweep_numbers,
    sweep_rows,
)

NAME = "sparse"
TITLE = "Logistic regression, sparse features (bag of words)"
STEPS, QUICK_STEPS = 800, 150
SPEC = ProblemSpec.of("adamproofs.compare._models:sparse_logistic", batch=64, dropout=0.5)
GRIDS = {
    "sgd": around(3.0),
    "momentum": around(0.3),
    "nesterov": around(0.3),
    "adagrad": around(0.3),
    "rmsprop": around(0.01),
    "adam": around(0.01),
    "adamax": around(0.03),
    "amsgrad": around(0.01),
}
QUICK_GRIDS = {k: around(v[2], 3) for k, v in GRIDS.items()}


def run(ctx: Context) -> ProblemReport:
    steps = QUICK_STEPS if ctx.quick else STEPS
    sw, figs = family(
        ctx,
        NAME,
        SPEC,
        ALL,
        QUICK_GRIDS if ctx.quick else GRIDS,
        steps,
        record_every=max(1, steps // 30),
        what="bag of words, 2000 words, input dropout ½",
    )
    rows = sweep_rows(sw)
    return ProblemReport(
        NAME,
        TITLE,
        "3000 generated documents over a 2000-word vocabulary (2000 for training, 1000 held "
        "out); word ranks follow Zipf's law (p ∝ rank^-1.1), documents have Poisson(40) "
        "tokens, features are word presence, so a typical document has about 30 of the 2000 "
        "features. The labels come from a planted logistic model in which every word "
        "carries signal, so the rare words matter. Binary logistic regression, minibatches "
        "of 64, each present feature dropped with probability ½ (the paper's dropout noise "
        "for IMDB), constant α. Training loss on all training documents without dropout; "
        "held-out loss on the 1000 others.",
        SWEEP_COLUMNS,
        rows,
        sweep_numbers(sw),
        figs,
        family_findings(rows),
        {"steps": steps, "batch": 64, "dropout": 0.5, "seeds": len(ctx.seed_list)},
        shown=shown_columns(rows),
    )
