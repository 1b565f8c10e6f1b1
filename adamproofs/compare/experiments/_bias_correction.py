r"""Bias-correction ablation on a variational autoencoder (the Adam paper's Figure 4).

Without bias correction the first steps are too large when β2 is close to 1: after one
step :math:`m_1 = (1-\beta_1)g`, :math:`v_1 = (1-\beta_2)g^2`, so
:math:`|\Delta_1| = \alpha(1-\beta_1)/\sqrt{1-\beta_2}` per coordinate, which is 1, 3.16
and 10 times α for β2 = 0.99, 0.999, 0.9999 (with β1 = 0.9); with correction it is α.

The VAE's gradients come from PyTorch's autograd (:mod:`..torch_models`); every update is
:class:`adamproofs.fast.Optimizer`. Without PyTorch the problem is skipped, with the reason.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...config import Adam
from .. import _figures as figures
from .. import _findings as findings
from .._report import ProblemReport
from .._runner import ProblemSpec, Sweep, final_score, heldout_score, mean_or_inf, sweep
from .._torch_models import TorchMissing, require_torch
from . import Context
from ._common import around, mean_sd

NAME = "bias_correction"
TITLE = "Bias-correction ablation on a VAE (β2 ∈ {0.99, 0.999, 0.9999})"
BETA1 = 0.9
BETA2S = (0.99, 0.999, 0.9999)
GRID = around(3e-3, 4)  # 1e-3 ... 1e-2, widened per arm where needed
QUICK_GRID = (3e-3, 1e-2)
RECORD = 15  # one record per 15 steps ≈ one epoch of the 1437 training digits at batch 100
STEPS, QUICK_STEPS = 20 * RECORD, 4 * RECORD
EARLY = RECORD  # "early": after the first epoch
SPEC = ProblemSpec.of("adamproofs.compare._torch_models:vae", hidden=64, latent=8, batch=100)
COLUMNS = [
    "beta2",
    "bias_correction",
    "first_step_over_lr",
    "best_lr",
    "early_loss",
    "final_loss",
    "final_loss_std",
    "heldout_final",
    "max_loss_over_initial",
    "grid_edge",
    "seeds",
]
SHOWN = [
    "beta2",
    "bias_correction",
    "first_step_over_lr",
    "best_lr",
    "early_loss",
    "final_loss",
    "heldout_final",
    "grid_edge",
]
DESCRIPTION = (
    "Adam (β1 = 0.9, ε = 10⁻⁸) with and without bias correction, for β2 ∈ {0.99, 0.999, "
    "0.9999}, training a variational autoencoder of the digits: encoder 64-64-(μ, log σ²) "
    "with 8 latent dimensions, decoder 8-64-64, softplus units, Bernoulli likelihood on "
    "the pixel intensities, one reparameterised sample per image, minibatches of 100 from "
    "the 1437 training digits. The loss is the negative evidence lower bound per image "
    "(recorded with a fixed noise sample, on the training and the 360 held-out digits). "
    "Each arm (β2, correction on/off) gets its own best α from a grid that is widened "
    "while its best rate sits at an end. The gradients come from PyTorch's autograd; "
    "every update is `adamproofs.fast.Optimizer`. The table shows each arm at its best α; "
    "the figure shows every α."
)


def config(beta2: float, lr: float, on: bool) -> Adam:
    return Adam(lr=lr, beta1=BETA1, beta2=beta2, bias_correction=on)


def arm(beta2: float, on: bool) -> str:
    return f"beta2={beta2:g}/{'on' if on else 'off'}"


def arm_label(beta2: float, on: bool) -> str:
    return f"β2 = {beta2:g}, {'with' if on else 'without'} correction"


def first_step_over_lr(beta2: float, on: bool, beta1: float = BETA1) -> float:
    """|Δ1|/α for a nonzero gradient and ε → 0: 1 with correction, (1-β1)/√(1-β2) without."""
    return 1.0 if on else (1.0 - beta1) / float(np.sqrt(1.0 - beta2))


def ablation_rows(sw: Sweep) -> list[dict[str, Any]]:
    """One row per arm at its best α (means over seeds)."""
    rows: list[dict[str, Any]] = []
    for b2 in BETA2S:
        for on in (True, False):
            key = arm(b2, on)
            lr = sw.best_lr(key)
            runs = sw.best_runs(key)
            final = np.array([final_score(r) for r in runs])
            early = np.array([r.losses[1] for r in runs])
            peak = max(float(np.max(r.losses) / r.losses[0]) for r in runs)
            rows.append(
                {
                    "beta2": b2,
                    "bias_correction": on,
                    "first_step_over_lr": first_step_over_lr(b2, on),
                    "best_lr": lr,
                    "early_loss_mean": mean_or_inf(early),
                    "final_loss_mean": mean_or_inf(final),
                    "final_loss_std": float(np.std(final))
                    if np.all(np.isfinite(final))
                    else math.inf,
                    "heldout_mean": mean_or_inf([heldout_score(r) for r in runs]),
                    "max_loss_over_initial": peak,
                    "grid_edge": sw.edge(key).describe(),
                    "seeds": len(runs),
                }
            )
    for r in rows:
        r["early_loss"] = mean_sd(r["early_loss_mean"])
        r["final_loss"] = mean_sd(r["final_loss_mean"], r["final_loss_std"])
        r["heldout_final"] = mean_sd(r["heldout_mean"])
    return rows


def unstable_without_only(sw: Sweep) -> list[tuple[float, float]]:
    """(β2, α) cells where some seed's loss rose above its initial value without correction
    but no seed's did with it."""

    def rises(key: str, lr: float) -> bool:
        return any(
            r.diverged or float(np.max(r.losses)) > r.losses[0]
            for r in (sw.runs[key, lr, s] for s in sw.seeds)
        )

    out = []
    for b2 in BETA2S:
        on, off = arm(b2, True), arm(b2, False)
        for lr in sorted(set(sw.grids[on]) & set(sw.grids[off])):
            if rises(off, lr) and not rises(on, lr):
                out.append((b2, lr))
    return out


def correction_findings(rows: list[dict[str, Any]]) -> list[str]:
    """Per β2: the final loss with and without correction, each at its best α."""
    out = []
    for b2 in BETA2S:
        on = next(r for r in rows if r["beta2"] == b2 and r["bias_correction"])
        off = next(r for r in rows if r["beta2"] == b2 and not r["bias_correction"])
        a, b = on["final_loss_mean"], off["final_loss_mean"]
        if a < b:
            verdict = "lower with bias correction"
        elif a > b:
            verdict = "lower without bias correction"
        else:
            verdict = "the same with and without bias correction"
        out.append(
            f"β2 = {b2:g}: final training loss {verdict} ({on['final_loss']} at "
            f"α = {on['best_lr']:g} with, {off['final_loss']} at α = "
            f"{off['best_lr']:g} without)."
        )
    return out


def plot(sw: Sweep, ctx: Context, steps: int) -> list[tuple[str, str]]:
    plt = figures.plt()
    colors = {0.99: "#1f77b4", 0.999: "#ff7f0e", 0.9999: "#d62728"}
    fig, axes = plt.subplots(2, 1, figsize=(8, 9), sharex=True)
    for ax, idx, when in (
        (axes[0], 1, f"after {EARLY} steps (1 epoch)"),
        (axes[1], -1, f"after {steps} steps"),
    ):
        for b2 in BETA2S:
            for on in (True, False):
                key = arm(b2, on)
                lrs = np.array(sw.grids[key])
                vals = np.array(
                    [[sw.runs[key, lr, s].losses[idx] for s in sw.seeds] for lr in lrs], dtype=float
                )
                vals[~np.isfinite(vals)] = np.nan
                with np.errstate(invalid="ignore"), figures._quiet():
                    mean = np.nanmean(vals, axis=1)
                    lo, hi = np.nanmin(vals, axis=1), np.nanmax(vals, axis=1)
                ax.plot(
                    lrs,
                    mean,
                    "o-" if on else "s--",
                    color=colors[b2],
                    ms=5,
                    label=figures.math_label(arm_label(b2, on).replace("β2", r"$\beta_2$")),
                )
                ax.fill_between(lrs, lo, hi, color=colors[b2], alpha=0.12, lw=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylabel("negative ELBO per image")
        ax.set_title(f"training loss {when}; band = min–max over {len(sw.seeds)} seeds")
    axes[1].set_xlabel(r"learning rate $\alpha$")
    axes[0].legend(loc="best", fontsize=9)
    figures.save(fig, ctx.figdir(NAME), "ablation")
    fig, ax = plt.subplots(figsize=(8, 4.8))
    b2 = BETA2S[-1]
    lr = sw.best_lr(arm(b2, True))
    for on, color in ((True, "#2ca02c"), (False, "#d62728")):
        key = arm(b2, on)
        if (key, lr, sw.seeds[0]) not in sw.runs:
            continue
        rs = [sw.runs[key, lr, s] for s in sw.seeds]
        figures.band(
            ax,
            rs[0].steps,
            [r.losses for r in rs],
            "adam",
            label="with bias correction" if on else "without",
            color_override=color,
        )
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("negative ELBO per image")
    ax.set_title(
        rf"$\beta_2$ = {b2:g}, $\alpha$ = {lr:g} (best with correction): "
        "mean, min–max"
    )
    ax.legend(loc="best")
    figures.save(fig, ctx.figdir(NAME), "early_steps")
    return [
        (
            "ablation",
            f"Loss after one epoch (top) and after {steps} steps (bottom) "
            "against α; solid: with bias correction, dashed: without",
        ),
        (
            "early_steps",
            f"Training curves at β2 = {b2:g} and the rate that is best with "
            "correction, with and without it",
        ),
    ]


def run(ctx: Context) -> ProblemReport:
    try:
        require_torch()
    except TorchMissing as err:
        return ProblemReport(NAME, TITLE, DESCRIPTION, COLUMNS, [], {}, skipped=str(err))
    steps = QUICK_STEPS if ctx.quick else STEPS
    grid = QUICK_GRID if ctx.quick else GRID
    keys = [arm(b2, on) for b2 in BETA2S for on in (True, False)]
    configs = {
        arm(b2, on): (lambda lr, b2=b2, on=on: config(b2, lr, on))
        for b2 in BETA2S
        for on in (True, False)
    }
    sw = sweep(
        SPEC,
        keys,
        grid,
        ctx.seed_list,
        steps,
        jobs=ctx.jobs,
        label=NAME,
        record_every=RECORD,
        max_widenings=ctx.max_widenings,
        configs=configs,
        labels={arm(b2, on): arm_label(b2, on) for b2 in BETA2S for on in (True, False)},
    )
    rows = ablation_rows(sw)
    figs = plot(sw, ctx, steps)
    pairs = unstable_without_only(sw)
    found = correction_findings(rows)
    found.append(
        "Cells (β2, α) where some seed's loss rose above its initial value without "
        "correction but no seed's did with it: "
        f"{', '.join(f'({b:g}, {a:g})' for b, a in pairs) or 'none'}."
    )
    edge_rows = [
        {"optimizer": arm_label(r["beta2"], r["bias_correction"]), "grid_edge": r["grid_edge"]}
        for r in rows
    ]
    found.append(findings.grid_edges(edge_rows))
    cells = {
        key: {
            f"{lr:g}": {
                "final_mean": sw.mean_score(key, lr),
                "early_mean": mean_or_inf([sw.runs[key, lr, s].losses[1] for s in sw.seeds]),
            }
            for lr in sw.grids[key]
        }
        for key in keys
    }
    return ProblemReport(
        NAME,
        TITLE,
        DESCRIPTION,
        COLUMNS,
        rows,
        {
            "arms": cells,
            "early_step": EARLY,
            "steps": steps,
            "unstable_without_only": pairs,
            "lr_grid": {k: list(sw.grids[k]) for k in keys},
        },
        figs,
        found,
        {"steps": steps, "early": EARLY, "seeds": len(ctx.seed_list)},
        shown=SHOWN,
    )
