"""Property tests of the derivations' closed forms against the reference optimizer.

Hypothesis looks for gradient sequences and hyperparameters that break what the
derivations proved: the exact worst case S(t) (step-bounds), the sparse ratio
r(t), the AdaMax supremum and the ε/|c| form of scale invariance. The oracle
runs at 50 digits on exact (dyadic) float inputs; the closed forms are evaluated
at 60 digits, so agreement is required to 30 digits (far above the oracle's
rounding, far below any real violation).
"""

from __future__ import annotations

from decimal import Decimal

import mpmath
from hypothesis import given
from hypothesis import strategies as st

from adamproofs.config import Adam, AdaMax
from adamproofs.derivations._core import private_context
from adamproofs.derivations._runs import steps_of
from adamproofs.derivations._sequences import along_t
from adamproofs.derivations._symbols import S_closed, adamax_sup, r_closed

TOL = mpmath.mpf(10) ** -30

betas = st.floats(min_value=0.0, max_value=0.999, allow_subnormal=False)
grads = st.lists(
    st.one_of(st.just(0.0), st.floats(min_value=-1e3, max_value=1e3, allow_subnormal=False)),
    min_size=1,
    max_size=8,
)


def _values(expr, b1: float, b2: float, last: int) -> list:
    """The closed form at t = 1..last for the *exact* values of the floats b1, b2."""
    ctx = private_context(60)
    return [value for _, value in along_t(expr, str(Decimal(b1)), str(Decimal(b2)), last, ctx)]


def _rel_excess(got, bound) -> mpmath.mpf:
    ctx = private_context(60)
    return ctx.mpf(abs(got)) / ctx.mpf(bound) - 1


@given(
    b1=betas,
    b2=st.floats(min_value=0.01, max_value=0.999),
    gs=grads,
    eps=st.sampled_from([0.0, 1e-8, 0.5]),
)
def test_no_gradient_sequence_beats_the_exact_worst_case(b1, b2, gs, eps) -> None:
    if b1 * b1 == b2:  # ρ = 1 needs the other branch of the geometric factor
        return
    deltas = steps_of(Adam(lr=1, beta1=b1, beta2=b2, eps=eps), gs)
    bound = _values(S_closed(), b1, b2, len(gs))
    for n, (d, s) in enumerate(zip(deltas, bound), start=1):
        assert _rel_excess(d, s) <= TOL, f"|Δ_{n}| = {d} > S({n}) = {s}"


@given(
    b1=st.floats(min_value=0.05, max_value=0.999),
    b2=st.floats(min_value=0.01, max_value=0.999),
    n=st.integers(min_value=1, max_value=40),
)
def test_the_geometric_sequence_attains_the_worst_case(b1, b2, n) -> None:
    if b1 * b1 == b2:
        return
    ctx = private_context(80)
    ratio = ctx.mpf(b2) / ctx.mpf(b1)
    deltas = steps_of(Adam(lr=1, beta1=b1, beta2=b2, eps=0), lambda k: ratio**k, steps=n)
    bound = _values(S_closed(), b1, b2, n)
    for d, s in zip(deltas, bound):
        assert abs(_rel_excess(d, s)) <= TOL


@given(
    b1=betas,
    b2=st.floats(min_value=0.01, max_value=0.999),
    n=st.integers(min_value=1, max_value=60),
    g=st.floats(min_value=1e-6, max_value=1e6),
)
def test_a_single_sparse_gradient_moves_by_r_of_t(b1, b2, n, g) -> None:
    delta = steps_of(Adam(lr=1, beta1=b1, beta2=b2, eps=0), [0.0] * (n - 1) + [g])[-1]
    assert abs(_rel_excess(delta, _values(r_closed(), b1, b2, n)[-1])) <= TOL


@given(
    b1=st.floats(min_value=0.0, max_value=0.99),
    b2=st.floats(min_value=0.5, max_value=0.999),
    gs=grads,
)
def test_adamax_never_beats_its_supremum(b1, b2, gs) -> None:
    if b1 == b2:
        return
    deltas = steps_of(AdaMax(lr=1, beta1=b1, beta2=b2, eps=0), gs)
    bound = _values(adamax_sup(), b1, b2, len(gs))
    for d, s in zip(deltas, bound):
        assert _rel_excess(d, s) <= TOL


@given(
    gs=st.lists(
        st.floats(min_value=-1.0, max_value=1.0, allow_subnormal=False), min_size=1, max_size=6
    ).filter(lambda xs: any(xs)),
    c=st.floats(min_value=-1e4, max_value=1e4).filter(lambda x: abs(x) > 1e-6),
    eps=st.sampled_from([0.0, 1e-8, 1e-3]),
)
def test_scaled_gradients_see_eps_over_abs_c(gs, c, eps) -> None:
    """Δ(c·g) = sign(c)·α m̂/(√v̂ + ε/|c|), with m̂, v̂ of the unscaled run."""
    from fractions import Fraction

    from adamproofs import reference

    cfg = Adam(lr=1, beta1="0.9", beta2="0.999", eps=eps)
    scaled = steps_of(cfg, [Fraction(x) * Fraction(c) for x in gs])
    traj = reference.run(cfg, [0], [[x] for x in gs], dps=50)
    ctx = private_context(60)
    n = len(gs)
    mhat = ctx.make_mpf(traj.states[n]["m"][0]._mpf_) / (1 - ctx.mpf("0.9") ** n)
    vhat = ctx.make_mpf(traj.states[n]["v"][0]._mpf_) / (1 - ctx.mpf("0.999") ** n)
    sign = 1 if c > 0 else -1
    want = sign * mhat / (ctx.sqrt(vhat) + ctx.mpf(eps) / abs(ctx.mpf(c)))
    got = ctx.make_mpf(scaled[-1]._mpf_)
    assert abs(got - want) <= TOL  # |Δ| <= S(t) < 2 here, so this is ~30 significant digits
