r"""Derivation 5: how large one Adam step can be (the paper's §2.1 and the exact worst case)."""

from __future__ import annotations

import random

import sympy as sp

from ..config import Adam
from ._core import Proof, frac, is_zero, private_context, rel
from ._runs import compare, steps_of
from ._sequences import along_t, first_exceeding, powers_as_symbols
from ._symbols import (
    Delta,
    S,
    S_closed,
    S_limit,
    Shown,
    alpha,
    beta1,
    beta2,
    eps,
    geometric_factor,
    gs,
    i,
    mhat,
    r,
    r_closed,
    rho,
    rho_of,
    t,
    vhat,
)
from ._tactics import sum_equals

R = sp.Rational
#: (β1, β2) pairs of the cross-checks, as exact decimals.
PAIRS = (
    ("0.9", "0.999"),
    ("0.9", "0.99"),
    ("0.95", "0.999"),
    ("0.5", "0.999"),
    ("0.99", "0.999"),
    ("0.9", "0.95"),
)
TIMES = (1, 2, 10, 100, 1000)
mh, vh = mhat, vhat
s = sp.Symbol("s", positive=True)  # the paper's break-point: 1 − β₁ = √(1 − β₂) = s
p_, q_ = sp.IndexedBase("p"), sp.IndexedBase("q")  # the weights of m̂_t and v̂_t


def _rat(x: str) -> sp.Rational:
    return sp.Rational(x)


def _at(expr: sp.Expr, b1: str, b2: str, n: int | None = None) -> sp.Expr:
    subs = {beta1: _rat(b1), beta2: _rat(b2)}
    if n is not None:
        subs[t] = n
    return expr.subs(subs)


def _closed_values(expr: sp.Expr, b1: str, b2: str, times: tuple[int, ...]) -> dict:
    """The proven closed form evaluated at 70 digits at each t in ``times``."""
    ctx = private_context(70)
    wanted = set(times)
    return {n: value for n, value in along_t(expr, b1, b2, max(times), ctx) if n in wanted}


def _maximizer_deltas(b1: str, b2: str, last: int) -> list:
    """Oracle steps Δ_1..Δ_last (α = 1, ε = 0) for g_i = (β2/β1)^i, the worst-case sequence."""
    ctx = private_context(80)
    ratio = ctx.mpf(b2) / ctx.mpf(b1)
    cfg = Adam(lr=1, beta1=b1, beta2=b2, eps=0)
    return steps_of(cfg, lambda n: ratio**n, steps=last)


def _sparse_delta(b1: str, b2: str, n: int) -> object:
    """Oracle step Δ_n (α = 1, ε = 0) when g_1..g_{n-1} = 0 and g_n = 1."""
    cfg = Adam(lr=1, beta1=b1, beta2=b2, eps=0)
    return steps_of(cfg, [0] * (n - 1) + [1])[-1]


def step_bounds(p: Proof) -> None:
    """5. Severe sparsity, the paper's two cases, and the exact worst case S(t)."""
    p.define(
        "With ε = 0 (the paper's assumption in §2.1) the step is α times the ratio "
        "m̂_t/√v̂_t; write r(t) and S(t) for |m̂_t|/√v̂_t in the two cases below.",
        sp.Eq(Delta(t), alpha * mh / sp.sqrt(vh)),
    )
    _sparse_case(p)
    pw, qw = _worst_case(p)
    _consequences(p, pw, qw)
    _paper_at_defaults(p)


def _sparse_case(p: Proof) -> None:
    """Severe sparsity: r(t), its limit, the paper's two cases and the break-point curve."""
    kd = sp.KroneckerDelta(i, t)
    m_sparse = (1 - beta1) * sp.Sum(beta1 ** (t - i) * kd * gs, (i, 1, t)) / (1 - beta1**t)
    v_sparse = (1 - beta2) * sp.Sum(beta2 ** (t - i) * kd * gs**2, (i, 1, t)) / (1 - beta2**t)
    p.define(
        "The paper's 'severe sparsity' case: g₁ = … = g_{t−1} = 0, g_t = g ≠ 0. Name the "
        "ratio r(t) (a closed form, shown below to be |m̂_t|/√v̂_t there).",
        sp.Eq(r(t), r_closed()),
    )
    p.symbolic(
        "Only the last term of each unrolled sum survives, so m̂_t²/v̂_t = r(t)² (symbolic "
        "t); r(t) ≥ 0, so |Δ_t|/α = r(t) in this case.",
        rel("==", m_sparse**2 / v_sparse, r_closed() ** 2),
        check=lambda: is_zero((m_sparse**2 / v_sparse).doit() - r_closed() ** 2),
    )

    def sparse_oracle() -> tuple[bool, str]:
        pairs = []
        for b1, b2 in PAIRS[:3]:
            want = _closed_values(r_closed(), b1, b2, TIMES)
            pairs += [(f"({b1},{b2}) t={n}", _sparse_delta(b1, b2, n), want[n]) for n in TIMES]
        ok, how = compare(pairs)
        return (
            ok,
            f"mpmath oracle, 50 digits, α = 1, ε = 0, (β₁, β₂) in {PAIRS[:3]}, t in {TIMES}: {how}",
        )

    p.reference(
        "The oracle reproduces r(t) for sparse gradients.",
        sp.Eq(Delta(t) / alpha, r_closed()),
        sparse_oracle,
    )
    q1, q2 = sp.symbols("q_1 q_2", positive=True)
    sub_q = {beta1: 1 / (1 + q1), beta2: 1 / (1 + q2)}
    r_inf = (1 - beta1) / sp.sqrt(1 - beta2)
    p.symbolic(
        "r(1) = 1, and r(t) → (1 − β₁)/√(1 − β₂) as t → ∞ (limit taken with "
        "β = 1/(1 + q), q > 0, so that 0 < β < 1).",
        (rel("==", r(1), 1), rel("==", sp.Limit(r(t), t, sp.oo), r_inf)),
        check=lambda: (
            is_zero(r_closed(n=1) - 1)
            and is_zero(sp.limit(r_closed().subs(sub_q), t, sp.oo) - r_inf.subs(sub_q))
        ),
    )
    p.symbolic(
        "Without bias correction the sparse ratio is the paper's number at every t.",
        rel("==", frac(((1 - beta1) * gs) ** 2, (1 - beta2) * gs**2), r_inf**2),
    )
    p.remark(
        "The paper (§2.1) states two 'upper bounds': |Δ_t| ≤ α(1 − β₁)/√(1 − β₂) when "
        "(1 − β₁) > √(1 − β₂), and |Δ_t| ≤ α otherwise."
    )
    p.symbolic(
        "The break-point curve between the two cases is (1 − β₁) = √(1 − β₂), i.e. "
        "β₂ = 1 − (1 − β₁)², where the sparse limit is exactly 1 (with β₁ = 1 − s, s > 0).",
        rel("==", sp.Subs(r_inf, beta2, 1 - (1 - beta1) ** 2), 1),
        check=lambda: is_zero(r_inf.subs(beta2, 1 - (1 - beta1) ** 2).subs(beta1, 1 - s) - 1),
    )

    def sparse_sup() -> tuple[bool, str]:
        ctx = private_context(40)
        grid = (
            ("0.9", "0.999"),
            ("0.9", "0.99"),
            ("0.5", "0.999"),
            ("0.99", "0.999"),
            ("0.7", "0.9"),
            ("0.999", "0.9999"),
        )
        for b1, b2 in grid:
            cap = max(sp.Integer(1), _at(r_inf, b1, b2))
            level = ctx.mpf(str(sp.N(cap, 45))) * (1 + ctx.mpf(10) ** -35)
            for n, value in along_t(r_closed(), b1, b2, 3000, ctx):
                if value > level:
                    return False, f"r({n}) > max(1, r(∞)) at ({b1}, {b2})"
        return True, (
            f"r(t) <= max(1, r(∞)) for t = 1…3000 at (β₁, β₂) in {grid}; r(1) = 1 "
            "and r(t) → r(∞), so the maximum over t is attained or approached"
        )

    p.computed(
        "Over the sparse family the paper's two numbers are exactly the supremum over "
        "t: sup_t r(t) = max(1, (1 − β₁)/√(1 − β₂)).",
        rel("<=", r(t), sp.Max(1, r_inf)),
        sparse_sup,
        dps=40,
    )


def _worst_case(p: Proof) -> tuple[sp.Expr, sp.Expr]:
    """Cauchy–Schwarz: the exact supremum S(t), its maximizer, and the oracle cross-checks.
    Returns the weights (p_i, q_i) of m̂_t and v̂_t."""
    pw = (1 - beta1) * beta1 ** (t - i) / (1 - beta1**t)
    qw = (1 - beta2) * beta2 ** (t - i) / (1 - beta2**t)
    gi = sp.IndexedBase("g")
    p.define(
        "Over *all* gradient sequences: the bias-corrected moments are weighted means "
        "with weights p_i and q_i (derivation geometric-series).",
        (
            sp.Eq(p_[i], pw),
            sp.Eq(q_[i], qw),
            sp.Eq(mh, sp.Sum(p_[i] * gi[i], (i, 1, t))),
            sp.Eq(vh, sp.Sum(q_[i] * gi[i] ** 2, (i, 1, t))),
        ),
    )
    a, b = sp.symbols("a_1:7", real=True), sp.symbols("b_1:7", real=True)

    def lagrange(n: int) -> sp.Expr:
        return (
            sum(x**2 for x in a[:n]) * sum(y**2 for y in b[:n])
            - sum(x * y for x, y in zip(a[:n], b[:n])) ** 2
            - sum((a[j] * b[k] - a[k] * b[j]) ** 2 for j in range(n) for k in range(j + 1, n))
        )

    p.symbolic(
        "Cauchy–Schwarz, via Lagrange's identity (Σa²)(Σb²) − (Σab)² = Σ_{j<k}(a_j b_k − "
        "a_k b_j)² ≥ 0, expanded by sympy for n = 2…6 (shown for n = 3); equality iff "
        "a ∥ b.",
        rel(
            "==",
            sum(x**2 for x in a[:3]) * sum(y**2 for y in b[:3])
            - sum(x * y for x, y in zip(a[:3], b[:3])) ** 2,
            sum((a[j] * b[k] - a[k] * b[j]) ** 2 for j in range(3) for k in range(j + 1, 3)),
        ),
        check=lambda: all(sp.expand(lagrange(n)) == 0 for n in range(2, 7)),
    )
    p.define(
        "The exact worst case over all gradient sequences.",
        sp.Eq(S(t), Shown("sup_g |m̂_t|/√v̂_t", r"\sup_{g} \frac{|\hat{m}_t|}{\sqrt{\hat{v}_t}}")),
    )
    p.remark(
        "Apply Cauchy–Schwarz with a_i = p_i/√q_i and b_i = √q_i g_i: m̂_t² ≤ (Σ p_i²/q_i)·"
        "v̂_t, with equality iff g_i ∝ p_i/q_i (such g exist for every t). So S(t)² is the "
        "sum Σ p_i²/q_i, evaluated next."
    )
    K = (1 - beta1) ** 2 * (1 - beta2**t) / ((1 - beta1**t) ** 2 * (1 - beta2))
    p.symbolic(
        "Each term is a constant times ρ^(t−i), ρ = β₁²/β₂ (the quotient does not depend on i).",
        rel("==", pw**2 / qw, K * rho_of() ** (t - i)),
        check=lambda: is_zero(
            sp.powsimp(sp.expand_power_exp(pw**2 / qw / rho_of() ** (t - i)), force=True) - K
        ),
    )
    p.symbolic(
        "Summing the geometric series (ρ ≠ 1) gives the closed form of the exact worst case:",
        (rel("==", K * sp.Sum(rho ** (t - i), (i, 1, t)), K * (1 - rho**t) / (1 - rho)),),
        check=lambda: sum_equals(sp.Sum(rho ** (t - i), (i, 1, t)), (1 - rho**t) / (1 - rho)),
    )
    p.symbolic(
        "So the exact supremum over all gradient sequences (ε = 0, bias correction on) is "
        "the square root of that sum (compared as squares; both sides are positive):",
        rel("==", S(t), S_closed()),
        check=lambda: is_zero(S_closed() ** 2 - K * geometric_factor(rho_of(), t)),
    )
    p.symbolic(
        "The optimal g_i ∝ p_i/q_i is a geometric sequence g_i = c·(β₂/β₁)^i: the quotient "
        "below is free of i, so ONE sequence attains S(t) at every t at once.",
        rel(
            "==",
            pw / qw / (beta2 / beta1) ** i,
            (1 - beta1) * (1 - beta2**t) * beta1**t / ((1 - beta1**t) * (1 - beta2) * beta2**t),
        ),
        check=lambda: is_zero(
            sp.powsimp(sp.expand_power_exp(pw / qw / (beta2 / beta1) ** i), force=True)
            - (1 - beta1) * (1 - beta2**t) * beta1**t / ((1 - beta1**t) * (1 - beta2) * beta2**t)
        ),
    )

    def attains(n: int) -> bool:
        mhat = sum(pw.subs({t: n, i: j}) * (beta2 / beta1) ** j for j in range(1, n + 1))
        vhat = sum(qw.subs({t: n, i: j}) * (beta2 / beta1) ** (2 * j) for j in range(1, n + 1))
        return is_zero(sp.cancel(mhat**2 / vhat - S_closed(n=n) ** 2))

    p.symbolic(
        "Check: with g_i = (β₂/β₁)^i, m̂_t²/v̂_t is exactly S(t)² (symbolic β₁, β₂; t = 1…5).",
        rel("==", Delta(t) ** 2 / alpha**2, S_closed() ** 2),
        check=lambda: all(attains(n) for n in range(1, 6)),
    )

    def worst_oracle() -> tuple[bool, str]:
        pairs = []
        for b1, b2 in PAIRS:
            deltas = _maximizer_deltas(b1, b2, max(TIMES))
            want = _closed_values(S_closed(), b1, b2, TIMES)
            pairs += [(f"({b1},{b2}) t={n}", deltas[n - 1], want[n]) for n in TIMES]
        ok, how = compare(pairs)
        return ok, (
            f"mpmath oracle, 50 digits, α = 1, ε = 0, g_i = (β₂/β₁)^i, one run of "
            f"1000 steps per pair {PAIRS}, S(t) at t in {TIMES}: {how}"
        )

    p.reference(
        "The oracle fed g_i = (β₂/β₁)^i reproduces S(t) to 40 digits at t = 1, 2, 10, "
        "100, 1000 for six (β₁, β₂) pairs.",
        sp.Eq(Delta(t) / alpha, S_closed()),
        worst_oracle,
    )

    points = [
        {beta1: sp.Float(b1, 70), beta2: sp.Float(b2, 70), t: n}
        for b1, b2 in (("0.9", "0.999"), ("0.5", "0.999"), ("0.9", "0.81"), ("0.99", "0.9"))
        for n in (1, 2, 10, 100, 1000)
    ]
    p.numeric(
        "S(t) grows with t at every sample point (an observation at these points, not a "
        "proof for all t): longer histories allow worse sequences.",
        rel("<=", S_closed(), S_closed().subs(t, t + 1)),
        points,
        dps=50,
    )

    def random_sequences() -> tuple[bool, str]:
        rng = random.Random(20150101)
        ctx = private_context(40)
        worst = ctx.mpf(0)
        for b1, b2 in (("0.9", "0.999"), ("0.5", "0.9")):
            bound = [v for _, v in along_t(S_closed(), b1, b2, 30, ctx)]
            for trial in range(24):
                n = (2, 3, 5, 10, 30)[trial % 5]
                kind = trial % 3
                if kind == 0:
                    grads = [rng.gauss(0, 1) for _ in range(n)]
                elif kind == 1:
                    grads = [rng.gauss(0, 1) if rng.random() < 0.2 else 0.0 for _ in range(n)]
                    grads[-1] = 1.0
                else:
                    grads = [
                        (float(b2) / float(b1)) ** j * (1 + 0.1 * rng.gauss(0, 1))
                        for j in range(1, n + 1)
                    ]
                for e in ("0", "1e-8"):
                    deltas = steps_of(Adam(lr=1, beta1=b1, beta2=b2, eps=e), grads)
                    for k, d in enumerate(deltas[1:], start=1):  # t >= 2 (S(1) = 1 is exact)
                        worst = max(worst, abs(ctx.mpf(d)) / bound[k])
        ok = worst <= 1 + ctx.mpf(10) ** -40  # equality is attained: allow the last digits
        return ok, (
            "48 seeded sequences (Gaussian, sparse, noisy geometric; t ≤ 30) × ε in "
            "{0, 1e-8} at (0.9, 0.999), (0.5, 0.9): largest |Δ_t|/(α S(t)) over t ≥ 2 is "
            f"{ctx.nstr(worst, 12)}"
        )

    p.reference(
        "No other sequence does better: random sequences stay below S(t).",
        rel("<=", sp.Abs(Delta(t)), alpha * S(t)),
        random_sequences,
    )
    return pw, qw


def _consequences(p: Proof, pw: sp.Expr, qw: sp.Expr) -> None:
    """What S(t) implies: t = 2, β₁ = β₂, χ², the limit, β₁² ≥ β₂, β₁ = 0."""
    p.symbolic(
        "S(t) beats the sparse case by the factor √(1 + ρ + … + ρ^(t−1)), > 1 for t ≥ 2 "
        "and β₁ > 0.",
        rel("==", S(t) ** 2 / r(t) ** 2, (1 - rho_of() ** t) / (1 - rho_of())),
        check=lambda: is_zero(
            S_closed() ** 2 / r_closed() ** 2 - (1 - rho_of() ** t) / (1 - rho_of())
        ),
    )
    s2_closed = sp.sqrt(1 + (beta1 - beta2) ** 2 / (beta2 * (1 + beta1) ** 2))
    p.symbolic(
        "Already at t = 2: S(2) > 1 whenever β₁ ≠ β₂, so '|Δ_t| ≤ α' fails at t = 2.",
        rel("==", S_closed(n=2) ** 2, s2_closed**2),
    )
    p.symbolic(
        "S(t) ≡ 1 when β₁ = β₂ (then p = q): the only case where '≤ α' is exact.",
        rel("==", sp.Subs(S_closed(), beta1, beta2), 1),
    )
    P, Q = sp.symbols("P Q", positive=True)

    def chi_square() -> bool:
        termwise = is_zero(sp.expand((P - Q) ** 2 / Q - (P**2 / Q - 2 * P + Q)))
        # Σ p_i = (1−β₁)/(1−β₁^t) · Σ β₁^(t−i) = 1, and likewise for q
        sums_to_one = all(
            sum_equals(sp.Sum(b ** (t - i), (i, 1, t)), (1 - b**t) / (1 - b))
            for b in (beta1, beta2)
        )
        return termwise and sums_to_one

    chi = sp.Function("chi^2")
    p.symbolic(
        "Equivalently S(t)² = 1 + χ²(p‖q), the chi-square divergence between the two "
        "normalized EMA weight vectors: (p−q)²/q = p²/q − 2p + q termwise, and Σp_i = "
        "Σq_i = 1 (symbolic t).",
        rel("==", S(t) ** 2, 1 + chi(p_, q_)),
        check=chi_square,
    )
    X, Y, Z = sp.symbols("X Y Z", nonnegative=True)
    s_lim = S_limit()
    p.symbolic(
        "Limit: S depends on t only through β₁^t, β₂^t and ρ^t and is continuous where "
        "they vanish; they all → 0 iff ρ < 1, i.e. β₁ < √β₂ (Reddi et al.'s condition). "
        "Setting them to 0 in S(t)² (both sides are positive, so squares suffice):",
        rel("==", sp.Limit(S(t), t, sp.oo), s_lim),
        check=lambda: (
            is_zero(powers_as_symbols(S_closed() ** 2).subs({X: 0, Y: 0, Z: 0}) - s_lim**2)
            and not (powers_as_symbols(S_closed()).free_symbols & {t})
        ),
    )
    p.symbolic(
        "At the defaults (0.9, 0.999): S(∞) = √2590/7 ≈ 7.27, versus the paper's "
        "√1000/10 ≈ 3.16 (exact sympy limit with rational β).",
        rel("==", sp.Limit(_at(S_closed(), "0.9", "0.999"), t, sp.oo), sp.sqrt(2590) / 7),
        check=lambda: is_zero(
            sp.limit(_at(S_closed(), "0.9", "0.999"), t, sp.oo) - sp.sqrt(2590) / 7
        ),
    )
    p.symbolic(
        "At the paper's break-point (1 − β₁) = √(1 − β₂) = s the worst case tends to "
        "√((1 + s)/(2s)), which is > 1 (4.04 at β₂ = 0.999), not '< 1' as §2.1 says.",
        rel("==", s_lim.subs({beta1: 1 - s, beta2: 1 - s**2}), sp.sqrt((1 + s) / (2 * s))),
        check=lambda: is_zero(
            sp.simplify(s_lim.subs({beta1: 1 - s, beta2: 1 - s**2}) ** 2 - (1 + s) / (2 * s))
        ),
    )
    p.symbolic(
        "ρ = 1 (β₁² = β₂): the geometric factor is t, so S(t) = r(t)√t grows without bound.",
        rel("==", sp.Sum(1, (i, 1, t)), t),
    )
    p.symbolic(
        "ρ > 1, e.g. (0.99, 0.9): S(t) → ∞ (exact sympy limit). For β₁² ≥ β₂ no bound "
        "uniform in t exists, although S(t) is finite at each t.",
        rel("==", sp.Limit(_at(S_closed(), "0.99", "0.9"), t, sp.oo), sp.oo),
        check=lambda: sp.limit(_at(S_closed(), "0.99", "0.9"), t, sp.oo) == sp.oo,
    )

    def growth_oracle() -> tuple[bool, str]:
        pairs = []
        for b1, b2, times in (("0.9", "0.81", (10, 100, 1000)), ("0.99", "0.9", (10, 50, 100))):
            deltas = _maximizer_deltas(b1, b2, max(times))
            closed = S_closed() if b1 != "0.9" else r_closed() * sp.sqrt(t)
            want = (
                _closed_values(closed, b1, b2, times)
                if b1 != "0.9"
                else {
                    n: value * private_context(70).sqrt(n)
                    for n, value in _closed_values(r_closed(), b1, b2, times).items()
                }
            )
            pairs += [(f"({b1},{b2}) t={n}", deltas[n - 1], want[n]) for n in times]
        ok, how = compare(pairs)
        return (
            ok,
            f"mpmath oracle, 50 digits, maximizing sequence at (0.9, 0.81) and (0.99, 0.9): {how}",
        )

    p.reference(
        "The oracle confirms both growth regimes (ρ = 1: S = r√t; ρ > 1: S(100) ≈ 11.9 "
        "at (0.99, 0.9)).",
        sp.Eq(Delta(t) / alpha, S(t)),
        growth_oracle,
    )
    p.symbolic(
        "β₁ = 0 (RMSProp with bias correction): S(t) = r(t) = √((1 − β₂^t)/(1 − β₂)); the "
        "sparse sequence is a maximizer and 1/√(1 − β₂) is a true, tight bound.",
        (
            rel("==", sp.Subs(S_closed(), beta1, 0), sp.sqrt((1 - beta2**t) / (1 - beta2))),
            rel("==", sp.Subs(r_closed(), beta1, 0), sp.sqrt((1 - beta2**t) / (1 - beta2))),
        ),
    )


def _paper_at_defaults(p: Proof) -> None:
    """The first t at which the paper's statements fail for (0.9, 0.999), and ε > 0."""
    paper = sp.sqrt(1000) / 10

    def first_failures() -> tuple[bool, str]:
        n_s1 = first_exceeding(S_closed(), 1, "0.9", "0.999", 5000)
        n_r1 = first_exceeding(r_closed(), 1, "0.9", "0.999", 5000)
        n_sp = first_exceeding(S_closed(), paper, "0.9", "0.999", 5000)
        found = (n_s1, n_r1, n_sp)
        return found == (2, 106, 210), (
            f"scanning t = 1…5000 at (0.9, 0.999): first t with "
            f"S(t) > 1 is {n_s1}, with r(t) > 1 is {n_r1}, with "
            f"S(t) > √1000/10 is {n_sp}"
        )

    p.computed(
        "At the defaults (0.9, 0.999) the paper's statements are approximations: the "
        "worst case exceeds α from t = 2 on (S(2) ≈ 1.00136), a single sparse gradient "
        "exceeds α from t = 106 on, and the worst case exceeds the paper's bound "
        "α(1 − β₁)/√(1 − β₂) ≈ 3.16α from t = 210 on.",
        (rel(">", S(2), 1), rel(">", r(106), 1), rel(">", S(210), paper), rel("<=", S(209), paper)),
        first_failures,
        dps=40,
    )
    nu, mm = sp.Symbol("nu", positive=True), sp.Symbol("M", positive=True)
    p.symbolic(
        "With ε > 0 every step is strictly smaller than α·S(t) (for m̂ ≠ 0), and S(t) is "
        "approached as the gradient scale → ∞: S(t) remains the bound.",
        rel("<", mm / (nu + eps), mm / nu),
    )
