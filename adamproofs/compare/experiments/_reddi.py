r"""Problem 7: the Reddi–Kale–Kumar counterexample (ICLR 2018), exactly as in their paper.

Theorem 1: F = [-1, 1], :math:`f_t(x) = Cx` for t mod 3 = 1 and :math:`-x` otherwise,
C = 3, β1 = 0, β2 = 1/(1+C²), α_t = α/√t, no bias correction, projection onto F
(clipping, an adapter around :class:`adamproofs.fast.Optimizer`), x_1 = 1. The optimum is
x* = -1; Adam converges to +1 and its average regret R_T/T tends to 2(C-2)/3 > 0, while
AMSGrad (:math:`\hat v_t = \max(\hat v_{t-1}, v_t)`, ``amsgrad="max_uncorrected"``)
goes to -1. α = ½√(1-β2) (the appendix needs α < √(1-β2)).

Stochastic variant (their Section 5 setting): :math:`f_t(x) = 1010x` with probability
0.01, else :math:`-10x` (mean gradient 0.2 > 0, optimum -1), β1 = 0.9, β2 = 0.99,
α_t = 0.5/√t. Seeds are run side by side as coordinates of one parameter vector, which
is exact because every optimizer here acts coordinate by coordinate.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...config import Adam
from ...fast import Optimizer
from ...variants import Amsgrad
from .. import _figures as figures
from .._report import ProblemReport
from .._runner import scheduled, seed_for
from . import Context

NAME = "reddi"
TITLE = "Reddi–Kale–Kumar counterexample: Adam vs AMSGrad"
C = 3.0
BETA2 = 1.0 / (1.0 + C * C)
ALPHA = 0.5 * math.sqrt(1.0 - BETA2)
STEPS, QUICK_STEPS = 30000, 3000  # multiples of 3: x is read after a full cycle
STOCH_STEPS, QUICK_STOCH_STEPS = 60000, 6000
DESCRIPTION = """
Theorem 1 of Reddi, Kale & Kumar (2018): on F = [−1, 1], f_t(x) = C·x when t mod 3 = 1
and −x otherwise, with C = 3, so the optimum is x* = −1. β1 = 0, β2 = 1/(1+C²) = 0.1,
α_t = α/√t with α = ½√(1−β2), ε = 0, no bias correction, x_1 = 1, and projection onto F
(clipping after each step). Adam drifts to x = +1, the worst point, and its average regret
R_t/t tends to 2(C−2)/3; AMSGrad (v̂_t = max(v̂_{t−1}, v_t)) converges to −1. Bias-corrected
Adam (dashed) fails the same way. Lower two panels: their stochastic setting, f_t(x) = 1010x with
probability 0.01 and −10x otherwise (mean gradient 0.2 > 0, optimum −1), β1 = 0.9,
β2 = 0.99, α_t = 0.5/√t. This one separates slowly (Reddi et al. ran millions of steps):
Adam's iterates drift towards +1 for every seed, AMSGrad's stay spread out; short runs
(--quick) show little.
"""
COLUMNS = [
    "setting",
    "optimizer",
    "steps",
    "x_final_mean",
    "x_final_min",
    "x_final_max",
    "avg_regret_mean",
]


def theorem1_configs() -> dict[str, Adam]:
    base: dict[str, Any] = {"beta1": 0.0, "beta2": BETA2, "eps": 0.0, "lr": ALPHA}
    return {
        "Adam (no bias correction)": Adam(bias_correction=False, **base),
        "Adam (bias-corrected)": Adam(bias_correction=True, **base),
        "AMSGrad": Adam(bias_correction=False, amsgrad=Amsgrad.MAX_UNCORRECTED, **base),
    }


def stochastic_configs() -> dict[str, Adam]:
    base: dict[str, Any] = {"beta1": 0.9, "beta2": 0.99, "eps": 0.0, "lr": 0.5}
    return {
        "Adam (no bias correction)": Adam(bias_correction=False, **base),
        "AMSGrad": Adam(bias_correction=False, amsgrad=Amsgrad.MAX_UNCORRECTED, **base),
    }


def online(config: Adam, coefficients: np.ndarray, x1: float = 1.0) -> np.ndarray:
    """Run projected online Adam with α_t = α/√t on f_t(x) = a_t·x (coordinatewise).

    ``coefficients`` has shape (T, copies); returns the iterates, shape (T+1, copies),
    row 0 = x_1 (the paper's x_1, the point where f_1 is evaluated).
    """
    steps, copies = coefficients.shape
    x = np.full(copies, float(x1))
    opt = Optimizer(config, [x])
    path = np.empty((steps + 1, copies))
    path[0] = x
    alpha = float(config.lr)
    for t in range(1, steps + 1):
        opt.config = scheduled(config, alpha / math.sqrt(t))
        opt.step([coefficients[t - 1]])
        np.clip(x, -1.0, 1.0, out=x)
        path[t] = x
    return path


def average_regret(path: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """R_t/t = (1/t) Σ_{s≤t} a_s (x_s - (-1)), with x_s the point f_s is evaluated at."""
    terms = coefficients * (path[:-1] + 1.0)
    return np.cumsum(terms, axis=0) / np.arange(1, len(terms) + 1)[:, None]


def theorem1_coefficients(steps: int) -> np.ndarray:
    t = np.arange(1, steps + 1)
    return np.where(t % 3 == 1, C, -1.0)[:, None]


def stochastic_coefficients(steps: int, seeds: tuple[int, ...]) -> np.ndarray:
    cols = [
        np.where(np.random.default_rng(seed_for(NAME, s)).random(steps) < 0.01, 1010.0, -10.0)
        for s in seeds
    ]
    return np.stack(cols, axis=1)


def run(ctx: Context) -> ProblemReport:
    steps = QUICK_STEPS if ctx.quick else STEPS
    ssteps = QUICK_STOCH_STEPS if ctx.quick else STOCH_STEPS
    rows: list[dict[str, Any]] = []
    numbers: dict[str, Any] = {}
    plt = figures.plt()
    fig, panels = plt.subplots(4, 1, figsize=(6.0, 15.0))
    axes = panels.reshape(2, 2)  # row: setting; column: iterates, average regret
    colors = {
        "Adam (no bias correction)": figures.style("adam")["color"],
        "Adam (bias-corrected)": "#ff9896",
        "AMSGrad": figures.style("amsgrad")["color"],
    }
    settings = [
        (
            "theorem 1",
            theorem1_configs(),
            theorem1_coefficients(steps),
            rf"Theorem 1: $C = {C:g}$, $\beta_1 = 0$, $\beta_2 = 1/(1+C^2)$,"
            "\n"
            r"$\alpha = \frac{1}{2}\sqrt{1-\beta_2}$",
        ),
        (
            "stochastic",
            stochastic_configs(),
            stochastic_coefficients(ssteps, ctx.seed_list),
            "stochastic: 1010 w.p. 0.01 else $-10$;\n"
            rf"$\beta_1 = 0.9$, $\beta_2 = 0.99$ ({len(ctx.seed_list)} seeds, $T = {ssteps}$)",
        ),
    ]
    print(f"  {NAME}: {sum(len(c) for _, c, _, _ in settings)} runs", flush=True)
    for row, (setting, configs, coef, title) in enumerate(settings):
        t = np.arange(1, coef.shape[0] + 2)  # path[0] is x_1
        for label, cfg in configs.items():
            path = online(cfg, coef)
            regret = average_regret(path, coef)
            xf = path[-1]
            rows.append(
                {
                    "setting": setting,
                    "optimizer": label,
                    "steps": coef.shape[0],
                    "x_final_mean": float(xf.mean()),
                    "x_final_min": float(xf.min()),
                    "x_final_max": float(xf.max()),
                    "avg_regret_mean": float(regret[-1].mean()),
                }
            )
            numbers.setdefault(setting, {})[label] = {
                "x_final": xf.tolist(),
                "avg_regret_final": regret[-1].tolist(),
            }
            c = colors[label]
            ls = "--" if "bias-corrected" in label else "-"
            ax = axes[row, 0]
            ax.plot(t, path.mean(axis=1), color=c, ls=ls, label=label, lw=1.2)
            if path.shape[1] > 1:
                ax.fill_between(t, path.min(axis=1), path.max(axis=1), color=c, alpha=0.15, lw=0)
            ax = axes[row, 1]
            ax.plot(t[:-1], regret.mean(axis=1), color=c, ls=ls, label=label, lw=1.2)
        axes[row, 0].set_title(title)
        axes[row, 0].set_ylabel("$x_t$")
        axes[row, 0].set_ylim(-1.1, 1.1)
        axes[row, 0].axhline(-1, color="k", lw=0.8, ls=":")
        if setting == "theorem 1":
            limit = 2 * (C - 2) / 3
            axes[row, 1].axhline(
                limit,
                color="k",
                lw=0.8,
                ls=":",
                label=f"$2(C-2)/3 = {limit:.3g}$ (Adam's limit)",
            )
            axes[row, 1].set_ylim(-0.1, 2.5)
            axes[row, 1].set_ylabel("average regret $R_t/t$")
        else:
            axes[row, 1].set_ylabel("average regret $R_t/t$ (symlog)")
            axes[row, 1].set_yscale("symlog", linthresh=1.0)
        axes[row, 1].set_title(
            f"{setting.capitalize()}: average regret\n" r"($\to 0$ only if $x_t \to x^* = -1$)"
        )
        for ax in axes[row]:
            ax.set_xscale("log")
            ax.set_xlabel("$t$")
            ax.legend(loc="best")
    figures.save(fig, ctx.figdir(NAME), "iterates")
    adam = next(
        r for r in rows if r["setting"] == "theorem 1" and r["optimizer"].startswith("Adam (no")
    )
    ams = next(r for r in rows if r["setting"] == "theorem 1" and r["optimizer"] == "AMSGrad")
    findings = [
        f"Theorem 1 after {steps} steps: Adam ends at x = {adam['x_final_mean']:.4f} (the worst "
        f"point), AMSGrad at {ams['x_final_mean']:.4f} (x* = −1); Adam's average regret is "
        f"{adam['avg_regret_mean']:.4f} (limit 2(C−2)/3 = {2 * (C - 2) / 3:.4f}).",
    ]
    for r in rows:
        if r["setting"] == "stochastic":
            findings.append(
                f"Stochastic, {r['optimizer']}, after {r['steps']} steps: x over the "
                f"seeds in [{r['x_final_min']:.3f}, {r['x_final_max']:.3f}]."
            )
    return ProblemReport(
        NAME,
        TITLE,
        DESCRIPTION,
        COLUMNS,
        rows,
        numbers,
        [("iterates", "Iterates x_t and average regret R_t/t, Adam vs AMSGrad")],
        findings,
        {
            "C": C,
            "beta2": BETA2,
            "alpha": ALPHA,
            "steps": steps,
            "stochastic_steps": ssteps,
            "seeds": len(ctx.seed_list),
        },
    )
