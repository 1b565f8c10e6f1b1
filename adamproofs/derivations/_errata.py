r"""Derivation 10: errata of common teaching material, each checked rather than asserted."""

from __future__ import annotations

import sympy as sp

from ..config import Adam
from ..reference import run
from ._core import Proof, frac, is_zero, rel
from ._runs import sympy_run
from ._symbols import beta, beta1, beta2, gs, i, k, mu, t
from ._tactics import sum_equals

R = sp.Rational


def errata(p: Proof) -> None:
    """10. β1 = 0.9; weights β^(t−i) not β^(t−1); m̂ divides by 1 − β1^t."""
    # --- β1 = 0.9
    p.source(
        "Erratum 1: 'typically β₁ = 0.99' is wrong. The paper's defaults are α = 0.001, "
        "β₁ = 0.9, β₂ = 0.999, ε = 1e-8.",
        (sp.Eq(sp.Symbol("beta_1"), R(9, 10)), sp.Eq(sp.Symbol("beta_2"), R(999, 1000))),
        "Kingma & Ba, caption of Algorithm 1",
    )
    lag = sp.Sum(k * (1 - beta) * beta**k, (k, 0, sp.oo))
    p.symbolic(
        "It matters: the mean age of the information in an EMA with decay β is "
        "Σ k(1−β)β^k = β/(1−β): 9 steps at β₁ = 0.9 but 99 steps at 0.99, a momentum "
        "eleven times slower (exact sympy sums at the two rational values).",
        (rel("==", lag.subs(beta, R(9, 10)), 9), rel("==", lag.subs(beta, R(99, 100)), 99)),
        check=lambda: (
            lag.subs(beta, R(9, 10)).doit() == 9 and lag.subs(beta, R(99, 100)).doit() == 99
        ),
    )
    # --- β^(t−i), not β^(t−1)
    wrong = sp.Sum(beta ** (t - 1), (i, 1, t))
    p.symbolic(
        "Erratum 2: the weight of g_i is β^(t−i). As written with β^(t−1), every term is "
        "the same and the sum is t·β^(t−1), not (1 − β^t)/(1 − β).",
        rel("==", wrong, t * beta ** (t - 1)),
    )
    p.symbolic(
        "The two disagree already at t = 2 (by β − 1 ≠ 0); with the correct exponent "
        "the identity holds (derivation geometric-series).",
        (
            rel("==", wrong.subs(t, 2) - (1 - beta**2) / (1 - beta), beta - 1),
            rel("==", sp.Sum(beta ** (t - i), (i, 1, t)), (1 - beta**t) / (1 - beta)),
        ),
        check=lambda: (
            is_zero(wrong.subs(t, 2).doit() - (1 - beta**2) / (1 - beta) - (beta - 1))
            and sum_equals(sp.Sum(beta ** (t - i), (i, 1, t)), (1 - beta**t) / (1 - beta))
        ),
    )
    g1, g2 = sp.symbols("g_1 g_2", real=True)
    wrong_v2 = (1 - beta2) * (beta2 * g1**2 + beta2 * g2**2)

    def oracle_v2() -> tuple[bool, str]:
        traj = sympy_run([g1, g2], 2)
        got = traj.states[2]["v"][0]
        diff = sp.factor(sp.expand(wrong_v2 - got))
        ok = is_zero(diff - (-((1 - beta2) ** 2) * g2**2))
        return ok, (
            "sympy run of the reference optimizer: its v₂ minus the β^(t−1) formula "
            f"is {sp.factor(-diff)}, nonzero for g₂ ≠ 0, β₂ ≠ 1"
        )

    p.reference(
        "The oracle (run on symbols) disagrees with the β^(t−1) formula at t = 2.",
        rel("==", wrong_v2 - sp.Symbol("v_2"), -((1 - beta2) ** 2) * g2**2),
        oracle_v2,
    )
    # --- m̂ uses β1^t
    m_const = gs * (1 - beta1**t)  # m_t for a constant gradient (derivation geometric-series)
    p.symbolic(
        "Erratum 3: m̂_t = m_t/(1 − β₁^t), not m_t/(1 − β₂^t). With a constant gradient "
        "g, dividing by 1 − β₁^t recovers g exactly ...",
        rel("==", frac(m_const, 1 - beta1**t), gs),
    )
    p.symbolic(
        "... while dividing by 1 − β₂^t gives 100·g at t = 1 with the defaults: a first "
        "step about 100 times too large.",
        rel(
            "==",
            sp.Subs(m_const / (1 - beta2**t), (beta1, beta2, t), (R(9, 10), R(999, 1000), 1)),
            100 * gs,
        ),
    )
    p.symbolic(
        "Under stationarity the wrong correction is biased at every finite t: "
        "E[m_t]/(1 − β₂^t) = μ(1 − β₁^t)/(1 − β₂^t), equal to μ only when β₁ = β₂ (shown).",
        (rel("==", frac(mu * (1 - beta2**t), 1 - beta2**t), mu),),
    )

    def oracle_mhat() -> tuple[bool, str]:
        traj = sympy_run([gs] * 4, 4)
        good = all(
            is_zero(sp.factor(traj.states[n]["m"][0] / (1 - beta1**n)) - gs) for n in range(1, 5)
        )
        bad = all(
            not is_zero(sp.factor(traj.states[n]["m"][0] / (1 - beta2**n)) - gs)
            for n in range(1, 5)
        )
        return good and bad, (
            "sympy run with a constant symbolic g, t = 1…4: m_t/(1 − β₁^t) "
            "= g at every t, m_t/(1 − β₂^t) = g at none"
        )

    p.reference("The oracle agrees.", rel("==", sp.Symbol("m_t") / (1 - beta1**t), gs), oracle_mhat)
    # --- dividing by 1 − β instead of 1 − β^t
    step_wrong = frac((1 - beta1**t) / (1 - beta1), sp.sqrt((1 - beta2**t) / (1 - beta2)))
    defaults = {beta1: R(9, 10), beta2: R(999, 1000)}
    p.symbolic(
        "Erratum 4: 'bias correction divides by 1 − β' is wrong; it divides by 1 − β^t. "
        "With a constant gradient g, m_t/(1 − β₁) = g(1 − β₁^t)/(1 − β₁) and "
        "√(v_t/(1 − β₂)) = |g|√((1 − β₂^t)/(1 − β₂)): right at t = 1 only. Their ratio, "
        "the step over α, tends to √(1 − β₂)/(1 − β₁) = 1/√10 for the defaults: late "
        "steps about 3.2 times too small (exact sympy limit).",
        (
            rel("==", sp.Subs(step_wrong, t, 1), 1),
            rel("==", sp.Limit(step_wrong.subs(defaults), t, sp.oo), 1 / sp.sqrt(10)),
        ),
        check=lambda: (
            is_zero(sp.simplify(step_wrong.subs(t, 1)) - 1)
            and is_zero(sp.limit(step_wrong.subs(defaults), t, sp.oo) - 1 / sp.sqrt(10))
        ),
    )
    # --- ε outside the square root in Algorithm 1
    g, e = sp.symbols("g epsilon", positive=True)
    p.source(
        "Erratum 5: Algorithm 1 puts ε outside the square root, θ_t = θ_{t−1} − "
        "α m̂_t/(√v̂_t + ε). Writing √(v̂_t + ε) is a different variant (optax's eps_root).",
        sp.Eq(
            sp.Symbol("Delta_t"),
            sp.Symbol("alpha")
            * sp.Symbol("mhat_t")
            / (sp.sqrt(sp.Symbol("vhat_t")) + sp.Symbol("epsilon")),
        ),
        "Kingma & Ba, Algorithm 1",
    )
    ratio_root = frac(g / sp.sqrt(g**2 + e), g / (g + e))
    p.symbolic(
        "It is not a cosmetic difference. At t = 1 the two first steps are αg/(|g| + ε) "
        "and αg/√(g² + ε); as g → 0 their ratio (|g| + ε)/√(g² + ε) tends to √ε, so "
        "for small gradients ε = 1e-8 inside the root acts like 1e-4 outside.",
        rel("==", sp.Limit(ratio_root, g, 0, "+"), sp.sqrt(e)),
        check=lambda: is_zero(sp.limit(ratio_root, g, 0, "+") - sp.sqrt(e)),
    )

    # --- scale invariance is per coordinate, not under rotation
    def oracle_rotation() -> tuple[bool, str]:
        cfg = Adam(lr=1, eps=0)
        rot = ((R(3, 5), R(-4, 5)), (R(4, 5), R(3, 5)))
        grads = [(R(1), R(0)), (R(1, 2), R(-3, 2)), (R(2), R(1, 3))]

        def apply(m: tuple, x: tuple) -> tuple:
            return tuple(m[r][0] * x[0] + m[r][1] * x[1] for r in range(2))

        def steps(gs_: list[tuple]) -> list[tuple]:
            traj = run(cfg, [0, 0], [[f"{x.p}/{x.q}" for x in gv] for gv in gs_], dps=50)
            return [
                tuple(traj.thetas[n][c] - traj.thetas[n + 1][c] for c in range(2))
                for n in range(len(gs_))
            ]

        transposed = tuple(zip(*rot))
        plain = steps(grads)
        scaled = steps([(3 * gv[0], gv[1] / 7) for gv in grads])
        rotated = [apply(transposed, d) for d in steps([apply(rot, gv) for gv in grads])]
        same_scaled = max(abs(x - y) for a_, b_ in zip(plain, scaled) for x, y in zip(a_, b_))
        moved = max(abs(x - y) for a_, b_ in zip(plain, rotated) for x, y in zip(a_, b_))
        first = rotated[0]
        ok = (
            same_scaled < 1e-40
            and abs(first[0] - R(7, 5)) < 1e-40
            and abs(first[1] + R(1, 5)) < 1e-40
            and moved > 0.1
        )
        return ok, (
            f"reference runs (50 digits, ε = 0, three 2-D gradients): coordinates "
            f"rescaled by (3, 1/7): steps differ by {float(same_scaled):.1e}; rotated by "
            f"R = [[3/5, −4/5], [4/5, 3/5]] and rotated back: Δ₁ = "
            f"({float(first[0]):.6g}, {float(first[1]):.6g})·α instead of (1, 0)·α, "
            f"steps differ by up to {float(moved):.3g}·α"
        )

    p.reference(
        "Erratum 6: Adam is invariant to rescaling each coordinate's gradient by its "
        "own positive factor (ε = 0), but not to rotating the coordinates: at t = 1 the "
        "step is α·sign(g) coordinate by coordinate, so g = (1, 0) gives α(1, 0), while "
        "the rotated gradient Rg = (3/5, 4/5) gives α(1, 1), which is α(7/5, −1/5) "
        "when rotated back.",
        rel(
            "==",
            sp.MatMul(
                sp.Matrix([[R(3, 5), R(4, 5)], [R(-4, 5), R(3, 5)]]),
                sp.Matrix([1, 1]),
                evaluate=False,
            ),
            sp.Matrix([R(7, 5), R(-1, 5)]),
        ),
        oracle_rotation,
    )
    # --- §3: the argument concerns β2
    u, q = sp.symbols("u q", positive=True)  # u = 1 − β1, q = 1 − β2
    p.symbolic(
        "Erratum 7 (the paper, §3): 'β₁ can (and should) be chosen …' is a typo for β₂. "
        "Without bias correction the first step over α is (1 − β₁)/√(1 − β₂) = u/√q "
        "with u = 1 − β₁, q = 1 − β₂: it grows "
        "without bound as β₂ → 1 and shrinks to 0 as β₁ → 1, so the 'much larger "
        "initial steps' the section warns about come from β₂ close to 1.",
        (
            rel("==", sp.Limit(u / sp.sqrt(q), q, 0, "+"), sp.oo),
            rel("==", sp.Limit(u / sp.sqrt(q), u, 0, "+"), 0),
        ),
        check=lambda: (
            sp.limit(u / sp.sqrt(q), q, 0, "+") == sp.oo
            and sp.limit(u / sp.sqrt(q), u, 0, "+") == 0
        ),
    )
    # --- Lemma 10.3 of the paper
    c = sp.Symbol("c", positive=True)
    gi, big_t = sp.IndexedBase("g"), sp.Symbol("T", integer=True, positive=True)
    g_max = sp.Symbol(r"G_{\infty}", positive=True)
    p.source(
        "Erratum 8 (the paper, Lemma 10.3): for gradients bounded by ‖g_t‖∞ ≤ G∞, "
        "Σ_{t=1}^T √(g_{t,i}²/t) ≤ 2G∞‖g_{1:T,i}‖₂.",
        sp.LessThan(
            sp.Sum(sp.sqrt(gi[t] ** 2 / t), (t, 1, big_t)),
            2 * g_max * sp.sqrt(sp.Sum(gi[t] ** 2, (t, 1, big_t))),
            evaluate=False,
        ),
        "Kingma & Ba, Appendix, Lemma 10.3",
    )
    lhs_1, rhs_1 = c, 2 * c * c  # T = 1, g_1 = G∞ = c: √(c²/1) and 2·c·‖(c)‖₂
    p.symbolic(
        "The two sides scale differently (the left is linear in the gradients, the right "
        "quadratic), so the lemma cannot hold at every scale. At T = 1 with g₁ = G∞ = c "
        "the left side is c and the right side 2c², and the left is larger for every "
        "0 < c < 1/2 (e.g. c = 0.1: 0.1 against 0.02).",
        rel(">", lhs_1 - rhs_1, 0),
        check=lambda: (
            sp.solveset(lhs_1 - rhs_1 > 0, c, sp.Interval.open(0, sp.oo))
            == sp.Interval.open(0, sp.Rational(1, 2))
        ),
    )
    p.remark(
        "Correct in the teaching material: E[v_t] = E[g_t²](1 − β₂^t) + ζ (derivation "
        "bias-correction proves it and gives ζ). In the paper itself, §2.1's bounds are "
        "not bounds over all gradient sequences (derivation step-bounds); 'invariant to "
        "rescaling' holds exactly only for ε = 0 (derivation scale-invariance); and the "
        "efficient form with ε̂ is not Algorithm 1 for a fixed ε̂ (derivation eps-hat)."
    )
