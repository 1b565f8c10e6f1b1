r"""Derivations 1–3: the unrolled moments, the geometric series, the bias correction."""

from __future__ import annotations

import sympy as sp

from ._core import Proof, is_zero, rel
from ._runs import sympy_run
from ._symbols import beta, beta1, beta2, g, gs, i, m, mu, s2, t, unrolled, v
from ._tactics import generic_branch, induction_step_holds, sum_equals

E = sp.Function("E")


def unrolled_moments(p: Proof) -> None:
    """1. m_t and v_t as weighted sums of all past gradients, by induction on t."""
    m_closed = unrolled(beta1, lambda j: g[j])
    v_closed = unrolled(beta2, lambda j: g[j] ** 2)
    p.define(
        "Adam's moment recursions (Algorithm 1), started from zero.",
        (
            sp.Eq(m(t), beta1 * m(t - 1) + (1 - beta1) * g[t]),
            sp.Eq(v(t), beta2 * v(t - 1) + (1 - beta2) * g[t] ** 2),
            sp.Eq(m(0), 0),
            sp.Eq(v(0), 0),
        ),
    )
    p.remark(
        "Claim: unrolling the recursion gives the weight (1−β)β^(t−i) to g_i. Proof by "
        "induction on t."
    )
    first = len(p.steps)
    for name, closed, b, term, shown in (
        ("m", m_closed, beta1, g[1], "g₁"),
        ("v", v_closed, beta2, g[1] ** 2, "g₁²"),
    ):
        p.symbolic(
            f"Base case t = 1 for {name}: the sum has the single term (1−β)·{shown}, "
            "which is the recursion applied to the zero start.",
            rel("==", closed.subs(t, 1), b * 0 + (1 - b) * term),
        )
    p.symbolic(
        "Induction step for m (symbolic t): split off the last term of the sum, "
        "pull β₁ out of the rest; what remains is the recursion.",
        rel("==", m_closed.subs(t, t + 1), beta1 * m_closed + (1 - beta1) * g[t + 1]),
        check=lambda: induction_step_holds(
            m_closed, lambda e: beta1 * e + (1 - beta1) * g[t + 1], t, i
        ),
    )
    p.symbolic(
        "Induction step for v (symbolic t), the same argument with g_i².",
        rel("==", v_closed.subs(t, t + 1), beta2 * v_closed + (1 - beta2) * g[t + 1] ** 2),
        check=lambda: induction_step_holds(
            v_closed, lambda e: beta2 * e + (1 - beta2) * g[t + 1] ** 2, t, i
        ),
    )

    induction = p.steps[first:]
    p.symbolic(
        "By induction (the base cases and induction steps above), for every t ≥ 1:",
        (rel("==", m(t), m_closed), rel("==", v(t), v_closed)),
        check=lambda: len(induction) == 4 and all(s.verified for s in induction),
    )

    def oracle_agrees() -> tuple[bool, str]:
        symbols = [sp.Symbol(f"g_{n}", real=True) for n in range(1, 6)]
        traj = sympy_run(symbols, 5)
        for n in range(1, 6):
            gmap = {g[j]: symbols[j - 1] for j in range(1, n + 1)}
            want_m = m_closed.subs(t, n).doit().xreplace(gmap)
            want_v = v_closed.subs(t, n).doit().xreplace(gmap)
            got_m, got_v = traj.states[n]["m"][0], traj.states[n]["v"][0]
            if not (is_zero(sp.expand(got_m - want_m)) and is_zero(sp.expand(got_v - want_v))):
                return False, f"the oracle's state differs from the closed form at t = {n}"
        return True, (
            "reference.run(Adam(), arithmetic='sympy') with symbolic β₁, β₂ and "
            "g₁…g₅: its m_t and v_t expand to exactly these sums for t = 1…5"
        )

    p.reference(
        "The oracle agrees: run on sympy symbols, the reference optimizer's state "
        "is exactly the unrolled sum for t = 1, …, 5.",
        (sp.Eq(m(t), m_closed), sp.Eq(v(t), v_closed)),
        oracle_agrees,
    )


def geometric_series(p: Proof) -> None:
    """2. The EMA weights sum to 1 − β^t; bias-corrected moments are weighted means."""
    total = sp.Sum(beta ** (t - i), (i, 1, t))
    closed = (1 - beta**t) / (1 - beta)
    p.symbolic(
        "Geometric series (symbolic t, β ≠ 1): sympy's summation, generic branch.",
        rel("==", total, closed),
        check=lambda: sum_equals(total, closed),
    )
    p.symbolic("The excluded case β = 1: every term is 1.", rel("==", sp.Sum(1, (i, 1, t)), t))
    weights = (1 - beta) * total
    p.symbolic(
        "So the EMA weights (1−β)β^(t−i) sum to 1 − β^t, not to 1: an EMA started "
        "at zero is biased towards zero by exactly that factor.",
        rel("==", weights, 1 - beta**t),
        check=lambda: sum_equals(weights, 1 - beta**t),
    )
    pw = (1 - beta1) * beta1 ** (t - i) / (1 - beta1**t)
    qw = (1 - beta2) * beta2 ** (t - i) / (1 - beta2**t)
    p.symbolic(
        "Dividing by 1 − β₁^t makes the weights p_i of m̂_t sum to 1, and likewise the "
        "weights q_i of v̂_t: the corrected moments are exact weighted means.",
        (rel("==", sp.Sum(pw, (i, 1, t)), 1), rel("==", sp.Sum(qw, (i, 1, t)), 1)),
        check=lambda: sum_equals(sp.Sum(pw, (i, 1, t)), 1) and sum_equals(sp.Sum(qw, (i, 1, t)), 1),
    )
    mm = sp.Function("m")

    def constant_gradient() -> bool:
        sol = sp.rsolve(mm(t) - beta1 * mm(t - 1) - (1 - beta1) * gs, mm(t), {mm(0): 0})
        return is_zero(sol - gs * (1 - beta1**t))

    p.symbolic(
        "A constant gradient g: solving the recursion (sympy rsolve) gives "
        "m_t = g(1 − β₁^t), hence m̂_t = g exactly at every t.",
        rel("==", m(t), gs * (1 - beta1**t)),
        check=constant_gradient,
    )

    def oracle_constant() -> tuple[bool, str]:
        traj = sympy_run([gs] * 6, 6)
        for n in range(1, 7):
            mh = traj.states[n]["m"][0] / (1 - beta1**n)
            vh = traj.states[n]["v"][0] / (1 - beta2**n)
            if not (is_zero(sp.factor(mh) - gs) and is_zero(sp.factor(vh) - gs**2)):
                return False, f"m̂ or v̂ differs from g, g² at t = {n}"
        return True, (
            "sympy run with symbolic β₁, β₂ and a constant symbolic g: "
            "m̂_t = g and v̂_t = g² exactly for t = 1…6"
        )

    mhat, vhat = sp.Function("mhat"), sp.Function("vhat")
    p.reference(
        "The oracle agrees: with a constant gradient its bias-corrected moments are "
        "exactly g and g².",
        (sp.Eq(mhat(t), gs), sp.Eq(vhat(t), gs**2)),
        oracle_constant,
    )


def bias_correction(p: Proof) -> None:
    """3. Expectations of the moments under stationarity, and the drift term ζ."""
    Eg, Eg2 = E(g[i]), E(g[i] ** 2)
    p.remark(
        "Expectation is linear, so it passes through the unrolled sums of derivation "
        "unrolled-moments: E[m_t] = (1−β₁)Σβ₁^(t−i)E[g_i], and likewise E[v_t] with E[g_i²]."
    )
    p.define(
        "Stationarity: the first two moments of the gradient do not depend on i.",
        (sp.Eq(Eg, mu), sp.Eq(Eg2, s2)),
    )
    em, ev = unrolled(beta1, lambda j: mu), unrolled(beta2, lambda j: s2)
    p.symbolic(
        "Then E[m_t] = μ(1 − β₁^t) (geometric series, symbolic t).",
        rel("==", em, mu * (1 - beta1**t)),
        check=lambda: sum_equals(em, mu * (1 - beta1**t)),
    )
    p.symbolic(
        "And E[v_t] = s(1 − β₂^t).",
        rel("==", ev, s2 * (1 - beta2**t)),
        check=lambda: sum_equals(ev, s2 * (1 - beta2**t)),
    )
    mhat, vhat = sp.Function("mhat"), sp.Function("vhat")
    p.symbolic(
        "Hence m̂_t = m_t/(1 − β₁^t) and v̂_t = v_t/(1 − β₂^t) are unbiased: each "
        "moment is divided by its own β (β₁ for m, β₂ for v).",
        (rel("==", E(mhat(t)), mu), rel("==", E(vhat(t)), s2)),
        check=lambda: (
            is_zero(mu * (1 - beta1**t) / (1 - beta1**t) - mu)
            and is_zero(s2 * (1 - beta2**t) / (1 - beta2**t) - s2)
        ),
    )
    p.symbolic(
        "Without the correction the early estimates are tiny: at t = 1 with the "
        "defaults E[m₁] = μ/10 and E[v₁] = s/1000 (so √v₁ is ≈ 31.6× too small).",
        (
            rel("==", sp.Subs(mu * (1 - beta1**t), (beta1, t), (sp.Rational(9, 10), 1)), mu / 10),
            rel(
                "==",
                sp.Subs(s2 * (1 - beta2**t), (beta2, t), (sp.Rational(999, 1000), 1)),
                s2 / 1000,
            ),
        ),
    )
    sq = sp.IndexedBase("sigma", positive=True)  # E[g_i^2] when it drifts
    zeta = (1 - beta2) * sp.Sum(beta2 ** (t - i) * (sq[i] - sq[t]), (i, 1, t))
    lhs = unrolled(beta2, lambda j: sq[j])

    def drift_identity() -> bool:
        split = (1 - beta2) * (
            sp.Sum(beta2 ** (t - i) * sq[i], (i, 1, t))
            - sq[t] * sp.Sum(beta2 ** (t - i), (i, 1, t))
        )
        linear = is_zero(sp.expand((zeta - split).doit()))  # Σ(a − b) = Σa − Σb
        rest = generic_branch(sp.expand(lhs - sq[t] * (1 - beta2**t) - split).doit())
        return linear and is_zero(rest)

    p.symbolic(
        "Non-stationary gradients (σ_i = E[g_i²] varies): the exact identity "
        "E[v_t] = σ_t(1 − β₂^t) + ζ with the drift term ζ below; ζ = 0 when σ_i is "
        "constant, so v̂_t is then unbiased.",
        rel("==", lhs, sq[t] * (1 - beta2**t) + zeta),
        check=drift_identity,
    )
    cs = sp.Symbol("c", real=True)
    zeta_lin = (1 - beta2) * sp.Sum(beta2 ** (t - i) * (cs * i - cs * t), (i, 1, t))
    zeta_closed = (
        cs * (beta2 ** (t + 1) * t - beta2 ** (t + 1) + beta2 - beta2**t * t) / (beta2 - 1)
    )
    p.symbolic(
        "Example, linear drift σ_i = s + c·i: ζ in closed form (symbolic t).",
        rel("==", zeta_lin, zeta_closed),
        check=lambda: sum_equals(zeta_lin, zeta_closed),
    )
    q = sp.Symbol("q", positive=True)
    lim = -cs * beta2 / (1 - beta2)
    p.symbolic(
        "As t → ∞, ζ → −cβ₂/(1 − β₂): v̂ lags the drift by β₂/(1 − β₂) steps "
        "(999 at β₂ = 0.999). Checked with β₂ = 1/(1 + q), q > 0.",
        rel("==", sp.Limit(zeta_closed, t, sp.oo), lim),
        check=lambda: is_zero(
            sp.limit(zeta_closed.subs(beta2, 1 / (1 + q)), t, sp.oo) - lim.subs(beta2, 1 / (1 + q))
        ),
    )
