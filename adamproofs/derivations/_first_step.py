r"""Derivation 4: the first step, Δ₁ = α g₁/(|g₁| + ε), whatever β₁ and β₂ are."""

from __future__ import annotations

import sympy as sp

from ..config import Adam
from ._core import Proof, frac, is_zero, rel
from ._runs import compare, steps_of, sympy_run
from ._symbols import Delta, alpha, beta1, beta2, eps

R = sp.Rational
g1 = sp.Symbol("g_1", real=True)


def first_step(p: Proof) -> None:
    """4. Δ_1 = α g_1/(|g_1| + ε), whatever β1 and β2 are."""
    gs = g1
    p.symbolic(
        "At t = 1 the bias corrections cancel the EMA weights exactly.",
        (
            rel("==", frac((1 - beta1) * gs, 1 - beta1), gs),
            rel("==", frac((1 - beta2) * gs**2, 1 - beta2), gs**2),
        ),
    )
    p.symbolic(
        "So √v̂₁ = |g₁| (for real g₁).",
        rel("==", sp.Pow(gs**2, R(1, 2), evaluate=False), sp.Abs(gs)),
    )
    delta1 = alpha * gs / (sp.Abs(gs) + eps)
    p.symbolic(
        "The first step: Δ₁ = α·m̂₁/(√v̂₁ + ε) = α g₁/(|g₁| + ε), independent of β₁, β₂.",
        rel("==", Delta(1), delta1),
        check=lambda: is_zero(
            alpha
            * ((1 - beta1) * gs / (1 - beta1))
            / (sp.sqrt((1 - beta2) * gs**2 / (1 - beta2)) + eps)
            - delta1
        ),
    )
    p.symbolic(
        "Hence |Δ₁| < α for every ε > 0 (the gap is αε/(|g₁| + ε)), and |Δ₁| → α as "
        "|g₁| ≫ ε; with ε = 0 and g₁ ≠ 0, |Δ₁| = α exactly.",
        rel("<", alpha * sp.Abs(gs) / (sp.Abs(gs) + eps), alpha),
    )

    def sympy_oracle() -> tuple[bool, str]:
        traj = sympy_run([gs], 1)
        got = -traj.thetas[1][0]
        return is_zero(got - delta1), (
            "reference.run(Adam(), arithmetic='sympy') with "
            "symbolic α, β₁, β₂, ε, g₁: −θ₁ is exactly α g₁/(|g₁| + ε)"
        )

    p.reference(
        "The oracle on sympy symbols gives the same expression.",
        rel("==", Delta(1), delta1),
        sympy_oracle,
    )

    def mp_oracle() -> tuple[bool, str]:
        pairs = []
        for b1, b2 in (("0.9", "0.999"), ("0.5", "0.9"), ("0", "0.999"), ("0.99", "0.5")):
            for grad in ("3.7", "-1e-6", "1e-9", "-250", "0"):
                cfg = Adam(lr="0.001", beta1=b1, beta2=b2, eps="1e-8")
                got = steps_of(cfg, [grad])[0]
                gq = R(grad)
                want = R("0.001") * gq / (abs(gq) + R("1e-8"))
                pairs.append((f"β=({b1},{b2}), g={grad}", got, sp.N(want, 70)))
        ok, how = compare(pairs)
        if ok and any(got != 0 for label, got, _ in pairs if label.endswith("g=0")):
            return False, "g = 0 did not give Δ₁ = 0"
        return ok, (
            "mpmath oracle, 50 digits, α = 0.001, ε = 1e-8, 4 (β₁, β₂) pairs × "
            f"g₁ in {{3.7, −1e-6, 1e-9, −250, 0}}: {how}"
        )

    p.reference(
        "At 50 digits the oracle's first step matches the formula for every β pair and "
        "gradient tried (and is 0 for g₁ = 0).",
        rel("==", Delta(1), delta1),
        mp_oracle,
        detail="In float64 the identity is not bit-exact (rounding in m̂₁ and √v̂₁), so "
        "tests of float implementations need an ulp tolerance.",
    )
