"""A small convolutional network on the 8×8 digits (the paper's Figure 3, at laptop size).

The gradients come from PyTorch's autograd (:mod:`..torch_models`); every update is
:class:`adamproofs.fast.Optimizer`. Without PyTorch the problem is skipped, with the reason.
"""

from __future__ import annotations

from .._report import ProblemReport
from .._runner import ProblemSpec
from .._torch_models import TorchMissing, require_torch
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

NAME = "cnn"
TITLE = "Convolutional network (digits)"
STEPS, QUICK_STEPS = 300, 30
#: the paper's Figure 3 compares AdaGrad, SGD with Nesterov momentum and Adam
OPTIMIZERS = ("nesterov", "adagrad", "rmsprop", "adam")
GRIDS = {
    "nesterov": around(0.03),
    "adagrad": around(0.03),
    "rmsprop": around(3e-3),
    "adam": around(3e-3),
}
QUICK_GRIDS = {k: around(v[2], 3) for k, v in GRIDS.items()}
SPEC = ProblemSpec.of("adamproofs.compare._torch_models:cnn", batch=64, dropout=0.25)
DESCRIPTION = (
    "Conv(1→8, 3×3, padding 1) → ReLU → 2×2 max-pool → Conv(8→16, 3×3) → ReLU → max-pool → "
    "dropout 0.25 → linear 64→10, softmax cross-entropy (1898 weights, He initialisation "
    "per seed), minibatches of 64 from the 1437 training digits, constant α. PyTorch's "
    "autograd computes the gradients in float32; the parameters are one float64 vector "
    "stepped by `adamproofs.fast.Optimizer`. Losses without dropout, on the whole training "
    "set and on the 360 held-out digits."
)


def run(ctx: Context) -> ProblemReport:
    try:
        require_torch()
    except TorchMissing as err:
        return ProblemReport(NAME, TITLE, DESCRIPTION, SWEEP_COLUMNS, [], {}, skipped=str(err))
    steps = QUICK_STEPS if ctx.quick else STEPS
    sw, figs = family(
        ctx,
        NAME,
        SPEC,
        OPTIMIZERS,
        QUICK_GRIDS if ctx.quick else GRIDS,
        steps,
        record_every=max(1, steps // (10 if ctx.quick else 12)),
        what="CNN on the digits",
    )
    rows = sweep_rows(sw)
    return ProblemReport(
        NAME,
        TITLE,
        DESCRIPTION,
        SWEEP_COLUMNS,
        rows,
        sweep_numbers(sw),
        figs,
        family_findings(rows),
        {"steps": steps, "batch": 64, "seeds": len(ctx.seed_list)},
        shown=shown_columns(rows),
    )
