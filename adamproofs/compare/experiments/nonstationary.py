"""Problem 6: non-stationary objectives, a drifting and a jumping minimum; tracking error.

AdaGrad's effective rate α/√(Σ g²) keeps shrinking with t, while Adam's and RMSProp's
exponential averages forget, so their rates do not decay. Over a finite horizon the
sweep can compensate by giving AdaGrad a larger α; the figure shows how much of the
difference is left at each optimizer's best α (no ranking is asserted).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import figures
from ..report import ProblemReport
from ..roster import entry, half_decades
from ..runner import ProblemSpec, RunResult, Sweep, sweep
from . import Context
from .common import plot_curves, plot_sweep

NAME = "nonstationary"
TITLE = "Non-stationary objectives (drifting and jumping minimum)"
OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "amsgrad")
GRID = half_decades(-3, 1)
QUICK_GRID = (0.01, 0.1, 1.0)
STEPS, QUICK_STEPS = 4000, 600
PERIOD = 200
SIGMA = 0.1
COLUMNS = ["target", "optimizer", "best_lr", "error_mean", "error_std", "error_min",
           "error_max"]


def late_error(res: RunResult) -> float:
    """Mean tracking error over the second half of the run (+inf if it diverged)."""
    if res.diverged:
        return float("inf")
    return float(np.mean(res.losses[len(res.losses) // 2:]))


def spec(kind: str, steps: int) -> ProblemSpec:
    return ProblemSpec.of("adamproofs.compare.functions:moving_target", kind=kind, dim=10,
                          sigma=SIGMA, period=PERIOD, horizon=steps)


def run(ctx: Context) -> ProblemReport:
    grid = QUICK_GRID if ctx.quick else GRID
    steps = QUICK_STEPS if ctx.quick else STEPS
    sweeps: dict[str, Sweep] = {}
    for kind in ("drift", "jump"):
        sweeps[kind] = sweep(spec(kind, steps), OPTIMIZERS, grid, ctx.seed_list, steps,
                             jobs=ctx.jobs, label=f"{NAME}/{kind}", record_every=5,
                             score=late_error, select=late_error)
    plt = figures.plt()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    rows: list[dict[str, Any]] = []
    numbers: dict[str, Any] = {}
    for col, (kind, sw) in enumerate(sweeps.items()):
        plot_curves(axes[0, col], sw, ylabel="tracking error ‖θ_t − c_t‖", log=True)
        what = (f"c_t circles (period {PERIOD})" if kind == "drift"
                else f"c_t jumps every {PERIOD} steps")
        axes[0, col].set_title(f"{kind}: {what}; mean, min–max over seeds")
        plot_sweep(axes[1, col], sw, ylabel="mean error, 2nd half")
        for opt in sw.optimizers:
            s = sw.scores(opt, sw.best_lr(opt))
            rows.append({"target": kind, "optimizer": entry(opt).label,
                         "best_lr": sw.best_lr(opt), "error_mean": float(np.mean(s)),
                         "error_std": float(np.std(s)), "error_min": float(np.min(s)),
                         "error_max": float(np.max(s))})
        numbers[kind] = {"lr_grid": list(sw.lrs), "mean_error_by_lr": sw.grid_numbers(),
                         "best_lr": {o: sw.best_lr(o) for o in sw.optimizers}}
    figures.save(fig, ctx.figdir(NAME), "tracking")
    by = {(r["target"], r["optimizer"]): r["error_mean"] for r in rows}
    findings = [
        f"{kind}: late tracking error AdaGrad {by[kind, 'AdaGrad']:.3g} vs Adam "
        f"{by[kind, 'Adam']:.3g} (each at its best α)." for kind in sweeps]
    return ProblemReport(
        NAME, TITLE,
        "f_t(θ) = ½‖θ − c_t‖² in 10 dimensions with gradient noise N(0, σ²), "
        f"σ = {SIGMA:g}; the target "
        f"c_t either moves on circles of radius 1 (period {PERIOD} steps) or jumps to a fresh "
        f"N(0, I) point every {PERIOD} steps. The score is the mean tracking error "
        "‖θ_t − c_t‖ over the second half of the run; each optimizer gets its best α. "
        "AdaGrad's effective rate α/√(Σg²) decays with t while the exponential averages of "
        "RMSProp and Adam forget; the sweep lets AdaGrad start with a larger α, which "
        "compensates over a finite horizon.",
        COLUMNS, rows, numbers,
        [("tracking", "Tracking error over time at the best rates, and the sweeps")],
        findings, {"steps": steps, "dim": 10, "noise": SIGMA, "period": PERIOD,
                   "seeds": len(ctx.seed_list), "lr_grid": " ".join(f"{x:g}" for x in grid)})
