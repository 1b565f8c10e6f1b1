r"""Derivation 10: errata of common teaching material, each checked rather than asserted."""

from __future__ import annotations

import sympy as sp

from .core import Proof, frac, is_zero, rel
from .runs import sympy_run
from .symbols import beta, beta1, beta2, gs, i, k, mu, t
from .tactics import sum_equals

R = sp.Rational


def errata(p: Proof) -> None:
    """10. β1 = 0.9; weights β^(t−i) not β^(t−1); m̂ divides by 1 − β1^t."""
    # --- β1 = 0.9
    p.source("Erratum 1: 'typically β₁ = 0.99' is wrong. The paper's defaults are α = 0.001, "
             "β₁ = 0.9, β₂ = 0.999, ε = 1e-8.",
             (sp.Eq(sp.Symbol("beta_1"), R(9, 10)), sp.Eq(sp.Symbol("beta_2"), R(999, 1000))),
             "Kingma & Ba, caption of Algorithm 1")
    lag = sp.Sum(k * (1 - beta) * beta**k, (k, 0, sp.oo))
    p.symbolic("It matters: the mean age of the information in an EMA with decay β is "
               "Σ k(1−β)β^k = β/(1−β): 9 steps at β₁ = 0.9 but 99 steps at 0.99, a momentum "
               "eleven times slower (exact sympy sums at the two rational values).",
               (rel("==", lag.subs(beta, R(9, 10)), 9), rel("==", lag.subs(beta, R(99, 100)), 99)),
               check=lambda: lag.subs(beta, R(9, 10)).doit() == 9
               and lag.subs(beta, R(99, 100)).doit() == 99)
    # --- β^(t−i), not β^(t−1)
    wrong = sp.Sum(beta ** (t - 1), (i, 1, t))
    p.symbolic("Erratum 2: the weight of g_i is β^(t−i). As written with β^(t−1), every term is "
               "the same and the sum is t·β^(t−1), not (1 − β^t)/(1 − β).",
               rel("==", wrong, t * beta ** (t - 1)))
    p.symbolic("The two disagree already at t = 2 (by β − 1 ≠ 0); with the correct exponent "
               "the identity holds (derivation geometric-series).",
               (rel("==", wrong.subs(t, 2) - (1 - beta**2) / (1 - beta), beta - 1),
                rel("==", sp.Sum(beta ** (t - i), (i, 1, t)), (1 - beta**t) / (1 - beta))),
               check=lambda: is_zero(wrong.subs(t, 2).doit() - (1 - beta**2) / (1 - beta)
                                     - (beta - 1))
               and sum_equals(sp.Sum(beta ** (t - i), (i, 1, t)), (1 - beta**t) / (1 - beta)))
    g1, g2 = sp.symbols("g_1 g_2", real=True)
    wrong_v2 = (1 - beta2) * (beta2 * g1**2 + beta2 * g2**2)

    def oracle_v2() -> tuple[bool, str]:
        traj = sympy_run([g1, g2], 2)
        got = traj.states[2]["v"][0]
        diff = sp.factor(sp.expand(wrong_v2 - got))
        ok = is_zero(diff - (-(1 - beta2) ** 2 * g2**2))
        return ok, ("sympy run of the reference optimizer: its v₂ minus the β^(t−1) formula "
                    f"is {sp.factor(-diff)}, nonzero for g₂ ≠ 0, β₂ ≠ 1")

    p.reference("The oracle (run on symbols) disagrees with the β^(t−1) formula at t = 2.",
                rel("==", wrong_v2 - sp.Symbol("v_2"), -(1 - beta2) ** 2 * g2**2), oracle_v2)
    # --- m̂ uses β1^t
    m_const = gs * (1 - beta1**t)  # m_t for a constant gradient (derivation geometric-series)
    p.symbolic("Erratum 3: m̂_t = m_t/(1 − β₁^t), not m_t/(1 − β₂^t). With a constant gradient "
               "g, dividing by 1 − β₁^t recovers g exactly ...",
               rel("==", frac(m_const, 1 - beta1**t), gs))
    p.symbolic("... while dividing by 1 − β₂^t gives 100·g at t = 1 with the defaults: a first "
               "step about 100 times too large.",
               rel("==", sp.Subs(m_const / (1 - beta2**t), (beta1, beta2, t),
                                 (R(9, 10), R(999, 1000), 1)), 100 * gs))
    p.symbolic("Under stationarity the wrong correction is biased at every finite t: "
               "E[m_t]/(1 − β₂^t) = μ(1 − β₁^t)/(1 − β₂^t), equal to μ only when β₁ = β₂ (shown).",
               (rel("==", frac(mu * (1 - beta2**t), 1 - beta2**t), mu),))

    def oracle_mhat() -> tuple[bool, str]:
        traj = sympy_run([gs] * 4, 4)
        good = all(is_zero(sp.factor(traj.states[n]["m"][0] / (1 - beta1**n)) - gs)
                   for n in range(1, 5))
        bad = all(not is_zero(sp.factor(traj.states[n]["m"][0] / (1 - beta2**n)) - gs)
                  for n in range(1, 5))
        return good and bad, ("sympy run with a constant symbolic g, t = 1…4: m_t/(1 − β₁^t) "
                              "= g at every t, m_t/(1 − β₂^t) = g at none")

    p.reference("The oracle agrees.", rel("==", sp.Symbol("m_t") / (1 - beta1**t), gs),
                oracle_mhat)
    p.remark("Correct in the teaching material: E[v_t] = E[g_t²](1 − β₂^t) + ζ (derivation "
             "bias-correction proves it and gives ζ). In the paper itself, §3 says 'β₁ can (and "
             "should) be chosen' where the argument is about β₂; §2.1's bounds are not bounds "
             "over all gradient sequences (derivation step-bounds); 'invariant to rescaling' "
             "holds exactly only for ε = 0 (derivation scale-invariance); and the efficient "
             "form with ε̂ is not Algorithm 1 for a fixed ε̂ (derivation eps-hat).")
