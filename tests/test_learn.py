"""The Learn pages: every number their prose states is recomputed here from the same runs
that draw their figures (``docs/learn/_experiments.py``), and every qualitative claim is
checked. A test finds the paragraph of the page that makes a claim and asserts that the
freshly computed value, formatted as the page formats it, appears in it."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import sympy as sp

from adamproofs.config import SGD, Adam, Momentum, Nesterov, RMSProp
from adamproofs.fast import Optimizer
from adamproofs.variants import Decay

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LEARN = DOCS / "learn"


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


E = _load("learn_experiments", LEARN / "_experiments.py")


def paragraph(page: str, phrase: str) -> str:
    """The one paragraph of ``docs/learn/PAGE`` containing ``phrase`` (whitespace-normalised)."""
    text = (LEARN / page).read_text()
    hits = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    hits = [p for p in hits if phrase in p]
    assert len(hits) == 1, f"{page}: {len(hits)} paragraphs contain {phrase!r}"
    return hits[0]


def assert_states(page: str, phrase: str, *values: str) -> None:
    """The paragraph of ``page`` with ``phrase`` states each of ``values``."""
    text = paragraph(page, phrase)
    for value in values:
        assert value in text, f"{page}: the paragraph with {phrase!r} should state {value!r}"


def sci(x: float) -> str:
    """1.1e-07 -> '1.1e-7', 4.0e-15 -> '4.0e-15', as the pages write them."""
    return re.sub(r"e([+-])0?(\d)", r"e\1\2", f"{x:.1e}")


def fixed(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


@cache
def bowl(name: str) -> Any:
    return E.bowl_run(E.ANCESTORS[name])


def final_loss(name: str) -> float:
    return float(E.bowl_loss(bowl(name).thetas[-1]))


# --- why Adam works -----------------------------------------------------------------------------


def test_the_step_anneals_with_the_signal_to_noise_ratio() -> None:
    a = E.snr_annealing()
    late = float(a.step[-500:].mean())
    assert a.step[0] == pytest.approx(1.0, abs=1e-6)  # the first step is α in every coordinate
    assert_states(
        "why-adam-works.md",
        "settles at",
        f"{fixed(a.step[99])}α at step 100",
        f"settles at {fixed(late)}α",
    )
    assert_states(
        "why-adam-works.md", "That level is predicted", f"= {fixed(E.pure_noise_step())}\\alpha"
    )
    assert late == pytest.approx(E.pure_noise_step(), rel=0.1)
    assert a.step[99] > 3 * late  # larger while the signal dominates
    np.testing.assert_allclose(a.step, a.snr, rtol=1e-6)  # the step *is* the SNR (ε negligible)


def test_the_step_is_about_alpha_whatever_the_gradient_scale() -> None:
    s = E.step_versus_scale()
    above = s.scales >= 1e-6
    assert_states(
        "why-adam-works.md",
        "over ten decades",
        f"between {fixed(s.adam[above].min())}α and {fixed(s.adam[above].max())}α",
        f"it is {fixed(float(s.adam[s.scales == 1e-8][0]))}α",
    )
    assert s.adam[s.scales <= 1e-10].max() < 0.01  # far below ε the step vanishes
    ratio = s.gd / s.scales
    assert ratio.min() > 0.8 and ratio.max() < 1.2  # gradient descent: proportional to s


def test_adam_with_zero_betas_is_sign_descent() -> None:
    runs = E.sign_descent_limit()
    gap = float(np.abs(runs["adam_b0"] - runs["sign"]).max())
    assert gap < 1e-6 * 0.12
    assert_states("why-adam-works.md", "agree to", f"agree to {sci(gap)}")
    assert float(np.abs(runs["adam"] - runs["sign"]).max()) > 0.1  # default Adam is not


def test_scale_invariance_is_per_coordinate_and_not_under_rotation() -> None:
    gd, adam = SGD(lr=0.075), Adam(lr=0.1, eps=0)
    gaps = {}
    for name, cfg in (("gd", gd), ("adam", adam)):
        plain, scaled = E.scaled_gradient_run(cfg)
        gaps[name, "scaled"] = float(np.abs(plain - scaled).max())
        plain, rotated = E.rotated_run(cfg)
        gaps[name, "rotated"] = float(np.abs(plain - rotated).max())
    assert gaps["adam", "scaled"] < 1e-15 and gaps["gd", "rotated"] < 1e-15
    assert_states(
        "why-adam-works.md",
        "The figure runs both tests",
        f"by up to {fixed(gaps['gd', 'scaled'])} in a coordinate",
        f"moves by up to {fixed(gaps['adam', 'rotated'])}",
    )


def test_the_rotation_example_of_the_page() -> None:
    """g = (1, 0) and its rotated version (3/5, 4/5): first steps α(1, 0) and, rotated back,
    α(7/5, −1/5), from fast-optimizer runs."""
    rot = np.array([[0.6, -0.8], [0.8, 0.6]])
    plain, rotated = np.zeros(2), np.zeros(2)
    Optimizer(Adam(lr=1.0, eps=0), [plain], backend="numpy").step([np.array([1.0, 0.0])])
    Optimizer(Adam(lr=1.0, eps=0), [rotated], backend="numpy").step([rot @ [1.0, 0.0]])
    np.testing.assert_allclose(-plain, [1, 0], atol=1e-15)
    np.testing.assert_allclose(rot.T @ -rotated, [7 / 5, -1 / 5], atol=1e-15)


# --- from gradient descent to Adam --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "page", "phrase"),
    [
        ("gradient-descent", "ancestors/gradient-descent.md", "close to that limit"),
        ("momentum", "ancestors/momentum.md", "With α = 0.04 and μ = 0.7"),
        ("nesterov", "ancestors/nesterov.md", "With the same α = 0.04"),
        ("adagrad", "ancestors/adagrad.md", "With α = 0.5"),
        ("adam", "ancestors/adam.md", "With α = 0.1 and the default β's"),
    ],
)
def test_each_ancestor_reaches_the_stated_loss_on_the_bowl(
    name: str, page: str, phrase: str
) -> None:
    assert_states(page, phrase, f"$f(\\theta_{{100}}) =$ {sci(final_loss(name))}")


def test_the_comparisons_between_ancestors_hold() -> None:
    loss = {name: final_loss(name) for name in E.ANCESTORS}
    assert loss["momentum"] < loss["gradient-descent"]
    assert_states(
        "ancestors/momentum.md",
        "With α = 0.04 and μ = 0.7",
        f"against {sci(loss['gradient-descent'])} for gradient descent",
    )
    assert loss["nesterov"] < loss["momentum"]
    assert_states(
        "ancestors/nesterov.md",
        "With the same α = 0.04",
        f"against {sci(loss['momentum'])} for momentum",
    )
    # AdaGrad ends behind every method before it; Adam has the highest final loss
    assert all(loss["adagrad"] > loss[n] for n in ("gradient-descent", "momentum", "nesterov"))
    assert loss["adam"] == max(loss.values())
    assert -bowl("adagrad").steps[0] == pytest.approx([0.5, -0.5], rel=1e-8)


def test_adagrad_steps_only_shrink() -> None:
    cfg = E.ANCESTORS["adagrad"]
    opt = Optimizer(cfg, [E.THETA0.copy()], backend="numpy")
    rates = []
    for t in range(1, 60):
        opt.step([E.bowl_grad(opt.params[0], t)])
        rates.append(float(cfg.lr) / (np.sqrt(opt.state[0]["s"]) + float(cfg.eps)))
    assert np.all(np.diff(np.array(rates), axis=0) <= 0)


def test_rmsprop_is_kicked_out_of_the_optimum() -> None:
    loss = E.bowl_loss(bowl("rmsprop").thetas)
    best = int(loss.argmin())
    worst_after = best + int(loss[best:].argmax())
    assert_states(
        "ancestors/rmsprop.md",
        "travels to the optimum",
        f"$f(\\theta) =$ {sci(loss[best])} at step {best}",
    )
    assert_states(
        "ancestors/rmsprop.md",
        "Near the optimum the steps do not shrink",
        f"$f(\\theta) =$ {fixed(loss[worst_after])} at step {worst_after}",
    )
    steps = np.abs(bowl("rmsprop").steps[best:worst_after]).max(axis=1)
    assert steps.max() > 0.5 * 0.1  # the step climbed back towards α


def test_rmsprop_is_adam_without_momentum_and_bias_correction() -> None:
    grads = np.random.default_rng(0).standard_normal((50, 3))
    a, b = np.zeros(3), np.zeros(3)
    adam = Optimizer(
        Adam(lr=0.01, beta1=0, beta2=0.999, bias_correction=False), [a], backend="numpy"
    )
    rmsprop = Optimizer(RMSProp(lr=0.01, rho=0.999), [b], backend="numpy")
    for g in grads:
        adam.step([g])
        rmsprop.step([g])
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
    first = np.zeros(1)
    Optimizer(RMSProp(lr=0.01, rho=0.999), [first], backend="numpy").step([np.array([2.0])])
    assert -first[0] / 0.01 == pytest.approx(1 / np.sqrt(1 - 0.999), rel=1e-6)


def test_momentum_and_nesterov_stability_conditions() -> None:
    """Characteristic polynomials of the (θ, b) iteration on f = hθ²/2, and the bowl run that
    separates the two ranges (α = 0.1, μ = 0.5: αh = 2.5 across the valley)."""
    a, h, mu, lam = sp.symbols("alpha h mu lambda")
    heavy = sp.Matrix([[1 - a * h, -a * mu], [h, mu]])  # b' = μb + hθ; θ' = θ − αb'
    nesterov = sp.Matrix([[1 - a * h * (1 + mu), -a * mu**2], [h, mu]])  # θ' = θ − α(hθ + μb')
    p_heavy, p_nest = heavy.charpoly(lam).as_expr(), nesterov.charpoly(lam).as_expr()
    assert sp.expand(p_heavy - (lam**2 - (1 + mu - a * h) * lam + mu)) == 0
    # the root crosses −1 exactly at the stated limits of αh
    assert sp.simplify(sp.solve(p_heavy.subs(lam, -1), a)[0] - 2 * (1 + mu) / h) == 0
    assert (
        sp.simplify(sp.solve(p_nest.subs(lam, -1), a)[0] - 2 * (1 + mu) / (h * (1 + 2 * mu))) == 0
    )
    heavy_run = E.bowl_run(Momentum(lr=0.1, momentum=0.5), steps=200)
    nest_run = E.bowl_run(Nesterov(lr=0.1, momentum=0.5), steps=200)
    assert E.bowl_loss(heavy_run.thetas[-1]) < 1e-10
    assert E.bowl_loss(nest_run.thetas[-1]) > 1e3


def test_bias_correction_fixes_the_first_steps() -> None:
    parts = list(E.ADAM_PARTS.values())
    steps = [E.constant_gradient_steps(cfg) for cfg in parts]
    expected = [1 / np.sqrt(1 - 0.999), 0.1 / np.sqrt(1 - 0.999), 1.0]
    for s, first in zip(steps, expected):
        assert s[0] == pytest.approx(first, rel=1e-6)
    assert_states(
        "ancestors/adam.md",
        "The right panel feeds",
        f"{steps[0][0]:.1f}α (β₁ = 0) or {steps[1][0]:.2f}α (β₁ = 0.9)",
    )
    assert min(steps[0][999], steps[1][999]) > 1.2  # still far above α after 1000 steps
    np.testing.assert_allclose(steps[2], 1.0, atol=1e-7)  # Adam: α at every step


# --- practical Adam ------------------------------------------------------------------------------


def test_eps_sets_the_scale_where_adam_becomes_sgd() -> None:
    scales, by_eps = E.step_versus_eps()
    for eps, steps in by_eps.items():
        np.testing.assert_allclose(steps, scales / (scales + eps), rtol=1e-12)


def test_beta2_memory() -> None:
    runs = {beta2: E.gradient_jump(beta2, steps=n) for beta2, n in E.JUMP_RUNS}
    low, high = runs[0.99], runs[0.999]
    lag = {int(r[:, 0].argmax()) + 1 - 200 for r in (low, high)}
    assert lag == {13}
    assert_states(
        "practical.md",
        "**Jump up.**",
        f"at {fixed(low[:, 0].max())}α",
        f"at {fixed(high[:, 0].max())}α",
        "13 steps after the jump",
    )
    assert high[:, 0].max() > low[:, 0].max()
    back = [E.back_to(r[:, 1], 200, 2**-0.5) for r in (low, high)]
    estimate = [E.recovery_after_drop(b) for b in (0.99, 0.999)]
    assert_states(
        "practical.md",
        "**Drop.**",
        f"{estimate[0]:.0f} for β₂ = 0.99",
        f"takes {back[0]} steps",
        f"{estimate[1]:.0f} for β₂ = 0.999",
        f"takes {back[1]} (",
    )
    assert back[0] == pytest.approx(estimate[0], rel=0.03)
    assert back[1] < estimate[1]
    k, b = sp.symbols("k beta", positive=True)
    mean_age = sp.summation(k * (1 - b) * b**k, (k, 0, sp.oo)).subs(b, sp.Rational(999, 1000))
    assert sp.simplify(mean_age) == 999


def test_l2_decay_is_divided_by_sqrt_v_and_decoupled_decay_is_not() -> None:
    """The two update rules as the page writes them, against plain Adam fed by hand."""
    lr, lam = 0.01, 0.1
    grads = np.random.default_rng(5).standard_normal((20, 4))
    theta0 = np.array([1.0, -2.0, 0.5, 3.0])

    def run(
        cfg: Adam,
        feed: Callable[[np.ndarray, np.ndarray], np.ndarray],
        after: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        theta = theta0.copy()
        opt = Optimizer(cfg, [theta], backend="numpy")
        for g in grads:
            before = theta.copy()
            opt.step([feed(g, theta)])
            if after is not None:
                theta[:] = after(before, theta)
        return theta

    l2 = run(Adam(lr=lr, weight_decay=lam, decay=Decay.L2), lambda g, th: g)
    by_hand = run(Adam(lr=lr), lambda g, th: g + lam * th)
    np.testing.assert_allclose(l2, by_hand, rtol=1e-13)
    decoupled = run(Adam(lr=lr, weight_decay=lam, decay=Decay.DECOUPLED), lambda g, th: g)
    decoupled_by_hand = run(
        Adam(lr=lr), lambda g, th: g, after=lambda before, now: now - lr * lam * before
    )
    np.testing.assert_allclose(decoupled, decoupled_by_hand, rtol=1e-13)


def test_weight_decay_experiment() -> None:
    runs = E.weight_decay_runs()
    decoupled = [E.half_life(runs["decoupled"][:, k]) for k in range(3)]
    l2 = [E.half_life(runs["l2"][:, k]) for k in range(3)]
    ideal = np.log(2) / np.log(1 / (1 - 0.01 * 0.1))
    assert all(h is not None and h == pytest.approx(ideal, rel=0.1) for h in decoupled)
    assert_states(
        "practical.md",
        "With decoupled decay the mean θ halves",
        f"after {decoupled[0]}, {decoupled[1]} and {decoupled[2]} steps",
        f"= {ideal:.0f}",
        f"after {l2[0]} steps for σ = 0.01",
        f"{l2[1]} for σ = 1",
        f"still {fixed(runs['l2'][-1, 2])})",
    )
    assert l2[0] is not None and l2[0] < ideal / 5
    assert l2[1] == pytest.approx(ideal, rel=0.1)
    assert l2[2] is None


def test_l2_decay_without_data_moves_by_alpha_whatever_lambda() -> None:
    moves = []
    for lam in (1e-4, 1e-1):
        theta = np.array([1.0])
        opt = Optimizer(
            Adam(lr=0.01, beta1=0, weight_decay=lam, decay=Decay.L2), [theta], backend="numpy"
        )
        history = [theta.copy()]
        for _ in range(20):
            opt.step([np.zeros(1)])
            history.append(theta.copy())
        moves.append(-np.diff(np.array(history)[:, 0]))
    np.testing.assert_allclose(moves[0], moves[1], rtol=1e-3)  # λ drops out
    assert np.all((moves[0] > 0.9 * 0.01) & (moves[0] <= 0.01))  # about α per step


def test_early_steps_are_large_and_barely_directed() -> None:
    (_, adam, _), (_, no_bc, _), (_, warm_cfg, warm) = E.WARMUP_RUNS
    plain, uncorrected, warmed = (
        E.early_steps(adam),
        E.early_steps(no_bc),
        E.early_steps(warm_cfg, warmup=warm),
    )
    late = float(plain.size[199:300].mean())
    assert plain.size[0] == pytest.approx(1.0, abs=1e-6)
    assert uncorrected.size[0] == pytest.approx(0.1 / np.sqrt(0.001), rel=1e-4)
    assert warmed.size[0] == pytest.approx(0.01, rel=1e-6)
    assert_states(
        "practical.md",
        "With bias correction the first step is exactly α",
        f"only {100 * plain.right_way[0]:.1f}% of the",
        f"steps are {fixed(late)}α",
    )
    assert_states(
        "practical.md", "Without bias correction it is worse", f"{uncorrected.size[0]:.2f}α"
    )
    assert 1 / late == pytest.approx(5, rel=0.1)  # "five times larger"
    assert 0.6 < plain.right_way[199:300].mean() < 0.7  # "about two thirds"
    for other in (uncorrected, warmed):  # the direction is sign(m̂): the same in every run
        np.testing.assert_array_equal(other.right_way, plain.right_way)


# --- the pages themselves ------------------------------------------------------------------------


def test_every_figure_is_on_a_page_and_every_image_is_a_figure() -> None:
    figures = _load("learn_figures", LEARN / "_figures.py")
    used = set()
    for page in LEARN.rglob("*.md"):
        used |= set(re.findall(r"figures/([\w-]+)\.svg", page.read_text()))
    assert used == set(figures.FIGURES)


def test_every_errata_row_links_to_its_derivation() -> None:
    from adamproofs.derivations import DERIVATIONS

    anchors = set(DERIVATIONS)  # "All derivations" gives each one its name as anchor
    rows = [
        line
        for line in (DOCS / "errata.md").read_text().splitlines()
        if line.startswith("|") and not line.startswith(("| claim", "|---"))
    ]
    assert len(rows) >= 15
    for row in rows:
        last = row.rstrip(" |").rsplit("|", 1)[1]
        linked = re.findall(r"\(math/derivations\.md#([\w-]+)\)", last)
        assert linked, f"errata row without a derivation: {row[:60]!r}"
        assert set(linked) <= anchors, f"unknown derivation anchor in {row[:60]!r}"
    assert "diverges" not in (DOCS / "errata.md").read_text()


def test_exponents_print_in_reading_order() -> None:
    from adamproofs.derivations._render import latex
    from adamproofs.derivations._symbols import beta, i, t

    assert latex(beta ** (t - i)) == r"\beta^{t - i}"
    assert latex(beta ** (t + 1 - i)) == r"\beta^{t + 1 - i}"
    for page in LEARN.rglob("*.md"):
        assert "- i + t" not in page.read_text()
