r"""Derivation 8: AdaMax as the p → ∞ limit of an Lp Adam, and the true size of its step."""

from __future__ import annotations

import random
from typing import Any

import sympy as sp

from .. import reference
from ..config import AdaMax
from ._core import Proof, is_nonnegative, is_zero, private_context, rel
from ._runs import compare, steps_of
from ._sequences import along_t
from ._symbols import Delta, adamax_sup, alpha, beta1, beta2, i, t
from ._tactics import induction_step_holds, sum_equals

p_ = sp.Symbol("p", positive=True)
a = sp.IndexedBase("g", real=True)
absg = sp.IndexedBase("a", nonnegative=True)  # a_i = |g_i|
u = sp.Function("u")
v = sp.Function("v")


def adamax(p: Proof) -> None:
    """8. u_t = max(β2 u_{t-1}, |g_t|), no bias correction; sup |Δ_t|/α ≠ 1."""
    b2p = beta2**p_
    closed = (1 - b2p) * sp.Sum(b2p ** (t - i) * absg[i] ** p_, (i, 1, t))
    p.define(
        "Lp generalization of v_t (Kingma & Ba §7.1), with the decay written as β₂^p "
        "and a_i = |g_i|.",
        sp.Eq(v(t), b2p * v(t - 1) + (1 - b2p) * absg[t] ** p_),
    )
    p.symbolic(
        "Unrolled, exactly as for Adam's v_t (induction step, symbolic t and p).",
        rel("==", v(t), closed),
        check=lambda: induction_step_holds(
            closed, lambda e: b2p * e + (1 - b2p) * absg[t + 1] ** p_, t, i
        ),
    )
    q = sp.Symbol("q", positive=True)
    p.symbolic(
        "The normalizing factor disappears in the limit: (1 − β₂^p)^(1/p) → 1 "
        "(with β₂ = 1/(1 + q), q > 0).",
        rel("==", sp.Limit((1 - b2p) ** (1 / p_), p_, sp.oo), 1),
        check=lambda: sp.limit((1 - (1 / (1 + q)) ** p_) ** (1 / p_), p_, sp.oo) == 1,
    )
    n = sp.Symbol("n", integer=True, positive=True)
    p.symbolic(
        "And a p-norm tends to the max-norm: for x_i ≥ 0 with maximum M among n terms, "
        "M ≤ (Σ x_i^p)^(1/p) ≤ n^(1/p)·M, and n^(1/p) → 1.",
        rel("==", sp.Limit(n ** (1 / p_), p_, sp.oo), 1),
        check=lambda: sp.limit(n ** (1 / p_), p_, sp.oo) == 1,
    )

    def sandwich() -> tuple[bool, str]:
        ctx = private_context(60)
        grads = [ctx.mpf(x) for x in ("0.3", "-1.7", "2.05", "-0.4", "1.1")]
        b2 = ctx.mpf("0.999")
        nt = len(grads)
        xs = [b2 ** (nt - j) * abs(gj) for j, gj in enumerate(grads, start=1)]
        top = max(xs)
        shown = []
        for pw in (2, 8, 32, 128, 512, 2048):
            vt = (1 - b2**pw) * sum(
                (b2**pw) ** (nt - j) * abs(gj) ** pw for j, gj in enumerate(grads, start=1)
            )
            root = vt ** (ctx.mpf(1) / pw)
            norm = sum(x**pw for x in xs) ** (ctx.mpf(1) / pw)
            if not (
                top <= norm * (1 + ctx.mpf(10) ** -50)
                and norm <= ctx.mpf(nt) ** (ctx.mpf(1) / pw) * top * (1 + ctx.mpf(10) ** -50)
            ):
                return False, f"sandwich fails at p = {pw}"
            shown.append(f"p={pw}: {ctx.nstr(root, 7)}")
        return True, (
            f"g = (0.3, −1.7, 2.05, −0.4, 1.1), β₂ = 0.999: the sandwich holds at "
            f"p = 2…2048 and v_t^(1/p) → max_i β₂^(t−i)|g_i| = {ctx.nstr(top, 7)} "
            f"slowly ({', '.join(shown)})"
        )

    p.computed(
        "A numeric illustration: v_t^(1/p) approaches the maximum, but slowly.",
        rel(
            "==",
            sp.Limit(v(t) ** (1 / p_), p_, sp.oo),
            sp.Max(*[beta2 ** (5 - j) * absg[j] for j in range(1, 6)]),
        ),
        sandwich,
        dps=60,
    )
    p.define(
        "AdaMax's u_t is this limit; by the two steps above it equals max_i β₂^(t−i)|g_i|, "
        "which satisfies u_t = max(β₂u_{t−1}, |g_t|) with u₀ = 0 (factor β₂ > 0 out of the "
        "older terms).",
        sp.Eq(u(t), sp.Limit(v(t) ** (1 / p_), p_, sp.oo)),
    )
    p.symbolic(
        "No bias correction is needed for u: dividing v_t by 1 − β₂^p first changes "
        "nothing in the limit, since (1 − β₂^p)^(−1/p) → 1 as well.",
        rel("==", sp.Limit((1 - b2p) ** (-1 / p_), p_, sp.oo), 1),
        check=lambda: sp.limit((1 - (1 / (1 + q)) ** p_) ** (-1 / p_), p_, sp.oo) == 1,
    )

    def recursion_oracle() -> tuple[bool, str]:
        rng = random.Random(7)
        grads = [f"{rng.uniform(-3, 3):.6f}" for _ in range(30)]
        traj = reference.run(
            AdaMax(lr="0.002", beta1="0.9", beta2="0.999"), [0], [[x] for x in grads], dps=50
        )
        ctx = private_context(70)
        b2 = ctx.mpf("0.999")
        pairs = []
        for nt in range(1, 31):
            want = max(b2 ** (nt - j) * abs(ctx.mpf(grads[j - 1])) for j in range(1, nt + 1))
            pairs.append((f"t={nt}", traj.states[nt]["u"][0], want))
        ok, how = compare(pairs)
        return ok, (
            "mpmath oracle, 50 digits, AdaMax on 30 seeded random gradients: its "
            f"state u_t equals max_i β₂^(t−i)|g_i| at every t: {how}"
        )

    p.reference(
        "The oracle's AdaMax state (the recursion) is exactly this weighted maximum "
        "(shown for t = 3, checked for t = 1…30).",
        rel("==", u(3), sp.Max(beta2**2 * sp.Abs(a[1]), beta2 * sp.Abs(a[2]), sp.Abs(a[3]))),
        recursion_oracle,
    )
    m_t = sp.Symbol("m_t", real=True)
    p.define(
        "AdaMax's step (Algorithm 2): only m is bias-corrected.",
        sp.Eq(Delta(t), alpha / (1 - beta1**t) * m_t / u(t)),
    )
    ratio = beta1 / beta2
    p.symbolic(
        "Bound: β₂^(t−i)|g_i| ≤ u_t, so |m_t| ≤ (1−β₁)Σβ₁^(t−i)|g_i| ≤ (1−β₁)u_t "
        "Σ(β₁/β₂)^(t−i); summing the geometric series (β₁ ≠ β₂):",
        rel("==", (1 - beta1) / (1 - beta1**t) * sp.Sum(ratio ** (t - i), (i, 1, t)), adamax_sup()),
        check=lambda: sum_equals(
            (1 - beta1) / (1 - beta1**t) * sp.Sum(ratio ** (t - i), (i, 1, t)), adamax_sup()
        ),
    )
    m_dec = (1 - beta1) * sp.Sum(beta1 ** (t - i) * beta2**i, (i, 1, t))
    p.symbolic(
        "It is attained by gradients decaying like β₂^i: then every β₂^(t−i)g_i equals "
        "β₂^t = u_t and the step is exactly the bound (symbolic t).",
        rel("==", m_dec / ((1 - beta1**t) * beta2**t), adamax_sup()),
        check=lambda: sum_equals(m_dec / ((1 - beta1**t) * beta2**t), adamax_sup()),
    )
    X, W = sp.symbols("X W", nonnegative=True)
    lim = (1 - beta1) * beta2 / (beta2 - beta1)
    p.symbolic(
        "For β₁ < β₂ the powers β₁^t and (β₁/β₂)^t vanish, so the bound tends to "
        "(1 − β₁)β₂/(β₂ − β₁).",
        rel("==", sp.Limit(adamax_sup(), t, sp.oo), lim),
        check=lambda: (
            is_zero(adamax_sup().subs({ratio**t: W}).subs({beta1**t: X}).subs({X: 0, W: 0}) - lim)
            and t not in adamax_sup().subs({ratio**t: W}).subs({beta1**t: X}).free_symbols
        ),
    )
    d = {beta1: sp.Rational(9, 10), beta2: sp.Rational(999, 1000)}
    p.symbolic(
        "At the defaults (0.9, 0.999) the true supremum is 111/110 ≈ 1.00909, so "
        "'|Δ_t| ≤ α' for AdaMax is off by less than 1%, but it is not exact (exact sympy "
        "limit).",
        rel("==", sp.Limit(adamax_sup().subs(d), t, sp.oo), sp.Rational(111, 110)),
        check=lambda: sp.limit(adamax_sup().subs(d), t, sp.oo) == sp.Rational(111, 110),
    )
    excess = beta1 * (1 - beta2) / (beta2 * (1 + beta1))
    p.symbolic(
        "Already at t = 2 the step exceeds α whenever β₁ > 0: the excess is "
        "β₁(1 − β₂)/(β₂(1 + β₁)), positive for 0 < β₂ < 1 (checked with β₂ = 1/(1 + q)).",
        (rel("==", adamax_sup(n=2) - 1, excess), rel(">", excess, 0)),
        check=lambda: (
            is_zero(adamax_sup(n=2) - 1 - excess)
            and is_nonnegative(excess.subs(beta2, 1 / (1 + q)), strict=True)
        ),
    )
    nine, sup_up = sp.Rational(9, 10), adamax_sup(sp.Rational(99, 100), sp.Rational(9, 10))
    p.symbolic(
        "For β₁ = β₂ the bound is (1 − β₁)t/(1 − β₁^t), unbounded in t, and for β₁ > β₂ "
        "it grows geometrically (exact sympy limits at β₁ = β₂ = 0.9 and at (0.99, 0.9)).",
        (
            rel("==", sp.Limit((1 - nine) * t / (1 - nine**t), t, sp.oo), sp.oo),
            rel("==", sp.Limit(sup_up, t, sp.oo), sp.oo),
        ),
        check=lambda: (
            sp.limit((1 - nine) * t / (1 - nine**t), t, sp.oo) == sp.oo
            and sp.limit(sup_up, t, sp.oo) == sp.oo
        ),
    )

    def sup_oracle() -> tuple[bool, str]:
        pairs = []
        times = (1, 2, 10, 100, 1000)
        for b1, b2 in (("0.9", "0.999"), ("0.5", "0.9"), ("0.99", "0.999")):
            ctx = private_context(80)
            base = ctx.mpf(b2)

            def grad(nt: int, base: Any = base) -> Any:
                return base**nt

            deltas = steps_of(AdaMax(lr=1, beta1=b1, beta2=b2, eps=0), grad, steps=max(times))
            want = {
                nt: val
                for nt, val in along_t(adamax_sup(), b1, b2, max(times), private_context(70))
                if nt in times
            }
            pairs += [(f"({b1},{b2}) t={nt}", deltas[nt - 1], want[nt]) for nt in times]
        ok, how = compare(pairs)
        return ok, (
            "mpmath oracle, 50 digits, AdaMax with α = 1, ε = 0 and g_i = β₂^i at "
            f"(0.9, 0.999), (0.5, 0.9), (0.99, 0.999), t in {times}: {how}"
        )

    p.reference(
        "The oracle reproduces the supremum along g_i = β₂^i.",
        rel("==", Delta(t) / alpha, adamax_sup()),
        sup_oracle,
    )
