"""The registry of derivations: name -> title, summary and the function that builds it.

Building a derivation checks every step (sympy, mpmath, reference runs), which
takes seconds; :func:`derive` caches the result per name for the whole process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from ._adamax import adamax
from ._bounds import step_bounds
from ._core import Derivation, Proof
from ._errata import errata
from ._first_step import first_step
from ._invariance import eps_hat_rewrite, scale_invariance
from ._moments import bias_correction, geometric_series, unrolled_moments
from ._nonconvergence import non_convergence


@dataclass(frozen=True)
class Entry:
    """One registered derivation (not yet built)."""

    name: str
    title: str
    summary: str
    builder: Callable[[Proof], None]

    def build(self) -> Derivation:
        """Run the derivation, checking every step (uncached)."""
        proof = Proof(self.name, self.title, self.summary)
        self.builder(proof)
        return proof.build()


_ENTRIES = (
    Entry(
        "unrolled-moments",
        "Unrolled moments",
        "Adam's moment recursions unroll into weighted sums of all past gradients with "
        "weights (1−β)β^(t−i). Proved by induction on a symbolic t, and confirmed by running "
        "the reference optimizer itself on sympy symbols.",
        unrolled_moments,
    ),
    Entry(
        "geometric-series",
        "The geometric series behind the bias correction",
        "The EMA weights sum to 1 − β^t, so dividing by 1 − β^t turns m_t and v_t into exact "
        "weighted means: a constant gradient is reproduced exactly at every step.",
        geometric_series,
    ),
    Entry(
        "bias-correction",
        "Bias correction and the drift term ζ",
        "Under stationary gradient statistics the corrected moments are unbiased: "
        "E[m̂_t] = E[g] and E[v̂_t] = E[g²]. When E[g²] drifts, an exact extra term ζ appears; "
        "for a linear drift it is the familiar lag of β₂/(1 − β₂) steps.",
        bias_correction,
    ),
    Entry(
        "first-step",
        "The first step",
        "At t = 1 both bias corrections cancel the EMA weights, so Δ₁ = α g₁/(|g₁| + ε) "
        "whatever β₁ and β₂ are: every coordinate moves by almost exactly α.",
        first_step,
    ),
    Entry(
        "step-bounds",
        "How large can one Adam step be?",
        "The paper's §2.1 bounds, |Δ_t| ≤ α(1 − β₁)/√(1 − β₂) or ≤ α, are exact only over "
        "'severely sparse' gradients. Over all gradient sequences the exact supremum is S(t), "
        "found with Cauchy–Schwarz and attained by a geometric sequence; it exceeds α from "
        "t = 2 on unless β₁ = β₂, exceeds the paper's first bound for large t, and is "
        "unbounded in t when β₁² ≥ β₂.",
        step_bounds,
    ),
    Entry(
        "scale-invariance",
        "Scale invariance, exactly",
        "Rescaling all gradients by c changes the step to sign(c)·α m̂/(√v̂ + ε/|c|): "
        "invariance is exact only for ε = 0; tiny gradients see ε grow and take SGD-like, "
        "proportionally smaller steps.",
        scale_invariance,
    ),
    Entry(
        "eps-hat",
        "ε versus ε̂: the 'efficient' form",
        "The paper's efficient rewrite with α_t and ε̂ equals Algorithm 1 only when "
        "ε̂ = ε√(1 − β₂^t); a constant ε̂ (Keras, TF1) means a time-varying ε_t = "
        "ε̂/√(1 − β₂^t), 31.6 times larger at t = 1 for β₂ = 0.999.",
        eps_hat_rewrite,
    ),
    Entry(
        "adamax",
        "AdaMax: the p → ∞ limit and its true step bound",
        "Letting p → ∞ in an Lp version of v_t gives u_t = max(β₂u_{t−1}, |g_t|) with no bias "
        "correction. The paper's |Δ_t| ≤ α is not exact: the supremum is "
        "(1 − β₁)/(1 − β₁^t)·(1 − (β₁/β₂)^t)/(1 − β₁/β₂), 111/110 in the limit at the "
        "defaults.",
        adamax,
    ),
    Entry(
        "non-convergence",
        "Non-convergence: the Reddi–Kale–Kumar counterexample",
        "On a simple online problem over [−1, 1], with hyperparameters that satisfy Kingma & "
        "Ba's convergence condition, Adam drifts to the worst point: the rare large gradient "
        "is divided by its own large √v, the frequent small ones are not. AMSGrad's running "
        "max makes the inverse step size monotone and fixes it.",
        non_convergence,
    ),
    Entry(
        "errata",
        "Errata of common teaching material",
        "β₁ is typically 0.9, not 0.99; the weight of g_i is β^(t−i), not β^(t−1) (that sum "
        "is t·β^(t−1)); m̂ divides by 1 − β₁^t, not 1 − β₂^t, and not by 1 − β₁; ε sits "
        "outside the square root; the invariance is per coordinate, not under rotation; "
        "the paper's §3 means β₂. Each checked, with the consequence of the mistake.",
        errata,
    ),
)

#: Every derivation by name, in reading order.
DERIVATIONS: dict[str, Entry] = {entry.name: entry for entry in _ENTRIES}


class UnknownDerivation(KeyError):
    """A derivation name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


@cache
def derive(name: str) -> Derivation:
    """The built (checked) derivation ``name``, cached for the process."""
    if name not in DERIVATIONS:
        raise UnknownDerivation(f"unknown derivation {name!r}; known: {', '.join(DERIVATIONS)}")
    return DERIVATIONS[name].build()


def derive_all() -> list[Derivation]:
    """Every derivation, built (and cached), in reading order."""
    return [derive(name) for name in DERIVATIONS]
