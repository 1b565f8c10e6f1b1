"""Shared pieces of the experiments: sweep tables and the 2-D contour pictures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _figures as figures
from .. import _findings as findings
from .._roster import entry
from .._runner import ProblemSpec, RunResult, Sweep, sweep

SWEEP_COLUMNS = [
    "optimizer",
    "best_lr",
    "final_mean",
    "final_std",
    "final_min",
    "final_max",
    "heldout_mean",
    "heldout_std",
    "diverged_runs_at_best",
    "seeds",
    "grid_edge",
]
#: The Markdown table: losses as "mean ± sd" strings, fitted to the page width.
SWEEP_SHOWN = ["optimizer", "best_lr", "train_loss", "heldout_loss", "grid_edge"]
SWEEP_SHOWN_NO_HELDOUT = ["optimizer", "best_lr", "loss", "diverged_runs_at_best", "grid_edge"]


def mean_sd(mean: float, sd: float | None = None) -> str:
    """``"0.123 ± 0.004"`` (no spread when ``sd`` is None; ``"diverged"`` when the mean is
    +inf, ``"—"`` when NaN)."""
    if math.isnan(mean):
        return "—"
    if math.isinf(mean):
        return "diverged"
    return f"{mean:.3g}" if sd is None else f"{mean:.3g} ± {sd:.2g}"


def sweep_rows(sw: Sweep) -> list[dict[str, Any]]:
    """The sweep's table with display names and "mean ± sd" strings added."""
    rows = sw.table()
    for r in rows:
        r["key"] = r["optimizer"]
        r["optimizer"] = r.pop("label")
        r["train_loss"] = mean_sd(r["final_mean"], r["final_std"])
        r["loss"] = r["train_loss"]
        r["heldout_loss"] = mean_sd(r["heldout_mean"], r["heldout_std"])
    return rows


def shown_columns(rows: list[dict[str, Any]]) -> list[str]:
    """:data:`SWEEP_SHOWN`, or without the held-out column when no row has one."""
    if any(not math.isnan(r["heldout_mean"]) for r in rows):
        return SWEEP_SHOWN
    return SWEEP_SHOWN_NO_HELDOUT


def sweep_numbers(sw: Sweep) -> dict[str, Any]:
    return {
        "lr_grid": {o: list(sw.grids[o]) for o in sw.optimizers},
        "seeds": list(sw.seeds),
        "mean_final_loss_by_lr": sw.grid_numbers(),
        "selection_score_by_lr": {
            o: {f"{lr:g}": sw.selection(o, lr) for lr in sw.grids[o]} for o in sw.optimizers
        },
        "best_lr": {o: sw.best_lr(o) for o in sw.optimizers},
        "grid_edges": {
            o: {"edge": sw.edge(o).edge, "widenings": sw.edge(o).widenings} for o in sw.optimizers
        },
    }


def around(center: float, points: int = 5) -> tuple[float, ...]:
    """``points`` consecutive half-decade rates (1·10^e, 3·10^e) centred on ``center``."""
    k = round(2 * math.log10(center))  # half-decade index: 10^(k/2), rounded to 1 or 3
    out = []
    for i in range(k - points // 2, k - points // 2 + points):
        e, odd = divmod(i, 2)
        out.append(float(f"{3 if odd else 1}e{e}"))
    return tuple(out)


def plot_sweep(ax: Any, sw: Sweep, ylabel: str = "loss, 2nd half of the run") -> None:
    """The selection score against the learning rate, per optimizer (diverged: not drawn)."""
    for opt in sw.optimizers:
        lrs = sw.grids[opt]
        ys = np.array([sw.selection(opt, lr) for lr in lrs], dtype=float)
        ys[~np.isfinite(ys)] = np.nan
        st = figures.style(opt)
        ax.plot(lrs, ys, marker="o", ms=4, **st)
        best = sw.best_lr(opt)
        ax.plot([best], [sw.selection(opt, best)], marker="*", ms=13, color=st["color"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"learning rate $\alpha$")
    ax.set_ylabel(ylabel)
    ax.set_title(r"learning-rate sweep (mean over seeds; $\star$ = chosen)")
    ax.legend(loc="best", ncol=2)


def plot_curves(
    ax: Any,
    sw: Sweep,
    ylabel: str = "loss",
    log: bool = True,
    xlabel: str = "iteration",
    heldout: bool = False,
    legend: bool = True,
) -> None:
    """Curves of each optimizer at its best rate: mean with a min–max band over seeds
    (``heldout``: the held-out losses instead of the training losses)."""
    for opt in sw.optimizers:
        runs = sw.best_runs(opt)
        curves = [r.heldout if heldout and r.heldout is not None else r.losses for r in runs]
        label = f"{figures.math_label(sw.label(opt))}, $\\alpha$={sw.best_lr(opt):g}"
        figures.band(ax, runs[0].steps, curves, opt, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(loc="best", ncol=2)


def family(
    ctx: Any,
    name: str,
    spec: ProblemSpec,
    optimizers: tuple[str, ...],
    grids: dict[str, tuple[float, ...]],
    steps: int,
    *,
    record_every: int,
    what: str,
) -> tuple[Sweep, list[tuple[str, str]]]:
    """One of the paper's experiment families: sweep each optimizer (users' optimizers
    included) over its grid, widened past an end that holds the best rate, then two
    figures: training and held-out loss at the best rates, and the sweep."""
    opts = ctx.with_plugins(optimizers)
    sw = sweep(
        spec,
        opts,
        grids,
        ctx.seed_list,
        steps,
        jobs=ctx.jobs,
        label=name,
        record_every=record_every,
        max_widenings=ctx.max_widenings,
    )
    plt = figures.plt()
    n = len(ctx.seed_list)
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 9), sharex=True)
    plot_curves(a1, sw, ylabel="training loss", xlabel="")
    a1.set_title(f"{what}: training loss (mean; band = min–max over {n} seeds)")
    plot_curves(a2, sw, ylabel="held-out loss", heldout=True, legend=False)
    a2.set_title("held-out loss, same runs")
    figures.save(fig, ctx.figdir(name), "loss")
    fig, ax = plt.subplots(figsize=(8, 4.8))
    plot_sweep(ax, sw)
    figures.save(fig, ctx.figdir(name), "sweep")
    return sw, [
        (
            "loss",
            f"Training (top) and held-out (bottom) loss at each optimizer's best "
            f"rate: mean, band = min–max over {n} seeds",
        ),
        (
            "sweep",
            "The learning-rate sweep: mean loss over the second half of the run "
            "against α; the star marks the chosen rate",
        ),
    ]


def family_findings(rows: list[dict[str, Any]]) -> list[str]:
    """The findings of an experiment family, all computed from its table."""
    out = [findings.ranking(rows, "final_mean", "final_std", "final training loss")]
    if any(math.isfinite(r["heldout_mean"]) for r in rows):
        out.append(findings.ranking(rows, "heldout_mean", "heldout_std", "final held-out loss"))
        out.append(findings.generalisation_gap(rows))
    out.append(findings.grid_edges(rows))
    return out


def contour_panels(
    problem: Any,
    runs: dict[str, RunResult],
    lrs: dict[str, float],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    log_levels: bool = False,
    title: str = "",
    extra: Sequence[Any] = (),
):
    """One contour panel per optimizer with its path (seed 0); returns the figure."""
    plt = figures.plt()
    keys = list(runs)
    ncol = 2
    nrow = (len(keys) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.9 * nrow), squeeze=False)
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
            ax.text(
                0.02,
                0.03,
                f"path leaves the frame: $\\theta_1$ ∈ [{lo[0]:.3g}, "
                f"{hi[0]:.3g}], $\\theta_2$ ∈ [{lo[1]:.3g}, {hi[1]:.3g}]",
                transform=ax.transAxes,
                fontsize=9,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0},
            )
        ax.set_title(f"{st['label']}, $\\alpha$={lrs[key]:g} ({len(path) - 1} steps)")
        ax.set_xlabel(r"$\theta_1$")
        ax.set_ylabel(r"$\theta_2$")
        ax.grid(False)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def two_d(
    ctx: Any,
    name: str,
    spec: Any,
    problem: Any,
    grid: Sequence[float],
    steps: int,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    record_every: int = 1,
    log_levels: bool = False,
    title: str = "",
    extra_rates: dict[str, tuple[float, ...]] | None = None,
) -> tuple[Sweep, list[tuple[str, str]]]:
    """Sweep every optimizer on a 2-D problem; draw the paths (seed 0) and the loss curves.

    ``extra_rates`` adds rates to some optimizers' grids (e.g. GD's optimal step)."""
    from .._roster import ALL, CLASSIC
    from .._runner import optimize, seed_for

    opts = ctx.with_plugins(ALL)
    grids = {o: tuple(sorted({*grid, *(extra_rates or {}).get(o, ())})) for o in opts}
    sw = sweep(
        spec,
        opts,
        grids,
        ctx.seed_list,
        steps,
        jobs=ctx.jobs,
        label=name,
        record_every=record_every,
        max_widenings=ctx.max_widenings,
    )
    paths = {
        key: optimize(
            problem,
            entry(key).config(sw.best_lr(key)),
            steps,
            seed_for(spec.factory, 0),
            keep_path=True,
        )
        for key in CLASSIC
    }
    d = ctx.figdir(name)
    fig = contour_panels(
        problem,
        paths,
        {k: sw.best_lr(k) for k in CLASSIC},
        xlim,
        ylim,
        log_levels=log_levels,
        title=title,
    )
    figures.save(fig, d, "trajectories")
    plt = figures.plt()
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 9))
    plot_curves(a1, sw, ylabel=r"$f(\theta_t)$")
    a1.set_title(f"loss at each best rate: mean, band = min–max over {len(ctx.seed_list)} starts")
    plot_sweep(a2, sw)
    figures.save(fig, d, "loss")
    return sw, [
        ("trajectories", f"Paths on the contours ({', '.join(CLASSIC)}), seed 0"),
        ("loss", "Loss curves at the best rates (top), and the learning-rate sweep (bottom)"),
    ]
