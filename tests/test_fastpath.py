"""The MPFR (gmpy2) oracle fast path agrees with the mpmath oracle to the last bit."""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from adamproofs import Adam, AdaMax, Momentum
from adamproofs.config import AMSGRAD_FORMS, EPS_PLACEMENTS
from adamproofs.reference import MPArithmetic, Storage, oracle

gmpy2 = pytest.importorskip("gmpy2")
from adamproofs.reference import fastpath  # noqa: E402


def _assert_same(a: oracle.Trajectory, b: oracle.Trajectory) -> None:
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
    for i, (form, place, decay, maximize) in enumerate(itertools.product(
            AMSGRAD_FORMS, EPS_PLACEMENTS, (None, "l2", "decoupled", "decoupled_after"),
            (False, True))):
        if i % 3 == 0:  # decimal hyperparameters (rounded at the working precision)
            hyper = dict(lr="0.001", beta1="0.9", beta2="0.999", eps="1e-8")
        else:
            hyper = dict(lr=float(rng.uniform(1e-3, 0.1)), beta1=float(rng.uniform(0.5, 0.99)),
                         beta2=float(rng.uniform(0.9, 0.9999)),
                         eps=float(10 ** rng.uniform(-10, -3)))
        out.append(Adam(amsgrad=form, eps_placement=place, maximize=maximize,
                        weight_decay=0.05 if decay else 0.0, decay=decay or "l2",
                        bias_correction=i % 5 != 0, **hyper))
    return out


@pytest.mark.parametrize("dps", [20, 50])
def test_every_adam_variant_bit_identical_to_mpmath(dps: int) -> None:
    """Same rules, same precision, correctly rounded operations: the same numbers."""
    rng = np.random.default_rng(dps)
    for cfg in _configs(rng):
        theta0 = rng.standard_normal(3)
        grads = [rng.standard_normal(3) * 10 ** rng.uniform(-3, 3) for _ in range(25)]
        grads[3][1] = 0.0
        _assert_same(oracle.run(cfg, theta0, grads, dps=dps),
                     fastpath.run(cfg, theta0, grads, dps=dps))


def test_long_run_and_other_optimizers() -> None:
    """β^t for t up to 200 (past mpmath's exact-power range) and non-Adam rules."""
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(2) for _ in range(200)]
    for cfg in (Adam(beta1="0.9", beta2="0.999"), AdaMax(eps=1e-8), Momentum()):
        _assert_same(oracle.run(cfg, [0.5, -2.0], grads), fastpath.run(cfg, [0.5, -2.0], grads))


def test_downstream_methods_work_on_the_result() -> None:
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal((2, 2)) for _ in range(5)]
    a = oracle.run(Adam(lr=0.1), np.ones((2, 2)), grads)
    b = fastpath.run(Adam(lr=0.1), np.ones((2, 2)), grads)
    for dtype in ("float16", "float32", "float64"):
        for key, arr in a.to_numpy(dtype).items():
            np.testing.assert_array_equal(arr, b.to_numpy(dtype)[key])
    assert b.theta(3).shape == (2, 2)
    assert b.correct_digits() >= 45  # re-run with plain mpmath at 70 digits


def test_precision_is_private_and_restored() -> None:
    before = gmpy2.get_context().precision
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(2) for _ in range(5)]
    expected = oracle.run(Adam(), [1.0, 2.0], grads, dps=30)
    with gmpy2.context(precision=20):  # a caller's own gmpy2 setting must not leak in
        got = fastpath.run(Adam(), [1.0, 2.0], grads, dps=30)
        assert gmpy2.get_context().precision == 20
    assert gmpy2.get_context().precision == before
    _assert_same(expected, got)


def test_fallbacks_give_the_plain_oracle() -> None:
    """Where the fast path does not apply, the result is oracle.run's own."""
    rng = np.random.default_rng(6)
    grads = [rng.standard_normal(3) for _ in range(4)]
    cfg = Adam(lr=0.1)
    for kwargs in (dict(storage=Storage(params="float32")),
                   dict(hyper={"lr": MPArithmetic(50).number("0.2")})):
        _assert_same(oracle.run(cfg, [1.0, 2.0, 3.0], grads, **kwargs),
                     fastpath.run(cfg, [1.0, 2.0, 3.0], grads, **kwargs))
    iv = fastpath.run(cfg, [1.0], [[0.5]], arithmetic="iv")
    assert iv.arithmetic.name == "iv"

    def fn(theta: np.ndarray, t: int) -> list:
        return [2 * x for x in theta]

    _assert_same(oracle.run(cfg, [1.0, -1.0], fn, steps=3),
                 fastpath.run(cfg, [1.0, -1.0], fn, steps=3))


@pytest.mark.parametrize("value", [0.1, -3.5, 1e-300, 5e-324, 7, 2**80 + 1, "0.1", "-2.5e-7",
                                   Fraction(1, 3), Fraction(-7, 1024)])
def test_number_conversion_matches_mpmath(value) -> None:
    G, A = fastpath.GmpyArithmetic(50), MPArithmetic(50)
    assert fastpath.to_mpmath(G.number(value), A) == A.number(value)


def test_mpf_inputs_are_taken_exactly_and_specials_convert() -> None:
    G, A = fastpath.GmpyArithmetic(20), MPArithmetic(20)
    big = mpmath.mpf(1) / 3  # 53 bits in the global context, more than needed: exact anyway
    fine = MPArithmetic(100).number(1) / 7  # 336 bits > G.prec: still exact
    for x in (big, fine, mpmath.mpf(0), mpmath.mpf("-1.5")):
        assert fastpath.to_mpmath(G.number(x), MPArithmetic(120)) == A.number(x)
    assert fastpath.to_mpmath(gmpy2.mpfr("inf"), A) == A.ctx.inf
    assert mpmath.isnan(fastpath.to_mpmath(gmpy2.mpfr("nan"), A))
    assert fastpath.to_mpmath(-gmpy2.mpfr(0), A) == 0


@pytest.mark.parametrize("dps", [15, 10, "50", True])
def test_bad_precision_is_rejected(dps) -> None:
    with pytest.raises(ValueError, match="dps="):
        fastpath.GmpyArithmetic(dps)
