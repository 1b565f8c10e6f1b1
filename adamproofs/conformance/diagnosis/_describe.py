"""Words for models: the maths of each change, what Algorithm 1 does, the line of code."""

from __future__ import annotations

from ...variants import Variant, spell
from ._candidates import AxisChange, Change
from ._catalogue import CATALOGUE, Defect

#: (axis, value) -> (maths, what Algorithm 1 does); the legitimate variants' own words
VARIANT_WORDS: dict[tuple[str, str], tuple[str, str]] = {
    ("eps_placement", "paper"): ("Δ = α m̂/(√v̂ + ε)", "the paper's ε placement"),
    ("eps_placement", "hat"): (
        "Δ = α√(1−β2^t)/(1−β1^t)·m/(√v + ε) (the ε̂ form)",
        "Algorithm 1 adds ε to √v̂",
    ),
    ("eps_placement", "root"): ("Δ = α m̂/√(v̂ + ε) (ε inside the root)", "Algorithm 1 adds ε to √v̂"),
    ("bias_correction", "true"): ("m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)", "bias correction"),
    ("bias_correction", "false"): (
        "m̂ = m, v̂ = v (no bias correction)",
        "Algorithm 1 divides by 1−β^t",
    ),
    ("amsgrad", "none"): ("v̂ = v/(1−β2^t) (no AMSGrad maximum)", "AMSGrad keeps a running maximum"),
    ("amsgrad", "max_raw"): (
        "AMSGrad: v̂ = max(v_1..v_t)/(1−β2^t)",
        "Algorithm 1 divides v itself, no maximum",
    ),
    ("amsgrad", "max_corrected"): (
        "AMSGrad: v̂ = max(v̂_1..v̂_t)",
        "Algorithm 1 divides v itself, no maximum",
    ),
    ("amsgrad", "max_uncorrected"): (
        "AMSGrad: v̂ = max(v_1..v_t), never corrected",
        "Algorithm 1 divides v itself, no maximum",
    ),
    ("decay", "l2"): ("g ← g + λθ_{t−1} (L2)", "L2 decay as torch.optim.Adam"),
    ("decay", "decoupled"): (
        "θ_t = θ_{t−1}(1−αλ) − Δ_t (decoupled, AdamW)",
        "L2 decay adds λθ_{t−1} to g before the moments",
    ),
    ("decay", "decoupled_after"): (
        "θ_t = (θ_{t−1} − Δ_t)(1−αλ) (decay after the step)",
        "L2 decay adds λθ_{t−1} to g before the moments",
    ),
    ("step_scope", "param"): ("t counts each parameter's updates", "per-parameter step counts"),
    ("step_scope", "optimizer"): (
        "t counts step() calls (a late parameter starts at t > 1)",
        "torch.optim.Adam counts each parameter's own updates",
    ),
}


def aliases(change: Change) -> list[Defect]:
    """Catalogue entries that are the same mathematics as the axis change."""
    if not isinstance(change, AxisChange):
        return []
    return [d for d in CATALOGUE.values() if d.same_as == change.name]


def maths(change: Change) -> str:
    if isinstance(change, AxisChange):
        return VARIANT_WORDS[(change.axis, spell(change.value))][0]
    return change.maths


def algorithm(change: Change, base: Variant) -> str:
    if isinstance(change, AxisChange):
        return VARIANT_WORDS[(change.axis, spell(change.value))][1]
    return change.algorithm


def phrase(change: Change) -> str:
    """``maths`` with the change's name, e.g. ``m̂ = m/(1−β2^t) [mhat_uses_beta2]``."""
    if isinstance(change, AxisChange):
        return f"{maths(change)} [the legitimate variant {change.name}]"
    return f"{change.maths} [{change.name}]"
