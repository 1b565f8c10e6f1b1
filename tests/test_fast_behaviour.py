"""The fast optimizer's contract: in-place updates, no mutation of inputs, checkpoints, errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adamproofs import SGD, AdaGrad, Adam, RMSProp
from adamproofs import strategies as aps
from adamproofs.dtypes import bfloat16_dtype
from adamproofs.fast import Optimizer
from adamproofs.fast import functional as F


def _grads(rng, shapes, steps, dtype=np.float64):
    return [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]


@given(cfg=aps.optimizer_configs(), split=st.integers(0, 8),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]))
def test_resume_from_a_checkpoint_is_bit_identical(cfg, split, dtype):
    rng = np.random.default_rng(split)
    shapes = [(5,), (2, 3)]
    grads = _grads(rng, shapes, 8, dtype)
    start = [rng.standard_normal(s).astype(dtype) for s in shapes]
    straight = [p.copy() for p in start]
    opt = Optimizer(cfg, straight)
    for gs in grads:
        opt.step(gs)
    resumed = [p.copy() for p in start]
    first = Optimizer(cfg, resumed)
    for gs in grads[:split]:
        first.step(gs)
    saved = first.state_dict()
    saved_params = [p.copy() for p in resumed]
    del first
    params2 = [p.copy() for p in saved_params]
    second = Optimizer(cfg, params2)
    second.load_state_dict(saved)
    for gs in grads[split:]:
        second.step(gs)
    for a, b in zip(straight, params2):
        np.testing.assert_array_equal(a, b)


def test_state_dict_is_a_copy_both_ways():
    p = np.ones(4)
    opt = Optimizer(Adam(), [p])
    opt.step([np.ones(4)])
    sd = opt.state_dict()
    sd["state"][0]["m"][:] = 123.0
    assert not np.any(opt.state[0]["m"] == 123.0)
    opt.load_state_dict(sd)
    sd["state"][0]["m"][:] = -5.0
    assert np.all(opt.state[0]["m"] == 123.0)


def test_load_state_dict_rejects_a_mismatch():
    opt = Optimizer(Adam(), [np.ones(3)])
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="saved for"):
        Optimizer(Adam(lr=0.5), [np.ones(3)]).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameters"):
        Optimizer(Adam(), [np.ones(3), np.ones(2)]).load_state_dict(sd)
    with pytest.raises(ValueError, match="shape"):
        Optimizer(Adam(), [np.ones(4)]).load_state_dict(sd)


@given(cfg=aps.optimizer_configs())
def test_gradients_are_never_mutated_and_params_only_in_place(cfg):
    rng = np.random.default_rng(0)
    p = rng.standard_normal(10)
    g = rng.standard_normal(10)
    g_copy = g.copy()
    same_object = p
    Optimizer(cfg, [p]).step([g])
    assert np.array_equal(g, g_copy)
    assert p is same_object


def test_functional_update_mutates_nothing_and_matches_the_optimizer():
    rng = np.random.default_rng(2)
    cfg = Adam(lr=0.1, amsgrad="max_uncorrected", weight_decay=0.1, decay="decoupled")
    params = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    frozen = copy.deepcopy(params)
    state = F.init(cfg, params)
    state_copy = copy.deepcopy(state)
    grads = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    new_params, new_state = F.update(cfg, params, grads, state)
    for a, b in zip(params, frozen):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(state["state"][0]["m"], state_copy["state"][0]["m"])
    assert state["steps"] == [0, 0] and new_state["steps"] == [1, 1]
    inplace = copy.deepcopy(params)
    Optimizer(cfg, inplace).step(grads)
    for a, b in zip(new_params, inplace):
        np.testing.assert_array_equal(a, b)


@given(chunk=st.integers(1, 50), cfg=aps.optimizer_configs())
def test_results_do_not_depend_on_the_chunk_size(chunk, cfg):
    rng = np.random.default_rng(chunk)
    start = rng.standard_normal(123).astype(np.float32)
    grads = [rng.standard_normal(123).astype(np.float32) for _ in range(4)]
    a, b = start.copy(), start.copy()
    oa, ob = Optimizer(cfg, [a], chunk_size=chunk), Optimizer(cfg, [b], chunk_size=4096)
    for g in grads:
        oa.step([g])
        ob.step([g])
    np.testing.assert_array_equal(a, b)


def test_a_parameter_without_gradient_is_skipped_and_its_counter_waits():
    """Per-parameter step counters: a late first gradient gets the t = 1 update."""
    late, early = np.zeros(1), np.zeros(1)
    opt = Optimizer(Adam(lr=0.1), [early, late])
    for _ in range(3):
        opt.step([np.ones(1), None])
    assert late[0] == 0.0 and opt.steps == [3, 0]
    opt.step([np.ones(1), np.ones(1)])
    fresh = np.zeros(1)
    Optimizer(Adam(lr=0.1), [fresh]).step([np.ones(1)])
    assert late[0] == fresh[0] and opt.steps == [4, 1]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_nan_and_inf_propagate_to_their_own_coordinate_only(dtype):
    p = np.ones(3, dtype=dtype)
    opt = Optimizer(Adam(), [p])
    opt.step([np.array([np.nan, np.inf, 1.0], dtype=dtype)])
    assert np.isnan(p[0]) and np.isnan(p[1]) and np.isfinite(p[2])


def test_nonfinite_raise_and_skip_leave_everything_unchanged():
    for mode in ("raise", "skip"):
        p = np.ones(3)
        opt = Optimizer(Adam(), [p], nonfinite=mode)
        opt.step([np.full(3, 0.5)])
        before_p, before_state = p.copy(), opt.state_dict()
        bad = np.array([0.5, np.nan, 0.5])
        if mode == "raise":
            with pytest.raises(FloatingPointError, match=r"grads\[0\].*nan.*index 1"):
                opt.step([bad])
        else:
            opt.step([bad])
        np.testing.assert_array_equal(p, before_p)
        assert opt.steps == [1]
        np.testing.assert_array_equal(opt.state[0]["v"], before_state["state"][0]["v"])


def test_float16_zero_gradient_stays_finite_with_the_default_state_policy():
    """The fp16 eps-underflow bug (0/0 = NaN) cannot happen: state and math run in float32."""
    p = np.ones(4, dtype=np.float16)
    opt = Optimizer(Adam(eps=1e-8), [p])
    assert opt.state_dtypes[0] == np.float32
    for _ in range(3):
        opt.step([np.zeros(4, dtype=np.float16)])
    assert np.all(p == 1)


def test_explicit_float16_state_rounds_eps_to_zero_and_keeps_the_zero_over_zero_rule():
    """ε = 1e-8 rounds to 0 in float16; the kernel then applies 0/0 := 0 (no NaN)."""
    from adamproofs.fast import compile_plan

    assert compile_plan(Adam(eps=1e-8), np.float16).scalars(1).eps == 0
    p = np.ones(2, dtype=np.float16)
    opt = Optimizer(Adam(eps=1e-8), [p], state_dtype="float16")
    opt.step([np.zeros(2, dtype=np.float16)])
    assert np.all(p == 1)
    opt.step([np.array([1.0, 0.0], dtype=np.float16)])
    assert np.isfinite(p).all() and p[1] == 1


@pytest.mark.skipif(bfloat16_dtype() is None, reason="ml_dtypes not installed")
def test_bfloat16_parameters_use_float32_state():
    bf16 = bfloat16_dtype()
    p = np.ones(3, dtype=bf16)
    opt = Optimizer(Adam(lr=0.5), [p])
    opt.step([np.ones(3, dtype=bf16)])
    assert opt.state_dtypes[0] == np.float32 and p.dtype == bf16
    assert float(p[0]) == 0.5


@pytest.mark.parametrize("cfg", [Adam(), SGD(), AdaGrad(), RMSProp()], ids=lambda c: c.name)
def test_empty_arrays_are_fine(cfg):
    p = np.zeros((0, 3))
    Optimizer(cfg, [p]).step([np.zeros((0, 3))])


def test_bad_inputs_raise_clear_errors():
    good = np.ones(3)
    with pytest.raises(TypeError, match="int64"):
        Optimizer(Adam(), [np.ones(3, dtype=np.int64)])
    with pytest.raises(TypeError, match=r"numpy\.ndarray"):
        Optimizer(Adam(), [[1.0, 2.0]])
    with pytest.raises(TypeError, match="list of arrays"):
        Optimizer(Adam(), good)
    with pytest.raises(ValueError, match="C-contiguous"):
        Optimizer(Adam(), [np.ones((4, 4))[:, 0]])
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        Optimizer(Adam(), [frozen])
    with pytest.raises(TypeError, match="less precise"):
        Optimizer(Adam(), [np.ones(3)], state_dtype="float32")
    with pytest.raises(TypeError, match=r"expected an adamproofs\.config"):
        Optimizer({"lr": 0.1}, [good])
    with pytest.raises(ValueError, match="nonfinite"):
        Optimizer(Adam(), [good], nonfinite="ignore")
    opt = Optimizer(Adam(), [good])
    with pytest.raises(ValueError, match=r"shape \(4,\).*shape \(3,\)"):
        opt.step([np.ones(4)])
    with pytest.raises(TypeError, match=r"float32.*float64"):
        opt.step([np.ones(3, dtype=np.float32)])
    with pytest.raises(ValueError, match="2 gradients for 1 parameters"):
        opt.step([np.ones(3), np.ones(3)])
    with pytest.raises(TypeError, match="complex128"):
        Optimizer(Adam(), [np.ones(3, dtype=complex)])


@pytest.mark.parametrize("make", [
    lambda w: [w, w],  # tied weights passed twice
    lambda w: [w[:6], w[4:]],  # overlapping views
    lambda w: [np.zeros(2, np.float32), w, w.reshape(2, 5)],  # the same memory, reshaped
])
def test_parameters_sharing_memory_are_refused(make) -> None:
    w = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match=r"params\[\d\] and params\[\d\] share memory"):
        Optimizer(Adam(), make(w))


def test_adjacent_and_empty_parameters_are_accepted() -> None:
    w = np.zeros(10, np.float32)
    Optimizer(Adam(), [w[:5], w[5:], np.zeros(0, np.float32), np.zeros(0, np.float32)])
