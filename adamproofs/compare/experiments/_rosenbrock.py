"""Problem 2: Rosenbrock's banana f = (1-x)² + 100(y-x²)², paths and loss curves."""

from __future__ import annotations

import numpy as np

from .. import _findings as findings
from .._functions import Rosenbrock
from .._report import ProblemReport
from .._roster import ALL, half_decades
from .._runner import ProblemSpec
from . import Context
from ._common import SWEEP_COLUMNS, SWEEP_SHOWN_NO_HELDOUT, sweep_numbers, sweep_rows, two_d

NAME = "rosenbrock"
TITLE = "Rosenbrock's function"
GRID = half_decades(-4, 0)
QUICK_GRID = (1e-3, 1e-2, 1e-1)
STEPS = 2000
QUICK_STEPS = 600


def run(ctx: Context) -> ProblemReport:
    spec = ProblemSpec.of("adamproofs.compare._functions:rosenbrock")
    problem = Rosenbrock()
    grid = QUICK_GRID if ctx.quick else GRID
    steps = QUICK_STEPS if ctx.quick else STEPS
    sw, figs = two_d(
        ctx,
        NAME,
        spec,
        problem,
        grid,
        steps,
        (-2.0, 2.0),
        (-1.0, 3.0),
        record_every=10,
        log_levels=True,
        title=r"$f = (1-x)^2 + 100(y-x^2)^2$: paths at each optimizer's best rate",
    )
    rows = sweep_rows(sw)
    initial = float(
        np.mean([sw.runs[ALL[0], sw.grids[ALL[0]][0], s].losses[0] for s in ctx.seed_list])
    )
    found = [
        findings.ranking(
            rows,
            "final_mean",
            "final_std",
            f"loss after {steps} steps (from f(θ₀) ≈ {initial:.3g})",
        ),
        findings.grid_edges(rows),
    ]
    return ProblemReport(
        NAME,
        TITLE,
        "f(x, y) = (1-x)² + 100(y-x²)², minimum 0 at (1, 1); starts at (-1.5, 2) plus "
        "N(0, 0.1²) per seed. The loss is recorded every 10 steps. The valley floor is "
        "curved and flat: a fixed rate small enough for the steep walls crawls along it.",
        SWEEP_COLUMNS,
        rows,
        {**sweep_numbers(sw), "initial_loss_mean": initial},
        figs,
        found,
        {"steps": steps, "seeds": len(ctx.seed_list)},
        shown=SWEEP_SHOWN_NO_HELDOUT,
    )
