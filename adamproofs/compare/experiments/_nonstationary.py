"""Problem 6: non-stationary objectives, a drifting and a jumping minimum; tracking error.

AdaGrad's effective rate α/√(Σ g²) keeps shrinking with t, while Adam's and RMSProp's
exponential averages forget, so their rates do not decay. Over a finite horizon the
sweep can compensate by giving AdaGrad a larger α; the figure shows how much of the
difference is left at each optimizer's best α (no ranking is asserted).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _figures as figures
from .. import _findings as findings
from .._report import ProblemReport
from .._roster import entry
from .._runner import ProblemSpec, RunResult, Sweep, sweep
from . import Context
from ._common import around, mean_sd, plot_curves, plot_sweep

NAME = "nonstationary"
TITLE = "Non-stationary objectives (drifting and jumping minimum)"
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "amsgrad")
GRIDS = {
    "sgd": around(0.3),
    "adagrad": around(1.0),
    "rmsprop": around(0.1),
    "adam": around(0.1),
    "amsgrad": around(0.1),
}
QUICK_GRIDS = {k: around(v[2], 3) for k, v in GRIDS.items()}
STEPS, QUICK_STEPS = 2000, 600
PERIOD = 200
SIGMA = 0.1
COLUMNS = [
    "target",
    "optimizer",
    "best_lr",
    "error_mean",
    "error_std",
    "error_min",
    "error_max",
    "grid_edge",
]
SHOWN = ["target", "optimizer", "best_lr", "error", "grid_edge"]


def late_error(res: RunResult) -> float:
    """Mean tracking error over the second half of the run (+inf if it diverged)."""
    if res.diverged:
        return float("inf")
    return float(np.mean(res.losses[len(res.losses) // 2 :]))


def spec(kind: str, steps: int) -> ProblemSpec:
    return ProblemSpec.of(
        "adamproofs.compare._functions:moving_target",
        kind=kind,
        dim=10,
        sigma=SIGMA,
        period=PERIOD,
        horizon=steps,
    )


def run(ctx: Context) -> ProblemReport:
    grid = QUICK_GRIDS if ctx.quick else GRIDS
    steps = QUICK_STEPS if ctx.quick else STEPS
    sweeps: dict[str, Sweep] = {}
    for kind in ("drift", "jump"):
        sweeps[kind] = sweep(
            spec(kind, steps),
            ctx.with_plugins(OPTIMIZERS),
            grid,
            ctx.seed_list,
            steps,
            jobs=ctx.jobs,
            label=f"{NAME}/{kind}",
            record_every=5,
            score=late_error,
            select=late_error,
            max_widenings=ctx.max_widenings,
        )
    plt = figures.plt()
    fig, axes = plt.subplots(4, 1, figsize=(8, 17))
    rows: list[dict[str, Any]] = []
    numbers: dict[str, Any] = {}
    for col, (kind, sw) in enumerate(sweeps.items()):
        top, bottom = axes[2 * col], axes[2 * col + 1]
        plot_curves(top, sw, ylabel=r"tracking error $\|\theta_t - c_t\|$", log=True)
        what = (
            f"$c_t$ circles (period {PERIOD})"
            if kind == "drift"
            else f"$c_t$ jumps every {PERIOD} steps"
        )
        top.set_title(f"{kind}: {what}; mean, min–max over seeds")
        plot_sweep(bottom, sw, ylabel="mean error, 2nd half")
        for opt in sw.optimizers:
            s = sw.scores(opt, sw.best_lr(opt))
            mean, sd = float(np.mean(s)), float(np.std(s))
            rows.append(
                {
                    "target": kind,
                    "optimizer": entry(opt).label,
                    "best_lr": sw.best_lr(opt),
                    "error_mean": mean,
                    "error_std": sd,
                    "error_min": float(np.min(s)),
                    "error_max": float(np.max(s)),
                    "error": mean_sd(mean, sd),
                    "grid_edge": sw.edge(opt).describe(),
                }
            )
        numbers[kind] = {
            "lr_grid": {o: list(sw.grids[o]) for o in sw.optimizers},
            "mean_error_by_lr": sw.grid_numbers(),
            "best_lr": {o: sw.best_lr(o) for o in sw.optimizers},
        }
    figures.save(fig, ctx.figdir(NAME), "tracking")
    found = []
    for kind in sweeps:
        mine = [r for r in rows if r["target"] == kind]
        found.append(
            f"{kind.capitalize()}: "
            + findings.ranking(mine, "error_mean", "error_std", "late tracking error").replace(
                "Lowest", "lowest", 1
            )
        )
    found.append(
        findings.grid_edges([{**r, "optimizer": f"{r['optimizer']} ({r['target']})"} for r in rows])
    )
    return ProblemReport(
        NAME,
        TITLE,
        "f_t(θ) = ½‖θ − c_t‖² in 10 dimensions with gradient noise N(0, σ²), "
        f"σ = {SIGMA:g}; the target "
        f"c_t either moves on circles of radius 1 (period {PERIOD} steps) or jumps to a fresh "
        f"N(0, I) point every {PERIOD} steps. The score is the mean tracking error "
        "‖θ_t − c_t‖ over the second half of the run; each optimizer gets its best α. "
        "AdaGrad's effective rate α/√(Σg²) decays with t while the exponential averages of "
        "RMSProp and Adam forget; the sweep lets AdaGrad start with a larger α, which "
        "compensates over a finite horizon.",
        COLUMNS,
        rows,
        numbers,
        [
            (
                "tracking",
                "Tracking error over time at the best rates, and the sweeps (drift: "
                "top two panels; jump: bottom two)",
            )
        ],
        found,
        {"steps": steps, "dim": 10, "noise": SIGMA, "period": PERIOD, "seeds": len(ctx.seed_list)},
        shown=SHOWN,
    )
