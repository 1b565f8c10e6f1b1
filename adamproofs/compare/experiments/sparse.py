"""Problem 4: sparse Zipf bag-of-words logistic regression with input dropout (the paper's
IMDB experiment, generated here): where per-coordinate rates (AdaGrad, Adam) help."""

from __future__ import annotations

from ..report import ProblemReport
from ..roster import ALL, half_decades
from ..runner import ProblemSpec
from . import Context
from .common import SWEEP_COLUMNS, curves_problem, sweep_numbers, sweep_rows

NAME = "sparse"
TITLE = "Sparse features (Zipf bag-of-words, dropout noise)"
GRID = half_decades(-3, 1)
QUICK_GRID = (0.01, 0.1, 1.0)
STEPS, QUICK_STEPS = 1500, 250
SPEC = ProblemSpec.of("adamproofs.compare.models:sparse_logistic", batch=64, dropout=0.5)


def run(ctx: Context) -> ProblemReport:
    grid = QUICK_GRID if ctx.quick else GRID
    steps = QUICK_STEPS if ctx.quick else STEPS
    sw, figs = curves_problem(ctx, NAME, SPEC, ALL, grid, steps,
                              record_every=25 if ctx.quick else 50,
                              title="Zipf bag-of-words, 2000 words, dropout 0.5")
    rows = sweep_rows(sw)
    by = {r["optimizer"]: r for r in rows}
    from ..roster import entry

    ada, adam, sgd = (by[entry(k).label]["final_mean"] for k in ("adagrad", "adam", "sgd"))
    findings = [f"Final training loss (mean over seeds): AdaGrad {ada:.3g}, Adam {adam:.3g}, "
                f"SGD {sgd:.3g}, each at its best constant α."]
    return ProblemReport(
        NAME, TITLE,
        "2000 generated documents over a 2000-word vocabulary; word ranks follow Zipf's law "
        "(p ∝ rank^-1.1), documents have Poisson(40) tokens, features are word presence; the "
        "labels come from a planted logistic model in which every word carries signal, so "
        "the rare words matter. Binary logistic regression, minibatches of 64, each present "
        "feature dropped with probability ½ (as the paper did for IMDB). Constant α.",
        SWEEP_COLUMNS, rows, sweep_numbers(sw), figs, findings,
        {"steps": steps, "batch": 64, "dropout": 0.5, "seeds": len(ctx.seed_list),
         "lr_grid": " ".join(f"{x:g}" for x in grid)})
