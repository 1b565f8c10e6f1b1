"""S(t), the exact worst case of Adam's step, agrees with the proved closed form and the oracle."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from adamproofs import reference
from adamproofs._step_size import worst_case, worst_case_limit
from adamproofs.config import Adam
from adamproofs.derivations._symbols import S_closed, S_limit

POINTS = [(0.9, 0.999, 1), (0.9, 0.999, 10), (0.5, 0.9, 7), (0.99, 0.999, 30), (0.0, 0.9, 5)]


@pytest.mark.parametrize(("b1", "b2", "t"), POINTS)
def test_worst_case_equals_the_proved_closed_form(b1, b2, t):
    proved = float(sp.N(S_closed(sp.Rational(str(b1)), sp.Rational(str(b2)), t), 30))
    assert math.isclose(worst_case(b1, b2, t), proved, rel_tol=1e-12)
    with mpmath.workdps(40):
        exact = worst_case(mpmath.mpf(b1), mpmath.mpf(b2), t, sqrt=mpmath.sqrt)
    assert math.isclose(float(exact), proved, rel_tol=1e-14)


def test_the_oracle_attains_worst_case_on_the_maximising_sequence():
    b1, b2, steps = 0.9, 0.999, 12
    grads = [(b2 / b1) ** i for i in range(1, steps + 1)]
    cfg = Adam(lr=1.0, beta1=b1, beta2=b2, eps=0.0)
    theta = reference.run(cfg, np.zeros(1), np.array(grads)[:, None], dps=40).to_numpy("float64")[
        "theta"
    ][:, 0]
    steps_taken = np.abs(np.diff(theta))
    expected = [worst_case(b1, b2, t) for t in range(1, steps + 1)]
    assert np.allclose(steps_taken, expected, rtol=1e-12)


def test_limit_matches_the_proved_limit_and_is_inf_when_unbounded():
    proved = float(S_limit(sp.Rational("0.9"), sp.Rational("0.999")).evalf(30))
    assert math.isclose(worst_case_limit(0.9, 0.999), proved, rel_tol=1e-12)
    assert worst_case_limit(0.99, 0.9) == math.inf
    assert worst_case(0.5, 0.0, 3) == math.inf
