"""The fast NumPy optimizers against the oracle, within the documented error bound.

Every comparison uses :func:`adamproofs.tolerance.error_bound` evaluated along
the exact trajectory: no hand-tuned rtol anywhere.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, target
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from adamproofs import Adam, reference
from adamproofs import strategies as aps
from adamproofs.dtypes import as_dtype, bfloat16_dtype, float_format
from adamproofs.fast import Optimizer
from adamproofs.fast import _compiled as compiled
from adamproofs.tolerance import error_bound
from adamproofs.variants import AXES

DTYPES = ["float16", "float32", "float64"] + (["bfloat16"] if bfloat16_dtype() else [])


def run_fast(cfg, theta0, grads, dtype, **options):
    """θ after every step (float64 copies) for the fast optimizer, and the optimizer."""
    p = np.array(theta0, dtype=np.float64).astype(as_dtype(dtype))
    opt = Optimizer(cfg, [p], **options)
    history = [p.astype(np.float64)]
    for g in grads:
        opt.step([np.asarray(g).astype(as_dtype(dtype))])
        history.append(p.astype(np.float64))
    return np.array(history), opt


def assert_within_bound(cfg, theta0, grads, dtype, **options):
    """Run fast and oracle on the same (dtype-rounded) inputs; compare under the bound."""
    dt = as_dtype(dtype)
    theta0 = np.asarray(theta0, dtype=np.float64).astype(dt)
    grads = np.asarray(grads, dtype=np.float64).astype(dt)
    history, opt = run_fast(cfg, theta0, grads, dt, **options)
    exact = reference.run(cfg, theta0, grads).to_numpy("float64")
    bound = error_bound(cfg, exact, compute_dtype=opt.state_dtypes[0], param_dtype=dt)
    excess = bound.excess(history, exact["theta"])
    finite = np.isfinite(bound.theta)
    worst = float(np.max(np.where(finite, excess, 0.0), initial=0.0))
    if currently_in_test_context():
        target(worst, label="error / bound")
    assert worst <= 1.0, (
        f"{cfg} in {dt.name}: error exceeds the bound by {worst:.3g}x; "
        f"step, coord = {np.unravel_index(np.argmax(np.where(finite, excess, 0)), excess.shape)}"
    )
    return history, exact, bound


# -- every variant and dtype ------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_every_adam_variant_agrees_with_the_oracle(dtype, data):
    cfg = data.draw(aps.adam_configs(), label="config")
    grads = data.draw(aps.gradient_sequences(shape=(3,), steps=12, dtype=dtype), label="grads")
    theta0 = data.draw(
        aps.gradient_sequences(shape=(3,), steps=1, dtype=dtype, zero_probability=0.2),
        label="theta0",
    )[0]
    assert_within_bound(cfg, theta0, grads, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@given(data=st.data())
def test_every_comparison_optimizer_agrees_with_the_oracle(dtype, data):
    cfg = data.draw(aps.optimizer_configs(), label="config")
    grads = data.draw(aps.gradient_sequences(shape=(3,), steps=10, dtype=dtype), label="grads")
    assert_within_bound(cfg, np.array([1.0, -2.0, 0.5]), grads, dtype)


#: Every combination of the update axes of :data:`adamproofs.variants.AXES` the kernels
#: implement: ε placement × bias correction × AMSGrad × decay form (with λ ≠ 0, plus λ = 0)
#: × maximize. (The other axes are the optimizer's own: one step counter per parameter,
#: and the compute precision is the state dtype.)
EVERY_VARIANT = list(
    itertools.product(
        AXES["eps_placement"].values,
        AXES["bias_correction"].values,
        AXES["amsgrad"].values,
        (*AXES["decay"].values, None),
        (False, True),
    )
)


def _variant_config(place, bias, form, decay, maximize) -> Adam:
    return Adam(
        lr=0.01,
        beta1=0.8,
        beta2=0.99,
        eps=1e-8,
        eps_placement=place,
        bias_correction=bias,
        amsgrad=form,
        weight_decay=0.1 if decay else 0.0,
        decay=decay or "l2",
        maximize=maximize,
    )


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_every_variant_on_each_backend_agrees_with_the_rules(backend):
    """The NumPy and the compiled kernel each follow the oracle's rules, for all 192
    variants, in float32 and float64, within the error model (no hand-set tolerance)."""
    if backend == "numba" and not compiled.numba_available():
        pytest.skip("numba not installed")
    assert len(EVERY_VARIANT) == 192
    rng = np.random.default_rng(21)
    theta0 = np.array([0.5, -1.25, 2.0, 0.0, 3.0], dtype=np.float32)
    grads = rng.standard_normal((10, 5)) * 10.0 ** rng.integers(-3, 2, (10, 5))
    grads = grads.astype(np.float32)  # exact in both dtypes: one oracle run serves both
    grads[::3, 1] = 0.0
    for variant in EVERY_VARIANT:
        cfg = _variant_config(*variant)
        exact = reference.run(cfg, theta0, grads).to_numpy("float64")
        for dtype in (np.float32, np.float64):
            history, opt = run_fast(cfg, theta0, grads, dtype, backend=backend)
            assert (opt.backend is not None) == (backend == "numba")
            bound = error_bound(cfg, exact, compute_dtype=dtype, param_dtype=dtype)
            excess = bound.excess(history, exact["theta"])
            assert np.all(np.isfinite(bound.theta)) and np.max(excess) <= 1.0, (
                f"{cfg.variant.describe()}, maximize={cfg.maximize}, {np.dtype(dtype).name}: "
                f"{backend} exceeds the bound by {np.max(excess):.3g}x"
            )


# -- gradient scaling -------------------------------------------------------------------


@given(
    cfg=aps.adam_configs(decay_forms=("decoupled", "decoupled_after")),
    grads=aps.gradient_sequences(shape=(3,), steps=10, min_magnitude=1e-3, max_magnitude=1e3),
    c=aps.scale_factors(min_exponent=-20, max_exponent=20, powers_of_two=True),
    dtype=aps.dtypes(names=("float32", "float64")),
)
def test_power_of_two_scaling_is_exactly_an_eps_rescaling(cfg, grads, c, dtype):
    """Δ(c·g; ε) = sign(c)·Δ(g; ε/|c|) (ε/|c|² inside the root): bit for bit when c = ±2^k."""
    k = abs(c)
    new_eps = float(cfg.eps) / (k * k if cfg.eps_placement == "root" else k)
    grads = grads.astype(dtype)
    scaled = (grads * c).astype(dtype)
    assume(np.all(np.isfinite(scaled)))
    fmt = float_format(dtype)
    lo = math.sqrt(fmt.smallest_normal) * 4
    nz = scaled[scaled != 0]
    assume(nz.size == 0 or (np.abs(nz).min() > lo and np.abs(nz).max() < math.sqrt(fmt.max) / 4))
    assume(new_eps == 0 or new_eps > fmt.smallest_normal)
    theta0 = np.array([0.5, -1.0, 2.0])
    a, _ = run_fast(cfg, theta0, scaled, dtype)
    twin = cfg.replace(eps=new_eps, maximize=cfg.maximize != (c < 0))
    b, _ = run_fast(twin, theta0, grads, dtype)
    np.testing.assert_array_equal(a, b)


@given(
    grads=aps.gradient_sequences(shape=(2,), steps=20, min_magnitude=1e-2, max_magnitude=1e2),
    c=aps.scale_factors(min_exponent=-9, max_exponent=9),
    dtype=aps.dtypes(names=("float32", "float64")),
)
def test_scaled_gradients_follow_the_exact_eps_deviation(grads, c, dtype):
    """With ε > 0 the oracle obeys Δ(c·g) = sign(c)·α·m̂/(√v̂ + ε/|c|); fast follows the oracle."""
    cfg = Adam(lr=0.01, eps=1e-8)
    scaled = (grads * c).astype(dtype)
    _, exact, _ = assert_within_bound(cfg, np.zeros(2), scaled, dtype)
    # the exact identity, in the oracle, on the very same (rounded) scaled gradients
    unscaled = scaled.astype(np.float64) / c  # exact back-scaling is not needed: use ε/|c|
    twin = reference.run(
        cfg.replace(eps=f"{1e-8 / abs(c)!r}", maximize=c < 0), np.zeros(2), unscaled
    ).to_numpy()["theta"]
    np.testing.assert_allclose(exact["theta"], twin, rtol=1e-12, atol=1e-300)


# -- sparsity ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("t", [1, 2, 10, 106, 500])
def test_severe_sparsity_closed_form(dtype, t):
    """g = 0 for t−1 steps then g_t ≠ 0, ε = 0: |Δ_t| = α (1−β1)/(1−β1^t) √((1−β2^t)/(1−β2))."""
    cfg = Adam(lr=1e-3, eps=0.0)
    grads = np.zeros((t, 1))
    grads[-1] = 0.37
    history, _, bound = assert_within_bound(cfg, [0.0], grads, dtype)
    b1, b2 = 0.9, 0.999
    r = (1 - b1) / (1 - b1**t) * math.sqrt((1 - b2**t) / (1 - b2))
    assert abs(abs(history[-1, 0]) - 1e-3 * r) <= bound.theta[-1, 0] + 1e-3 * r * 1e-13


@given(
    grads=aps.sparse_gradient_sequences(shape=(6,), steps=25, density=0.1),
    cfg=aps.adam_configs(allow_decay=False),
)
def test_mostly_zero_coordinates_agree_and_all_zero_ones_never_move(grads, cfg):
    grads[:, 0] = 0.0  # one coordinate never sees a gradient
    theta0 = np.linspace(-1, 1, 6)
    history, _, _ = assert_within_bound(cfg, theta0, grads, "float64")
    assert np.all(history[:, 0] == theta0[0])


# -- non-stationary objectives ----------------------------------------------------------


def _closed_loop(cfg, minimum, steps, dtype):
    """Drive the fast Adam by ∇ of (θ − c(t))²; return θ history and the gradients it saw."""
    p = np.zeros(2, dtype=dtype)
    opt = Optimizer(cfg, [p])
    hist, grads = [p.astype(np.float64)], []
    for t in range(1, steps + 1):
        g = (2 * (p.astype(np.float64) - minimum(t))).astype(dtype)
        grads.append(g.copy())
        opt.step([g])
        hist.append(p.astype(np.float64))
    return np.array(hist), np.array(grads)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["drift", "jump"])
def test_non_stationary_quadratic(dtype, kind):
    """Gradients come from the current θ; the oracle replays the gradients the fast one saw."""
    if kind == "drift":

        def minimum(t):
            return np.array([0.002 * t, -0.001 * t])
    else:

        def minimum(t):
            return np.array([1.0, -1.0]) if t <= 150 else np.array([-2.0, 3.0])

    cfg = Adam(lr=0.05)
    history, grads = _closed_loop(cfg, minimum, 300, dtype)
    exact = reference.run(cfg, np.zeros(2), grads).to_numpy()
    bound = error_bound(cfg, exact, compute_dtype=dtype)
    assert np.all(bound.excess(history, exact["theta"]) <= 1.0)
    # and it really tracks the moving minimum
    assert np.max(np.abs(history[-1] - minimum(300))) < 0.2


# -- first step, long horizons, extremes, many arrays -----------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@given(g=st.floats(1e-6, 1e3), negative=st.booleans(), eps=st.sampled_from([0.0, 1e-8, 1e-3]))
def test_first_step_identity(dtype, g, negative, eps):
    """Δ1 = α g/(|g| + ε), independent of β1, β2."""
    g = -g if negative else g
    g_d = float(np.array(g).astype(as_dtype(dtype)))
    assume(g_d != 0)
    cfg = Adam(lr=0.01, beta1=0.5, beta2=0.9, eps=eps)
    history, _, bound = assert_within_bound(cfg, [0.0], [[g_d]], dtype)
    expected = -0.01 * g_d / (abs(g_d) + eps)
    assert abs(history[1, 0] - expected) <= bound.theta[1, 0] + abs(expected) * 1e-15


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_long_horizon_where_beta2_matters(dtype):
    """t = 3000 with β2 = 0.999: bias correction of v still matters past t = 1000."""
    rng = np.random.default_rng(11)
    grads = rng.standard_normal((3000, 2)) * np.array([1e-2, 10.0])
    cfg = Adam(lr=1e-3)
    _, exact, _ = assert_within_bound(cfg, [1.0, -1.0], grads, dtype)
    uncorrected = reference.run(
        cfg.replace(bias_correction=False), [1.0, -1.0], grads.astype(dtype)
    ).to_numpy()["theta"]
    assert np.max(np.abs(uncorrected[-1] - exact["theta"][-1])) > 1e-3


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_tiny_gradients_whose_squares_underflow_stay_within_the_bound(dtype):
    fmt = float_format(dtype)
    tiny = math.sqrt(fmt.smallest_subnormal)  # g² underflows to (at most) a subnormal
    grads = np.full((5, 1), tiny)
    assert_within_bound(Adam(lr=0.01, eps=1e-8), [1.0], grads, dtype, state_dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_gradients_whose_squares_overflow_give_a_zero_step(dtype):
    """Documented behaviour: v = inf, so Δ = m̂/∞ = 0 and θ does not move (no NaN)."""
    fmt = float_format(dtype)
    huge = math.sqrt(fmt.max) * 4
    p = np.array([1.0], dtype=dtype)
    opt = Optimizer(Adam(), [p])
    opt.step([np.array([huge], dtype=dtype)])
    assert p[0] == 1.0 and np.isinf(opt.state[0]["v"][0])


def test_many_arrays_of_different_shapes_match_single_array_runs():
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (7,), (), (0,), (2, 1, 3), (40000,)]
    params = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(5)]
    cfg = Adam(lr=0.01, amsgrad="max_raw")
    together = [p.copy() for p in params]
    opt = Optimizer(cfg, together, chunk_size=1000)
    for gs in grads:
        opt.step(gs)
    for i, p0 in enumerate(params):
        alone = p0.copy()
        single = Optimizer(cfg, [alone])
        for gs in grads:
            single.step([gs[i]])
        np.testing.assert_array_equal(together[i], alone)
    small = [i for i, s in enumerate(shapes) if 0 < int(np.prod(s)) < 100]
    for i in small:
        flat_grads = np.array([gs[i].ravel() for gs in grads])
        exact = reference.run(cfg, params[i].ravel(), flat_grads).to_numpy()
        bound = error_bound(cfg, exact)
        assert np.all(np.abs(together[i].ravel() - exact["theta"][-1]) <= bound.theta[-1])
