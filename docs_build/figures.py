r"""The figures of the mathematics pages, computed at build time by running the reference.

Every curve is measured from a run of :func:`adamproofs.reference.run` (mpmath, 30 digits, exact
decimal hyperparameters) or of :class:`adamproofs.fast.Optimizer`, never from a re-typed
formula, except the dashed "bound" lines, which are the closed forms the pages derive (so the
picture shows the run touching the bound). Output: deterministic SVG (no timestamps, fixed hash
salt), keyed by site path ``figures/NAME.svg``. Sizes and fonts are chosen for a phone: a figure is
6 inches wide (two panels are stacked, not side by side) with 11-point text, so that at the
width of a 390-pixel screen its text is still about 9 pixels high.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from adamproofs._step_size import worst_case_limit
from adamproofs.config import Adam, AdaMax
from adamproofs.reference import run

DPS = 30
PREFIX = "figures"
FIGURES: dict[str, Callable[[], Any]] = {}


def figure(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register a function that draws on a new matplotlib figure and returns it."""

    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        FIGURES[name] = fn
        return fn

    return register


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "adamproofs",
            "figure.figsize": (6.0, 3.6),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "font.size": 11,
            "legend.fontsize": 9,
            "axes.titlesize": 11,
        }
    )
    return plt


def _steps(cfg: Adam | AdaMax, grads: Sequence[float | str], t0: int = 0) -> list[float]:
    """|Δ_t|/α of a one-coordinate reference run fed ``grads``."""
    traj = run(cfg, [0], [[g] for g in grads], dps=DPS, t0=t0)
    alpha = float(cfg.lr)
    return [
        abs(float(traj.thetas[k + 1][0] - traj.thetas[k][0])) / alpha for k in range(len(grads))
    ]


@figure("decay-rates")
def decay_rates():
    """Impulse response of m and v: the weight of a gradient k steps ago."""
    plt = _plt()
    fig, ax = plt.subplots()
    steps = 3000
    for beta1, beta2 in (("0.9", "0.999"), ("0.5", "0.99")):
        cfg = Adam(lr="0.001", beta1=beta1, beta2=beta2, eps=0, bias_correction=False)
        traj = run(cfg, [0], [[1]] + [[0]] * (steps - 1), dps=DPS)
        k = np.arange(steps)
        m = [float(traj.state("m", t + 1)[0]) for t in k]
        v = [float(traj.state("v", t + 1)[0]) for t in k]
        ax.semilogy(k, m, label=f"$m$: weight of $g_{{t-k}}$, $\\beta_1$ = {beta1}")
        ax.semilogy(k, v, "--", label=f"$v$: weight of $g_{{t-k}}^2$, $\\beta_2$ = {beta2}")
    ax.set_ylim(1e-8, 1)
    ax.set_xlabel("age $k$ of the gradient (steps)")
    ax.set_ylabel("weight in the moment")
    ax.set_title(r"An EMA forgets geometrically: weight $(1-\beta)\,\beta^k$")
    ax.legend()
    return fig


@figure("bias-correction")
def bias_correction():
    """Constant gradient g = 1: raw moments start near 0; the step with and without correction."""
    plt = _plt()
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.0, 6.4))
    steps = 60
    cfg = Adam(lr="0.001", beta1="0.9", beta2="0.999", eps=0)
    traj = run(cfg, [0], [[1]] * steps, dps=DPS)
    t = np.arange(1, steps + 1)
    left.plot(t, [float(traj.state("m", k)[0]) for k in t], label="$m_t$ (raw)")
    left.plot(t, [float(traj.state("v", k)[0]) for k in t], label="$v_t$ (raw)")
    left.axhline(1.0, color="k", lw=0.8, ls=":", label="$E[g] = E[g^2] = 1$")
    left.set_xlabel("step $t$")
    left.set_title("raw EMAs of a constant gradient $g = 1$")
    left.legend()
    for bc, style in ((True, "-"), (False, "--")):
        d = _steps(cfg.replace(bias_correction=bc), [1] * steps)
        right.plot(t, d, style, label=f"bias_correction={bc}")
    right.axhline(1.0, color="k", lw=0.8, ls=":")
    right.set_ylim(bottom=0)
    right.set_xlabel("step $t$")
    right.set_ylabel(r"$|\Delta_t| / \alpha$")
    right.set_title("step size, constant gradient")
    right.legend()
    fig.tight_layout()
    return fig


def worst_case_ratio(beta1: str, beta2: str, steps: int) -> list[float]:
    """|Δ_t|/α along the maximising sequence g_i = (β2/β1)^i (attains S(t) at every t)."""
    cfg = Adam(lr="0.001", beta1=beta1, beta2=beta2, eps=0)
    ratio = float(beta2) / float(beta1)
    return _steps(cfg, [repr(ratio**i) for i in range(1, steps + 1)])


def sparse_ratio(beta1: str, beta2: str, ts: list[int]) -> list[float]:
    """|Δ_t|/α when g_1..g_{t-1} = 0 and g_t = 1: one step from the zero state at step t."""
    cfg = Adam(lr="0.001", beta1=beta1, beta2=beta2, eps=0)
    return [_steps(cfg, [1], t0=t - 1)[0] for t in ts]


@figure("step-size")
def step_size():
    """Measured |Δ_t|/α: sparse gradients (r(t)) and the worst sequence (S(t)) vs the paper."""
    plt = _plt()
    fig, ax = plt.subplots()
    steps = 2000
    t = np.arange(1, steps + 1)
    ts = sorted({int(x) for x in np.geomspace(1, steps, 60)})
    worst = worst_case_ratio("0.9", "0.999", steps)
    ax.plot(t, worst, label=r"worst sequence $g_i = (\beta_2/\beta_1)^i$: $S(t)$")
    ax.plot(ts, sparse_ratio("0.9", "0.999", ts), label="one gradient, at step $t$: $r(t)$")
    b1, b2 = 0.9, 0.999
    ax.axhline(
        (1 - b1) / math.sqrt(1 - b2),
        color="C3",
        ls="--",
        lw=1,
        label=r"paper's bound $(1-\beta_1)/\sqrt{1-\beta_2}$",
    )
    ax.axhline(
        worst_case_limit(b1, b2),
        color="C2",
        ls=":",
        lw=1,
        label=r"exact limit $S(\infty)$",
    )
    ax.axhline(1, color="k", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$|\Delta_t| / \alpha$  (reference, $\epsilon = 0$)")
    ax.set_title(r"Measured steps against the bounds ($\beta_1 = 0.9$, $\beta_2 = 0.999$)")
    ax.legend()
    return fig


@figure("scale-invariance")
def scale_invariance():
    """Δ_t(c)/Δ_t(1) after 20 gradients of scale 1e-3 rescaled by c, with ε = 1e-8 and 0."""
    plt = _plt()
    fig, ax = plt.subplots()
    rng = np.random.default_rng(0)
    base = [float(x) for x in 1e-3 * (1 + rng.standard_normal(20))]
    cs = np.geomspace(1e-7, 1e3, 41)
    for eps in ("1e-8", "0"):
        cfg = Adam(lr="0.001", eps=eps)

        def last_step(c: float, cfg: Adam = cfg) -> float:
            traj = run(cfg, [0], [[repr(c * g)] for g in base], dps=DPS)
            return float(traj.thetas[-1][0] - traj.thetas[-2][0])

        ref = last_step(1.0)
        ax.semilogx(
            cs,
            [last_step(float(c)) / ref for c in cs],
            "o-" if eps == "0" else "-",
            ms=3,
            label=f"$\\epsilon$ = {eps}",
        )
    ax.set_xlabel("gradient scale factor $c$")
    ax.set_ylabel(r"$\Delta_{20}(c) / \Delta_{20}(1)$")
    ax.set_title(r"Rescaled gradients: invariant only when $\epsilon = 0$")
    ax.legend()
    return fig


def periodic_sparse_steps(every: int, steps: int) -> np.ndarray:
    """Δ_t/α of the fast NumPy Adam (defaults, float64) on two coordinates: g = 1 every step,
    and g = 1 every ``every`` steps (0 otherwise). Shape (steps, 2)."""
    from adamproofs.fast import Optimizer

    params = [np.zeros(2)]
    opt = Optimizer(Adam(lr=1e-3), params, backend="numpy")
    history = [params[0].copy()]
    for t in range(1, steps + 1):
        opt.step([np.array([1.0, 1.0 if t % every == 0 else 0.0])])
        history.append(params[0].copy())
    return -np.diff(np.array(history), axis=0) / 1e-3


@figure("sparsity")
def sparsity():
    """A dense coordinate and sparse ones (a gradient every k steps), fast Optimizer."""
    plt = _plt()
    fig, ax = plt.subplots()
    steps = 1200
    t = np.arange(1, steps + 1)
    ax.plot(t, periodic_sparse_steps(1, steps)[:, 0], label="dense: $g = 1$ every step")
    for every in (25, 300):
        ax.plot(
            t,
            periodic_sparse_steps(every, steps)[:, 1],
            lw=0.9,
            label=f"sparse: $g = 1$ every {every} steps, else 0",
        )
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"$\Delta_t / \alpha$")
    ax.set_title("Rare gradients: long gaps, large steps")
    ax.legend()
    return fig


@figure("non-stationarity")
def non_stationarity():
    """The gradient scale jumps 100x at t = 200: the step overshoots α while v catches up."""
    plt = _plt()
    fig, ax = plt.subplots()
    steps, jump = 600, 200
    grads = ["0.01"] * jump + ["1"] * (steps - jump)
    t = np.arange(1, steps + 1)
    for beta2 in ("0.999", "0.99"):
        cfg = Adam(lr="0.001", beta1="0.9", beta2=beta2, eps="1e-8")
        ax.plot(t, _steps(cfg, grads), label=f"Adam, $\\beta_2$ = {beta2}")
        ams = cfg.replace(amsgrad="max_raw")
        ax.plot(t, _steps(ams, grads), "--", label=f"AMSGrad, $\\beta_2$ = {beta2}")
    ax.axvline(jump, color="k", lw=0.8, ls=":")
    ax.set_xlabel("step $t$  (gradient 0.01 until $t = 200$, then 1)")
    ax.set_ylabel(r"$|\Delta_t| / \alpha$")
    ax.set_title(r"A jump in gradient scale: $v$ catches up slowly")
    ax.legend()
    return fig


@figure("adamax")
def adamax():
    """v_t^{1/p} (Adam with β2^p on |g|^p) converges to AdaMax's u_t as p grows."""
    plt = _plt()
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.0, 6.4))
    grads = ["0.3", "-1.2", "2.0", "0.5", "-0.1"]
    u = run(
        AdaMax(lr="0.001", beta1="0.9", beta2="0.999", eps=0), [0], [[g] for g in grads], dps=DPS
    ).state("u", len(grads))[0]
    ps = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    norms = []
    for p in ps:
        cfg = Adam(beta1="0.9", beta2=f"{0.999**p!r}", eps=0, bias_correction=False)
        # v_t = (1-β2^p) Σ β2^{p(t-i)} |g_i|^p: feed |g|^{p/2} so that g² = |g|^p
        gp = [[repr(abs(float(g)) ** (p / 2))] for g in grads]
        v = run(cfg, [0], gp, dps=DPS).state("v", len(grads))[0]
        norms.append(float(v) ** (1 / p))
    left.semilogx(ps, norms, "o-", label="$v_t^{1/p}$ (Adam's $L^p$ moment)")
    left.axhline(float(u), color="C3", ls="--", label="AdaMax $u_t$ (reference run)")
    left.set_xlabel("$p$")
    left.set_title("the $L^p$ moment tends to the max norm")
    left.legend()
    steps = 1000
    cfg = AdaMax(lr="0.001", beta1="0.9", beta2="0.999", eps=0)
    d = _steps(cfg, [repr(0.999**i) for i in range(1, steps + 1)])
    right.semilogx(np.arange(1, steps + 1), d, label=r"worst sequence $g_i = \beta_2^i$")
    right.axhline(1, color="k", ls=":", lw=0.8, label=r"paper: $|\Delta_t| \leq \alpha$")
    right.axhline(
        0.1 * 0.999 / (0.999 - 0.9),
        color="C3",
        ls="--",
        lw=1,
        label=r"exact limit $(1-\beta_1)\beta_2/(\beta_2-\beta_1)$",
    )
    right.set_xlabel("step $t$")
    right.set_ylabel(r"$|\Delta_t| / \alpha$")
    right.set_title(r"AdaMax's step slightly exceeds $\alpha$")
    right.legend()
    fig.tight_layout()
    return fig


def render(name: str) -> bytes:
    """One figure as deterministic SVG bytes."""
    plt = _plt()
    fig = FIGURES[name]()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


@cache
def build_all() -> dict[str, bytes]:
    """Every figure, keyed by its path in the site (computed once per build process)."""
    return {f"{PREFIX}/{name}.svg": render(name) for name in FIGURES}
