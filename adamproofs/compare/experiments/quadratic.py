"""Problem 1: the oblong quadratic f = ½(θ₁² + κθ₂²), κ = 20, trajectories on its contours."""

from __future__ import annotations

import numpy as np

from ..functions import Quadratic
from ..report import ProblemReport
from ..roster import ALL, half_decades
from ..runner import ProblemSpec
from . import Context
from .common import SWEEP_COLUMNS, sweep_numbers, sweep_rows, two_d

NAME = "quadratic"
TITLE = "Ill-conditioned quadratic (the oblong bowl)"
KAPPA = 20.0
GRID = half_decades(-3, 0)
QUICK_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
STEPS = 150


def run(ctx: Context) -> ProblemReport:
    spec = ProblemSpec.of("adamproofs.compare.functions:quadratic", kappa=KAPPA)
    problem = Quadratic(kappa=KAPPA)
    grid = QUICK_GRID if ctx.quick else GRID
    sw, figs = two_d(ctx, NAME, spec, problem, grid, STEPS, (-5.0, 2.5), (-2.2, 2.2),
                     title=f"f(θ) = ½(θ₁² + {KAPPA:g}·θ₂²): paths at each optimizer's best α")
    rows = sweep_rows(sw)
    initial = float(np.mean([sw.runs[ALL[0], grid[0], s].losses[0] for s in ctx.seed_list]))
    worst = max(rows, key=lambda r: r["final_mean"])
    findings = [
        f"Every optimizer reaches f ≤ {worst['final_mean']:.2g} (mean over seeds) in {STEPS} "
        f"steps from f(θ₀) ≈ {initial:.3g}; the slowest is {worst['optimizer']}.",
        f"GD's rate is capped by the stiff direction (stable only for α < 2/κ = {2 / KAPPA:g}); "
        "the adaptive methods rescale each coordinate and cross the flat direction fast.",
    ]
    return ProblemReport(
        NAME, TITLE,
        f"f(θ) = ½(θ₁² + κθ₂²) with κ = {KAPPA:g}, minimum at 0; starts at (-4, 1.5) plus "
        "N(0, 0.25²) per seed. Each optimizer's α is the best of the sweep (lowest mean "
        f"final loss); the table gives the final loss after {STEPS} steps over the seeds.",
        SWEEP_COLUMNS, rows, {**sweep_numbers(sw), "initial_loss_mean": initial}, figs,
        findings, {"kappa": KAPPA, "steps": STEPS, "seeds": len(ctx.seed_list),
                   "lr_grid": " ".join(f"{x:g}" for x in grid)})
