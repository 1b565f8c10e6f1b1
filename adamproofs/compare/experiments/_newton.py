r"""Problem 10: Newton's method where it applies, and what one step costs.

- Quadratic (the oblong bowl of problem 1): pure Newton lands on θ* in one step.
- Full-batch multinomial logistic regression on the digits (650 weights, L2 10⁻³, strictly
  convex): damped Newton with an Armijo line search against Adam and GD (each with the best
  α of a small sweep), as suboptimality f − f* per iteration and per second. f* is the
  smallest loss any run reaches (Newton's, to a decrement of 10⁻²⁰).
- Cost of one update as a function of the dimension n: a Newton step solves an n×n system
  (LU, ~⅔n³ flops); an Adam step is O(n). Timed with single-threaded BLAS (the comparison
  is about growth, not about cores). Timings are the only numbers here that change from run
  to run.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ...config import SGD, Adam
from ...fast import Optimizer
from .. import _figures as figures
from .._functions import Quadratic
from .._models import SoftmaxRegression
from .._newton import newton, newton_step
from .._report import ProblemReport
from .._runner import optimize, seed_for, single_threaded_blas
from . import Context

NAME = "newton"
TITLE = "Newton's method: one step on a quadratic, few on logistic regression, O(n³) per step"
KAPPA = 20.0
LOGISTIC_STEPS, QUICK_LOGISTIC_STEPS = 600, 200
NEWTON_STEPS = 15
DIMS, QUICK_DIMS = (16, 32, 64, 128, 256, 512, 1024, 2048), (16, 64, 256, 1024)
ADAM_LRS = (0.01, 0.03, 0.1, 0.3)
GD_LRS = (0.3, 1.0, 3.0, 10.0)
COLUMNS = ["problem", "method", "steps", "final_suboptimality", "seconds_total"]


def quadratic_part(ax: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    q = Quadratic(kappa=KAPPA)
    theta0 = q.init(np.random.default_rng(seed_for(NAME, "quadratic")))
    h = q.hessian
    rng = np.random.default_rng(0)  # the quadratic's gradient is deterministic
    trace = newton(lambda th: q.loss(th, 0), lambda th: q.grad(th, 0, rng), lambda th: h, theta0, 3)
    gd_lr = 2.0 / (1.0 + KAPPA)  # the optimal fixed rate for GD on a quadratic
    steps = 100
    gd = optimize(q, SGD(lr=gd_lr), steps, 0, theta0=theta0)
    adam = optimize(q, Adam(lr=1.0), steps, 0, theta0=theta0)
    floor = 1e-33
    ax.semilogy(
        np.arange(len(trace.losses)),
        np.maximum(trace.losses, floor),
        "ks-",
        label="Newton (pure, step 1)",
    )
    ax.semilogy(
        gd.steps,
        np.maximum(gd.losses, floor),
        color=figures.style("sgd")["color"],
        label=rf"GD, $\alpha = 2/(1+\kappa) = {gd_lr:.3g}$",
    )
    ax.semilogy(
        adam.steps,
        np.maximum(adam.losses, floor),
        color=figures.style("adam")["color"],
        label=r"Adam, $\alpha = 1$",
    )
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"$f(\theta_t) - f^*$ (0 drawn at $10^{-33}$)")
    ax.set_title(rf"quadratic, $\kappa = {KAPPA:g}$")
    ax.legend(loc="best")
    dist = float(np.linalg.norm(trace.thetas[1] - q.opt))
    rows = [
        {
            "problem": "quadratic",
            "method": "Newton",
            "steps": 1,
            "final_suboptimality": float(trace.losses[1]),
            "seconds_total": None,
        },
        {
            "problem": "quadratic",
            "method": "GD",
            "steps": steps,
            "final_suboptimality": float(gd.losses[-1]),
            "seconds_total": None,
        },
        {
            "problem": "quadratic",
            "method": "Adam",
            "steps": steps,
            "final_suboptimality": float(adam.losses[-1]),
            "seconds_total": None,
        },
    ]
    return rows, {"theta0": theta0.tolist(), "newton_one_step_distance": dist}


def _timed_first_order(
    problem: SoftmaxRegression, cfg: Any, steps: int, theta0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    theta = theta0.copy()
    opt = Optimizer(cfg, [theta])
    losses, secs = [problem.loss(theta)], [0.0]
    start = time.perf_counter()
    for _ in range(steps):
        opt.step([problem.loss_grad(theta, slice(None))[1]])
        secs.append(time.perf_counter() - start)
        losses.append(problem.loss(theta))
    return np.array(losses), np.array(secs)


def logistic_part(ax_it: Any, ax_s: Any, steps: int) -> tuple[list[dict[str, Any]], Any]:
    p = SoftmaxRegression(batch=None)
    theta0 = p.init(np.random.default_rng(seed_for(NAME, "logistic")))
    tr = newton(
        p.loss,
        lambda th: p.loss_grad(th, slice(None))[1],
        p.hessian,
        theta0,
        NEWTON_STEPS,
        line_search=True,
        tol=1e-20,
    )
    runs: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
    for name, make, lrs in (
        ("Adam", lambda lr: Adam(lr=lr), ADAM_LRS),
        ("GD", lambda lr: SGD(lr=lr), GD_LRS),
    ):
        best = None
        for lr in lrs:
            losses, secs = _timed_first_order(p, make(lr), steps, theta0)
            if np.isfinite(losses[-1]) and (best is None or losses[-1] < best[0][-1]):
                best = (losses, secs, lr)
        assert best is not None
        runs[name] = best
    fstar = min(min(tr.losses), *(r[0].min() for r in runs.values()))
    rows = []
    nl = np.array(tr.losses) - fstar
    floor = 1e-16
    ax_it.semilogy(
        np.arange(len(nl)), np.maximum(nl, floor), "ks-", ms=4, label="Newton + line search"
    )
    ax_s.semilogy(tr.seconds, np.maximum(nl, floor), "ks-", ms=4, label="Newton + line search")
    rows.append(
        {
            "problem": "logistic (digits, full batch)",
            "method": "Newton",
            "steps": len(nl) - 1,
            "final_suboptimality": float(nl[-1]),
            "seconds_total": float(tr.seconds[-1]),
        }
    )
    for name, (losses, secs, lr) in runs.items():
        key = "adam" if name == "Adam" else "sgd"
        sub = np.maximum(losses - fstar, floor)
        ax_it.semilogy(
            np.arange(len(sub)),
            sub,
            color=figures.style(key)["color"],
            label=rf"{name}, $\alpha = {lr:g}$",
        )
        ax_s.semilogy(
            secs, sub, color=figures.style(key)["color"], label=rf"{name}, $\alpha = {lr:g}$"
        )
        rows.append(
            {
                "problem": "logistic (digits, full batch)",
                "method": f"{name} (α={lr:g})",
                "steps": steps,
                "final_suboptimality": float(losses[-1] - fstar),
                "seconds_total": float(secs[-1]),
            }
        )
    for ax, xl in ((ax_it, "iteration"), (ax_s, "wall-clock seconds (this run)")):
        ax.set_xlabel(xl)
        ax.set_ylabel(r"$f - f^*$ (floor $10^{-16}$)")
        ax.legend(loc="best")
    ax_it.set_xscale("symlog", linthresh=10)
    ax_it.set_title("logistic regression, 650 weights: per iteration")
    ax_s.set_title("logistic regression, 650 weights: per second")
    return rows, {"fstar": fstar, "newton_losses": tr.losses, "newton_steps": tr.step_sizes}


def cost_part(ax: Any, dims: tuple[int, ...]) -> dict[str, Any]:
    """Median seconds of one Newton update (solve) and one Adam update, per dimension."""
    rng = np.random.default_rng(seed_for(NAME, "cost"))
    newton_s, adam_s = [], []
    for n in dims:
        a = rng.standard_normal((n, n))
        h = a @ a.T / n + np.eye(n)
        g = rng.standard_normal(n)
        theta = np.zeros(n)
        opt = Optimizer(Adam(), [theta])
        reps = max(3, min(200, int(2e7 / n**2.5)))
        ts_n, ts_a = [], []
        for _ in range(reps):
            t0 = time.perf_counter()
            newton_step(g, h)
            ts_n.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            opt.step([g])
            ts_a.append(time.perf_counter() - t0)
        newton_s.append(float(np.median(ts_n)))
        adam_s.append(float(np.median(ts_a)))
    d = np.array(dims, dtype=float)
    ax.loglog(d, newton_s, "ks-", label="Newton step (solve $Hd = g$)")
    ax.loglog(d, adam_s, "o-", color=figures.style("adam")["color"], label="Adam step")
    ax.loglog(d, newton_s[-1] * (d / d[-1]) ** 3, "k:", lw=0.8, label=r"$\propto n^3$")
    ax.loglog(
        d,
        adam_s[-1] * (d / d[-1]),
        ":",
        color=figures.style("adam")["color"],
        lw=0.8,
        label=r"$\propto n$",
    )
    ax.set_xlabel("dimension $n$")
    ax.set_ylabel("seconds per update (median)")
    ax.set_title("cost of one update (single-threaded BLAS)")
    ax.legend(loc="upper left")
    return {"dims": list(dims), "newton_seconds": newton_s, "adam_seconds": adam_s}


def run(ctx: Context) -> ProblemReport:
    plt = figures.plt()
    fig, axes = plt.subplots(4, 1, figsize=(6.0, 16.0))
    print(f"  {NAME}: quadratic, logistic regression, cost per step", flush=True)
    with single_threaded_blas():
        rows, quad = quadratic_part(axes[0])
        lrows, logi = logistic_part(
            axes[1], axes[2], QUICK_LOGISTIC_STEPS if ctx.quick else LOGISTIC_STEPS
        )
        cost = cost_part(axes[3], QUICK_DIMS if ctx.quick else DIMS)
    rows += lrows
    figures.save(fig, ctx.figdir(NAME), "newton")
    ratio = cost["newton_seconds"][-1] / cost["adam_seconds"][-1]
    findings = [
        f"Quadratic: one Newton step ends {quad['newton_one_step_distance']:.2g} from θ* "
        "(rounding only).",
        f"At n = {cost['dims'][-1]} one Newton update took {ratio:.3g}× as long as one Adam "
        "update (this machine, this run).",
    ]
    return ProblemReport(
        NAME,
        TITLE,
        __doc__.split("\n\n", 1)[1],
        COLUMNS,
        rows,
        {"quadratic": quad, "logistic": logi, "cost": cost},
        [("newton", "Newton vs first-order methods: iterations, seconds, and cost per update")],
        findings,
        {"kappa": KAPPA, "seeds": "not used (deterministic full-batch problems)"},
    )
