"""The oracle: agreement with an independent computation, enclosures, exact inputs, locality."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from adamproofs import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, RMSProp, reference
from adamproofs import strategies as aps
from adamproofs.reference import Storage, round_to_format


def decimal_adam(theta0, grads, *, lr, b1, b2, eps, prec=90):
    """Algorithm 1 written independently with Python's decimal module (no mpmath)."""
    with localcontext() as ctx:
        ctx.prec = prec
        D = Decimal
        lr, b1, b2, eps = D(lr), D(b1), D(b2), D(eps)
        theta = [D(x) for x in theta0]
        m = [D(0)] * len(theta)
        v = [D(0)] * len(theta)
        out = []
        for t, g in enumerate(grads, start=1):
            for i, gi in enumerate(g):
                gi = D(float(gi))
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                mhat = m[i] / (1 - b1**t)
                vhat = v[i] / (1 - b2**t)
                theta[i] = theta[i] - lr * mhat / (vhat.sqrt() + eps)
            out.append(list(theta))
        return out


@given(
    grads=aps.gradient_sequences(shape=(3,), steps=8),
    theta0=st.lists(st.floats(-10, 10), min_size=3, max_size=3),
)
def test_oracle_matches_an_independent_decimal_algorithm_1_to_40_digits(grads, theta0):
    tr = reference.run(
        Adam(lr="0.01", beta1="0.9", beta2="0.999", eps="1e-8"), theta0, grads, dps=50
    )
    expected = decimal_adam(theta0, grads, lr="0.01", b1="0.9", b2="0.999", eps="1e-8")
    for t, row in enumerate(expected, start=1):
        for x, y in zip(tr.thetas[t], row):
            x, y = to_fraction(x), Fraction(y)  # both exact: compare as rationals
            assert abs(x - y) <= abs(y) * Fraction(1, 10**40) + Fraction(1, 10**60), (t, x, y)


#: Both spellings of mpmath arithmetic: "mp" (MPFR underneath when gmpy2 is installed) and
#: "mpmath" (always plain mpmath); every behaviour below must hold for both.
BOTH_PATHS = pytest.mark.parametrize("arith", ["mp", "mpmath"])


def to_fraction(x) -> Fraction:
    """The exact rational value of an mpf."""
    sign, man, exp, _ = x._mpf_
    return (-1) ** sign * Fraction(man) * Fraction(2) ** exp


def test_interval_mode_encloses_the_point_result_and_a_higher_precision_one():
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((30, 4)) * 10.0 ** rng.uniform(-4, 2, size=(30, 4))
    cfg = Adam(lr=0.05, amsgrad="max_raw", weight_decay=0.01)
    point = reference.run(cfg, np.ones(4), grads, dps=50)
    fine = reference.run(cfg, np.ones(4), grads, dps=80)
    box = reference.run(cfg, np.ones(4), grads, dps=50, arithmetic="iv")
    for k in range(31):
        for name in ("theta", "m", "v", "vmax"):
            rows = [
                tr.thetas[k] if name == "theta" else tr.states[k][name] for tr in (point, fine, box)
            ]
            for p, f, b in zip(*rows):
                assert b.a <= p <= b.b and b.a <= f <= b.b
    assert box.correct_digits() > 40


def test_precision_is_local_and_never_leaks_into_mpmath_globals():
    before = (mpmath.mp.dps, mpmath.mp.prec, mpmath.iv.dps)
    seen = []

    def grad(theta, t):
        seen.append(mpmath.mp.dps)
        return 2 * theta

    tr = reference.run(Adam(lr=0.1), [1.0, -2.0], grad, steps=5, dps=120)
    tr.correct_digits()
    reference.run(Adam(), [1.0], [[1.0]], arithmetic="iv", dps=70)
    assert (mpmath.mp.dps, mpmath.mp.prec, mpmath.iv.dps) == before
    assert set(seen) == {before[0]}
    # the run itself used 120 digits: the result carries 120-digit values
    assert tr.correct_digits() > 100


@BOTH_PATHS
def test_floats_are_taken_exactly_and_strings_as_decimals(arith):
    as_float = reference.run(SGD(lr=1), [0.1], [[0.0]], arithmetic=arith)
    as_string = reference.run(SGD(lr=1), ["0.1"], [[0.0]], arithmetic=arith)
    exact_float = Fraction(0.1)
    x = as_float.thetas[0][0]
    assert to_fraction(x) == exact_float
    assert abs(to_fraction(as_string.thetas[0][0]) - Fraction(1, 10)) < Fraction(1, 10**49)
    # float32 input: its own exact value, not the decimal it prints as
    f32 = reference.run(SGD(lr=1), np.array([0.1], dtype=np.float32), [[0.0]], arithmetic=arith)
    assert float(f32.thetas[0][0]) == float(np.float32(0.1))


@BOTH_PATHS
def test_first_step_identity_holds_to_the_working_precision(arith):
    g = [3.5, -1e-9, 2e-8, 0.0]
    cfg = Adam(lr="0.001", eps="1e-8")
    theta, _ = reference.step(cfg, [0.0] * 4, g, dps=60, arithmetic=arith)
    for th, gi in zip(theta, g):
        gi = Fraction(gi)
        expected = -Fraction("0.001") * gi / (abs(gi) + Fraction("1e-8"))  # exact rational
        assert abs(to_fraction(th) - expected) <= Fraction(1, 10**55) * abs(expected)


def test_constant_gradient_gives_exact_weighted_means():
    tr = reference.run(Adam(lr=0.01, eps=0.0), [0.0], [[0.75]] * 50, arithmetic="sympy")
    for t in range(1, 51):
        m, v = tr.states[t]["m"][0], tr.states[t]["v"][0]
        bc1 = 1 - sympy.Rational(Fraction(0.9)) ** t
        bc2 = 1 - sympy.Rational(Fraction(0.999)) ** t
        assert sympy.simplify(m / bc1 - sympy.Rational(3, 4)) == 0
        assert sympy.simplify(v / bc2 - sympy.Rational(9, 16)) == 0


def test_sympy_symbols_give_the_unrolled_moments():
    b1, b2, lr, eps = sympy.symbols("beta1 beta2 alpha epsilon", positive=True)
    g = sympy.symbols("g1:6")
    tr = reference.run(
        Adam(),
        [0],
        [[gi] for gi in g],
        arithmetic="sympy",
        hyper=dict(beta1=b1, beta2=b2, lr=lr, eps=eps),
    )
    for t in range(1, 6):
        unrolled_m = (1 - b1) * sum(b1 ** (t - i) * g[i - 1] for i in range(1, t + 1))
        unrolled_v = (1 - b2) * sum(b2 ** (t - i) * g[i - 1] ** 2 for i in range(1, t + 1))
        assert sympy.expand(tr.states[t]["m"][0] - unrolled_m) == 0
        assert sympy.expand(tr.states[t]["v"][0] - unrolled_v) == 0


@BOTH_PATHS
def test_correct_digits_reports_the_working_precision(arith):
    rng = np.random.default_rng(0)
    tr = reference.run(
        Adam(), rng.standard_normal(3), rng.standard_normal((20, 3)), dps=30, arithmetic=arith
    )
    assert 25 <= tr.correct_digits() <= 30


@pytest.mark.parametrize(
    ("run_arith", "step_arith"),
    [("mp", "mp"), ("mpmath", "mpmath"), ("mp", "mpmath"), ("mpmath", "mp")],
)
def test_step_from_a_state_continues_a_run_exactly(run_arith, step_arith):
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((6, 2))
    cfg = Adam(lr=0.1, amsgrad="max_corrected")
    whole = reference.run(cfg, [1.0, 2.0], grads, arithmetic=run_arith)
    state3 = {name: whole.state(name, 3) for name in ("m", "v", "vmax")}
    theta4, state4 = reference.step(
        cfg, whole.theta(3), grads[3], state3, t=3, arithmetic=step_arith
    )
    assert list(theta4) == whole.thetas[4]
    assert list(state4["vmax"]) == whole.states[4]["vmax"]


def test_gradient_function_drives_a_non_stationary_objective():
    """θ-dependent gradients of a quadratic whose minimum drifts: the run follows it."""

    def grad(theta, t):
        return 2 * (theta - 0.01 * t)

    tr = reference.run(Adam(lr=0.05), [0.0], grad, steps=400)
    replay = reference.run(Adam(lr=0.05), [0.0], tr.grads)  # the recorded exact gradients
    assert replay.thetas[-1][0] == tr.thetas[-1][0]  # the same gradients, the same run
    assert abs(float(tr.thetas[-1][0]) - 4.0) < 0.5  # it tracks the moving minimum 0.01 t


@pytest.mark.parametrize(
    "cfg", [AdaMax(), SGD(), Momentum(), Nesterov(), AdaGrad(), RMSProp()], ids=lambda c: c.name
)
def test_every_optimizer_has_a_rule_that_runs_in_every_arithmetic(cfg):
    grads = [[1.0, 0.0], [-0.5, 0.0], [0.25, 0.0]]
    point = reference.run(cfg, [1.0, 1.0], grads)
    box = reference.run(cfg, [1.0, 1.0], grads, arithmetic="iv")
    exact = reference.run(cfg, [1.0, 1.0], grads, arithmetic="sympy")
    for p, b, e in zip(point.thetas[-1], box.thetas[-1], exact.thetas[-1]):
        assert b.a <= p <= b.b
        assert abs(float(e) - float(p)) <= 1e-15 * max(1.0, abs(float(p)))
    assert float(point.thetas[-1][1]) == 1.0  # a coordinate with zero gradients stays put


def test_zero_over_zero_is_zero_when_eps_is_zero():
    tr = reference.run(Adam(eps=0.0), [1.0], [[0.0]] * 3)
    assert [float(r[0]) for r in tr.thetas] == [1.0] * 4


@pytest.mark.parametrize("dtype", ["float16", "float32", "bfloat16"])
def test_round_to_format_is_correct_rounding(dtype):
    from adamproofs.dtypes import as_dtype

    np_dtype = as_dtype(dtype)
    rng = np.random.default_rng(7)
    xs = rng.standard_normal(2000) * 10.0 ** rng.uniform(-45, 39, size=2000)
    fmt_max = {
        "float16": 65504.0,
        "float32": 3.4028234663852886e38,
        "bfloat16": 3.3895313892515355e38,
    }[dtype]
    for x in xs:
        expected = float(np.array(x).astype(np_dtype))  # numpy casts float64 correctly
        got = round_to_format(float(x), dtype)
        if math.isinf(expected):
            assert abs(x) > fmt_max and math.isinf(got)
        else:
            assert got == expected, (x, got, expected)


def test_storage_model_reproduces_updates_lost_in_float16():
    """Updates below half an ulp of θ vanish when θ is stored in float16; the oracle models it."""
    grads = [[1.0]] * 20
    stored = reference.run(SGD(lr=1e-4), [1.0], grads, storage=Storage(params="float16"))
    exact = reference.run(SGD(lr=1e-4), [1.0], grads)
    assert float(stored.thetas[-1][0]) == 1.0  # 1e-4 < half an ulp of 1.0 in float16
    assert abs(float(exact.thetas[-1][0]) - 0.998) < 1e-12


@BOTH_PATHS
def test_bad_inputs_are_rejected_with_clear_messages(arith):
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        reference.run(Adam(), [0.0, 0.0], [[1.0, 2.0, 3.0]], arithmetic=arith)
    with pytest.raises(ValueError, match="steps is required"):
        reference.run(Adam(), [0.0], lambda th, t: th, arithmetic=arith)
    with pytest.raises(TypeError, match="True"):
        reference.run(Adam(), [True], [[1.0]], arithmetic=arith)
    with pytest.raises(ValueError, match="dps"):
        reference.run(Adam(), [0.0], [[1.0]], dps=10, arithmetic=arith)
    with pytest.raises(ValueError, match="arithmetic"):
        reference.run(Adam(), [0.0], [[1.0]], arithmetic="float")
    with pytest.raises(ValueError, match="state0"):
        reference.run(Adam(), [0.0], [[1.0]], state0={"m": [0.0]}, arithmetic=arith)
    with pytest.raises(ValueError, match="hyper override"):
        reference.run(Adam(), [0.0], [[1.0]], hyper={"momentum": 0.5}, arithmetic=arith)
    with pytest.raises(ValueError, match="steps=2 but only 1"):
        reference.run(Adam(), [0.0], [[1.0]], steps=2, arithmetic=arith)
    with pytest.raises(ValueError, match="t0"):
        reference.run(Adam(), [0.0], [[1.0]], t0=-1, arithmetic=arith)


@BOTH_PATHS
def test_inputs_are_not_mutated(arith):
    theta0 = np.array([1.0, 2.0])
    grads = np.array([[0.5, -0.5], [0.1, 0.2]])
    t_copy, g_copy = theta0.copy(), grads.copy()
    reference.run(Adam(lr=0.1), theta0, grads, arithmetic=arith)
    assert np.array_equal(theta0, t_copy) and np.array_equal(grads, g_copy)


@BOTH_PATHS
def test_sympy_rationals_and_foreign_mpf_are_taken_exactly(arith):
    third = sympy.Rational(1, 3)
    tr = reference.run(SGD(lr=1), [third], [[0]], dps=50, arithmetic=arith)
    assert abs(to_fraction(tr.thetas[0][0]) - Fraction(1, 3)) < Fraction(1, 10**49)
    ctx = mpmath.MPContext()
    ctx.dps = 80
    fine = ctx.mpf(1) / 3
    tr80 = reference.run(SGD(lr=1), [fine, -fine], [[0, 0]], dps=50, arithmetic=arith)
    assert to_fraction(tr80.thetas[0][0]) == to_fraction(fine)  # kept exactly (> 50 digits)
    assert to_fraction(tr80.thetas[0][1]) == -to_fraction(fine)


@pytest.mark.parametrize("arith", ["mp", "mpmath", "iv"])
@pytest.mark.parametrize("dps", [10**9, reference.MAX_DPS + 1, 15, 50.0, True, "50"])
def test_precision_outside_the_allowed_range_is_refused_before_any_work(arith, dps):
    message = rf"dps={dps!r} must be an int from 16 to {reference.MAX_DPS}"
    with pytest.raises(ValueError, match=message):
        reference.run(Adam(), [0.0], [[1.0]], dps=dps, arithmetic=arith)
    with pytest.raises(ValueError, match=message):
        reference.step(Adam(), [0.0], [1.0], dps=dps, arithmetic=arith)
    with pytest.raises(ValueError, match=message):
        reference.get_arithmetic(arith, dps)


@pytest.mark.parametrize("cls", [reference.MPArithmetic, reference.IntervalArithmetic])
def test_arithmetic_constructors_share_the_precision_range(cls):
    assert cls(reference.MAX_DPS).dps == reference.MAX_DPS
    with pytest.raises(ValueError, match=rf"dps={reference.MAX_DPS + 1}"):
        cls(reference.MAX_DPS + 1)


@BOTH_PATHS
def test_the_largest_precision_runs_and_its_estimate_needs_room_above_it(arith):
    top = reference.run(Adam(lr=0.1), [1.0], [[0.5]], dps=reference.MAX_DPS, arithmetic=arith)
    assert top.arithmetic.dps == reference.MAX_DPS
    # the estimate re-runs at 20 more digits: refused above the range, with the value named
    with pytest.raises(ValueError, match=rf"dps={reference.MAX_DPS + 20}"):
        top.correct_digits()
    below = reference.run(
        Adam(lr=0.1), [1.0], [[0.5]], dps=reference.MAX_DPS - 20, arithmetic=arith
    )
    digits = below.correct_digits()
    assert isinstance(digits, float) and digits > reference.MAX_DPS - 40


@BOTH_PATHS
def test_stored_values_are_the_rounded_floats_themselves(arith):
    """Storage rounding yields mpmath numbers equal to (and comparing equal with) the floats."""
    grads = [[0.3, -0.7], [1e-3, 2.5]]
    tr = reference.run(
        Adam(lr=0.1), [1.0, -2.0], grads, storage=Storage("float32", "float16"), arithmetic=arith
    )
    A = tr.arithmetic
    for k in range(1, 3):
        for x in tr.thetas[k]:
            f = float(x)
            assert float(np.float32(f)) == f and x == A.number(f)
        for x in tr.states[k]["v"]:
            assert float(np.float16(float(x))) == float(x) and x == A.number(float(x))


def test_round_to_format_returns_a_python_float():
    x = reference.MPArithmetic(50).number("0.1")
    for fmt in ("float64", "float32", "float16", "bfloat16"):
        assert type(round_to_format(x, fmt)) is float


def test_intervals_of_another_context_keep_their_end_points():
    other = reference.IntervalArithmetic(80)
    box = other.number(1) / 3
    same = reference.IntervalArithmetic(50).number(box)
    assert (same.a, same.b) == (box.a, box.b)


@BOTH_PATHS
def test_storage_needs_floating_point_arithmetic(arith):
    reference.run(SGD(), [1.0], [[1.0]], storage=Storage("float16"), arithmetic=arith)
    for other in ("iv", "sympy"):
        with pytest.raises(ValueError, match="storage rounding"):
            reference.run(SGD(), [1.0], [[1.0]], storage=Storage("float16"), arithmetic=other)


@pytest.mark.parametrize("fmt", ["float64", "float32", "float16", "bfloat16"])
def test_values_far_below_the_smallest_subnormal_round_to_signed_zero(fmt):
    A = reference.MPArithmetic(50)
    for text in ("1e-400", "1e-100000000", "1e-1000000000"):
        tiny = A.number(text)
        assert round_to_format(tiny, fmt) == 0.0
        assert math.copysign(1.0, round_to_format(-tiny, fmt)) == -1.0
    smallest = {
        "float64": 2.0**-1074,
        "float32": 2.0**-149,
        "float16": 2.0**-24,
        "bfloat16": 2.0**-133,
    }[fmt]
    # just above half the smallest subnormal rounds up to it; exactly half rounds to even (0)
    assert round_to_format(A.number(smallest) * A.number("0.5000001"), fmt) == smallest
    assert round_to_format(A.number(smallest) / 2, fmt) == 0.0
