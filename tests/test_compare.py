"""Facts the comparison experiments rest on, not tuned rankings."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("joblib")

from adamproofs.compare._roster import ALL
from adamproofs.compare._runner import ProblemSpec, Task, run_grid, sweep
from adamproofs.compare.experiments import _reddi as reddi
from adamproofs.compare.experiments import _stepsize as stepsize
from adamproofs.config import Adam
from adamproofs.fast import Optimizer

U = 2.0**-53


# -- Reddi, Kale & Kumar -------------------------------------------------------------------


@pytest.fixture(scope="module")
def reddi_paths() -> dict[str, np.ndarray]:
    coef = reddi.theorem1_coefficients(reddi.QUICK_STEPS)
    return {label: reddi.online(cfg, coef) for label, cfg in reddi.theorem1_configs().items()}


def test_reddi_adam_ends_at_plus_one(reddi_paths: dict[str, np.ndarray]) -> None:
    # Their invariant: x_{3t+1} = 1 for Adam; the path's last row is x_{T+1} with T = 3000.
    assert reddi.QUICK_STEPS % 3 == 0
    for label in ("Adam (no bias correction)", "Adam (bias-corrected)"):
        path = reddi_paths[label][:, 0]
        assert path[-1] == 1.0, label
        assert path.min() > 0, label  # x_t > 0 throughout (the proof's other invariant)


def test_reddi_amsgrad_ends_near_minus_one(reddi_paths: dict[str, np.ndarray]) -> None:
    # Near -1: once AMSGrad has reached the boundary, one step moves x by at most
    # α_t|g_t|/√v̂_t ≤ α_t/√(1-β2) (v̂_t ≥ (1-β2)C² and |g_t| ≤ C), so within the last
    # 3-step cycle x stays within 3α/√(T-2)/√(1-β2) of -1.
    path = reddi_paths["AMSGrad"][:, 0]
    steps = len(path) - 1
    slack = 3 * reddi.ALPHA / math.sqrt(steps - 2) / math.sqrt(1 - reddi.BETA2)
    assert path[-1] <= -1 + slack
    assert np.all(path[-4:] <= -1 + slack)


def test_reddi_average_regret_limits(reddi_paths: dict[str, np.ndarray]) -> None:
    coef = reddi.theorem1_coefficients(reddi.QUICK_STEPS)
    adam = reddi.average_regret(reddi_paths["Adam (no bias correction)"], coef)[-1, 0]
    ams = reddi.average_regret(reddi_paths["AMSGrad"], coef)[-1, 0]
    # Adam at +1 pays 2(C-2)/3 per step on average; AMSGrad's regret is sublinear.
    assert adam > 0.9 * 2 * (reddi.C - 2) / 3
    assert ams < 0.1 * adam


def test_seeds_as_coordinates_equal_separate_runs() -> None:
    coef = reddi.stochastic_coefficients(300, (0, 1, 2))
    cfg = reddi.stochastic_configs()["AMSGrad"]
    together = reddi.online(cfg, coef)
    for j in range(3):
        alone = reddi.online(cfg, np.ascontiguousarray(coef[:, j : j + 1]))
        np.testing.assert_array_equal(together[:, j], alone[:, 0])


# -- every method converges on the quadratic ------------------------------------------------


def test_every_method_converges_on_the_quadratic() -> None:
    from adamproofs.compare.experiments import _quadratic as quadratic

    spec = ProblemSpec.of("adamproofs.compare._functions:quadratic", kappa=quadratic.KAPPA)
    sw = sweep(spec, ALL, quadratic.GRID, range(5), quadratic.STEPS)
    for opt in ALL:
        for res in sw.best_runs(opt):
            assert not res.diverged
            assert res.losses[-1] <= 1e-3 * res.losses[0], (opt, sw.best_lr(opt))
            assert np.linalg.norm(res.theta) <= 0.05 * math.sqrt(2 * res.losses[0]), opt


# -- step size: measured |Δ|/α against the exact worst case S(t) ----------------------------


@pytest.mark.parametrize(
    ("b1", "b2", "t", "expected"),
    [
        # values from reference/adam-math.md §4.3 (mpmath, 60 digits)
        (0.9, 0.999, 2, 1.0013579),
        (0.9, 0.999, 10, 1.0431077),
        (0.9, 0.999, 100, 2.2433641),
        (0.9, 0.999, 1000, 5.7811602),
        (0.9, 0.99, 100, 1.8673530),
        (0.99, 0.999, 1000, 1.8282423),
    ],
)
def test_S_matches_the_reference_table(b1: float, b2: float, t: int, expected: float) -> None:
    assert stepsize.S(t, b1, b2) == pytest.approx(expected, abs=1e-7)


def test_S_limit_and_first_exceedance() -> None:
    assert stepsize.S_limit(0.9, 0.999) == pytest.approx(7.2702918, abs=1e-7)
    first = next(t for t in range(1, 1000) if stepsize.S(t, 0.9, 0.999) > 10 / math.sqrt(10))
    assert first == 210  # reference/adam-math.md §4.3


@pytest.mark.parametrize(("b1", "b2"), stepsize.PAIRS)
def test_measured_step_never_exceeds_S(b1: float, b2: float) -> None:
    steps = 300
    grads, _ = stepsize.sequences(steps, b1, b2, seed=7, per_family=40)
    ratio = stepsize.measure(grads, b1, b2)
    bound = np.array([stepsize.ratio_bound(t, b1, b2) for t in range(1, steps + 1)])
    assert np.all(ratio <= bound[:, None])
    # ... and the bound is attained (to rounding) by the maximiser, column 0.
    s_t = np.array([stepsize.S(t, b1, b2) for t in range(1, steps + 1)])
    assert np.all(ratio[:, 0] >= s_t * (2 - bound / s_t))


# -- bias correction -------------------------------------------------------------------------


def test_first_step_without_bias_correction_is_larger() -> None:
    for b2 in (0.99, 0.999, 0.9999):
        for on in (True, False):
            theta = np.zeros(4)
            Optimizer(Adam(lr=1e-3, beta2=b2, bias_correction=on), [theta]).step([np.full(4, 1.0)])
            # |Δ1| = α(1-β1)g/((1-β1)... : α·(1-β1)/(√(1-β2)+ε) off, α/(1+ε) on (g = 1)
            from adamproofs.compare.experiments._bias_correction import first_step_over_lr

            expected = 1e-3 * first_step_over_lr(b2, on)
            assert np.allclose(-theta, expected, rtol=1e-8 / math.sqrt(1 - b2) + 1e-12)


def test_bias_correction_on_is_stable_where_off_is_not() -> None:
    pytest.importorskip("sklearn")  # the digits
    from adamproofs.compare.experiments._bias_correction import config

    # a tanh autoencoder (NumPy gradients): the first steps without correction are
    # (1-β1)/√(1-β2) = 10 times α at β2 = 0.9999, enough to throw the loss up
    spec = ProblemSpec.of(
        "adamproofs.compare._models:mlp",
        hidden=(32,),
        activation="tanh",
        dropout=0.0,
        task="autoencode",
        batch=128,
    )
    seeds = range(3)
    cells = [(lr, on) for lr in (1e-2, 3e-2) for on in (True, False)]
    tasks = [
        Task(spec, "adam", lr, s, 25, config=config(0.9999, lr, on))
        for lr, on in cells
        for s in seeds
    ]
    results = iter(run_grid(tasks))
    for lr, on in cells:
        for s in seeds:
            res = next(results)
            peak = float(np.max(res.losses)) / res.losses[0]
            if on:
                assert peak <= 1.0, (lr, s)  # never above the initial loss
            else:
                assert peak > 2.0, (lr, s)  # blows up early


# -- Newton ----------------------------------------------------------------------------------


def test_newton_converges_in_one_step_on_the_quadratic() -> None:
    from adamproofs.compare._functions import Quadratic
    from adamproofs.compare._newton import newton

    rng = np.random.default_rng(3)
    n = 2
    q_, _ = np.linalg.qr(rng.standard_normal((n, n)))
    h = q_ @ np.diag([1.0, 20.0]) @ q_.T
    opt = np.array([0.7, -1.3])
    theta0 = np.array([-4.0, 1.5])
    trace = newton(
        lambda th: 0.5 * (th - opt) @ h @ (th - opt),
        lambda th: h @ (th - opt),
        lambda th: h,
        theta0,
        1,
    )

    # Error analysis (n = 2, u = 2^-53): g = H(θ0-θ*) has |δg| ≤ γ_3|H||θ0-θ*|; LU with
    # partial pivoting is backward stable with |δH| ≤ γ_{3n}·ρ_n|H|, ρ_2 ≤ 2; so
    # ‖d̃-d‖ ≤ κ(H)(γ_3 + 2γ_6)·‖|H|‖‖θ0-θ*‖/‖H‖ /(1-κ·2γ_6) in the 2-norm (‖|H|‖ ≤ √n‖H‖),
    # plus the final subtraction θ0 - d̃ (≤ u‖θ1‖).
    def gamma(k: int) -> float:
        return k * U / (1 - k * U)

    kappa = np.linalg.cond(h)
    e0 = np.linalg.norm(theta0 - opt)
    tol = (
        kappa * (gamma(3) + 2 * gamma(6)) * math.sqrt(n) * e0 / (1 - kappa * 2 * gamma(6))
        + U * np.linalg.norm(trace.thetas[1])
        + U * np.linalg.norm(opt)
    )
    assert np.linalg.norm(trace.thetas[1] - opt) <= tol
    # and the diagonal quadratic of problem 1: g_i = h_i θ0_i and d_i = g_i / h_i are one
    # rounding each, so d_i = θ0_i(1+δ)(1+δ') and θ1_i = θ0_i − d_i (exact, Sterbenz) is
    # at most (2u + u²)|θ0_i|; with ‖θ0‖ = ‖(-4, 1.5)‖ < 4.3 the norm is below 4u·4.3.
    q = Quadratic()
    t2 = newton(
        lambda th: q.loss(th, 0),
        lambda th: q.grad(th, 0, None),
        lambda th: q.hessian,
        np.array([-4.0, 1.5]),
        1,
    )
    assert np.linalg.norm(t2.thetas[1] - q.opt) <= 4 * U * 4.3


def test_newton_rejects_a_bad_hessian() -> None:
    from adamproofs.compare._newton import newton_step

    with pytest.raises(ValueError, match=r"hessian has shape \(3,\); expected \(2, 2\)"):
        newton_step(np.ones(2), np.ones(3))
    with pytest.raises(FloatingPointError, match="non-finite"):
        newton_step(np.ones(2), np.array([[1.0, np.nan], [0.0, 1.0]]))


def test_newton_does_not_mutate_theta0() -> None:
    from adamproofs.compare._newton import newton

    theta0 = np.array([1.0, 2.0])
    keep = theta0.copy()
    newton(lambda th: float(th @ th), lambda th: 2 * th, lambda th: 2 * np.eye(2), theta0, 2)
    np.testing.assert_array_equal(theta0, keep)


# -- models: hand-written gradients against finite differences ------------------------------


@pytest.mark.parametrize("which", ["softmax", "mlp_relu_dropout", "autoencoder", "sparse"])
def test_model_gradients_match_central_differences(which: str) -> None:
    pytest.importorskip("sklearn")
    from adamproofs.compare import _models as models

    rng = np.random.default_rng(0)
    if which == "softmax":
        m = models.SoftmaxRegression(batch=32)
    elif which == "mlp_relu_dropout":
        m = models.MLP(hidden=(12, 8), dropout=0.3, batch=32)
    elif which == "autoencoder":
        m = models.MLP(hidden=(8,), activation="tanh", dropout=0.0, task="autoencode", batch=32)
    else:
        m = models.SparseLogistic(batch=32, dropout=0.5, n_docs=200, vocab=300)
    theta = m.init(rng) + 0.05 * rng.standard_normal(m.dim)
    state = np.random.default_rng(11).bit_generator.state

    def stoch(th: np.ndarray) -> np.ndarray:  # same minibatch and dropout mask every call
        r = np.random.default_rng()
        r.bit_generator.state = state
        return m.grad(th, 1, r)

    def stoch_loss(th: np.ndarray) -> float:
        r = np.random.default_rng()
        r.bit_generator.state = state
        if which == "sparse":
            idx = models.batch_indices(m.n_docs, m.batch, r)
            from scipy import sparse

            rows = m.x[idx]  # scipy's own slicing: an independent check of the gather
            val = (r.random(rows.nnz) >= m.dropout) / (1.0 - m.dropout)
            xb = sparse.csr_matrix((val, rows.indices, rows.indptr), shape=rows.shape)
            logits = xb @ th[:-1] + th[-1]
            yb = m.y[idx]
            return float(np.mean(np.logaddexp(0.0, logits) - yb * logits))
        idx = models.batch_indices(m.x.shape[0], m.batch, r)
        args = (r,) if isinstance(m, models.MLP) else ()
        return m.loss_grad(th, idx, *args)[0]

    g = stoch(theta)
    h = 1e-6
    for i in rng.choice(m.dim, 12, replace=False):
        e = np.zeros(m.dim)
        e[i] = h
        fd = (stoch_loss(theta + e) - stoch_loss(theta - e)) / (2 * h)
        assert fd == pytest.approx(g[i], abs=1e-6 * (1 + abs(g[i])))


# -- runner: deterministic, independent of n_jobs ---------------------------------------------


def test_grid_results_do_not_depend_on_jobs() -> None:
    spec = ProblemSpec.of(
        "adamproofs.compare._functions:moving_target", kind="jump", dim=4, horizon=60, period=20
    )
    tasks = [
        Task(spec, o, lr, s, 60) for o in ("adam", "adagrad") for lr in (0.1, 1.0) for s in (0, 1)
    ]
    one = run_grid(tasks, jobs=1)
    two = run_grid(tasks, jobs=2)
    again = run_grid(tasks, jobs=1)
    for a, b, c in zip(one, two, again):
        np.testing.assert_array_equal(a.losses, b.losses)
        np.testing.assert_array_equal(a.losses, c.losses)
        np.testing.assert_array_equal(a.theta, b.theta)


def test_optimize_leaves_theta0_alone_and_rejects_bad_schedule() -> None:
    from adamproofs.compare._functions import Quadratic
    from adamproofs.compare._runner import optimize

    theta0 = np.array([1.0, 1.0])
    optimize(Quadratic(), Adam(lr=0.1), 5, 0, theta0=theta0)
    np.testing.assert_array_equal(theta0, [1.0, 1.0])
    with pytest.raises(ValueError, match="schedule='cosine' is not one of"):
        optimize(Quadratic(), Adam(), 5, 0, schedule="cosine")


# -- CLI -------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """The ``compare`` sub-command exactly as ``adamproofs.cli`` registers it (without
    importing the other sub-commands)."""
    import argparse

    from adamproofs.compare import _cli as cli

    parser = argparse.ArgumentParser(prog="adamproofs")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_is_registered_by_the_dispatcher() -> None:
    from adamproofs.cli import SUBCOMMANDS

    assert SUBCOMMANDS["compare"] == "adamproofs.compare._cli"


def test_cli_writes_the_promised_files(tmp_path, capsys) -> None:
    pytest.importorskip("matplotlib")
    from adamproofs.compare._cli import expected_files

    out = tmp_path / "cmp"
    assert (
        main(
            [
                "compare",
                "quadratic",
                "reddi",
                "--quick",
                "--out",
                str(out),
                "--optimizer",
                PLAIN_SGD,
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "[1/2] quadratic" in err and "quadratic: " in err  # progress
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["problems"]) == {"quadratic", "reddi"}
    assert manifest["seeds"] >= 5 and manifest["mode"] == "quick"
    assert manifest["command"].startswith("adamproofs compare quadratic reddi --quick")
    assert PLAIN_SGD in manifest["command"] and manifest["optimizers_added"] == [PLAIN_SGD]
    assert manifest["wall_seconds"] > 0 and manifest["date"][:2] == "20"
    assert manifest["versions"]["numpy"] == np.__version__
    for problem in ("quadratic", "reddi"):
        for rel in expected_files(problem):
            path = out / rel
            assert path.is_file() and path.stat().st_size > 0, rel
            if rel.endswith(".png"):
                assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            if rel.endswith(".svg"):
                assert b"<svg" in path.read_bytes()[:1000]
        data = json.loads((out / problem / "results.json").read_text())
        with (out / problem / "results.csv").open() as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == len(data["table"]) > 0
        md = (out / problem / "summary.md").read_text()
        assert all(
            f"({stem}.png)" in md for stem in (f.removesuffix(".png") for f in data["figures"])
        )
        header = next(line for line in md.splitlines() if line.startswith("| "))
        assert "_" not in header, header  # readable headers, not column keys
    quad = json.loads((out / "quadratic" / "results.json").read_text())
    assert {r["optimizer"] for r in quad["table"]} >= {"Adam", "AdaGrad", "GD / SGD", "PlainSGD"}
    # the first finding names the optimizers with the lowest and highest final loss
    table = quad["table"]
    lowest = min(table, key=lambda r: float(r["final_mean"]))["optimizer"]
    highest = max(table, key=lambda r: float(r["final_mean"]))["optimizer"]
    assert quad["findings"][0].startswith(f"Lowest loss after {quadratic_steps()} steps")
    assert f": {lowest} (" in quad["findings"][0] and f"highest: {highest} (" in quad["findings"][0]
    # GD's grid holds its optimal step 2/(1+κ)
    assert 2 / 21 in quad["numbers"]["lr_grid"]["sgd"]
    index = (out / "summary.md").read_text()
    assert "(quadratic/summary.md)" in index and "(reddi/summary.md)" in index


def quadratic_steps() -> int:
    from adamproofs.compare.experiments import _quadratic as quadratic

    return quadratic.STEPS


def test_cli_rerun_of_some_problems_keeps_the_others_and_lists_both_runs(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "cmp"
    assert main(["compare", "reddi", "--quick", "--out", str(out)]) == 0
    first = json.loads((out / "manifest.json").read_text())
    reddi_json = (out / "reddi" / "results.json").read_bytes()
    assert main(["compare", "stepsize", "--quick", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["problems"]) == ["reddi", "stepsize"]  # the compare order
    assert manifest["problems"]["reddi"] == first["problems"]["reddi"]
    assert set(manifest["seconds_per_problem"]) == {"reddi", "stepsize"}
    assert [r["problems"] for r in manifest["runs"]] == [["reddi"], ["stepsize"]]
    assert manifest["runs"][0]["command"] == first["command"]
    assert manifest["runs"][0]["date"] == first["date"]
    assert manifest["command"] == manifest["runs"][1]["command"]
    assert manifest["command"].startswith("adamproofs compare stepsize --quick")
    assert (out / "reddi" / "results.json").read_bytes() == reddi_json  # not rerun
    index = (out / "summary.md").read_text()
    assert index.index("(reddi/summary.md)") < index.index("(stepsize/summary.md)")
    assert first["command"] in index and manifest["command"] in index
    reddi = json.loads(reddi_json)
    assert reddi["findings"][0].replace("|", "\\|") in index


def test_a_run_with_other_settings_starts_a_new_manifest(tmp_path) -> None:
    from adamproofs.compare._cli import earlier_manifest

    (tmp_path / "manifest.json").write_text(
        json.dumps({"mode": "full", "seeds": 5, "optimizers_added": [], "problems": {"reddi": []}})
    )
    assert earlier_manifest(tmp_path, "full", 5, [])["problems"] == {"reddi": []}
    assert earlier_manifest(tmp_path, "quick", 5, []) is None
    assert earlier_manifest(tmp_path, "full", 3, []) is None
    assert earlier_manifest(tmp_path, "full", 5, ["m:Opt"]) is None
    assert earlier_manifest(tmp_path / "absent", "full", 5, []) is None


def test_cli_rejects_unknown_problem(tmp_path, capsys) -> None:
    assert main(["compare", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown problem(s) 'nope'; allowed: quadratic" in capsys.readouterr().err


def test_scheduled_rate_equals_replace_and_rejects_bad_rates() -> None:
    from adamproofs.compare._runner import scheduled

    for cfg in (Adam(lr=0.1, beta2=0.99, amsgrad="max_raw"), Adam(lr=1.0, beta1=0.0)):
        assert scheduled(cfg, 0.025) == cfg.replace(lr=0.025)
        assert float(cfg.lr) != 0.025  # the original is untouched
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="must be a finite positive float"):
            scheduled(Adam(), bad)


# -- learning-rate grids: the best rate must be interior, else widen or report ---------------


def _bowl(optimum: float, diverge_above: float = math.inf):
    """A synthetic sweep: score = (log10 α − log10 α*)², +inf above ``diverge_above``;
    records every cell it is asked for."""
    asked: list[tuple[str, float]] = []

    def evaluate(cells: list[tuple[str, float]]) -> dict[tuple[str, float], float]:
        asked.extend(cells)
        return {
            (o, lr): (
                math.inf if lr > diverge_above else (math.log10(lr) - math.log10(optimum)) ** 2
            )
            for o, lr in cells
        }

    return evaluate, asked


def test_widening_moves_the_grid_until_the_best_rate_is_interior() -> None:
    from adamproofs.compare import _lrsearch as lrsearch

    grid = (1e-3, 3e-3, 1e-2)
    evaluate, asked = _bowl(optimum=0.3)
    checks, scores = lrsearch.widen({"x": grid}, evaluate, max_widenings=10)
    c = checks["x"]
    assert c.edge is None and c.best == 0.3
    # one point added per widening, each the next half-decade above the previous end
    assert c.grid[:3] == grid and len(c.grid) == 3 + c.widenings
    for lo, hi in zip(c.grid[2:], c.grid[3:]):
        assert hi == lrsearch.beyond(lo, "high")
    assert c.grid[-1] > c.best  # a worse point above the best closes the bracket
    assert asked == [("x", lr) for lr in c.grid]  # every cell evaluated exactly once
    assert set(scores) == set(asked)


def test_widening_is_bounded_and_reports_the_edge() -> None:
    from adamproofs.compare import _lrsearch as lrsearch

    evaluate, asked = _bowl(optimum=1e6)
    checks, _ = lrsearch.widen({"x": (1e-3, 3e-3, 1e-2)}, evaluate, max_widenings=2)
    assert checks["x"].widenings == 2 and len(asked) == 5
    assert checks["x"].edge == "high" and checks["x"].best == max(checks["x"].grid)
    assert checks["x"].describe() == "at high end"
    # diverging rates push the grid down: every rate above 1e-4 diverges
    evaluate, _ = _bowl(optimum=1e-6, diverge_above=1e-4)
    checks, _ = lrsearch.widen({"y": (1e-3, 1e-2)}, evaluate, max_widenings=0)
    assert checks["y"].edge == "low"  # reported, not widened
    checks, _ = lrsearch.widen({"y": (1e-3, 1e-2)}, evaluate, max_widenings=20)
    assert checks["y"].edge is None and checks["y"].best == 1e-6


def test_widening_leaves_interior_grids_alone_and_checks_its_input() -> None:
    from adamproofs.compare import _lrsearch as lrsearch

    evaluate, asked = _bowl(optimum=3e-3)
    grids = {"a": [1e-3, 3e-3, 1e-2]}
    checks, _ = lrsearch.widen(grids, evaluate, max_widenings=3)
    assert checks["a"].widenings == 0 and checks["a"].edge is None and len(asked) == 3
    assert grids == {"a": [1e-3, 3e-3, 1e-2]}  # not mutated
    # a rate off the half-decade grid (GD's 2/(1+κ)) is extended by √10
    assert lrsearch.beyond(2 / 21, "high") == pytest.approx(2 / 21 * math.sqrt(10))
    assert lrsearch.beyond(0.3, "high") == 1.0 and lrsearch.beyond(1.0, "low") == 0.3
    with pytest.raises(ValueError, match="max_widenings=-1 must be >= 0"):
        lrsearch.widen(grids, evaluate, -1)
    with pytest.raises(ValueError, match=r"grid of 'a' is \(0.0, 1.0\)"):
        lrsearch.widen({"a": (0.0, 1.0)}, evaluate, 1)


def test_sweep_widens_a_real_grid_on_the_quadratic() -> None:
    spec = ProblemSpec.of("adamproofs.compare._functions:quadratic", kappa=20.0)
    # GD's best constant rate is near 2/(1+κ) ≈ 0.095, far above this grid
    sw = sweep(spec, ("sgd",), (1e-4, 3e-4, 1e-3), range(2), 60, max_widenings=6)
    edge = sw.edge("sgd")
    assert edge.edge is None and edge.widenings > 0
    assert sw.grids["sgd"] == edge.grid and sw.best_lr("sgd") == edge.best
    assert all((("sgd", lr, s) in sw.runs) for lr in edge.grid for s in range(2))
    row = sw.table()[0]
    assert row["grid_edge"] == "inside" and row["seeds"] == 2


# -- families: bands over >= 5 seeds, held-out loss, users' optimizers ------------------------


class PlainSGD:
    """θ ← θ − α g, in the plain protocol of ``adamproofs check`` (tests the plug-in)."""

    def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
        self.params, self.lr = params, lr

    def step(self, grads):
        for p, g in zip(self.params, grads):
            if g is not None:
                p -= self.lr * g


PLAIN_SGD = f"{PlainSGD.__module__}:{PlainSGD.__qualname__}"


@pytest.fixture(scope="module")
def tiny_family(tmp_path_factory):
    """A tiny experiment family (softmax regression, 2 optimizers + the plug-in, 5 seeds)."""
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    from adamproofs.compare._roster import plugin_key
    from adamproofs.compare.experiments import Context
    from adamproofs.compare.experiments._common import family, sweep_rows

    ctx = Context(
        out=tmp_path_factory.mktemp("fam"),
        seeds=5,
        quick=True,
        plugins=(plugin_key(PLAIN_SGD),),
        max_widenings=0,
    )
    spec = ProblemSpec.of("adamproofs.compare._models:softmax_regression", batch=64)
    grid = (0.3, 1.0, 3.0)
    sw, figs = family(
        ctx,
        "tiny",
        spec,
        ("sgd", "adam"),
        {"sgd": grid, "adam": (0.01, 0.1)},
        12,
        record_every=4,
        what="tiny",
    )
    return ctx, sw, sweep_rows(sw), figs


def test_family_bands_have_five_seeds_and_heldout_losses(tiny_family) -> None:
    from adamproofs.compare._models import SoftmaxRegression

    ctx, sw, rows, figs = tiny_family
    assert len(sw.seeds) == 5 and all(r["seeds"] == 5 for r in rows)
    problem = SoftmaxRegression(batch=64)
    for opt in sw.optimizers:
        runs = sw.best_runs(opt)
        assert len(runs) == 5
        for res in runs:
            assert res.heldout is not None and res.heldout.shape == res.losses.shape
            # the held-out curve is the held-out loss of the parameters at each record
            assert res.heldout[-1] == problem.heldout_loss(res.theta)
            assert res.heldout[-1] != res.losses[-1]
    for stem, _ in figs:
        assert (ctx.out / "tiny" / f"{stem}.png").is_file()
    for r in rows:
        assert math.isfinite(r["heldout_mean"]) and r["heldout_loss"].count("±") == 1


def test_heldout_rows_are_never_trained_on() -> None:
    pytest.importorskip("sklearn")
    from adamproofs.compare._data import digits, digits_split

    x, _ = digits()
    xtr, ytr, xte, yte = digits_split()
    assert xtr.shape[0] + xte.shape[0] == x.shape[0]
    train = {row.tobytes() + bytes([label]) for row, label in zip(xtr, ytr)}
    test = {row.tobytes() + bytes([label]) for row, label in zip(xte, yte)}
    assert not train & test
    assert set(np.unique(yte)) == set(range(10))


def test_band_needs_two_seeds() -> None:
    pytest.importorskip("matplotlib")
    from adamproofs.compare import _figures as figures

    plt = figures.plt()
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="a band needs at least 2 seeds; got 1"):
        figures.band(ax, np.arange(3), [np.ones(3)], "adam")
    plt.close(fig)


def test_plugged_optimizer_runs_every_cell_and_matches_builtin_sgd(tiny_family) -> None:
    from adamproofs.compare._roster import plugin_key

    _, sw, rows, _ = tiny_family
    key = plugin_key(PLAIN_SGD)
    assert key in sw.optimizers
    assert "PlainSGD" in {r["optimizer"] for r in rows}
    # without a grid of its own it gets every rate of the problem's grids
    assert set(sw.grids[key]) == {0.01, 0.1, 0.3, 1.0, 3.0}
    # θ ← θ − α g is exactly what the fast SGD computes: identical runs at shared rates
    for lr in sw.grids["sgd"]:
        for s in sw.seeds:
            np.testing.assert_array_equal(sw.runs[key, lr, s].losses, sw.runs["sgd", lr, s].losses)
            np.testing.assert_array_equal(
                sw.runs[key, lr, s].heldout, sw.runs["sgd", lr, s].heldout
            )


def test_plugin_errors_are_clear(tmp_path, capsys) -> None:
    assert (
        main(["compare", "quadratic", "--quick", "--optimizer", "nocolon", "--out", str(tmp_path)])
        == 2
    )
    assert "--optimizer 'nocolon'" in capsys.readouterr().err
    assert (
        main(
            [
                "compare",
                "quadratic",
                "--quick",
                "--optimizer",
                "no_such_module_x:Opt",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "cannot import module 'no_such_module_x'" in capsys.readouterr().err


# -- findings come from the numbers ---------------------------------------------------------


def _rows(values: dict[str, tuple[float, float]]) -> list[dict]:
    return [
        {
            "optimizer": k,
            "final_mean": m,
            "final_std": s,
            "heldout_mean": m + 0.1,
            "heldout_std": s,
            "grid_edge": "inside",
        }
        for k, (m, s) in values.items()
    ]


def test_findings_follow_the_numbers() -> None:
    from adamproofs.compare import _findings as findings
    from adamproofs.compare.experiments._common import family_findings

    a = _rows({"Adam": (0.10, 0.01), "AdaGrad": (0.50, 0.01), "GD": (0.30, 0.01)})
    text = findings.ranking(a, "final_mean", "final_std", "loss")
    assert text.startswith("Lowest loss: Adam (0.1 ± 0.01); highest: AdaGrad (0.5")
    # swap the numbers: the sentence changes with them
    b = _rows({"Adam": (0.50, 0.01), "AdaGrad": (0.10, 0.01), "GD": (0.30, 0.01)})
    text = findings.ranking(b, "final_mean", "final_std", "loss")
    assert text.startswith("Lowest loss: AdaGrad (0.1 ± 0.01); highest: Adam (0.5")
    # overlapping spreads are named, separated ones are not
    c = _rows(
        {"Adam": (0.10, 0.05), "AdaGrad": (0.12, 0.05), "GD": (0.90, 0.01), "SGD": (1.0, 0.01)}
    )
    text = findings.ranking(c, "final_mean", "final_std", "loss")
    assert "Within one standard deviation of the lowest: AdaGrad." in text
    assert "GD" not in text.split("Within")[1]
    assert "inside its grid" in family_findings(a)[-1]
    a[1]["grid_edge"] = "at high end"
    assert family_findings(a)[-1].endswith("AdaGrad (at high end).")


def test_bias_correction_findings_follow_the_numbers() -> None:
    from adamproofs.compare.experiments._bias_correction import BETA2S, correction_findings

    def rows(on_better: bool) -> list[dict]:
        out = []
        for b2 in BETA2S:
            for on in (True, False):
                loss = 1.0 if on == on_better else 2.0
                out.append(
                    {
                        "beta2": b2,
                        "bias_correction": on,
                        "final_loss_mean": loss,
                        "final_loss": f"{loss:g}",
                        "best_lr": 0.01,
                    }
                )
        return out

    assert all("lower with bias correction" in f for f in correction_findings(rows(True)))
    assert all("lower without bias correction" in f for f in correction_findings(rows(False)))


# -- the committed full run ----------------------------------------------------------------

RESULTS = Path(__file__).resolve().parents[1] / "results" / "compare"
FAMILIES = ("logistic", "sparse", "mlp", "cnn")


def _floats(row: dict) -> dict:
    return {k: float(v) if v in ("inf", "-inf") else v for k, v in row.items()}


@pytest.mark.skipif(not (RESULTS / "manifest.json").is_file(), reason="no committed run")
@pytest.mark.parametrize("problem", FAMILIES)
def test_committed_findings_are_the_numbers_of_their_table(problem: str) -> None:
    from adamproofs.compare import _findings as findings
    from adamproofs.compare.experiments._common import family_findings

    manifest = json.loads((RESULTS / "manifest.json").read_text())
    assert manifest["mode"] == "full" and manifest["seeds"] >= 5
    assert all(" --full " in run["command"] for run in manifest.get("runs", [manifest]))
    assert problem in manifest["problems"]
    data = json.loads((RESULTS / problem / "results.json").read_text())
    if data["skipped"]:
        pytest.skip(data["skipped"])
    rows = [_floats(r) for r in data["table"]]
    assert all(r["seeds"] >= 5 for r in rows)
    assert all(
        math.isfinite(r["heldout_mean"]) or r["heldout_mean"] == math.inf for r in rows
    )  # held-out loss recorded for every optimizer
    assert data["findings"] == family_findings(rows)
    assert data["findings"][0] == findings.ranking(
        rows, "final_mean", "final_std", "final training loss"
    )
    edges = data["numbers"]["grid_edges"]
    for r in rows:
        edge = edges[r["key"]]["edge"]
        assert r["grid_edge"] == ("inside" if edge is None else f"at {edge} end")
        grid = data["numbers"]["lr_grid"][r["key"]]
        if edge is None:
            assert min(grid) < r["best_lr"] < max(grid)
