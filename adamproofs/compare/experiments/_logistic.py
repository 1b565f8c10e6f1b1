"""Logistic regression on dense features: multinomial, on scikit-learn's 8×8 digits
(the Adam paper's MNIST experiment, Figure 1 left, at laptop size)."""

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

NAME = "logistic"
TITLE = "Logistic regression, dense features (digits)"
STEPS, QUICK_STEPS = 600, 120  # 600 steps of 128 ≈ 53 epochs of the 1437 training digits
SPEC = ProblemSpec.of("adamproofs.compare._models:softmax_regression", batch=128, l2=1e-3)
#: starting grids (five half-decades around where each optimizer's best rate was found);
#: the sweep widens any grid whose best rate sits at an end
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
        what="digits, softmax regression",
    )
    rows = sweep_rows(sw)
    return ProblemReport(
        NAME,
        TITLE,
        "Multinomial logistic regression (64 pixels + bias, 10 classes, 650 weights) on the "
        "8×8 digits bundled with scikit-learn, pixels scaled to [0, 1]; a fixed stratified "
        "fifth (360 images) is held out, training uses the other 1437. Loss = mean "
        "cross-entropy + ½·10⁻³‖W‖², minibatches of 128, constant α (the paper decays α as "
        "1/√t here; a constant rate lets a user's optimizer, which gets its rate once, run "
        "the same protocol). Curves show the loss on the whole training set and on the "
        "held-out set.",
        SWEEP_COLUMNS,
        rows,
        sweep_numbers(sw),
        figs,
        family_findings(rows),
        {"steps": steps, "batch": 128, "seeds": len(ctx.seed_list)},
        shown=shown_columns(rows),
    )
