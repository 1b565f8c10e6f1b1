"""Problem 3: L2-regularised multinomial logistic regression on scikit-learn's digits,
minibatches of 128 and α_t = α/√t as in the Adam paper's Figure 1."""

from __future__ import annotations

from ..report import ProblemReport
from ..roster import ALL, half_decades
from ..runner import ProblemSpec
from . import Context
from .common import SWEEP_COLUMNS, curves_problem, sweep_numbers, sweep_rows

NAME = "logistic"
TITLE = "Logistic regression on the digits (minibatch 128)"
GRID = half_decades(-2, 2)
QUICK_GRID = (0.1, 1.0, 10.0)
STEPS, QUICK_STEPS = 1400, 150  # 1400 steps of 128 = 100 epochs of the 1797 digits
SPEC = ProblemSpec.of("adamproofs.compare.models:softmax_regression", batch=128, l2=1e-3)


def run(ctx: Context) -> ProblemReport:
    grid = QUICK_GRID if ctx.quick else GRID
    steps = QUICK_STEPS if ctx.quick else STEPS
    sw, figs = curves_problem(ctx, NAME, SPEC, ALL, grid, steps, schedule="inv_sqrt",
                              record_every=15 if ctx.quick else 50,
                              title="digits, softmax regression, α_t = α/√t")
    rows = sweep_rows(sw)
    best = min(rows, key=lambda r: r["final_mean"])
    findings = [f"Lowest mean final training loss after {steps} steps: {best['final_mean']:.3g} "
                f"({best['optimizer']}); each optimizer at its own best α."]
    return ProblemReport(
        NAME, TITLE,
        "Multinomial logistic regression (64 pixels + bias, 10 classes, 650 weights) on the "
        "1797 digits bundled with scikit-learn (pixels scaled to [0, 1]), loss = mean "
        "cross-entropy + ½·10⁻³‖W‖². Minibatches of 128 drawn per seed; every optimizer uses "
        "α_t = α/√t (the paper's setting for this experiment). The recorded loss is on the "
        "full training set.",
        SWEEP_COLUMNS, rows, sweep_numbers(sw), figs, findings,
        {"steps": steps, "batch": 128, "schedule": "α/√t", "seeds": len(ctx.seed_list),
         "lr_grid": " ".join(f"{x:g}" for x in grid)})
