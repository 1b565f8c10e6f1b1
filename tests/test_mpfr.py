"""The MPFR (gmpy2) arithmetic agrees with the mpmath oracle to the last bit.

``reference.run`` computes on MPFR for ``arithmetic="mp"``, so every comparison here
is against :func:`plain` (``arithmetic="mpmath"``), which never does; :func:`on_mpfr`
asserts that a run really computed on MPFR.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from decimal import Decimal
from fractions import Fraction
from typing import Any
from unittest import mock

import mpmath
import numpy as np
import pytest

from adamproofs import SGD, Adam, AdaMax, Momentum, reference
from adamproofs.config import AMSGRAD_FORMS, EPS_PLACEMENTS
from adamproofs.reference import GmpyArithmetic, MPArithmetic, Storage, Trajectory
from adamproofs.reference import _mpfr as mpfr

gmpy2 = pytest.importorskip("gmpy2")


def plain(*args: Any, **kwargs: Any) -> Trajectory:
    """The plain mpmath oracle (never MPFR)."""
    return reference.run(*args, arithmetic="mpmath", **kwargs)


def on_mpfr(*args: Any, **kwargs: Any) -> Trajectory:
    """``reference.run`` (``arithmetic="mp"`` unless given), asserting it computed on MPFR."""
    with mock.patch.object(mpfr, "to_mpmath", wraps=mpfr.to_mpmath) as conv:
        tr = reference.run(*args, **kwargs)
    assert conv.call_count > 0, "the run did not compute on MPFR"
    return tr


def _assert_same(a: Trajectory, b: Trajectory) -> None:
    assert b.arithmetic.name == "mp" and b.arithmetic.dps == a.arithmetic.dps
    for k, (ra, rb) in enumerate(zip(a.thetas, b.thetas, strict=True)):
        for i, (x, y) in enumerate(zip(ra, rb, strict=True)):
            assert isinstance(y, type(x)), (k, i, type(y))
            assert x == y, f"theta step {k} coord {i}: {x} != {y}"
    for k, (sa, sb) in enumerate(zip(a.states, b.states, strict=True)):
        assert set(sa) == set(sb)
        for name in sa:
            assert sa[name] == sb[name], f"state {name} at step {k}"
    assert a.grads == b.grads


def _configs(rng: np.random.Generator) -> list[Adam]:
    out = []
    for i, (form, place, decay, maximize) in enumerate(
        itertools.product(
            AMSGRAD_FORMS,
            EPS_PLACEMENTS,
            (None, "l2", "decoupled", "decoupled_after"),
            (False, True),
        )
    ):
        if i % 3 == 0:  # decimal hyperparameters (rounded at the working precision)
            hyper = dict(lr="0.001", beta1="0.9", beta2="0.999", eps="1e-8")
        else:
            hyper = dict(
                lr=float(rng.uniform(1e-3, 0.1)),
                beta1=float(rng.uniform(0.5, 0.99)),
                beta2=float(rng.uniform(0.9, 0.9999)),
                eps=float(10 ** rng.uniform(-10, -3)),
            )
        out.append(
            Adam(
                amsgrad=form,
                eps_placement=place,
                maximize=maximize,
                weight_decay=0.05 if decay else 0.0,
                decay=decay or "l2",
                bias_correction=i % 5 != 0,
                **hyper,
            )
        )
    return out


@pytest.mark.parametrize("dps", [20, 50])
def test_every_adam_variant_bit_identical_to_mpmath(dps: int) -> None:
    """Same rules, same precision, correctly rounded operations: the same numbers."""
    rng = np.random.default_rng(dps)
    for cfg in _configs(rng):
        theta0 = rng.standard_normal(3)
        grads = [rng.standard_normal(3) * 10 ** rng.uniform(-3, 3) for _ in range(25)]
        grads[3][1] = 0.0
        _assert_same(plain(cfg, theta0, grads, dps=dps), on_mpfr(cfg, theta0, grads, dps=dps))


def test_long_run_and_other_optimizers() -> None:
    """β^t for t up to 200 (past mpmath's exact-power range) and non-Adam rules."""
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(2) for _ in range(200)]
    for cfg in (Adam(beta1="0.9", beta2="0.999"), AdaMax(eps=1e-8), Momentum()):
        _assert_same(plain(cfg, [0.5, -2.0], grads), on_mpfr(cfg, [0.5, -2.0], grads))


def test_downstream_methods_work_on_the_result() -> None:
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal((2, 2)) for _ in range(5)]
    a = plain(Adam(lr=0.1), np.ones((2, 2)), grads)
    b = on_mpfr(Adam(lr=0.1), np.ones((2, 2)), grads)
    for dtype in ("float16", "float32", "float64"):
        for key, arr in a.to_numpy(dtype).items():
            np.testing.assert_array_equal(arr, b.to_numpy(dtype)[key])
    assert b.theta(3).shape == (2, 2)
    assert b.correct_digits() == a.correct_digits() >= 45  # re-runs at 70 digits


def test_precision_is_private_and_restored() -> None:
    before = gmpy2.get_context().precision
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(2) for _ in range(5)]
    expected = plain(Adam(), [1.0, 2.0], grads, dps=30)
    with gmpy2.context(precision=20):  # a caller's own gmpy2 setting must not leak in
        got = on_mpfr(Adam(), [1.0, 2.0], grads, dps=30)
        assert gmpy2.get_context().precision == 20
    assert gmpy2.get_context().precision == before
    _assert_same(expected, got)


def test_storage_hyper_overrides_and_gradient_functions_run_on_mpfr_too() -> None:
    """Every option of ``run`` computes on MPFR and gives the plain oracle's numbers."""
    rng = np.random.default_rng(6)
    grads = [rng.standard_normal(3) for _ in range(6)]
    cfg = Adam(lr=0.1, amsgrad="max_raw", weight_decay=0.01)
    for kwargs in (
        dict(storage=Storage(params="float32")),
        dict(storage=Storage(params="bfloat16", state="float16")),
        dict(hyper={"lr": MPArithmetic(50).number("0.2")}),
        dict(hyper={"beta1": mpmath.mpf(0.5), "eps": "1e-3"}),
    ):
        _assert_same(
            plain(cfg, [1.0, 2.0, 3.0], grads, **kwargs),
            on_mpfr(cfg, [1.0, 2.0, 3.0], grads, **kwargs),
        )
    seen: list = []

    def fn(theta: np.ndarray, t: int) -> list:
        seen.extend(theta)
        return [2 * x - t for x in theta]

    _assert_same(plain(cfg, [1.0, -1.0], fn, steps=4), on_mpfr(cfg, [1.0, -1.0], fn, steps=4))
    # the function is given the recorded (mpmath) numbers on both paths
    assert {type(x) for x in seen} == {reference.get_arithmetic("mpmath", 50).mpf_type}


def test_hyper_overrides_of_another_precision_do_not_change_the_working_precision() -> None:
    """An override carried at 15 digits enters the run at the run's own 60 digits."""
    coarse = mpmath.MPContext()
    coarse.dps = 15
    lr = coarse.mpf(1) / 3
    grads = [[0.3], [0.7]]
    for arith in ("mp", "mpmath"):
        tr = reference.run(SGD(), [1.0], grads, dps=60, arithmetic=arith, hyper={"lr": lr})
        exact_lr = MPArithmetic(60).number(lr)  # the 53-bit value, now a 60-digit number
        assert tr.thetas[1][0] == MPArithmetic(60).number(1.0) - exact_lr * mpmath.mpf(0.3)


def test_an_interval_run_is_unaffected() -> None:
    iv = reference.run(Adam(lr=0.1), [1.0], [[0.5]], arithmetic="iv")
    assert iv.arithmetic.name == "iv"


@pytest.mark.parametrize(
    "value",
    [
        0.1,
        -3.5,
        1e-300,
        5e-324,
        7,
        2**80 + 1,
        "0.1",
        "-2.5e-7",
        " 1/3 ",
        "inf",
        Fraction(1, 3),
        Fraction(-7, 1024),
        Decimal("0.1"),
        np.float32(0.1),
        np.int64(-3),
    ],
)
def test_number_conversion_matches_mpmath(value) -> None:
    G, A = GmpyArithmetic(50), MPArithmetic(50)
    assert mpfr.to_mpmath(G.number(value), A) == A.number(value)


def test_rationals_round_as_mpmath_does() -> None:
    """mpmath rounds the numerator, then divides (two roundings): matched, not "improved"."""
    q = Fraction(37680239690307979232754742700513581, 936711)
    G, A = GmpyArithmetic(20), MPArithmetic(20)
    once = mpfr.to_mpmath(gmpy2.mpfr(gmpy2.mpq(q.numerator, q.denominator), G.prec), A)
    assert A.number(q) != once  # the case that tells the two apart
    assert mpfr.to_mpmath(G.number(q), A) == A.number(q)


@pytest.mark.parametrize("value", ["abc", "0x1p-3", True, None, float("nan")])
def test_bad_inputs_fail_as_in_mpmath(value) -> None:
    G, A = GmpyArithmetic(50), MPArithmetic(50)
    try:
        expected: Any = A.number(value)
    except Exception as err:  # the point: the same exception
        with pytest.raises(type(err)):
            G.number(value)
    else:
        assert mpmath.isnan(expected) and gmpy2.is_nan(G.number(value))


def test_mpf_inputs_are_taken_exactly_and_specials_convert() -> None:
    G, A = GmpyArithmetic(20), MPArithmetic(20)
    big = mpmath.mpf(1) / 3  # 53 bits in the global context, more than needed: exact anyway
    fine = MPArithmetic(100).number(1) / 7  # 336 bits > G.prec: still exact
    for x in (big, fine, -fine, mpmath.mpf(0), mpmath.mpf("-1.5")):
        assert mpfr.to_mpmath(G.number(x), MPArithmetic(120)) == A.number(x)
        with G.scope():  # the current precision must not round the input either
            assert mpfr.to_mpmath(G.number(x), MPArithmetic(120)) == A.number(x)
    _assert_same(
        plain(SGD(lr=1), [-fine, big], [[0, 0]], dps=20),
        reference.run(SGD(lr=1), [-fine, big], [[0, 0]], dps=20),
    )
    assert mpfr.to_mpmath(gmpy2.mpfr("inf"), A) == A.ctx.inf
    assert mpmath.isnan(mpfr.to_mpmath(gmpy2.mpfr("nan"), A))
    assert mpfr.to_mpmath(-gmpy2.mpfr(0), A) == 0


@pytest.mark.parametrize("dps", [15, 10, "50", True, 10_001, 10**9])
def test_bad_precision_is_rejected(dps) -> None:
    with pytest.raises(ValueError, match=f"dps={dps!r} must be an int from 16 to 10000"):
        GmpyArithmetic(dps)


def test_scope_is_a_fresh_context_each_time() -> None:
    G = GmpyArithmetic(30)
    a, b = G.scope(), G.scope()
    assert a is not b and a is not G.ctx
    assert a.precision == b.precision == G.prec
    assert a.round == gmpy2.RoundToNearest and not a.subnormalize


NESTED = textwrap.dedent("""
    import gmpy2
    from adamproofs import Adam
    from adamproofs.conformance import _replay as replay
    from adamproofs import reference

    G = reference.get_arithmetic("mp", replay.DPS)
    assert isinstance(G, reference.GmpyArithmetic)
    before = gmpy2.get_context().precision
    with G.scope():
        with G.scope():  # entered twice: crashed when scope() returned one context object
            assert gmpy2.get_context().precision == G.prec
            tr = reference.run(Adam(), [1.0, 2.0], [[0.5, -0.5]] * 3, dps=replay.DPS)
            assert gmpy2.get_context().precision == G.prec
        assert gmpy2.get_context().precision == G.prec
        with reference.get_arithmetic("mp", 20).scope():
            assert gmpy2.get_context().precision == reference.get_arithmetic("mp", 20).prec
        assert gmpy2.get_context().precision == G.prec
    assert gmpy2.get_context().precision == before
    assert tr.arithmetic.name == "mp" and tr.steps == 3
    print("ok")
""")


def test_nested_scopes_and_a_run_inside_a_scope() -> None:
    """The replay enters a scope, a caller may enter another: no crash, contexts restored.

    In a subprocess: re-entering a gmpy2 context object can kill the interpreter.
    """
    proc = subprocess.run(
        [sys.executable, "-c", NESTED], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.strip() == "ok"


def test_mp_is_mpfr_and_mpmath_is_plain_mpmath() -> None:
    assert isinstance(reference.get_arithmetic("mp", 30), GmpyArithmetic)
    assert type(reference.get_arithmetic("mpmath", 30)) is MPArithmetic
    assert reference.get_arithmetic("mp", 30) is reference.get_arithmetic("mp", 30)  # cached
    assert reference.get_arithmetic("mp", 30).results is reference.get_arithmetic("mpmath", 30)


def test_reference_run_computes_on_mpfr_and_mpmath_forces_plain_mpmath() -> None:
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(3) for _ in range(6)]
    for cfg in (
        Adam(lr=0.1),
        Adam(amsgrad="max_corrected", eps_placement="root", weight_decay=0.01, decay="decoupled"),
        Adam(
            eps_placement="hat",
            decay="decoupled_after",
            weight_decay=0.1,
            bias_correction=False,
            maximize=True,
        ),
        AdaMax(),
        Momentum(),
        SGD(lr="0.01"),
    ):
        got = on_mpfr(cfg, [1.0, -2.0, 0.5], grads, dps=30)
        with mock.patch.object(mpfr, "to_mpmath", wraps=mpfr.to_mpmath) as conv:
            expected = plain(cfg, [1.0, -2.0, 0.5], grads, dps=30)
        assert conv.call_count == 0
        _assert_same(expected, got)
        assert got.arithmetic is expected.arithmetic


def test_a_gmpy_arithmetic_instance_records_mpmath_numbers() -> None:
    grads = [[0.5, -0.25]] * 3
    got = on_mpfr(Adam(lr=0.1), [1.0, 2.0], grads, arithmetic=GmpyArithmetic(40))
    _assert_same(plain(Adam(lr=0.1), [1.0, 2.0], grads, dps=40), got)


def test_reference_step_computes_on_mpfr() -> None:
    cfg = Adam(lr=0.1, amsgrad="max_raw")
    with mock.patch.object(mpfr, "to_mpmath", wraps=mpfr.to_mpmath) as conv:
        theta, state = reference.step(cfg, [1.0, 2.0], [0.5, -0.25])
        assert conv.call_count > 0
        conv.reset_mock()
        theta2, state2 = reference.step(cfg, theta, [0.1, 0.2], state, t=1)
        assert conv.call_count > 0
        conv.reset_mock()
        p_theta, p_state = reference.step(cfg, theta, [0.1, 0.2], state, t=1, arithmetic="mpmath")
        assert conv.call_count == 0
    assert list(theta2) == list(p_theta)
    assert all(list(state2[k]) == list(p_state[k]) for k in p_state)


def test_without_gmpy2_mp_is_plain_mpmath(monkeypatch) -> None:
    cfg = Adam(lr=0.1)
    grads = [[0.5, 0.25]] * 3
    monkeypatch.setattr(mpfr, "gmpy2", None)  # as if gmpy2 were not installed
    assert not mpfr.available()
    assert type(reference.get_arithmetic("mp")) is MPArithmetic
    with mock.patch.object(mpfr, "to_mpmath", wraps=mpfr.to_mpmath) as conv:
        tr = reference.run(cfg, [1.0, 2.0], grads)
        assert conv.call_count == 0
    assert tr.arithmetic.name == "mp"
    with pytest.raises(ImportError, match="gmpy2"):
        GmpyArithmetic(50)


def test_unknown_arithmetic_names_the_choices() -> None:
    with pytest.raises(ValueError, match="'mpmath'"):
        reference.run(Adam(), [0.0], [[1.0]], arithmetic="gmpy")


def test_mpfr_inputs_become_normalized_mpmath_numbers() -> None:
    """gmpy2's ``mpfr._mpf_`` keeps even mantissas; mpmath compares normalized tuples."""
    A = MPArithmetic(50)
    x = gmpy2.mpfr(0.8999999761581421)
    assert x._mpf_[1] % 2 == 0  # the case: not in mpmath's normal form
    assert A.number(x) == A.number(0.8999999761581421)
    assert A.number(-x) == -A.number(0.8999999761581421)
    assert A.number(gmpy2.mpfr(0)) == 0
    assert A.number(gmpy2.mpfr("inf")) == A.ctx.inf
    assert mpmath.isnan(A.number(gmpy2.mpfr("nan")))
