r"""MkDocs hook (listed under ``hooks:`` in ``mkdocs.yml``): the figures of the Learn pages.

``on_files`` adds one SVG per figure, ``learn/figures/NAME.svg``, drawn now from the runs in
``_experiments.py`` (real runs of :class:`adamproofs.fast.Optimizer`). The pages embed them
with ordinary image links. Everything is computed once per build process (a few seconds).
"""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:  # `mkdocs build` from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

PREFIX = "learn/figures"


def load_experiments() -> ModuleType:
    """``docs/learn/_experiments.py`` as the module ``learn_experiments`` (loaded once)."""
    name = "learn_experiments"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "_experiments.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


E = load_experiments()
FIGURES: dict[str, Callable[[], Any]] = {}


def figure(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register a function that draws a new matplotlib figure and returns it."""

    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        FIGURES[name] = fn
        return fn

    return register


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.hashsalt": "adamproofs-learn",
            "figure.figsize": (6.0, 3.6),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "font.size": 10,
            "legend.fontsize": 8,
        }
    )
    return plt


GREY = "0.6"
#: Display names (mathtext) and colours of the ancestors, shared by all bowl figures.
LABELS = {
    "gradient-descent": "gradient descent",
    "momentum": "momentum",
    "nesterov": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
}
COLOURS = {name: f"C{k}" for k, name in enumerate(LABELS)}


def _bowl_axes(ax: Any) -> None:
    """Contours of the bowl f(θ) = ½(θ₁² + 25θ₂²) and the optimum."""
    x, y = np.meshgrid(np.linspace(-4.5, 4.5, 181), np.linspace(-2.5, 2.5, 101))
    f = E.bowl_loss(np.stack([x, y], axis=-1))
    ax.contour(x, y, f, levels=np.geomspace(0.05, 60, 9), colors=GREY, linewidths=0.5)
    ax.plot([0], [0], marker="*", color="k", ms=9, ls="none")
    ax.set_xlim(-4.5, 4.5)
    ax.set_ylim(-2.5, 2.5)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")


def _path(ax: Any, thetas: np.ndarray, label: str, colour: str, **kw: Any) -> None:
    ax.plot(
        thetas[:, 0],
        thetas[:, 1],
        ls=kw.pop("ls", "-"),
        marker=kw.pop("marker", "o"),
        ms=kw.pop("ms", 2.5),
        lw=kw.pop("lw", 1.0),
        color=colour,
        label=label,
        **kw,
    )


# --- why Adam works -----------------------------------------------------------------------------


@figure("annealing")
def annealing() -> Any:
    """Noisy quadratic: distance to the optimum, and the step against the SNR."""
    plt = _plt()
    a = E.snr_annealing()
    t = np.arange(1, a.step.size + 1)
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.0, 6.8))
    left.plot(np.arange(a.distance.size), a.distance)
    left.set_xlabel("step $t$")
    left.set_ylabel(r"mean $|\theta_t|$")
    left.set_title(r"$f(\theta)=\theta^2/2$, gradient $\theta + \xi$, $\xi\sim N(0,1)$")
    right.plot(t, a.step, label=r"step $|\Delta_t|/\alpha$")
    right.plot(
        t[::60],
        a.snr[::60],
        "o",
        ms=4,
        mfc="none",
        label=r"signal-to-noise $|\hat m_t|/\sqrt{\hat v_t}$",
    )
    right.axhline(
        E.pure_noise_step(),
        color="k",
        ls=":",
        lw=0.9,
        label=r"pure noise: $\sqrt{2/\pi}\,\sqrt{(1-\beta_1)/(1+\beta_1)}$",
    )
    right.set_ylim(0, 1.05)
    right.set_xlabel("step $t$")
    right.set_title("the step anneals as the signal fades")
    right.legend()
    fig.tight_layout()
    return fig


@figure("step-scale")
def step_scale() -> Any:
    """Mean |Δ|/α against the gradient scale: Adam flat at ~α above ε, GD proportional."""
    plt = _plt()
    s = E.step_versus_scale()
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    ax.loglog(s.scales, s.adam, "o-", ms=3, label=r"Adam, $\epsilon=10^{-8}$")
    ax.loglog(s.scales, s.gd, "s-", ms=3, label=r"gradient descent, same $\alpha$")
    ax.axvline(1e-8, color="k", ls=":", lw=0.9)
    ax.text(1.5e-8, 1e-9, r"$s=\epsilon$", fontsize=9)
    ax.set_xlabel(r"gradient scale $s$ (gradients $s\,(1+\xi/2)$)")
    ax.set_ylabel(r"mean $|\Delta_t|/\alpha$ over 200 steps")
    ax.set_title(r"Adam's step is about $\alpha$ whatever the gradient's scale, down to $\epsilon$")
    ax.legend()
    return fig


@figure("sign-descent")
def sign_descent() -> Any:
    """β1 = β2 = 0: Adam is sign descent."""
    plt = _plt()
    runs = E.sign_descent_limit()
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    _bowl_axes(ax)
    _path(
        ax,
        runs["sign"],
        r"sign descent $\theta_t=\theta_{t-1}-\alpha\,\mathrm{sign}(g_t)$",
        "C3",
        marker="s",
        ms=6,
        mfc="none",
        lw=0.6,
    )
    _path(ax, runs["adam_b0"], r"Adam, $\beta_1=\beta_2=0$", "C0")
    _path(ax, runs["adam"], r"Adam, $\beta_1=0.9$, $\beta_2=0.999$", GREY)
    ax.set_title(r"$\alpha = 0.12$, 40 steps from $(-4, 1.5)$")
    ax.legend(loc="lower right")
    return fig


@figure("invariance")
def invariance() -> Any:
    """Per-coordinate gradient scaling (Adam invariant) and rotation (Adam not)."""
    plt = _plt()
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.0, 6.8))
    gd, adam = E.SGD(lr=0.075), E.Adam(lr=0.1, eps=0)
    for ax in (left, right):
        _bowl_axes(ax)
    for cfg, name, colour in ((gd, "gradient descent", "C0"), (adam, r"Adam, $\epsilon=0$", "C1")):
        plain, scaled = E.scaled_gradient_run(cfg)
        _path(left, plain, name, colour)
        _path(
            left,
            scaled,
            name + r", gradient $\times\,$diag(1, 0.02)",
            colour,
            ls="--",
            marker="x",
            ms=4,
        )
        plain, rotated = E.rotated_run(cfg)
        _path(right, plain, name, colour)
        _path(
            right,
            rotated,
            name + ", rotated problem, mapped back",
            colour,
            ls="--",
            marker="x",
            ms=4,
        )
    left.set_title("each coordinate's gradient rescaled")
    right.set_title(r"the whole problem rotated by 45$^\circ$")
    for ax in (left, right):
        ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return fig


# --- from gradient descent to Adam --------------------------------------------------------------


@cache
def _bowl(name: str) -> Any:
    """The run of ancestor ``name`` on the bowl (shared by the figures of later pages)."""
    return E.bowl_run(E.ANCESTORS[name])


def _bowl_figure(upto: str) -> Any:
    """Left: the trajectory of ``upto`` (gradient descent faint); right: f(θ_t) of every
    method of the reading path so far, ``upto`` in bold."""
    plt = _plt()
    fig, (left, right) = plt.subplots(
        2, 1, figsize=(6.0, 7.6), gridspec_kw={"height_ratios": [1.4, 1]}
    )
    _bowl_axes(left)
    names = list(E.ANCESTORS)
    shown = names[: names.index(upto) + 1]
    runs = {name: _bowl(name) for name in shown}
    if upto != "gradient-descent":
        _path(
            left, runs["gradient-descent"].thetas, LABELS["gradient-descent"], GREY, ms=1.5, lw=0.6
        )
    _path(left, runs[upto].thetas, LABELS[upto], COLOURS[upto])
    left.set_title(f"{LABELS[upto]}: {E.BOWL_STEPS} steps")
    left.legend(loc="lower right")
    for name in shown:
        loss = E.bowl_loss(runs[name].thetas)
        right.semilogy(
            np.arange(loss.size),
            np.maximum(loss, 1e-30),
            color=COLOURS[name],
            lw=2.0 if name == upto else 0.9,
            alpha=1.0 if name == upto else 0.6,
            label=LABELS[name],
        )
    right.set_ylim(1e-12, 100)
    right.set_xlabel("step $t$")
    right.set_ylabel(r"$f(\theta_t)$")
    right.set_title("loss so far on the reading path")
    right.legend()
    fig.tight_layout()
    return fig


def _register_bowl(name: str) -> None:
    def draw() -> Any:
        return _bowl_figure(name)

    figure(f"bowl-{name}")(draw)


for _name in E.ANCESTORS:
    _register_bowl(_name)


@figure("adam-parts")
def adam_parts() -> Any:
    """RMSProp, + momentum, + bias correction: on the bowl, and the step on a constant gradient."""
    plt = _plt()
    fig, (left, right) = plt.subplots(
        2, 1, figsize=(6.0, 7.6), gridspec_kw={"height_ratios": [1.4, 1]}
    )
    _bowl_axes(left)
    for k, (label, cfg) in enumerate(E.ADAM_PARTS.items()):
        _path(left, E.bowl_run(cfg, steps=60).thetas, label, f"C{k + 3}")
        steps = E.constant_gradient_steps(cfg)
        right.semilogx(np.arange(1, steps.size + 1), steps, color=f"C{k + 3}", label=label)
    left.set_title(r"on the bowl, $\alpha=0.1$, $\beta_2=0.999$, 60 steps")
    left.legend(loc="lower right", fontsize=7)
    right.set_yscale("log")
    right.set_xlabel("step $t$")
    right.set_ylabel(r"$|\Delta_t|/\alpha$, constant gradient")
    right.set_title("what bias correction adds")
    fig.tight_layout()
    return fig


# --- practical Adam ------------------------------------------------------------------------------


@figure("eps")
def eps() -> Any:
    """|Δ|/α = |g|/(|g|+ε) for three ε: ε decides below which scale Adam becomes SGD."""
    plt = _plt()
    scales, by_eps = E.step_versus_eps()
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    for k, (value, steps) in enumerate(by_eps.items()):
        ax.loglog(
            scales,
            steps,
            "o",
            ms=3,
            color=f"C{k}",
            label=rf"Adam run, $\epsilon = 10^{{{round(np.log10(value))}}}$",
        )
        ax.loglog(scales, np.minimum(scales / value, 3), ":", color=f"C{k}", lw=0.9)
    ax.plot([], [], "k:", lw=0.9, label=r"SGD with learning rate $\alpha/\epsilon$")
    ax.set_ylim(1e-5, 3)
    ax.set_xlabel(r"gradient scale $|g|$ (constant gradient)")
    ax.set_ylabel(r"$|\Delta_t|/\alpha$")
    ax.set_title(r"below $|g|\approx\epsilon$ the step is $\alpha g/\epsilon$: plain SGD")
    ax.legend()
    return fig


@figure("beta2-memory")
def beta2_memory() -> Any:
    """The gradient scale jumps up, or drops, by 100 at t = 200, for β2 = 0.99 and 0.999."""
    plt = _plt()
    fig, (up, down) = plt.subplots(2, 1, figsize=(6.0, 6.8))
    for k, (beta2, steps) in enumerate(E.JUMP_RUNS):
        d = E.gradient_jump(beta2, steps=steps)
        t = np.arange(1, steps + 1)
        up.plot(t[:1500], d[:1500, 0], color=f"C{k}", label=rf"$\beta_2={beta2}$")
        down.loglog(t, d[:, 1], color=f"C{k}", label=rf"$\beta_2={beta2}$")
    up.set_title(r"$|g|$ jumps from 0.01 to 1 at $t=200$")
    down.set_title(r"$|g|$ drops from 1 to 0.01 at $t=200$")
    down.axhline(2**-0.5, color="k", ls=":", lw=0.9)
    for ax in (up, down):
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$|\Delta_t|/\alpha$")
        ax.legend()
    fig.tight_layout()
    return fig


@figure("weight-decay")
def weight_decay() -> Any:
    """Mean θ of pure-noise coordinates under L2 and decoupled decay, three noise scales."""
    plt = _plt()
    runs = E.weight_decay_runs()
    fig, axes = plt.subplots(2, 1, sharex=True, figsize=(6.0, 6.8))
    titles = {
        "l2": r'L2: $g \leftarrow g + \lambda\theta$ (decay="l2")',
        "decoupled": r"decoupled: $\theta \leftarrow \theta(1-\alpha\lambda) - \Delta$",
    }
    for ax, (form, means) in zip(axes, runs.items()):
        for k, sigma in enumerate(E.DECAY_SIGMAS):
            ax.plot(
                np.arange(means.shape[0]),
                means[:, k],
                color=f"C{k}",
                label=rf"gradient noise $\sigma={sigma:g}$",
            )
        ax.plot(
            np.arange(means.shape[0]),
            (1 - 0.01 * 0.1) ** np.arange(means.shape[0]),
            "k:",
            lw=0.9,
            label=r"$(1-\alpha\lambda)^t$",
        )
        ax.set_title(titles[form])
        ax.set_xlabel("step $t$")
        ax.legend()
    axes[0].set_ylabel(r"mean $\theta_t$")
    fig.tight_layout()
    return fig


@figure("warmup")
def warmup() -> Any:
    """Low-SNR gradients: early steps are large and barely better than coin flips."""
    plt = _plt()
    fig, (size, right) = plt.subplots(2, 1, figsize=(6.0, 6.8))
    for k, (label, cfg, w) in enumerate(E.WARMUP_RUNS):
        e = E.early_steps(cfg, warmup=w)
        t = np.arange(1, e.size.size + 1)
        size.plot(t, e.size, color=f"C{k}", label=label)
        if k == 0:  # the direction is sign(m̂): the same in all three runs
            right.plot(t, e.right_way, color="k", lw=0.9, label="all three runs (the same)")
    size.set_yscale("log")
    size.set_ylabel(r"mean $|\Delta_t|/\alpha$")
    size.set_title(r"gradient $0.1 + \xi$, $\xi \sim N(0,1)$")
    right.set_ylabel("fraction stepping the right way")
    right.axhline(0.5, color="k", ls=":", lw=0.9)
    right.set_title("direction: barely better than a coin flip at first")
    for ax in (size, right):
        ax.set_xlabel("step $t$")
        ax.legend()
    fig.tight_layout()
    return fig


# --- the hook -----------------------------------------------------------------------------------


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


def on_files(files: Any, config: Any) -> Any:
    """Add the Learn figures to the site as generated files."""
    from mkdocs.structure.files import File

    for src_uri, content in build_all().items():
        files.append(File.generated(config, src_uri, content=content))
    return files
