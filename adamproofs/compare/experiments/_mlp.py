"""A multilayer network with dropout on the digits (NumPy backprop; the paper's Figure 2)."""

from __future__ import annotations

from .._report import ProblemReport
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

NAME = "mlp"
TITLE = "Multilayer network with dropout (digits)"
STEPS, QUICK_STEPS = 500, 80
#: the paper's Figure 2 compares AdaGrad, RMSProp, SGD with Nesterov momentum and Adam
OPTIMIZERS = ("nesterov", "adagrad", "rmsprop", "adam", "amsgrad")
GRIDS = {
    "nesterov": around(0.1),
    "adagrad": around(0.03),
    "rmsprop": around(1e-3),
    "adam": around(1e-3),
    "amsgrad": around(1e-3),
}
QUICK_GRIDS = {k: around(v[2], 3) for k, v in GRIDS.items()}


def spec(quick: bool) -> ProblemSpec:
    hidden = (32, 32) if quick else (64, 64)
    return ProblemSpec.of(
        "adamproofs.compare._models:mlp", hidden=hidden, dropout=0.2, activation="relu", batch=128
    )


def run(ctx: Context) -> ProblemReport:
    steps = QUICK_STEPS if ctx.quick else STEPS
    sp = spec(ctx.quick)
    hidden = "-".join(map(str, dict(sp.kwargs)["hidden"]))
    sw, figs = family(
        ctx,
        NAME,
        sp,
        OPTIMIZERS,
        QUICK_GRIDS if ctx.quick else GRIDS,
        steps,
        record_every=max(1, steps // 25),
        what=f"64-{hidden}-10 ReLU, dropout 0.2",
    )
    rows = sweep_rows(sw)
    return ProblemReport(
        NAME,
        TITLE,
        f"Fully connected network 64-{hidden}-10 with ReLU units and dropout 0.2 on the "
        "hidden layers, softmax cross-entropy, He initialisation per seed, minibatches of "
        "128 from the 1437 training digits, constant α. The recorded losses are without "
        "dropout, on the whole training set and on the 360 held-out digits. Optimizers as in "
        "the paper's Figure 2 (SGD with Nesterov momentum, AdaGrad, RMSProp, Adam) plus "
        "AMSGrad.",
        SWEEP_COLUMNS,
        rows,
        sweep_numbers(sw),
        figs,
        family_findings(rows),
        {"steps": steps, "hidden": hidden, "dropout": 0.2, "seeds": len(ctx.seed_list)},
        shown=shown_columns(rows),
    )
