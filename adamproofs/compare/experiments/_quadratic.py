"""Problem 1: the oblong quadratic f = ½(θ₁² + κθ₂²), κ = 20, trajectories on its contours."""

from __future__ import annotations

import numpy as np

from .. import _findings as findings
from .._functions import Quadratic
from .._report import ProblemReport
from .._roster import ALL, half_decades
from .._runner import ProblemSpec
from . import Context
from ._common import SWEEP_COLUMNS, SWEEP_SHOWN_NO_HELDOUT, sweep_numbers, sweep_rows, two_d

NAME = "quadratic"
TITLE = "Ill-conditioned quadratic (the oblong bowl)"
KAPPA = 20.0
GRID = half_decades(-3, 0)
QUICK_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
STEPS = 150
#: GD's optimal constant step on a quadratic with curvatures μ = 1 and L = κ: 2/(L + μ)
GD_OPTIMAL = 2.0 / (KAPPA + 1.0)


def run(ctx: Context) -> ProblemReport:
    spec = ProblemSpec.of("adamproofs.compare._functions:quadratic", kappa=KAPPA)
    problem = Quadratic(kappa=KAPPA)
    grid = QUICK_GRID if ctx.quick else GRID
    sw, figs = two_d(
        ctx,
        NAME,
        spec,
        problem,
        grid,
        STEPS,
        (-5.0, 2.5),
        (-2.2, 2.2),
        title=rf"$f(\theta) = \frac{{1}}{{2}}(\theta_1^2 + {KAPPA:g}\,\theta_2^2)$: "
        "paths at each optimizer's best rate",
        extra_rates={"sgd": (GD_OPTIMAL,)},
    )
    rows = sweep_rows(sw)
    initial = float(
        np.mean([sw.runs[ALL[0], sw.grids[ALL[0]][0], s].losses[0] for s in ctx.seed_list])
    )
    gd = next(r for r in rows if r["key"] == "sgd")
    found = [
        findings.ranking(
            rows,
            "final_mean",
            "final_std",
            f"loss after {STEPS} steps (from f(θ₀) ≈ {initial:.3g})",
        ),
        f"GD's grid includes its optimal constant step 2/(1+κ) = {GD_OPTIMAL:.4g}; its "
        f"chosen rate is {gd['best_lr']:.4g}, final loss {gd['train_loss']}.",
        findings.grid_edges(rows),
    ]
    return ProblemReport(
        NAME,
        TITLE,
        f"f(θ) = ½(θ₁² + κθ₂²) with κ = {KAPPA:g}, minimum at 0; starts at (-4, 1.5) plus "
        "N(0, 0.25²) per seed. Each optimizer's α is the best of its sweep; GD's grid also "
        f"holds its optimal step 2/(1+κ) = {GD_OPTIMAL:.4g} (GD is stable only for α < 2/κ = "
        f"{2 / KAPPA:g}). The adaptive methods divide each coordinate's step by a running "
        "root-mean-square of that coordinate's gradient, not by its curvature: here "
        "g₂ = κθ₂, so the rescaling follows the gradient's size, which shrinks as θ₂ "
        f"converges. The table gives the final loss after {STEPS} steps over the seeds.",
        SWEEP_COLUMNS,
        rows,
        {**sweep_numbers(sw), "initial_loss_mean": initial, "gd_optimal_step": GD_OPTIMAL},
        figs,
        found,
        {"kappa": KAPPA, "steps": STEPS, "seeds": len(ctx.seed_list)},
        shown=SWEEP_SHOWN_NO_HELDOUT,
    )
