"""Variant fingerprinting: which known Adam does the implementation follow, axis by axis?

Each axis has a decisive probe (reference notes, adam-implementations §4). The
implementation runs the probe once; the run is then judged (per-step replay,
:mod:`.replay`) against the reference under every candidate value of the axis,
the other axes fixed at what was already detected. A candidate *matches* when
every step is within the error bound. An axis with no match means the
implementation follows no known variant.

=================  =====================================================  ==========================
axis               probe                                                  candidates
=================  =====================================================  ==========================
eps_placement,     ε = 1e-6 (1e-3 in 16-bit), gradients near ε, near 1    paper, hat, root ×
bias_correction    and near ε/100, 5 steps, α = 1                         bias correction on/off
amsgrad            g = 1 then 1e-3 ×5 (a large v that then decays)        none, max_raw,
                                                                          max_corrected,
                                                                          max_uncorrected
decay              λ = 0.5, α = 0.1, θ0 = O(1), gradients O(1)            l2, decoupled,
                                                                          decoupled_after
step_scope         a parameter whose first gradient comes at step 4       param, optimizer
maximize           maximize=True with λ > 0                               negate g before decay
=================  =====================================================  ==========================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import AMSGRAD_FORMS, DECAY_FORMS, EPS_PLACEMENTS
from ..dtypes import as_dtype
from ..variants import AXES as VARIANT_AXES
from ..variants import Variant, named
from .cases import representable
from .drive import drive
from .model import Case, Finding
from .protocol import Hyper, supports
from .replay import judge

#: The axes the fingerprint probes, in order: the variant's axes it can tell apart from
#: float64 runs, then whether ``maximize`` is honoured.
AXES: tuple[str, ...] = (*(a for a in VARIANT_AXES if a != "precision"), "maximize")


@dataclass
class AxisResult:
    """Candidates that matched on one axis (empty: no known variant) and the evidence."""

    axis: str
    matches: list[Any]
    tried: list[Any]
    detail: str = ""
    skipped: str | None = None


@dataclass
class Fingerprint:
    """The detected variant per axis."""

    dtype: str
    axes: dict[str, AxisResult] = field(default_factory=dict)
    variant: Variant = field(default_factory=Variant)
    errors: list[str] = field(default_factory=list)

    @property
    def known(self) -> bool:
        """Every probed axis matched at least one known candidate."""
        return all(r.matches or r.skipped for r in self.axes.values())

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, r in self.axes.items():
            if r.skipped:
                out[name] = None
            elif not r.matches:
                out[name] = "unknown"
            else:
                out[name] = r.matches[0]
        return out

    def named(self) -> str | None:
        """The name in :data:`adamproofs.config.VARIANTS` of the detected main axes."""
        return named(self.variant)


def _probe_dtype(impl: Any) -> str:
    for name in ("float64", "float32", "float16", "bfloat16"):
        if supports(impl, name):
            return name
    return "float32"


def _arr(values: list[float], dtype: str) -> np.ndarray:
    return np.array(values, dtype=np.float64).astype(as_dtype(dtype))


def _eps_case(dtype: str) -> Case:
    low = dtype in ("float16", "bfloat16")
    eps = representable(1e-3 if low else 1e-6, dtype)
    h = Hyper(lr=1.0, beta1=representable(0.9, dtype), beta2=representable(0.999, dtype,
                                                                           below_one=True),
              eps=eps)
    # |g| non-decreasing per coordinate: v and v̂ never decrease, so the AMSGrad forms
    # max_raw and max_corrected coincide with plain Adam here
    near = [0.5, 1.0, -2.0, 2.0, 3.0]
    big = [0.25, 0.5, -1.0, 1.0, 2.0]
    tiny = [0.01, 0.02, -0.03, 0.03, 0.05]
    rows = [[_arr([near[k] * eps, big[k], tiny[k] * eps], dtype)] for k in range(5)]
    return Case(dtype, h, [_arr([0.0, 1.0, -1.0], dtype)], rows)


def _amsgrad_case(dtype: str) -> Case:
    h = Hyper(lr=0.1, beta1=representable(0.9, dtype),
              beta2=representable(0.999, dtype, below_one=True),
              eps=representable(1e-8 if dtype in ("float32", "float64") else 1e-3, dtype))
    seq = [1.0, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]
    rows = [[_arr([seq[k], -seq[k] * 2], dtype)] for k in range(6)]
    return Case(dtype, h, [_arr([0.0, 0.5], dtype)], rows)


def _decay_case(dtype: str, maximize: bool = False) -> Case:
    h = Hyper(lr=0.1, beta1=representable(0.9, dtype),
              beta2=representable(0.999, dtype, below_one=True),
              eps=representable(1e-8 if dtype in ("float32", "float64") else 1e-3, dtype),
              weight_decay=0.5, maximize=maximize)
    seq = [[0.3, -1.0, 2.0], [0.5, 0.2, -1.0], [-0.1, 0.7, 1.5], [0.2, -0.4, 0.0]]
    rows = [[_arr(seq[k], dtype)] for k in range(4)]
    return Case(dtype, h, [_arr([2.0, -3.0, 0.5], dtype)], rows)


def _scope_case(dtype: str) -> Case:
    h = Hyper(lr=0.1, beta1=representable(0.9, dtype),
              beta2=representable(0.999, dtype, below_one=True),
              eps=representable(1e-8 if dtype in ("float32", "float64") else 1e-3, dtype))
    rows = []
    for k in range(6):
        late = None if k < 3 else _arr([0.5 + 0.1 * k, -2.0], dtype)
        rows.append([_arr([1.0 - 0.1 * k, 0.25], dtype), late])
    return Case(dtype, h, [_arr([1.0, -1.0], dtype), _arr([0.5, 2.0], dtype)], rows)


def _try(impl: Any, case: Case, candidates: list[tuple[Any, Variant]],
         result: AxisResult, fp: Fingerprint) -> None:
    run = drive(impl, case)
    if run.error is not None or run.mutated is not None:
        j = judge(run, case, candidates[0][1])
        msg = j.finding.message if j.finding else "failed"
        fp.errors.append(f"{result.axis} probe: {msg}")
        result.detail = msg
        return
    notes = []
    for value, variant in candidates:
        j = judge(run, case, variant)
        label = _label(value, variant)
        if j.passed:
            result.matches.append(value)
            notes.append(f"{label}: match (worst {j.worst_ulps:.3g} ulps)")
        else:
            notes.append(f"{label}: no ({_short(j.finding)})")
    result.detail = "; ".join(notes)


def _label(value: Any, variant: Variant) -> Any:
    """A candidate's name in reports: an (ε placement, bias correction) pair probed with
    AMSGrad says so, since the same pair is also probed without it."""
    if isinstance(value, tuple) and variant.amsgrad is not None:
        return (*value, f"amsgrad={variant.amsgrad}")
    return value


def _short(f: Finding | None) -> str:
    if f is None:
        return "?"
    if f.impl is not None and f.exact is not None:
        return f"step {f.step}: {f.impl!r} vs {f.exact!r}"
    return f.message.splitlines()[0][:120]


def _prefer(matches: list[Any], *preferred: Any) -> Any:
    for p in preferred:
        if p in matches:
            return p
    return matches[0]


def fingerprint(impl: Any, *, prefer: Variant | None = None) -> Fingerprint:
    """Detect the variant of ``impl`` on every axis it supports."""
    dtype = _probe_dtype(impl)
    fp = Fingerprint(dtype=dtype)
    prefer = prefer or Variant()
    claims = getattr(impl, "claims", {}) or {}
    base = Variant()

    # eps placement x bias correction
    r = AxisResult("eps_placement", [], [])
    cands = [((e, bc), base.replace(eps_placement=e, bias_correction=bc, amsgrad=a))
             for a in (None, "max_uncorrected") for bc in (True, False)
             for e in EPS_PLACEMENTS]
    r.tried = [c[0] for c in cands]
    _try(impl, _eps_case(dtype), cands, r, fp)
    pair_matches = list(dict.fromkeys(r.matches))
    r.matches = sorted({e for e, _ in pair_matches}, key=EPS_PLACEMENTS.index)
    rb = AxisResult("bias_correction", sorted({bc for _, bc in pair_matches}, reverse=True),
                    [True, False], detail=r.detail)
    fp.axes["eps_placement"], fp.axes["bias_correction"] = r, rb
    if pair_matches:
        want = (claims.get("eps_placement", prefer.eps_placement),
                claims.get("bias_correction", prefer.bias_correction))
        e, bc = want if want in pair_matches else pair_matches[0]
        base = base.replace(eps_placement=e, bias_correction=bc)
        rb.matches = [bc] + [x for x in rb.matches if x != bc]
        r.matches = [e] + [x for x in r.matches if x != e]

    # amsgrad
    r = AxisResult("amsgrad", [], list(AMSGRAD_FORMS))
    _try(impl, _amsgrad_case(dtype), [(a, base.replace(amsgrad=a)) for a in AMSGRAD_FORMS],
         r, fp)
    fp.axes["amsgrad"] = r
    if r.matches:
        a = _prefer(r.matches, claims.get("amsgrad", prefer.amsgrad), None)
        r.matches = [a] + [x for x in r.matches if x != a]
        base = base.replace(amsgrad=a)

    # decay
    r = AxisResult("decay", [], list(DECAY_FORMS))
    if supports(impl, "weight_decay"):
        _try(impl, _decay_case(dtype), [(d, base.replace(decay=d)) for d in DECAY_FORMS], r, fp)
        if r.matches:
            d = _prefer(r.matches, claims.get("decay", prefer.decay), "l2")
            r.matches = [d] + [x for x in r.matches if x != d]
            base = base.replace(decay=d)
    else:
        r.skipped = "weight_decay not supported"
    fp.axes["decay"] = r

    # step counter scope
    r = AxisResult("step_scope", [], ["param", "optimizer"])
    if supports(impl, "skip"):
        _try(impl, _scope_case(dtype), [(s, base.replace(step_scope=s))
                                        for s in ("param", "optimizer")], r, fp)
        if r.matches:
            s = _prefer(r.matches, claims.get("step_scope", prefer.step_scope), "param")
            r.matches = [s] + [x for x in r.matches if x != s]
            base = base.replace(step_scope=s)
    else:
        r.skipped = "None gradients not supported"
        base = base.replace(step_scope=claims.get("step_scope", "optimizer"))
    fp.axes["step_scope"] = r

    # maximize
    r = AxisResult("maximize", [], ["negate_before_decay"])
    if supports(impl, "maximize"):
        wd = supports(impl, "weight_decay")
        case = _decay_case(dtype, maximize=True)
        if not wd:
            case.hyper = case.hyper.replace(weight_decay=0.0)
        _try(impl, case, [("negate_before_decay", base)], r, fp)
    else:
        r.skipped = "maximize not supported"
    fp.axes["maximize"] = r
    fp.variant = base
    return fp


__all__ = ["AXES", "AxisResult", "Fingerprint", "fingerprint"]
