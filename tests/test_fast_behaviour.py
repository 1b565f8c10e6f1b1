"""The fast optimizer's contract: in-place updates, no mutation of inputs, checkpoints, errors."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adamproofs import SGD, AdaGrad, Adam, AdaMax, RMSProp
from adamproofs import strategies as aps
from adamproofs.dtypes import bfloat16_dtype
from adamproofs.fast import Optimizer
from adamproofs.fast import functional as F


def _grads(rng, shapes, steps, dtype=np.float64):
    return [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]


@given(
    cfg=aps.optimizer_configs(),
    split=st.integers(0, 8),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
)
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


@pytest.mark.parametrize(
    "make",
    [
        lambda w: [w, w],  # tied weights passed twice
        lambda w: [w[:6], w[4:]],  # overlapping views
        lambda w: [np.zeros(2, np.float32), w, w.reshape(2, 5)],  # the same memory, reshaped
    ],
)
def test_parameters_sharing_memory_are_refused(make) -> None:
    w = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match=r"params\[\d\] and params\[\d\] share memory"):
        Optimizer(Adam(), make(w))


def test_adjacent_and_empty_parameters_are_accepted() -> None:
    w = np.zeros(10, np.float32)
    Optimizer(Adam(), [w[:5], w[5:], np.zeros(0, np.float32), np.zeros(0, np.float32)])


# -- the compiled plan ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cfg", "dtype", "name", "shown"),
    [
        (Adam(beta2=0.9999), "float16", "beta2", "0.9999"),
        (Adam(beta1="0.99999999999999999"), "float64", "beta1", "'0.99999999999999999'"),
        (Adam(beta2="0.999999999"), "float32", "beta2", "'0.999999999'"),
        (RMSProp(rho=0.99999), "float16", "rho", "0.99999"),
        (AdaMax(beta1=0.9999), "float16", "beta1", "0.9999"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
def test_a_beta_that_rounds_to_one_is_refused_when_the_plan_is_compiled(
    cfg, dtype, name, shown
) -> None:
    """β < 1 exactly, but 1 in the compute dtype: 1 - β^t would be 0 (NaN or 1/0 later)."""
    from adamproofs.errors import ConfigError
    from adamproofs.fast import compile_plan

    message = rf"{name}={re.escape(shown)} rounds to 1\.0 in {dtype}.*allowed: .*below 1"
    with pytest.raises(ConfigError, match=message):
        compile_plan(cfg, dtype)
    with pytest.raises(ConfigError, match=message):
        Optimizer(cfg, [np.ones(3, dtype)], state_dtype=dtype)
    if dtype != "float64":
        Optimizer(cfg, [np.ones(3, dtype)], state_dtype="float64")  # below 1 there


def test_assigning_a_config_recompiles_it_and_keeps_the_kind_and_state() -> None:
    from adamproofs.errors import ConfigError

    a, b = np.ones(2), np.ones(2)
    opt = Optimizer(Adam(lr=0.1), [a])
    opt.config = Adam(lr=0.2)
    opt.step([np.ones(2)])
    Optimizer(Adam(lr=0.2), [b]).step([np.ones(2)])
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="kind and state"):
        opt.config = Adam(lr=0.2, amsgrad="max_raw")  # would need a v_max it does not have
    with pytest.raises(ValueError, match="kind and state"):
        opt.config = SGD()
    half = Optimizer(Adam(), [np.ones(2, np.float16)], state_dtype="float16")
    with pytest.raises(ConfigError, match="beta2"):
        half.config = Adam(beta2=0.9999)
    assert half.config == Adam()  # unchanged


# -- learning-rate schedules ------------------------------------------------------------


def _swapping_configs(cfg, rates, start, grads, backend):
    p = start.copy()
    opt = Optimizer(cfg, [p], backend=backend)
    for rate, g in zip(rates, grads):
        opt.config = cfg.replace(lr=rate)
        opt.step([g])
    return p, opt


@pytest.mark.parametrize("backend", ["numpy", "auto"])
@given(cfg=aps.optimizer_configs(), dtype=st.sampled_from([np.float32, np.float64]))
def test_a_schedule_equals_setting_the_rate_before_each_step(cfg, dtype, backend) -> None:
    rng = np.random.default_rng(1)
    start = rng.standard_normal(7).astype(dtype)
    grads = [rng.standard_normal(7).astype(dtype) for _ in range(5)]
    rates = [float(cfg.lr) * 0.5**k for k in range(5)]
    expected, _ = _swapping_configs(cfg, rates, start, grads, backend)
    for lr in (lambda t: rates[t - 1], rates, np.array(rates)):
        p = start.copy()
        opt = Optimizer(cfg, [p], lr=lr, backend=backend)
        for g in grads:
            opt.step([g])
        np.testing.assert_array_equal(p, expected)


def test_a_schedule_follows_each_parameters_own_step_counter() -> None:
    """t is the parameter's counter (the one of 1 - β^t): a late parameter starts at α_1."""
    rates = [0.1, 0.01, 0.001]
    early, late = np.zeros(1), np.zeros(1)
    opt = Optimizer(Adam(), [early, late], lr=rates)
    opt.step([np.ones(1), None])
    opt.step([np.ones(1), np.ones(1)])
    fresh = np.zeros(1)
    Optimizer(Adam(lr=0.1), [fresh]).step([np.ones(1)])
    assert late[0] == fresh[0]


def _snapshot(opt):
    return [p.copy() for p in opt.params], opt.state_dict()


def _assert_unchanged(opt, before):
    params, sd = before
    for p, q in zip(opt.params, params):
        assert p.tobytes() == q.tobytes()
    now = opt.state_dict()
    assert now["steps"] == sd["steps"]
    for arrays, arrays0 in zip(now["state"], sd["state"]):
        assert all(arrays[k].tobytes() == arrays0[k].tobytes() for k in arrays0)


def test_a_table_that_runs_out_is_an_error_at_that_step_and_changes_nothing() -> None:
    params = [np.ones(3), np.ones(2)]
    opt = Optimizer(Adam(), params, lr=[0.1, 0.05])
    for _ in range(2):
        opt.step([np.ones(3), np.ones(2)])
    before = _snapshot(opt)
    with pytest.raises(ValueError, match=r"has 2 rates \(steps 1\.\.2\); step t=3"):
        opt.step([np.ones(3), np.ones(2)])
    _assert_unchanged(opt, before)


@pytest.mark.parametrize(
    ("rate", "error", "match"),
    [
        (-0.1, ValueError, r"returned -0\.1 for t=2; allowed: a finite real number >= 0"),
        (float("nan"), ValueError, r"returned nan for t=2"),
        (True, TypeError, r"returned True for t=2"),
        ("0.1", TypeError, r"returned '0\.1' for t=2"),
        (None, TypeError, r"returned None \(NoneType\) for t=2"),
    ],
)
def test_a_bad_rate_from_a_schedule_names_the_step_and_changes_nothing(rate, error, match) -> None:
    opt = Optimizer(Adam(), [np.ones(2)], lr=lambda t: 0.1 if t == 1 else rate)
    opt.step([np.ones(2)])
    before = _snapshot(opt)
    with pytest.raises(error, match=match):
        opt.step([np.ones(2)])
    _assert_unchanged(opt, before)


@pytest.mark.parametrize(
    ("lr", "error", "match"),
    [
        (0.1, TypeError, r"lr=0\.1 is a float; allowed: a function .*Adam\(lr=\.\.\.\)"),
        ("0.1", TypeError, r"lr='0\.1' is a str"),
        ([[0.1, 0.2]], ValueError, r"shape \(1, 2\); allowed: a non-empty 1-D"),
        ([], ValueError, r"shape \(0,\)"),
        ([0.1, -0.2], ValueError, r"lr\[1\] \(the rate of step t=2\) is -0\.2"),
        ([0.1, float("inf")], ValueError, r"lr\[1\] .* is inf"),
        ([True, False], TypeError, r"booleans"),
        (["a"], TypeError, r"not a sequence of real numbers"),
    ],
)
def test_bad_schedules_are_refused_upfront(lr, error, match) -> None:
    with pytest.raises(error, match=match):
        Optimizer(Adam(), [np.ones(2)], lr=lr)


def test_a_schedule_table_is_copied_and_never_written() -> None:
    rates = np.array([0.1, 0.2, 0.3])
    frozen = rates.copy()
    a, b = np.ones(2), np.ones(2)
    opt = Optimizer(Adam(), [a], lr=rates)
    rates[:] = 5.0  # changing the caller's array later does not change the schedule
    for _ in range(3):
        opt.step([np.ones(2)])
    reference = Optimizer(Adam(), [b], lr=list(frozen))
    for _ in range(3):
        reference.step([np.ones(2)])
    np.testing.assert_array_equal(a, b)
    assert opt.lr is not None and opt.lr.rate(3) == 0.3


def test_functional_update_takes_the_same_schedule() -> None:
    rng = np.random.default_rng(4)
    cfg = Adam(amsgrad="max_raw")
    params = [rng.standard_normal(4)]
    grads = [[rng.standard_normal(4)] for _ in range(3)]
    state = F.init(cfg, params)
    current = params
    for gs in grads:
        current, state = F.update(cfg, current, gs, state, lr=lambda t: 0.1 / t)
    inplace = [params[0].copy()]
    opt = Optimizer(cfg, inplace, lr=lambda t: 0.1 / t, backend="numpy")
    for gs in grads:
        opt.step(gs)
    np.testing.assert_array_equal(current[0], inplace[0])


# -- atomic steps -----------------------------------------------------------------------


def _three(dtype=np.float64, cfg=None, **options):
    params = [np.linspace(-1, 1, n).astype(dtype) for n in (5, 4, 3)]
    opt = Optimizer(cfg or Adam(lr=0.1, amsgrad="max_raw"), params, **options)
    opt.step([np.full(p.shape, 0.5, p.dtype) for p in params])
    return opt


@pytest.mark.parametrize("backend", ["numpy", "auto"])
def test_a_step_refused_for_its_third_gradient_changes_nothing(backend) -> None:
    opt = _three(backend=backend)
    before = _snapshot(opt)
    good = [np.ones(5), np.ones(4)]
    for third, error in [
        (np.ones(4), ValueError),
        (np.ones(3, np.float32), TypeError),
        ([1.0, 2.0, 3.0], TypeError),
        (opt.params[2], ValueError),
        (np.array([1.0, np.nan, 1.0]), None),
    ]:
        if error is None:  # nonfinite="raise" checks before writing as well
            opt.nonfinite = "raise"
            error = FloatingPointError
        with pytest.raises(error):
            opt.step([*good, third])
        _assert_unchanged(opt, before)


@pytest.mark.parametrize("mode", ["raise", "call"])
def test_a_floating_point_error_midway_restores_every_array(mode) -> None:
    """Under a raising np.errstate the step keeps a copy: the float64 group is written,
    the float32 one overflows (g² in float32), and both come back bit for bit."""
    params = [np.linspace(-1, 1, 6), np.linspace(-1, 1, 3).astype(np.float32)]
    opt = Optimizer(Adam(lr=0.1), params, backend="numpy")
    opt.step([np.full(6, 0.5), np.full(3, 0.5, np.float32)])
    before = _snapshot(opt)
    grads = [np.full(6, 0.25), np.array([1.0, 1e30, 1.0], np.float32)]

    def handler(kind, flag):
        raise FloatingPointError(kind)

    errstate = dict(all="raise") if mode == "raise" else dict(all="call", call=handler)
    with np.errstate(**errstate), pytest.raises(FloatingPointError, match="overflow"):
        opt.step(grads)
    _assert_unchanged(opt, before)
    with np.errstate(over="ignore"):
        opt.step(grads)  # the same step without the error goes through
    assert opt.steps == [2, 2] and not np.array_equal(params[0], before[0][0])


def test_warnings_turned_into_errors_are_raised_after_a_complete_step() -> None:
    """Under NumPy's default "warn" no copy is kept: the warnings are issued once the step is
    complete, so an escalated warning never leaves a half-written step."""
    import warnings

    def run(escalate):
        opt = Optimizer(Adam(lr=0.1), [np.ones(3), np.ones(2, np.float32)], backend="numpy")
        grads = [np.full(3, 0.5), np.array([1.0, 1e30], np.float32)]
        with warnings.catch_warnings():
            warnings.simplefilter("error" if escalate else "ignore")
            with np.errstate(all="warn"):
                if escalate:
                    with pytest.raises(RuntimeWarning, match="overflow encountered in the adam"):
                        opt.step(grads)
                else:
                    opt.step(grads)
        return opt

    escalated, quiet = run(True), run(False)
    assert escalated.steps == quiet.steps == [1, 1]
    for p, q in zip(escalated.params, quiet.params):
        assert p.tobytes() == q.tobytes()


def test_the_default_step_keeps_no_copy(monkeypatch) -> None:
    """The copy of :meth:`_run_restoring` is made only under a raising error state."""
    calls = []
    monkeypatch.setattr(
        Optimizer, "_run_restoring", lambda self, *a: calls.append(a) or Optimizer._run(self, *a)
    )
    opt = _three(backend="numpy")
    opt.step([np.ones(5), np.ones(4), np.ones(3)])
    assert not calls
    with np.errstate(invalid="raise"):
        opt.step([np.ones(5), np.ones(4), np.ones(3)])
    assert len(calls) == 1


# -- gradients that share a parameter's memory -------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda w, b: w,  # the parameter itself
        lambda w, b: b[3:8],  # a view overlapping it
        lambda w, b: b.reshape(4, 5)[1],  # a reshaped view of the buffer: exactly the parameter
        lambda w, b: np.lib.stride_tricks.as_strided(w, (5,), (0,)),  # w[0], five times
    ],
    ids=["itself", "view", "reshaped", "as_strided"],
)
def test_a_gradient_sharing_a_parameters_memory_is_refused(make) -> None:
    buffer = np.zeros(20)
    w = buffer[5:10]  # params: views of one buffer, as flat-parameter models have
    opt = Optimizer(Adam(), [buffer[10:15], w])
    before = _snapshot(opt)
    with pytest.raises(ValueError, match=r"grads\[1\] shares memory with params\[1\]"):
        opt.step([np.ones(5), make(w, buffer)])
    _assert_unchanged(opt, before)


def test_gradients_next_to_parameters_or_shared_between_them_are_accepted() -> None:
    buffer = np.zeros(30)
    params = [buffer[0:5], buffer[10:12]]
    opt = Optimizer(Adam(), params)
    g = buffer[20:25]
    g[:] = 1.0
    opt.step([g, g[:2]])  # one gradient memory for two parameters: read only
    opt.step([buffer[5:10], buffer[12:14]])  # right next to each parameter
    opt.step([g, buffer[7:13:5]])  # elements 7 and 12: bounds around params[1], no overlap
    assert opt.steps == [3, 3]


@pytest.mark.parametrize("backend", ["numpy", "auto"])
@given(
    cfg=aps.optimizer_configs(),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    strided=st.booleans(),
)
def test_gradients_are_left_bit_for_bit(cfg, dtype, strided, backend) -> None:
    rng = np.random.default_rng(3)
    p = rng.standard_normal(40).astype(dtype)
    g = rng.standard_normal(80 if strided else 40).astype(dtype)
    g[[0, 1, 2, 3]] = [np.nan, np.inf, -0.0, 0.0]
    g = g[::2] if strided else g
    g_bits = g.tobytes()
    opt = Optimizer(cfg, [p], backend=backend)
    with np.errstate(all="ignore"):
        for _ in range(2):
            opt.step([g])
    assert g.tobytes() == g_bits


# -- checkpoints that do not fit ----------------------------------------------------------


def _checkpoint():
    params = [np.ones(2), np.ones(3), np.ones((2, 2))]
    opt = Optimizer(Adam(amsgrad="max_raw"), params)
    opt.step([np.full(p.shape, 0.5) for p in params])
    return opt, opt.state_dict()


def _set(sd, path, value):
    target = sd
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return sd


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        (("steps", 1), 2.5, r"\['steps'\]\[1\] is 2\.5 \(float\); allowed: an int >= 0"),
        (("steps", 1), "3", r"\['steps'\]\[1\] is '3' \(str\)"),
        (("steps", 1), True, r"\['steps'\]\[1\] is True \(bool\)"),
        (("steps", 0), -1, r"\['steps'\]\[0\] is -1"),
        (("steps", 0), np.float64(1.0), r"\['steps'\]\[0\] is .*float64"),
        (("steps",), [1, 1], r"'steps'\] has 2 entries; this optimizer has 3"),
        (("steps",), "111", r"'steps'\] is a str"),
        (
            ("state", 2, "v"),
            np.full((2, 2), -1.0),
            r"\['state'\]\[2\]\['v'\] holds -1\.0 at flat "
            r"index 0; allowed: finite values >= 0",
        ),
        (
            ("state", 2, "vmax"),
            np.array([[1.0, 2.0], [np.inf, 1.0]]),
            r"\['state'\]\[2\]\['vmax'\] holds inf at flat index 2; allowed: finite values >= 0",
        ),
        (
            ("state", 1, "m"),
            np.array([0.0, np.nan, 0.0]),
            r"\['state'\]\[1\]\['m'\] holds nan at flat index 1; allowed: finite values$",
        ),
        (
            ("state", 1, "m"),
            np.zeros(3, np.float32),
            r"\['state'\]\[1\]\['m'\] has shape \(3,\) "
            r"dtype float32; allowed: shape \(3,\) dtype "
            r"float64",
        ),
        (("state", 1, "m"), np.zeros(4), r"\['state'\]\[1\]\['m'\] has shape \(4,\)"),
        (("state", 1, "m"), ["a", "b", "c"], r"dtype str"),
        (("state", 0), {"m": np.zeros(2)}, r"\['state'\]\[0\] has \['m'\], expected"),
        (("state",), [], r"holds 0 parameters, this optimizer has 3"),
    ],
)
def test_a_bad_checkpoint_names_its_entry_and_changes_nothing(path, value, match) -> None:
    opt, sd = _checkpoint()
    opt.step([np.full(p.shape, 0.25) for p in opt.params])  # differs from the checkpoint
    before = _snapshot(opt)
    with pytest.raises((ValueError, TypeError), match=match):
        opt.load_state_dict(_set(sd, path, value))
    _assert_unchanged(opt, before)


def test_a_checkpoint_that_is_not_a_state_dict_is_refused() -> None:
    opt, sd = _checkpoint()
    with pytest.raises(TypeError, match="state_dict is a list"):
        opt.load_state_dict([sd])
    del sd["steps"]
    with pytest.raises(ValueError, match=r"lacks \['steps'\]"):
        opt.load_state_dict(sd)


def test_a_valid_checkpoint_with_numpy_integer_steps_loads() -> None:
    opt, sd = _checkpoint()
    sd["steps"] = [np.int64(4), 0, np.uint8(1)]
    opt.load_state_dict(sd)
    assert opt.steps == [4, 0, 1] and all(type(s) is int for s in opt.steps)
