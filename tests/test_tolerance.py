"""The first-order error model: it reads the oracle's trajectory and says where it applies."""

from __future__ import annotations

import numpy as np
import pytest

from adamproofs import Adam, reference
from adamproofs.config import AdaGrad, Momentum
from adamproofs.reference.rules import RULES
from adamproofs.tolerance import (
    MODELS,
    SAFETY,
    error_bound,
    local_error_bound,
    model_for,
)


def _readme_recipe(dtype: str):
    """The README's recipe, verbatim except for the dtype."""
    cfg = Adam(lr=1e-3)
    grads = np.random.default_rng(0).standard_normal((20, 4)).astype(np.float32)
    exact = reference.run(cfg, np.zeros(4, np.float32), grads).to_numpy("float64")
    return error_bound(cfg, exact, compute_dtype=dtype), exact


def test_readme_recipe_rejects_a_nonsense_float16_result():
    bound, exact = _readme_recipe("float16")
    assert not bound.is_valid  # float16 arithmetic: 1 − 0.999^t has too few digits
    nonsense = np.full_like(exact["theta"], 12345.0)
    nonsense[0] = exact["theta"][0]
    excess = bound.excess(nonsense, exact["theta"])
    assert np.all(excess[1:] > 1)  # no step accepts 12345.0
    assert np.all(np.isinf(excess[~bound.valid]))


def test_readme_recipe_accepts_the_exact_result_where_valid():
    bound, exact = _readme_recipe("float32")
    assert bound.is_valid and bound.valid.shape == exact["theta"].shape
    assert np.all(bound.excess(exact["theta"], exact["theta"]) == 0)


def test_every_optimizer_with_a_rule_has_an_error_model():
    assert set(MODELS) == set(RULES)
    for cls in RULES:
        assert model_for(cls()) is MODELS[cls]


def test_the_model_reads_the_state_and_says_what_is_missing():
    cfg = Adam(lr=0.01)
    exact = reference.run(cfg, [1.0, 2.0], [[0.5, -0.5], [0.25, 1.0]]).to_numpy("float64")
    with pytest.raises(ValueError, match=r"lacks \['m', 'v'\]"):
        error_bound(cfg, {"theta": exact["theta"], "grad": exact["grad"]})
    # the state is read, not recomputed: a different v changes the bound
    doubled = {**exact, "v": exact["v"] * 4}
    a = error_bound(cfg, exact, compute_dtype="float32").theta
    b = error_bound(cfg, doubled, compute_dtype="float32").theta
    assert not np.array_equal(a, b)


@pytest.mark.parametrize(
    "cfg",
    [Adam(lr=0.01), Adam(lr=0.01, weight_decay=0.1, decay="decoupled"), Momentum(), AdaGrad()],
)
def test_running_bound_is_the_shrunk_sum_of_local_bounds(cfg):
    rng = np.random.default_rng(4)
    exact = reference.run(cfg, rng.normal(size=3), rng.normal(size=(6, 3))).to_numpy()
    running = error_bound(cfg, exact, compute_dtype="float32").theta
    local = local_error_bound(cfg, exact, compute_dtype="float32")
    shrink = abs(1 - 0.01 * 0.1) if getattr(cfg, "decay", None) == "decoupled" else 1.0
    total = np.zeros(3)
    for k in range(6):
        total = shrink * total + local[k]
        np.testing.assert_allclose(running[k + 1], SAFETY * total, rtol=1e-12)


def test_local_bound_starts_each_step_from_the_given_theta():
    cfg = Adam(lr=0.01, weight_decay=0.5)  # L2 decay reads θ_{t-1}
    exact = reference.run(cfg, [1.0], [[0.5], [0.5], [0.5]]).to_numpy("float64")
    base = local_error_bound(cfg, exact, compute_dtype="float32")
    moved = local_error_bound(
        cfg, {**exact, "theta_before": exact["theta"][:-1] * 3}, compute_dtype="float32"
    )
    assert np.all(moved > base)  # larger |θ_{t-1}|, larger rounding of λθ
