"""Problem 5: a multilayer network with dropout on the digits (NumPy backprop)."""

from __future__ import annotations

from ..report import ProblemReport
from ..roster import ALL, half_decades
from ..runner import ProblemSpec
from . import Context
from .common import SWEEP_COLUMNS, curves_problem, sweep_numbers, sweep_rows

NAME = "mlp"
TITLE = "Multilayer network with dropout on the digits"
GRID = half_decades(-4, 0)
QUICK_GRID = (1e-3, 1e-2, 1e-1)
STEPS, QUICK_STEPS = 1400, 100


def spec(quick: bool) -> ProblemSpec:
    hidden = (64, 64) if quick else (256, 256)
    return ProblemSpec.of("adamproofs.compare.models:mlp", hidden=hidden, dropout=0.2,
                          activation="relu", batch=128)


def run(ctx: Context) -> ProblemReport:
    grid = QUICK_GRID if ctx.quick else GRID
    steps = QUICK_STEPS if ctx.quick else STEPS
    sp = spec(ctx.quick)
    hidden = dict(sp.kwargs)["hidden"]
    sw, figs = curves_problem(ctx, NAME, sp, ALL, grid, steps,
                              record_every=10 if ctx.quick else 50,
                              title=f"64-{'-'.join(map(str, hidden))}-10 ReLU, dropout 0.2")
    rows = sweep_rows(sw)
    best = min(rows, key=lambda r: r["final_mean"])
    findings = [f"Lowest mean final training loss after {steps} steps: {best['final_mean']:.3g} "
                f"({best['optimizer']})."]
    return ProblemReport(
        NAME, TITLE,
        f"Fully connected network 64-{'-'.join(map(str, hidden))}-10 with ReLU, dropout 0.2 on "
        "the hidden layers, softmax cross-entropy, He initialisation per seed, minibatches of "
        "128 from the 1797 digits; the recorded loss is the full training loss without "
        "dropout. Constant α.",
        SWEEP_COLUMNS, rows, sweep_numbers(sw), figs, findings,
        {"steps": steps, "hidden": "-".join(map(str, hidden)), "dropout": 0.2,
         "seeds": len(ctx.seed_list), "lr_grid": " ".join(f"{x:g}" for x in grid)})
