"""A corpus of deliberately wrong Adams (and correct ones) to measure the suite's power.

Each mutant is one kind of mistake people make in real code. Every mutant exists
twice: as a ``torch.optim.Optimizer`` subclass (constructor ``(params, lr, betas,
eps, weight_decay)``, plus ``maximize``) when PyTorch is installed, and as a
plain-protocol NumPy class (``(params, *, lr, beta1, beta2, eps, weight_decay)``).
Both are built from one table of mistakes, :data:`MUTANTS` (name -> description),
applied as flags to one plainly written Adam.

Targets for the CLI: ``tests.conformance.mutants:TORCH_<name>`` and
``tests.conformance.mutants:NUMPY_<name>`` (run from the repository root).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

#: mutant name -> the mistake (each is one flag of the base implementations)
MUTANTS: dict[str, str] = {
    "eps_inside_sqrt": "ε inside the square root, √(v̂+ε), while claiming the paper's form",
    "eps_hat": "ε̂ form α√(1-β2^t)/(1-β1^t)·m/(√v+ε) while claiming the paper's form",
    "no_bias_correction": "no bias correction at all",
    "beta_pow_t_minus_1": "bias correction with β^(t-1)",
    "vhat_uses_beta1": "v̂ = v/(1-β1^t)",
    "mhat_uses_beta2": "m̂ = m/(1-β2^t)",
    "t_not_incremented": "the step counter is never incremented (t = 1 forever)",
    "t_starts_at_0": "t incremented after use, so every step after the first lags by one",
    "global_t": "one step counter per optimizer (a late parameter starts at t > 1)",
    "shared_counter": "one counter incremented once per parameter update (shared by all)",
    "lerp_swapped": "m = (1-β1)m + β1 g (lerp weight swapped)",
    "v_abs": "v accumulates |g| instead of g²",
    "wrong_sign": "θ += step (ascends)",
    "decay_after": "decoupled decay applied after the step while claiming L2",
    "decoupled": "decoupled (AdamW) decay while claiming L2",
    "decoupled_no_lr": "decoupled decay θ *= 1-λ without the learning rate",
    "l2_after_moments": "L2 term added to the update, not to the gradient fed to the moments",
    "maximize_ignored": "maximize=True is accepted and ignored",
    "fp32_state": "m and v kept (and the update computed) in float32 for float64 parameters",
    "bc_float32": "bias corrections computed in float32 (visible in float64)",
    "sqrt_eps_sq": "√(v̂ + ε²) instead of √v̂ + ε",
    "eps_only_if_zero": "ε added only when v̂ == 0",
    "clamp_denominator": "denominator clamped to ≥ 1e-8",
    "clamp_update": "update clipped to ±lr",
    "skip_tiny": "elements with |g| < 1e-12 are not updated",
    "zero_grad_return": "a parameter whose gradient is all zero is skipped (no moment decay)",
    "nan_to_num": "NaN/inf gradients replaced by 0",
    "hardcoded_beta2": "β2 ignored (0.999 hard-coded)",
    "weight_decay_ignored": "weight_decay accepted and never applied",
    "hardcoded_eps": "ε ignored (1e-8 hard-coded)",
    "lr_squared": "lr applied twice for lr != 1 (lr² step)",
    "state_not_saved": "state_dict() does not contain the moments",
    "mutates_grad": "the caller's gradient is scaled in place",
    "first_step_plain_sgd": "the first step is plain SGD (θ -= lr·g)",
    "v_decay_float": "v decays with β2 rounded to 4 digits",
    "late_t_bug": "bias correction dropped after step 50 (β^t treated as 0 too early)",
    "heavy_ball": "m = β1 m + g (no 1-β1 weight)",
    "stale_v": "the step divides by the second moment of the previous step, v_{t-1}",
    "lazy_zero": "coordinates whose gradient is exactly 0 keep m, v and θ (lazy update)",
    "eps_doubled": "ε added twice to the denominator",
    "betas_swapped": "β1 and β2 exchanged",
    "bc_multiplied": "moments multiplied by 1-β^t instead of divided",
    "lr_sqrt_t": "the step divided by √t (a decaying learning rate nobody asked for)",
    "t_plus_1": "the step counter starts at 2 (incremented twice before the first update)",
}

#: mutant -> the model the diagnosis must name (catalogue entries and variant axes,
#: relative to the variant the mutant is checked against). The mistakes not listed are not
#: deviations of the update rule: they are caught by other properties (inputs_unmutated,
#: checkpoint, nonfinite) and the diagnosis finds the steps themselves correct.
DIAGNOSED_AS: dict[str, tuple[str, ...]] = {
    "eps_inside_sqrt": ("eps_placement=root",),
    "eps_hat": ("eps_placement=hat",),
    "no_bias_correction": ("bias_correction=false",),
    "beta_pow_t_minus_1": ("bias_correction_t_minus_1",),
    "vhat_uses_beta1": ("vhat_uses_beta1",),
    "mhat_uses_beta2": ("mhat_uses_beta2",),
    "t_not_incremented": ("step_counter_frozen",),
    "t_starts_at_0": ("step_counted_after_use",),
    "global_t": ("step_scope=optimizer",),
    "shared_counter": ("shared_step_counter",),
    "lerp_swapped": ("lerp_weights_swapped",),
    "v_abs": ("v_abs_gradient",),
    "wrong_sign": ("lost_sign",),
    "decay_after": ("decay=decoupled_after",),
    "decoupled": ("decay=decoupled",),
    "decoupled_no_lr": ("decoupled_decay_without_lr",),
    "l2_after_moments": ("decay=decoupled",),
    "maximize_ignored": ("maximize_ignored",),
    "fp32_state": ("moments_float32",),
    "bc_float32": ("bias_correction_float32",),
    "sqrt_eps_sq": ("eps_squared_inside_sqrt",),
    "eps_only_if_zero": ("eps_ignored",),
    "clamp_denominator": ("denominator_clamped",),
    "clamp_update": ("update_clipped",),
    "skip_tiny": ("skip_tiny_gradients",),
    "zero_grad_return": ("skip_zero_gradient_parameter",),
    "hardcoded_beta2": ("hardcoded_beta2",),
    "weight_decay_ignored": ("weight_decay_ignored",),
    "hardcoded_eps": ("hardcoded_eps",),
    "lr_squared": ("lr_squared",),
    "first_step_plain_sgd": ("first_step_sgd",),
    "v_decay_float": ("beta2_rounded",),
    "late_t_bug": ("bias_correction_dropped_after_50",),
    "heavy_ball": ("heavy_ball_first_moment",),
    "stale_v": ("stale_second_moment",),
    "lazy_zero": ("lazy_zero_coordinates",),
    "eps_doubled": ("eps_doubled",),
    "betas_swapped": ("betas_swapped",),
    "bc_multiplied": ("bias_correction_multiplied",),
    "lr_sqrt_t": ("lr_decayed_sqrt_t",),
    "t_plus_1": ("step_counter_plus_1",),
    "amsgrad_max_corrected": ("amsgrad=max_corrected",),
    "amsgrad_no_max": ("amsgrad=none",),
}

#: mistakes outside the update rule (no catalogue entry; other properties catch them)
NOT_UPDATE_RULE = frozenset({"state_not_saved", "mutates_grad", "nan_to_num"})

#: mistakes visible only in float64 (float32 parameters compute in float32 anyway, and
#: β2 rounded to 4 digits stays within float32's rounding on the diagnostic trajectories)
FLOAT64_ONLY = frozenset({"fp32_state", "bc_float32", "v_decay_float"})

#: mutants checked with --variant amsgrad_max_raw (their base has AMSGrad on)
AMSGRAD_MUTANTS: dict[str, str] = {
    "amsgrad_max_corrected": "AMSGrad keeps the max of v̂ while claiming PyTorch's max of raw v",
    "amsgrad_no_max": "AMSGrad flag accepted but the max is never taken",
}

NUMPY_ONLY_SKIP = {"maximize_ignored"}  # the plain protocol has no maximize


def _bias(beta: float, t: int, flags: frozenset[str]) -> float:
    if "bc_float32" in flags:
        return float(np.float32(1.0) - np.float32(beta) ** np.float32(t))
    if "late_t_bug" in flags and t > 50:
        return 1.0
    if "beta_pow_t_minus_1" in flags:
        return 1.0 - beta ** (t - 1)
    return 1.0 - beta**t


def _np_step(
    flags: frozenset[str],
    p: np.ndarray,
    g: np.ndarray,
    st: dict[str, Any],
    hyper: dict[str, float],
    t: int,
    maximize: bool = False,
) -> None:
    """One Adam step on NumPy arrays with the given mistakes (p, state in place)."""
    lr, b1, b2, eps, wd = (
        hyper["lr"],
        hyper["beta1"],
        hyper["beta2"],
        hyper["eps"],
        hyper["weight_decay"],
    )
    if "hardcoded_beta2" in flags:
        b2 = 0.999
    if "weight_decay_ignored" in flags:
        wd = 0.0
    if "hardcoded_eps" in flags:
        eps = 1e-8
    if "v_decay_float" in flags:
        b2 = round(b2, 4) if b2 < 0.9999 else b2 - 1e-5
    if "betas_swapped" in flags:
        b1, b2 = b2, b1
    work = st["m"].dtype
    if "mutates_grad" in flags:
        np.multiply(g, 1.0 + 2.0**-10, out=g)  # writes into the caller's array
    if "nan_to_num" in flags:
        g = np.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0)
    if "zero_grad_return" in flags and not np.any(g):
        return
    g = g.astype(work)
    zero = g == 0
    if maximize and "maximize_ignored" not in flags:
        g = -g
    th = p.astype(work)
    if wd and not ({"decay_after", "decoupled", "decoupled_no_lr", "l2_after_moments"} & flags):
        g = g + wd * th
    if wd and "decoupled" in flags:
        th = th * (1 - lr * wd)
    if wd and "decoupled_no_lr" in flags:
        th = th * (1 - wd)
    m, v = st["m"], st["v"]
    old_m, old_v = m.copy(), v.copy()
    if "lerp_swapped" in flags:
        m[...] = (1 - b1) * m + b1 * g
    elif "heavy_ball" in flags:
        m[...] = b1 * m + g
    else:
        m[...] = b1 * m + (1 - b1) * g
    if "v_abs" in flags:
        v[...] = b2 * v + (1 - b2) * np.abs(g)
    else:
        v[...] = b2 * v + (1 - b2) * g * g
    bc1 = _bias(b2 if "mhat_uses_beta2" in flags else b1, t, flags)
    bc2 = _bias(b1 if "vhat_uses_beta1" in flags else b2, t, flags)
    if "no_bias_correction" in flags:
        bc1 = bc2 = 1.0
    if "bc_multiplied" in flags:
        bc1, bc2 = 1.0 / bc1, 1.0 / bc2
    if "lazy_zero" in flags:
        m[zero], v[zero] = old_m[zero], old_v[zero]
    vv = old_v if "stale_v" in flags else v
    if "amsgrad" in flags:
        if "amsgrad_max_corrected" in flags:
            st["vmax"][...] = np.maximum(st["vmax"], v / bc2)
            vv = st["vmax"] * bc2
        elif "amsgrad_no_max" not in flags:
            st["vmax"][...] = np.maximum(st["vmax"], v)
            vv = st["vmax"]
    with np.errstate(divide="ignore", invalid="ignore"):
        mhat = m / bc1
        vhat = vv / bc2
        if "eps_hat" in flags:
            update = lr * math.sqrt(bc2) / bc1 * m / (np.sqrt(vv) + eps)
        else:
            if "eps_inside_sqrt" in flags:
                denom = np.sqrt(vhat + eps)
            elif "sqrt_eps_sq" in flags:
                denom = np.sqrt(vhat + eps * eps)
            elif "eps_only_if_zero" in flags:
                denom = np.where(vhat > 0, np.sqrt(vhat), eps)
            elif "eps_doubled" in flags:
                denom = np.sqrt(vhat) + eps + eps
            else:
                denom = np.sqrt(vhat) + eps
            if "clamp_denominator" in flags:
                denom = np.maximum(denom, 1e-8)
            update = lr * mhat / denom
    if "lr_squared" in flags and lr != 1:
        update = update * lr
    if "lr_sqrt_t" in flags:
        update = update / math.sqrt(t)
    if "clamp_update" in flags:
        update = np.clip(update, -lr, lr)
    if "skip_tiny" in flags:
        update = np.where((np.abs(g) < 1e-12) & (g != 0), 0.0, update)
    if "first_step_plain_sgd" in flags and t == 1:
        update = lr * g
    if "lazy_zero" in flags:
        update = np.where(zero, 0.0, update)
    th = th + update if "wrong_sign" in flags else th - update
    if wd and "decay_after" in flags:
        th = th * (1 - lr * wd)
    if wd and "l2_after_moments" in flags:
        th = th - lr * wd * p.astype(work)
    p[...] = th.astype(p.dtype)


class NumpyAdam:
    """A plainly written Adam for the plain protocol (Algorithm 1, PyTorch semantics)."""

    FLAGS: frozenset[str] = frozenset()

    def __init__(
        self,
        params: list[np.ndarray],
        *,
        lr: float,
        beta1: float,
        beta2: float,
        eps: float,
        weight_decay: float,
    ) -> None:
        self.params = params
        self.hyper = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)
        self.state: list[dict[str, Any]] = [{} for _ in params]
        self.global_t = 0
        self.shared = 0

    def _init_state(self, p: np.ndarray) -> dict[str, Any]:
        work = np.float32 if ("fp32_state" in self.FLAGS and p.dtype == np.float64) else p.dtype
        st = {"step": 0, "m": np.zeros(p.shape, work), "v": np.zeros(p.shape, work)}
        if "amsgrad" in self.FLAGS:
            st["vmax"] = np.zeros(p.shape, work)
        return st

    def step(self, grads: list[np.ndarray | None]) -> None:
        self.global_t += 1
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if g is None:
                continue
            st = self.state[i] or self._init_state(p)
            self.state[i] = st
            t = self._t(st)
            _np_step(
                self.FLAGS, p, g if "mutates_grad" in self.FLAGS else g.copy(), st, self.hyper, t
            )

    def _t(self, st: dict[str, Any]) -> int:
        flags = self.FLAGS
        if "t_not_incremented" in flags:
            return 1
        if "global_t" in flags:
            return self.global_t
        if "shared_counter" in flags:
            self.shared += 1
            return self.shared
        if "t_starts_at_0" in flags:
            t = st["step"]
            st["step"] += 1
            return max(t, 1)  # step 1 uses t = 1, then it lags by one
        st["step"] += 1
        return st["step"] + 1 if "t_plus_1" in flags else st["step"]

    def state_dict(self) -> dict[str, Any]:
        if "state_not_saved" in self.FLAGS:
            return {
                "state": [{} for _ in self.state],
                "global_t": self.global_t,
                "shared": self.shared,
            }
        return copy.deepcopy(
            {"state": self.state, "global_t": self.global_t, "shared": self.shared}
        )

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        sd = copy.deepcopy(sd)
        self.state, self.global_t, self.shared = sd["state"], sd["global_t"], sd["shared"]


def _numpy_class(name: str, flags: frozenset[str]) -> type:
    return type(f"NUMPY_{name}", (NumpyAdam,), {"FLAGS": flags, "__doc__": name})


NUMPY_CORRECT = _numpy_class("CORRECT", frozenset())
NUMPY_CORRECT_AMSGRAD = _numpy_class("CORRECT_AMSGRAD", frozenset({"amsgrad"}))
NUMPY_MUTANTS: dict[str, type] = {
    name: _numpy_class(name, frozenset({name})) for name in MUTANTS if name not in NUMPY_ONLY_SKIP
}
NUMPY_MUTANTS.update(
    {name: _numpy_class(name, frozenset({name, "amsgrad"})) for name in AMSGRAD_MUTANTS}
)
globals().update({f"NUMPY_{k}": v for k, v in NUMPY_MUTANTS.items()})

try:
    import torch
except ImportError:  # the plain NumPy corpus still runs
    torch = None

TORCH_MUTANTS: dict[str, type] = {}

if torch is not None:

    class TorchAdam(torch.optim.Optimizer):
        """A plainly written ``torch.optim.Optimizer`` Adam; subclasses add one mistake."""

        FLAGS: frozenset[str] = frozenset()

        def __init__(
            self,
            params: Any,
            lr: float = 1e-3,
            betas: tuple[float, float] = (0.9, 0.999),
            eps: float = 1e-8,
            weight_decay: float = 0.0,
            maximize: bool = False,
        ) -> None:
            super().__init__(
                params,
                dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize),
            )
            self._global_t = 0
            self._shared = 0

        @torch.no_grad()
        def step(self, closure: Any = None) -> None:
            flags = self.FLAGS
            self._global_t += 1
            for group in self.param_groups:
                hyper = dict(
                    lr=group["lr"],
                    beta1=group["betas"][0],
                    beta2=group["betas"][1],
                    eps=group["eps"],
                    weight_decay=group["weight_decay"],
                )
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if not st:
                        work = (
                            torch.float32
                            if "fp32_state" in flags and p.dtype == torch.float64
                            else p.dtype
                        )
                        st["step"] = 0
                        st["m"] = torch.zeros_like(p, dtype=work)
                        st["v"] = torch.zeros_like(p, dtype=work)
                        if "amsgrad" in flags:
                            st["vmax"] = torch.zeros_like(p, dtype=work)
                    t = self._t(st)
                    self._update(p, hyper, st, t, group["maximize"])

        def _t(self, st: dict[str, Any]) -> int:
            flags = self.FLAGS
            if "t_not_incremented" in flags:
                return 1
            if "global_t" in flags:
                return self._global_t
            if "shared_counter" in flags:
                self._shared += 1
                return self._shared
            if "t_starts_at_0" in flags:
                t = st["step"]
                st["step"] += 1
                return max(t, 1)
            st["step"] += 1
            return st["step"] + 1 if "t_plus_1" in flags else st["step"]

        def _update(
            self, p: Any, hyper: dict[str, float], st: dict[str, Any], t: int, maximize: bool
        ) -> None:
            # the same arithmetic as the NumPy version, on tensors
            flags = self.FLAGS
            lr, b1, b2, eps, wd = (
                hyper["lr"],
                hyper["beta1"],
                hyper["beta2"],
                hyper["eps"],
                hyper["weight_decay"],
            )
            if "hardcoded_beta2" in flags:
                b2 = 0.999
            if "weight_decay_ignored" in flags:
                wd = 0.0
            if "hardcoded_eps" in flags:
                eps = 1e-8
            if "v_decay_float" in flags:
                b2 = round(b2, 4) if b2 < 0.9999 else b2 - 1e-5
            if "betas_swapped" in flags:
                b1, b2 = b2, b1
            m, v = st["m"], st["v"]
            work = m.dtype
            g = p.grad
            if "mutates_grad" in flags:
                g.mul_(1.0 + 2.0**-10)
            if "nan_to_num" in flags:
                g = torch.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0)
            if "zero_grad_return" in flags and not bool(g.any()):
                return
            g = g.to(work)
            zero = g == 0
            if maximize and "maximize_ignored" not in flags:
                g = -g
            th = p.detach().to(work)
            if wd and not (
                {"decay_after", "decoupled", "decoupled_no_lr", "l2_after_moments"} & flags
            ):
                g = g + wd * th
            if wd and "decoupled" in flags:
                th = th * (1 - lr * wd)
            if wd and "decoupled_no_lr" in flags:
                th = th * (1 - wd)
            old_m, old_v = m.clone(), v.clone()
            if "lerp_swapped" in flags:
                m.lerp_(g, b1)
            elif "heavy_ball" in flags:
                m.mul_(b1).add_(g)
            else:
                m.lerp_(g, 1 - b1)
            if "v_abs" in flags:
                v.mul_(b2).add_(g.abs(), alpha=1 - b2)
            else:
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
            bc1 = _bias(b2 if "mhat_uses_beta2" in flags else b1, t, flags)
            bc2 = _bias(b1 if "vhat_uses_beta1" in flags else b2, t, flags)
            if "no_bias_correction" in flags:
                bc1 = bc2 = 1.0
            if "bc_multiplied" in flags:
                bc1, bc2 = 1.0 / bc1, 1.0 / bc2
            if "lazy_zero" in flags:
                m.copy_(torch.where(zero, old_m, m))
                v.copy_(torch.where(zero, old_v, v))
            vv = old_v if "stale_v" in flags else v
            if "amsgrad" in flags:
                if "amsgrad_max_corrected" in flags:
                    torch.maximum(st["vmax"], v / bc2, out=st["vmax"])
                    vv = st["vmax"] * bc2
                elif "amsgrad_no_max" not in flags:
                    torch.maximum(st["vmax"], v, out=st["vmax"])
                    vv = st["vmax"]
            if "eps_hat" in flags:
                update = (lr * math.sqrt(bc2) / bc1) * m / (vv.sqrt() + eps)
            else:
                vhat = vv / bc2
                if "eps_inside_sqrt" in flags:
                    denom = (vhat + eps).sqrt()
                elif "sqrt_eps_sq" in flags:
                    denom = (vhat + eps * eps).sqrt()
                elif "eps_only_if_zero" in flags:
                    denom = torch.where(vhat > 0, vhat.sqrt(), torch.full_like(vhat, eps))
                elif "eps_doubled" in flags:
                    denom = vhat.sqrt() + eps + eps
                else:
                    denom = vhat.sqrt() / 1.0 + eps
                if "clamp_denominator" in flags:
                    denom = denom.clamp(min=1e-8)
                update = (m / bc1) / denom * lr
            if "lr_squared" in flags and lr != 1:
                update = update * lr
            if "lr_sqrt_t" in flags:
                update = update / math.sqrt(t)
            if "clamp_update" in flags:
                update = update.clamp(-lr, lr)
            if "skip_tiny" in flags:
                update = torch.where((g.abs() < 1e-12) & (g != 0), torch.zeros_like(update), update)
            if "first_step_plain_sgd" in flags and t == 1:
                update = lr * g
            if "lazy_zero" in flags:
                update = torch.where(zero, torch.zeros_like(update), update)
            th = th + update if "wrong_sign" in flags else th - update
            if wd and "decay_after" in flags:
                th = th * (1 - lr * wd)
            if wd and "l2_after_moments" in flags:
                th = th - lr * wd * p.detach().to(work)
            p.copy_(th.to(p.dtype))

        def state_dict(self) -> dict[str, Any]:
            sd = super().state_dict()
            if "state_not_saved" in self.FLAGS:
                sd["state"] = {}
            return sd

    def _torch_class(name: str, flags: frozenset[str]) -> type:
        return type(f"TORCH_{name}", (TorchAdam,), {"FLAGS": flags, "__doc__": name})

    TORCH_CORRECT = _torch_class("CORRECT", frozenset())
    TORCH_CORRECT_AMSGRAD = _torch_class("CORRECT_AMSGRAD", frozenset({"amsgrad"}))
    TORCH_MUTANTS = {name: _torch_class(name, frozenset({name})) for name in MUTANTS}
    TORCH_MUTANTS.update(
        {name: _torch_class(name, frozenset({name, "amsgrad"})) for name in AMSGRAD_MUTANTS}
    )
    globals().update({f"TORCH_{k}": v for k, v in TORCH_MUTANTS.items()})
