r"""The catalogue of known defects: each one line of Algorithm 1 changed.

A :class:`Defect` is a small declarative deviation from the one definition of Adam
(:func:`adamproofs.reference.rules.adam_step`), never another copy of the update. It
changes exactly one of:

- a **stage** of :class:`~adamproofs.reference.rules.AdamStages` (``stage`` names it,
  ``patch`` maps Algorithm 1's stage function to the defective one);
- the **hyperparameters** the update sees (``hyper``: e.g. β2 hard-coded to 0.999);
- the **step counter** ``t`` (``counter``: from the parameter's own count of earlier
  updates, the number of ``step()`` calls and the updates of all parameters so far);
- **which coordinates are updated** (``skip``) or **the first step** (``first_step``);
- the **precision** the update is computed in (``precision``: a tolerance, not a
  different formula: the diagnosis allows the rounding error of that precision);

or it is the same mathematics as a legitimate variant (``same_as``), and the search
reports that variant. Every entry carries the maths of the change, what Algorithm 1
does instead, and the Python line a user would write; the docs page is generated
from this table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal

Skip = Literal["zero_parameter", "zero_coordinates", "tiny_gradients"]
#: (compute dtype, scalar dtype) of a precision model; ``None`` is the dtype itself
Precision = tuple[str | None, str | None]


def _with(h: Any, **changes: Any) -> SimpleNamespace:
    """The hyperparameters ``h`` with some replaced (``h`` is not changed)."""
    return SimpleNamespace(**{**vars(h), **changes})


@dataclass(frozen=True)
class Defect:
    """One known deviation from Algorithm 1 (exactly one of the change fields is set)."""

    name: str
    maths: str  # the changed formula, e.g. "m̂ = m/(1−β2^t)"
    algorithm: str  # what Algorithm 1 does instead
    code: str  # the Python line a user would write
    stage: str | None = None
    patch: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None
    hyper: Callable[[dict[str, float]], dict[str, float]] | None = None
    counter: Callable[[int, int, int], int] | None = None
    skip: Skip | None = None
    first_step: bool = False
    precision: Precision | None = None
    same_as: str | None = None  # a legitimate variant, ``axis=value``
    implies: tuple[tuple[str, Any], ...] = ()  # variant axes the defect sets (axis, value)
    needs: frozenset[str] = frozenset()  # trajectory features that reveal it

    @property
    def slot(self) -> str:
        """What the defect replaces: two defects of one slot never combine."""
        if self.implies:
            return self.implies[0][0]
        if self.stage is not None:
            return _STAGE_SLOTS.get(self.stage, self.stage)
        if self.hyper is not None:
            return "hyper"
        if self.counter is not None:
            return "counter"
        if self.skip is not None or self.first_step:
            return "skip"
        if self.precision is not None:
            return "precision"
        return "alias"

    @property
    def simulated(self) -> bool:
        """Whether the search replays it (aliases and precisions are not separate models)."""
        return self.same_as is None and self.precision is None


#: stages that belong to a variant axis: a defect there never combines with that axis
_STAGE_SLOTS = {"deltas": "eps_placement", "bias_corrections": "bias_correction"}


# --- stage patches (each wraps Algorithm 1's stage) -------------------------------------


def _bc_beta(which: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """1−β^t with the other β in correction ``which`` (1: m̂ uses β2; 2: v̂ uses β1)."""

    def patch(default: Callable[..., Any]) -> Callable[..., Any]:
        def stage(enabled: bool, h: Any, t: int, one: Any) -> tuple[Any, Any]:
            swapped = _with(h, beta1=h.beta2, beta2=h.beta1)
            bc1, bc2 = default(enabled, h, t, one)
            sw1, sw2 = default(enabled, swapped, t, one)
            return (sw1, bc2) if which == 1 else (bc1, sw2)

        return stage

    return patch


def _bc_exponent(shift: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def patch(default: Callable[..., Any]) -> Callable[..., Any]:
        return lambda enabled, h, t, one: default(enabled, h, t + shift, one)

    return patch


def _bc_dropped_after(last: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def patch(default: Callable[..., Any]) -> Callable[..., Any]:
        return lambda enabled, h, t, one: default(enabled and t <= last, h, t, one)

    return patch


def _bc_multiplied(default: Callable[..., Any]) -> Callable[..., Any]:
    def stage(enabled: bool, h: Any, t: int, one: Any) -> tuple[Any, Any]:
        bc1, bc2 = default(enabled, h, t, one)
        return one / bc1, one / bc2

    return stage


def _lr_over_sqrt_t(default: Callable[..., Any]) -> Callable[..., Any]:
    # every ε placement scales Δ by α/(1−β1^t), so (1−β1^t)·√t in its place is α/√t
    return lambda enabled, h, t, one: _scaled_first(default(enabled, h, t, one), math.sqrt(t))


def _scaled_first(bcs: tuple[Any, Any], factor: float) -> tuple[Any, Any]:
    return bcs[0] * factor, bcs[1]


def _eps_as(eps: Callable[[Any], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def patch(default: Callable[..., Any]) -> Callable[..., Any]:
        return lambda placement, h, *rest: default(placement, _with(h, eps=eps(h)), *rest)

    return patch


def _eps_squared_inside(default: Callable[..., Any]) -> Callable[..., Any]:
    def stage(placement: Any, h: Any, m: list, vc: list, vr: list, bc1: Any, bc2: Any, A: Any):
        e2 = h.eps * h.eps
        return [h.lr * A.quotient(mi / bc1, A.sqrt(vi + e2)) for mi, vi in zip(m, vc)]

    return stage


def _denominator_clamped(floor: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def patch(default: Callable[..., Any]) -> Callable[..., Any]:
        def stage(placement: Any, h: Any, m: list, vc: list, vr: list, bc1: Any, bc2: Any, A: Any):
            den = [A.maximum(A.sqrt(vi) + h.eps, A.number(floor)) for vi in vc]
            return [h.lr * A.quotient(mi / bc1, d) for mi, d in zip(m, den)]

        return stage

    return patch


def _clipped(default: Callable[..., Any]) -> Callable[..., Any]:
    def stage(placement: Any, h: Any, *rest: Any) -> list:
        A = rest[-1]
        lr = h.lr
        # min(max(Δ, −α), α) = −max(−max(Δ, −α), −α)
        return [-A.maximum(-A.maximum(d, -lr), -lr) for d in default(placement, h, *rest)]

    return stage


def _lr_squared(default: Callable[..., Any]) -> Callable[..., Any]:
    return lambda placement, h, *rest: default(placement, _with(h, lr=h.lr * h.lr), *rest)


def _heavy_ball(default: Callable[..., Any]) -> Callable[..., Any]:
    return lambda h, m, g, one: [h.beta1 * mi + gi for mi, gi in zip(m, g)]


def _lerp_swapped(default: Callable[..., Any]) -> Callable[..., Any]:
    return lambda h, m, g, one: [(one - h.beta1) * mi + h.beta1 * gi for mi, gi in zip(m, g)]


def _abs_gradient(default: Callable[..., Any]) -> Callable[..., Any]:
    def stage(h: Any, v: list, g: list, one: Any) -> list:
        return [h.beta2 * vi + (one - h.beta2) * abs(gi) for vi, gi in zip(v, g)]

    return stage


def _stale_second_moment(default: Callable[..., Any]) -> Callable[..., Any]:
    def stage(form: Any, v: list, state: dict, bc2: Any, A: Any) -> tuple[list, list, Any]:
        _, raw, vmax = default(form, v, state, bc2, A)
        hat, _, _ = default(form, state["v"], state, bc2, A)  # v_{t-1} in the step
        return hat, raw, vmax

    return stage


def _lost_sign(default: Callable[..., Any]) -> Callable[..., Any]:
    return lambda cfg, h, theta, deltas, one: default(cfg, h, theta, [-d for d in deltas], one)


def _decay_without_lr(default: Callable[..., Any]) -> Callable[..., Any]:
    def stage(cfg: Any, h: Any, theta: list, deltas: list, one: Any) -> list:
        # decoupled decay θ(1−λ): the decoupled form with α·λ read as λ
        scaled = _with(h, weight_decay=h.weight_decay / h.lr)
        return default(cfg, scaled, theta, deltas, one)

    return stage


def _maximize_ignored(default: Callable[..., Any]) -> Callable[..., Any]:
    def stage(cfg: Any, h: Any, theta: list, grad: list) -> list:
        return default(_Unmaximized(cfg), h, theta, grad)

    return stage


class _Unmaximized:
    """``cfg`` with ``maximize`` read as False."""

    def __init__(self, cfg: Any) -> None:
        self._cfg = cfg

    def __getattr__(self, name: str) -> Any:
        return False if name == "maximize" else getattr(self._cfg, name)


def _hyper(**changes: Callable[[dict[str, float]], float]) -> Callable[..., dict[str, float]]:
    def change(h: dict[str, float]) -> dict[str, float]:
        return {**h, **{k: f(h) for k, f in changes.items()}}

    return change


def _round4(b: float) -> float:
    return round(b, 4)


#: Every known defect, by name.
CATALOGUE: dict[str, Defect] = {
    d.name: d
    for d in (
        Defect(
            "mhat_uses_beta2",
            "m̂ = m/(1−β2^t)",
            "Algorithm 1 divides m by 1−β1^t",
            "m_hat = m / (1 - beta2**t)",
            stage="bias_corrections",
            patch=_bc_beta(1),
        ),
        Defect(
            "vhat_uses_beta1",
            "v̂ = v/(1−β1^t)",
            "Algorithm 1 divides v by 1−β2^t",
            "v_hat = v / (1 - beta1**t)",
            stage="bias_corrections",
            patch=_bc_beta(2),
        ),
        Defect(
            "bias_correction_t_minus_1",
            "m̂ = m/(1−β1^(t−1)), v̂ = v/(1−β2^(t−1))",
            "Algorithm 1 corrects with β^t (t = 1 at the first step)",
            "m_hat = m / (1 - beta1**(t - 1))",
            stage="bias_corrections",
            patch=_bc_exponent(-1),
        ),
        Defect(
            "bias_correction_multiplied",
            "m̂ = m·(1−β1^t), v̂ = v·(1−β2^t)",
            "Algorithm 1 divides by 1−β^t",
            "m_hat = m * (1 - beta1**t)",
            stage="bias_corrections",
            patch=_bc_multiplied,
        ),
        Defect(
            "bias_correction_dropped_after_50",
            "m̂ = m, v̂ = v for t > 50 (β^t taken as 0)",
            "Algorithm 1 divides by 1−β^t at every step",
            "bc1 = 1 - beta1**t if t <= 50 else 1.0",
            stage="bias_corrections",
            patch=_bc_dropped_after(50),
        ),
        Defect(
            "lr_decayed_sqrt_t",
            "α_t = α/√t",
            "Algorithm 1 uses the constant α",
            "step_size = lr / math.sqrt(t) / (1 - beta1**t)",
            stage="bias_corrections",
            patch=_lr_over_sqrt_t,
        ),
        Defect(
            "step_counted_after_use",
            "t lags by one from the second step (t = 1, 1, 2, 3, …)",
            "Algorithm 1 increments t before the update (t = 1, 2, 3, …)",
            "t = max(self.t, 1); self.t += 1",
            counter=lambda own, calls, shared: max(own, 1),
        ),
        Defect(
            "step_counter_plus_1",
            "t + 1 in the bias corrections (t = 2, 3, 4, …)",
            "Algorithm 1 starts at t = 1",
            "self.t += 1 (twice: once in step() and once in update())",
            counter=lambda own, calls, shared: own + 2,
        ),
        Defect(
            "step_counter_frozen",
            "t = 1 at every step",
            "Algorithm 1 increments t at every step",
            "t = self.t + 1  (self.t is never written back)",
            counter=lambda own, calls, shared: 1,
        ),
        Defect(
            "shared_step_counter",
            "t counts the updates of all parameters (one counter, incremented per parameter)",
            "Algorithm 1 counts the steps of each parameter",
            "self.t += 1  (inside the loop over parameters)",
            counter=lambda own, calls, shared: shared + 1,
            needs=frozenset({"two_parameters"}),
        ),
        Defect(
            "eps_ignored",
            "Δ = α m̂/√v̂",
            "Algorithm 1 divides by √v̂ + ε",
            "p -= lr * m_hat / np.sqrt(v_hat)",
            stage="deltas",
            patch=_eps_as(lambda h: 0 * h.eps),
        ),
        Defect(
            "eps_doubled",
            "Δ = α m̂/(√v̂ + 2ε)",
            "Algorithm 1 adds ε once",
            "p -= lr * m_hat / (np.sqrt(v_hat) + eps + eps)",
            stage="deltas",
            patch=_eps_as(lambda h: 2 * h.eps),
        ),
        Defect(
            "eps_squared_inside_sqrt",
            "Δ = α m̂/√(v̂ + ε²)",
            "Algorithm 1 divides by √v̂ + ε",
            "p -= lr * m_hat / np.sqrt(v_hat + eps**2)",
            stage="deltas",
            patch=_eps_squared_inside,
        ),
        Defect(
            "hardcoded_eps",
            "ε = 10⁻⁸ whatever ε is given",
            "Algorithm 1 uses the given ε",
            "p -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)",
            hyper=_hyper(eps=lambda h: 1e-8),
        ),
        Defect(
            "denominator_clamped",
            "Δ = α m̂/max(√v̂ + ε, 10⁻⁸)",
            "Algorithm 1 divides by √v̂ + ε",
            "denom = np.maximum(np.sqrt(v_hat) + eps, 1e-8)",
            stage="deltas",
            patch=_denominator_clamped(1e-8),
            needs=frozenset({"tiny_eps"}),
        ),
        Defect(
            "update_clipped",
            "Δ = clip(α m̂/(√v̂+ε), −α, α)",
            "Algorithm 1 does not clip the step",
            "p -= np.clip(lr * m_hat / (np.sqrt(v_hat) + eps), -lr, lr)",
            stage="deltas",
            patch=_clipped,
        ),
        Defect(
            "lr_squared",
            "Δ = α² m̂/(√v̂+ε)",
            "Algorithm 1 multiplies by α once",
            "p -= lr * (lr * m_hat / (np.sqrt(v_hat) + eps))",
            stage="deltas",
            patch=_lr_squared,
        ),
        Defect(
            "v_abs_gradient",
            "v = β2 v + (1−β2)|g|",
            "Algorithm 1 accumulates g²",
            "v = beta2 * v + (1 - beta2) * np.abs(g)",
            stage="raw_second_moments",
            patch=_abs_gradient,
        ),
        Defect(
            "heavy_ball_first_moment",
            "m = β1 m + g",
            "Algorithm 1 weights g by 1−β1",
            "m = beta1 * m + g",
            stage="first_moments",
            patch=_heavy_ball,
        ),
        Defect(
            "lerp_weights_swapped",
            "m = (1−β1) m + β1 g",
            "Algorithm 1 computes m = β1 m + (1−β1) g",
            "m = m + beta1 * (g - m)   # torch: m.lerp_(g, beta1)",
            stage="first_moments",
            patch=_lerp_swapped,
        ),
        Defect(
            "stale_second_moment",
            "Δ uses v̂_{t−1} (the second moment before this step's gradient)",
            "Algorithm 1 updates v before the step",
            "p -= lr * m_hat / (np.sqrt(v_prev / (1 - beta2**t)) + eps)",
            stage="second_moments",
            patch=_stale_second_moment,
        ),
        Defect(
            "lost_sign",
            "θ_t = θ_{t−1} + Δ_t (ascends)",
            "Algorithm 1 subtracts the step",
            "p += lr * m_hat / (np.sqrt(v_hat) + eps)",
            stage="thetas",
            patch=_lost_sign,
        ),
        Defect(
            "decoupled_decay_without_lr",
            "θ_t = θ_{t−1}(1−λ) − Δ_t",
            "decoupled decay (AdamW) multiplies by 1−αλ",
            "p *= 1 - weight_decay",
            stage="thetas",
            patch=_decay_without_lr,
            implies=(("decay", "decoupled"),),
            needs=frozenset({"weight_decay"}),
        ),
        Defect(
            "betas_swapped",
            "β1 and β2 exchanged everywhere",
            "Algorithm 1 uses β1 for m and β2 for v",
            "beta2, beta1 = betas",
            hyper=_hyper(beta1=lambda h: h["beta2"], beta2=lambda h: h["beta1"]),
        ),
        Defect(
            "hardcoded_beta2",
            "β2 = 0.999 whatever β2 is given",
            "Algorithm 1 uses the given β2",
            "v = 0.999 * v + 0.001 * g * g",
            hyper=_hyper(beta2=lambda h: 0.999),
        ),
        Defect(
            "weight_decay_ignored",
            "λ = 0 whatever λ is given",
            "Algorithm 1 with weight decay applies the given λ",
            "def __init__(self, params, lr, betas, eps, weight_decay): ...  # λ never used",
            hyper=_hyper(weight_decay=lambda h: 0.0),
        ),
        Defect(
            "beta2_rounded",
            "β2 rounded to 4 decimal digits",
            "Algorithm 1 uses β2 as given",
            "beta2 = round(beta2, 4)",
            hyper=_hyper(beta2=lambda h: _round4(h["beta2"])),
        ),
        Defect(
            "maximize_ignored",
            "g not negated under maximize",
            "maximize ascends: g ← −g before the moments",
            "g = p.grad  # maximize=True accepted, never read",
            stage="gradients",
            patch=_maximize_ignored,
            needs=frozenset({"maximize"}),
        ),
        Defect(
            "skip_zero_gradient_parameter",
            "a parameter whose gradient is all zero is not updated (m, v do not decay)",
            "Algorithm 1 updates m, v and θ at every step, g = 0 included",
            "if not g.any(): continue",
            skip="zero_parameter",
        ),
        Defect(
            "lazy_zero_coordinates",
            "coordinates with g = 0 keep m, v and θ (a lazy, sparse update)",
            "Algorithm 1 decays m and v and moves θ where g = 0",
            "idx = g != 0; m[idx] = ...; v[idx] = ...; p[idx] -= ...",
            skip="zero_coordinates",
        ),
        Defect(
            "skip_tiny_gradients",
            "θ not moved where 0 < |g| < 10⁻¹²",
            "Algorithm 1 moves θ for every gradient",
            "update[(np.abs(g) < 1e-12) & (g != 0)] = 0",
            skip="tiny_gradients",
        ),
        Defect(
            "first_step_sgd",
            "θ_1 = θ_0 − α g_1 (the first step is plain SGD)",
            "Algorithm 1's first step is α m̂_1/(√v̂_1 + ε) ≈ α·sign(g_1)",
            "if t == 1: p -= lr * g",
            first_step=True,
        ),
        Defect(
            "bias_correction_float32",
            "1−β^t computed in float32",
            "Algorithm 1 computes in the parameters' precision",
            "bc1 = 1 - np.float32(beta1) ** np.float32(t)",
            precision=(None, "float32"),
        ),
        Defect(
            "moments_float32",
            "m, v and the step computed in float32 (float64 parameters)",
            "Algorithm 1 computes in the parameters' precision",
            "m = np.zeros_like(p, dtype=np.float32)",
            precision=("float32", "float32"),
        ),
        Defect(
            "l2_after_moments",
            "θ_t = θ_{t−1} − Δ_t − αλθ_{t−1} (λθ added to the step, not to g)",
            "L2 decay (torch.optim.Adam) adds λθ_{t−1} to g before the moments",
            "p -= lr * (m_hat / (np.sqrt(v_hat) + eps) + weight_decay * p)",
            same_as="decay=decoupled",
        ),
        Defect(
            "decay_on_updated_theta",
            "θ_t = (θ_{t−1} − Δ_t)(1−αλ) (decay applied to θ_t, not θ_{t−1})",
            "decoupled decay (AdamW) shrinks θ_{t−1}: θ_t = θ_{t−1}(1−αλ) − Δ_t",
            "p -= step; p *= 1 - lr * weight_decay",
            same_as="decay=decoupled_after",
        ),
        Defect(
            "step_counted_per_optimizer",
            "t counts step() calls, so a parameter whose first gradient arrives late "
            "starts at t > 1",
            "torch.optim.Adam counts each parameter's own updates",
            "self.t += 1  (once per step(), shared by all parameters)",
            same_as="step_scope=optimizer",
        ),
    )
}
