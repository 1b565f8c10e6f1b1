r"""Derivation 9: Reddi, Kale & Kumar's counterexample, and why AMSGrad's max fixes it."""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..config import Adam
from ..variants import Amsgrad
from ._core import Proof, frac, is_nonnegative, is_zero, private_context, rel
from ._runs import steps_of

C = sp.Symbol("C", positive=True)
x = sp.Symbol("x", real=True)
d = sp.Symbol("delta", positive=True)  # C = 2 + δ
kk = sp.Symbol("k", integer=True, positive=True)
aa = sp.Symbol("a", nonnegative=True)  # k = 1 + a
al = sp.Symbol("alpha", positive=True)
b2 = 1 / (1 + C**2)
f = sp.Function("f")


def _simulate(c_value: int, steps: int, amsgrad: bool) -> dict:
    """Projected Adam / AMSGrad (β1 = 0, β2 = 1/(1+C²), ε = 0, no bias correction, α_t = α/√t,
    α = ½√(1−β2)) on the 3-periodic problem, from x = 1.

    The optimizer's state does not depend on x here (linear losses), so one reference run
    with α = 1 gives the unit steps; the schedule α/√t and the clipping to [−1, 1] are then
    applied exactly in a 50-digit context."""
    beta2 = Fraction(1, 1 + c_value**2)
    grads = [c_value if n % 3 == 1 else -1 for n in range(1, steps + 1)]
    cfg = Adam(
        lr=1,
        beta1=0,
        beta2=beta2,
        eps=0,
        bias_correction=False,
        amsgrad=Amsgrad.MAX_UNCORRECTED if amsgrad else None,
    )
    unit = steps_of(cfg, grads)
    ctx = private_context(50)
    alpha = ctx.mpf("0.5") * ctx.sqrt(1 - ctx.mpf(beta2.numerator) / beta2.denominator)
    one = ctx.mpf(1)
    xs, regret = [one], ctx.mpf(0)
    for n in range(1, steps + 1):
        regret += grads[n - 1] * (xs[-1] + 1)  # f_n(x_n) − f_n(−1)
        step = alpha / ctx.sqrt(n) * ctx.make_mpf(unit[n - 1]._mpf_)
        xs.append(min(one, max(-one, xs[-1] - step)))
    # effective step-size denominators √v̂_t/α_t from the unit steps: |Δ¹_t| = |g_t|/√v̂_t
    gammas = []
    for n in range(2, steps + 1):
        now = ctx.sqrt(n) * abs(grads[n - 1]) / abs(ctx.make_mpf(unit[n - 1]._mpf_))
        before = ctx.sqrt(n - 1) * abs(grads[n - 2]) / abs(ctx.make_mpf(unit[n - 2]._mpf_))
        gammas.append((now - before) / alpha)
    gamma_min = min(gammas)
    return {"x": xs, "regret_per_step": regret / steps, "gamma_min": gamma_min, "ctx": ctx}


def non_convergence(p: Proof) -> None:
    """9. The online problem, Adam's drift to the worst point, AMSGrad's monotone fix."""
    p.define(
        "The online problem on F = [−1, 1] (Reddi et al., Thm 1), with C > 2.",
        (sp.Eq(f(x), sp.Piecewise((C * x, sp.Eq(sp.Mod(sp.Symbol("t"), 3), 1)), (-x, True))),),
    )
    p.symbolic(
        "Over each 3-step cycle the losses add up to (C − 2)x, increasing in x for C > 2: "
        "the best fixed point is x* = −1.",
        (rel("==", C * x - x - x, (C - 2) * x), rel(">", C - 2, 0)),
        check=lambda: (
            is_zero(C * x - x - x - (C - 2) * x)
            and is_nonnegative((C - 2).subs(C, 2 + d), strict=True)
        ),
    )
    p.symbolic(
        "Sitting at the worst point x = +1 costs 2(C − 2) per cycle, so the average "
        "regret tends to 2(C − 2)/3 > 0: no convergence.",
        rel(
            "==", frac(sp.Subs((C - 2) * x, x, 1) - sp.Subs((C - 2) * x, x, -1), 3), 2 * (C - 2) / 3
        ),
    )
    p.define(
        "Adam's parameters: β₁ = 0, β₂ = 1/(1 + C²), ε = 0 (no bias correction, as in the "
        "paper; the footnote says the corrected version behaves alike).",
        (sp.Eq(sp.Symbol("beta_1"), 0), sp.Eq(sp.Symbol("beta_2"), b2)),
    )
    b1s = sp.Symbol("beta_1", nonnegative=True)
    p.symbolic(
        "These satisfy Kingma & Ba's convergence condition γ = β₁²/√β₂ < 1 and Reddi's β₁ < √β₂.",
        (rel("<", sp.Subs(b1s**2 / sp.sqrt(b2), b1s, 0), 1), rel("<", 0, sp.sqrt(b2))),
    )
    V, G2 = sp.symbols("V G", nonnegative=True)
    p.symbolic(
        "v_t never exceeds C²: if v_{t−1} ≤ C² and g_t² ≤ C², then β₂v_{t−1} + "
        "(1 − β₂)g_t² ≤ C² (write v = C² − V, g² = C² − G with V, G ≥ 0).",
        rel(">=", C**2 - (b2 * (C**2 - V) + (1 - b2) * (C**2 - G2)), 0),
        check=lambda: is_nonnegative(C**2 - (b2 * (C**2 - V) + (1 - b2) * (C**2 - G2))),
    )
    p.symbolic(
        "The large gradient is tamed: at a C-step v_t ≥ (1 − β₂)C², so the step is at "
        "most α_t·C/√((1 − β₂)C²) = α_t√(1 + 1/C²).",
        rel("==", C / sp.sqrt((1 - b2) * C**2), sp.sqrt(1 + 1 / C**2)),
        check=lambda: is_zero((C / sp.sqrt((1 - b2) * C**2)) ** 2 - (1 + 1 / C**2)),
    )
    vb_bound = b2 * C**2 + (1 - b2)
    vc_bound = b2 * vb_bound + (1 - b2)
    p.symbolic(
        "The two −1 steps that follow see a small v: v ≤ β₂C² + (1 − β₂) < 2, then "
        "v ≤ β₂·(that) + (1 − β₂) < 2, so each moves x up by more than α_t/√2.",
        (rel("<", vb_bound, 2), rel("<", vc_bound, 2)),
        check=lambda: (
            is_nonnegative(2 - vb_bound, strict=True) and is_nonnegative(2 - vc_bound, strict=True)
        ),
    )
    p.symbolic(
        "Net movement per cycle with a constant step α: up by at least "
        "α(2/√2 − √(1 + 1/C²)) > 0 (compare squares: 2 > 1 + 1/C² for C > 1). So Adam's "
        "expected movement (over a uniformly random round of the cycle) is towards +1, "
        "although the expected gradient (C − 2)/3 > 0 points towards −1.",
        rel(">", 2, 1 + 1 / C**2),
        check=lambda: is_nonnegative((2 - 1 - 1 / C**2).subs(C, 2 + d), strict=True),
    )
    p.symbolic(
        "With Reddi's schedule α_t = α/√t the same holds for every cycle k ≥ 1 (steps "
        "3k+1…3k+3): 2α_{3k+3}/√2 > α_{3k+1}√(1 + 1/C²) because "
        "2(3k+1)/(3k+3) > 1 + 1/C² for k ≥ 1, C > 2 (k = 1 + a, C = 2 + δ).",
        rel(">", 2 * (3 * kk + 1) / (3 * kk + 3), 1 + 1 / C**2),
        check=lambda: is_nonnegative(
            (2 * (3 * kk + 1) / (3 * kk + 3) - 1 - 1 / C**2).subs({kk: 1 + aa, C: 2 + d}),
            strict=True,
        ),
    )

    def adam_run() -> tuple[bool, str]:
        out = _simulate(3, 3000, amsgrad=False)
        ctx, xs = out["ctx"], out["x"]
        invariant = all(xs[3 * k] == 1 for k in range(len(xs) // 3))
        positive = min(xs) > 0
        limit = ctx.mpf(2) * (3 - 2) / 3
        ok = (
            invariant
            and positive
            and out["regret_per_step"] > limit * ctx.mpf("0.99")
            and out["gamma_min"] < 0
        )
        return ok, (
            f"mpmath oracle, 50 digits, C = 3, T = 3000, α = ½√(1 − β₂), projected: "
            f"x_(3k+1) = 1 for every k: {invariant}; min x_t = {ctx.nstr(min(xs), 6)}; "
            f"R_T/T = {ctx.nstr(out['regret_per_step'], 6)} (limit 2/3); "
            f"min Γ_t = {ctx.nstr(out['gamma_min'], 4)} < 0"
        )

    p.reference(
        "Simulation (C = 3): the iterate returns to +1 after every cycle and the "
        "average regret approaches 2(C − 2)/3.",
        rel("==", sp.IndexedBase("x")[3 * kk + 1], 1),
        adam_run,
    )
    Vt, dv = sp.Symbol("vhat_prev", nonnegative=True), sp.Symbol("Delta_v", nonnegative=True)
    tt = sp.Symbol("t", integer=True, positive=True)
    p.symbolic(
        "AMSGrad's fix: v̂_t = max(v̂_{t−1}, v_t) = v̂_{t−1} + Δv with Δv ≥ 0, so the "
        "inverse step size √v̂_t/α_t = √(t v̂_t)/α never decreases (compare squares): "
        "Γ_t ≥ 0, the property Kingma & Ba's proof needs and Adam lacks.",
        rel(">=", tt * (Vt + dv) - (tt - 1) * Vt, 0),
        check=lambda: is_nonnegative(sp.expand(tt * (Vt + dv) - (tt - 1) * Vt)),
    )

    def ams_run() -> tuple[bool, str]:
        out = _simulate(3, 3000, amsgrad=True)
        ctx, xs = out["ctx"], out["x"]
        ok = xs[-1] < ctx.mpf("-0.9") and out["gamma_min"] >= 0
        return ok, (
            f"same problem and schedule with AMSGrad (max of uncorrected v): "
            f"x_T = {ctx.nstr(xs[-1], 6)}, R_T/T = {ctx.nstr(out['regret_per_step'], 4)}, "
            f"min Γ_t = {ctx.nstr(out['gamma_min'], 4)} ≥ 0"
        )

    p.reference(
        "Simulation: AMSGrad, with the same hyperparameters, heads to x* = −1 and its "
        "Γ_t is never negative; Adam's Γ_t is negative after every C-step.",
        rel("<", sp.IndexedBase("x")[sp.Symbol("T")], sp.Rational(-9, 10)),
        ams_run,
    )
