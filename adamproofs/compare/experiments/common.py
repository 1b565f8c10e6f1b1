"""Shared pieces of the experiments: sweep tables and the 2-D contour pictures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import figures
from ..roster import entry
from ..runner import RunResult, Sweep

SWEEP_COLUMNS = ["optimizer", "best_lr", "final_mean", "final_std", "final_min", "final_max",
                 "diverged_runs_at_best"]


def sweep_rows(sw: Sweep) -> list[dict[str, Any]]:
    rows = sw.table()
    for r in rows:
        r["optimizer"] = r.pop("label")
    return rows


def sweep_numbers(sw: Sweep) -> dict[str, Any]:
    return {"lr_grid": list(sw.lrs), "seeds": list(sw.seeds),
            "mean_final_loss_by_lr": sw.grid_numbers(),
            "selection_score_by_lr": {o: {f"{lr:g}": sw.selection(o, lr) for lr in sw.lrs}
                                      for o in sw.optimizers},
            "best_lr": {o: sw.best_lr(o) for o in sw.optimizers}}


def plot_sweep(ax: Any, sw: Sweep,
               ylabel: str = "loss over the 2nd half of the run (mean over seeds)") -> None:
    """The selection score against the learning rate, per optimizer (diverged: not drawn)."""
    for opt in sw.optimizers:
        ys = np.array([sw.selection(opt, lr) for lr in sw.lrs], dtype=float)
        ys[~np.isfinite(ys)] = np.nan
        st = figures.style(opt)
        ax.plot(sw.lrs, ys, marker="o", ms=3, **st)
        best = sw.best_lr(opt)
        ax.plot([best], [sw.selection(opt, best)], marker="*", ms=10, color=st["color"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate α")
    ax.set_ylabel(ylabel)
    ax.set_title("learning-rate sweep (★ = chosen)")


def plot_curves(ax: Any, sw: Sweep, ylabel: str = "loss", log: bool = True,
                xlabel: str = "iteration") -> None:
    """Loss curves of each optimizer at its best rate: mean with a min–max band over seeds."""
    for opt in sw.optimizers:
        runs = sw.best_runs(opt)
        label = f"{entry(opt).label}, α={sw.best_lr(opt):g}"
        figures.band(ax, runs[0].steps, [r.losses for r in runs], opt, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")


def contour_panels(problem: Any, runs: dict[str, RunResult], lrs: dict[str, float],
                   xlim: tuple[float, float], ylim: tuple[float, float], *,
                   log_levels: bool = False, title: str = "", extra: Sequence[Any] = ()):
    """One contour panel per optimizer with its path (seed 0); returns the figure."""
    plt = figures.plt()
    keys = list(runs)
    ncol = 3
    nrow = (len(keys) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
    xs = np.linspace(*xlim, 300)
    ys = np.linspace(*ylim, 300)
    gx, gy = np.meshgrid(xs, ys)
    z = problem.value(gx, gy)
    if log_levels:
        levels = np.logspace(-1, np.log10(z.max()), 16)
    else:
        levels = np.quantile(z, np.linspace(0.01, 0.97, 16))
    for ax, key in zip(axes.flat, keys):
        ax.contour(gx, gy, z, levels=levels, colors="0.6", linewidths=0.6)
        path = runs[key].path
        assert path is not None
        st = figures.style(key)
        ax.plot(path[:, 0], path[:, 1], "-", color=st["color"], lw=1.1, marker=".", ms=2.5)
        ax.plot(path[0, 0], path[0, 1], "ko", ms=4)
        ax.plot(*problem.opt, "k*", ms=9)
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)
        lo, hi = path.min(axis=0), path.max(axis=0)
        if lo[0] < xlim[0] or hi[0] > xlim[1] or lo[1] < ylim[0] or hi[1] > ylim[1]:
            ax.text(0.02, 0.03, f"path leaves the frame: θ₁ ∈ [{lo[0]:.3g}, {hi[0]:.3g}], "
                    f"θ₂ ∈ [{lo[1]:.3g}, {hi[1]:.3g}]", transform=ax.transAxes, fontsize=7,
                    bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
        ax.set_title(f"{st['label']}, α={lrs[key]:g} ({len(path) - 1} steps)")
        ax.set_xlabel("θ₁")
        ax.set_ylabel("θ₂")
        ax.grid(False)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def two_d(ctx: Any, name: str, spec: Any, problem: Any, grid: Sequence[float], steps: int,
          xlim: tuple[float, float], ylim: tuple[float, float], *, record_every: int = 1,
          log_levels: bool = False, title: str = "") -> tuple[Sweep, list[tuple[str, str]]]:
    """Sweep every optimizer on a 2-D problem; draw the paths (seed 0) and the loss curves."""
    from ..roster import ALL, CLASSIC
    from ..runner import optimize, seed_for, sweep

    sw = sweep(spec, ALL, grid, ctx.seed_list, steps, jobs=ctx.jobs, label=name,
               record_every=record_every)
    paths = {key: optimize(problem, entry(key).make(sw.best_lr(key)), steps,
                           seed_for(spec.factory, 0), keep_path=True) for key in CLASSIC}
    d = ctx.figdir(name)
    fig = contour_panels(problem, paths, {k: sw.best_lr(k) for k in CLASSIC}, xlim, ylim,
                         log_levels=log_levels, title=title)
    figures.save(fig, d, "trajectories")
    plt = figures.plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    plot_curves(a1, sw, ylabel="f(θ_t)")
    a1.set_title(f"loss at each best α: mean and min–max over {len(ctx.seed_list)} starts")
    plot_sweep(a2, sw)
    figures.save(fig, d, "loss")
    return sw, [("trajectories", f"Paths on the contours ({', '.join(CLASSIC)}), seed 0"),
                ("loss", "Loss curves at the best rates, and the learning-rate sweep")]


def curves_problem(ctx: Any, name: str, spec: Any, optimizers: Sequence[str],
                   grid: Sequence[float], steps: int, *, schedule: str = "constant",
                   record_every: int = 10, ylabel: str = "training loss (full batch)",
                   title: str = "") -> tuple[Sweep, list[tuple[str, str]]]:
    """Sweep, then one figure: loss curves at the best rates and the sweep itself."""
    from ..runner import sweep

    sw = sweep(spec, optimizers, grid, ctx.seed_list, steps, jobs=ctx.jobs, label=name,
               schedule=schedule, record_every=record_every)
    plt = figures.plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    plot_curves(a1, sw, ylabel=ylabel)
    a1.set_title(title or f"mean and min–max over {len(ctx.seed_list)} seeds")
    plot_sweep(a2, sw)
    figures.save(fig, ctx.figdir(name), "loss")
    return sw, [("loss", "Training loss at each optimizer's best rate (mean, min–max band "
                 "over seeds), and the learning-rate sweep")]
