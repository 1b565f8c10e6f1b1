"""Variant fingerprinting: which known Adam does the implementation follow, axis by axis?

Each axis has a decisive probe (reference notes, adam-implementations §4). The
implementation runs the probe once; the run is then judged (per-step replay,
:mod:`.replay`) against the reference under every candidate value of the axis,
the other axes fixed at what was already detected. A candidate *matches* when
every step is within the error bound. An axis with no match means the
implementation follows no known variant.

The compute precision is decided first. Each precision that the ε and precision probes
leave possible is tried in turn: when a later axis matches nothing under one, the later
axes are probed again under the next (a format can pass the first probes and still be the
wrong model for the others). A precision *wider* than the parameters' (float32 parameters
updated in float64 arithmetic, one rounding per step) is reported like a narrower one: it
is a fact about the implementation, and its rows are judged with its bounds.

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
precision          the ε probe, judged as computed in each format, then    native, narrower, wider
                   α = 0.1 (inexact in binary), θ0 = 0, 64 gradients
                   over 5 decades, 3 steps: the formats that match both,
                   a wider one first (least wide)
step_scope         a parameter whose first gradient comes at step 4       param, optimizer
maximize           maximize=True with λ > 0                               negate g before decay
=================  =====================================================  ==========================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import AMSGRAD_FORMS, DECAY_FORMS, EPS_PLACEMENTS
from ..dtypes import as_dtype, float_format
from ..variants import AXES as VARIANT_AXES
from ..variants import Amsgrad, Decay, Precision, StepScope, Variant, named
from ._cases import representable
from ._drive import drive
from ._model import Case, Finding
from ._replay import judge
from .protocol import Hyper, supports

#: The axes the fingerprint probes: every axis of the variant, then whether ``maximize``
#: is honoured.
AXES: tuple[str, ...] = (*VARIANT_AXES, "maximize")


@dataclass
class AxisResult:
    """Candidates that matched on one axis (empty: no known variant) and the evidence."""

    axis: str
    matches: list[Any]
    candidates: list[Any]
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


def fingerprint_dtype(impl: Any) -> str:
    """The most precise dtype ``impl`` supports (float32 when it declares none)."""
    for name in ("float64", "float32", "float16", "bfloat16"):
        if supports(impl, name):
            return name
    return "float32"


def _arr(values: list[float], dtype: str) -> np.ndarray:
    return np.array(values, dtype=np.float64).astype(as_dtype(dtype))


def _eps_case(dtype: str) -> Case:
    low = dtype in ("float16", "bfloat16")
    eps = representable(1e-3 if low else 1e-6, dtype)
    h = Hyper(
        lr=1.0,
        beta1=representable(0.9, dtype),
        beta2=representable(0.999, dtype, below_one=True),
        eps=eps,
    )
    # |g| non-decreasing per coordinate: v and v̂ never decrease, so the AMSGrad forms
    # max_raw and max_corrected coincide with plain Adam here
    near = [0.5, 1.0, -2.0, 2.0, 3.0]
    big = [0.25, 0.5, -1.0, 1.0, 2.0]
    tiny = [0.01, 0.02, -0.03, 0.03, 0.05]
    rows: list[list[np.ndarray | None]] = [
        [_arr([near[k] * eps, big[k], tiny[k] * eps], dtype)] for k in range(5)
    ]
    return Case(dtype, h, [_arr([0.0, 1.0, -1.0], dtype)], rows)


def _precision_case(dtype: str) -> Case:
    """θ0 = 0, α = 0.1 and gradients of both signs over five decades (two in 16-bit, where
    v underflows below 0.3), 3 steps, |g| non-decreasing per coordinate.

    α = 0.1 is inexact in every binary format, so an α rounded to a narrower format than
    the parameters' moves every step by far more than the native bounds. With θ0 = 0 the
    first step is θ1 = −Δ1 with no cancellation: arithmetic in the parameters' own format
    rounds several times and misses the correctly rounded value on some of the 64
    coordinates, which a wider format (one rounding into the parameters) does not; the
    later steps carry the moments, so a wider format must also keep its state wide.
    """
    low = dtype in ("float16", "bfloat16")
    rng = np.random.default_rng(20261203)
    n = 64
    # |g| non-decreasing per coordinate (sorted over the steps): v and v̂ never decrease,
    # so the AMSGrad maximum is inactive and the probe speaks to the precision alone
    scale = np.sort(10.0 ** rng.uniform(-0.5 if low else -3.0, 1.5 if low else 2.0, (3, n)), 0)
    signs = rng.choice([-1.0, 1.0], (3, n))
    h = Hyper(
        lr=0.1,
        beta1=representable(0.9, dtype),
        beta2=representable(0.999, dtype, below_one=True),
        eps=representable(1e-3 if low else 1e-8, dtype),
    )
    rows: list[list[np.ndarray | None]] = [
        [_arr(list(signs[k] * scale[k]), dtype)] for k in range(3)
    ]
    return Case(dtype, h, [_arr([0.0] * n, dtype)], rows)


def _amsgrad_case(dtype: str) -> Case:
    h = Hyper(
        lr=0.1,
        beta1=representable(0.9, dtype),
        beta2=representable(0.999, dtype, below_one=True),
        eps=representable(1e-8 if dtype in ("float32", "float64") else 1e-3, dtype),
    )
    seq = [1.0, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3]
    rows: list[list[np.ndarray | None]] = [[_arr([seq[k], -seq[k] * 2], dtype)] for k in range(6)]
    return Case(dtype, h, [_arr([0.0, 0.5], dtype)], rows)


def _decay_case(dtype: str, maximize: bool = False) -> Case:
    h = Hyper(
        lr=0.1,
        beta1=representable(0.9, dtype),
        beta2=representable(0.999, dtype, below_one=True),
        eps=representable(1e-8 if dtype in ("float32", "float64") else 1e-3, dtype),
        weight_decay=0.5,
        maximize=maximize,
    )
    seq = [[0.3, -1.0, 2.0], [0.5, 0.2, -1.0], [-0.1, 0.7, 1.5], [0.2, -0.4, 0.0]]
    rows: list[list[np.ndarray | None]] = [[_arr(seq[k], dtype)] for k in range(4)]
    return Case(dtype, h, [_arr([2.0, -3.0, 0.5], dtype)], rows)


def _scope_case(dtype: str) -> Case:
    h = Hyper(
        lr=0.1,
        beta1=representable(0.9, dtype),
        beta2=representable(0.999, dtype, below_one=True),
        eps=representable(1e-8 if dtype in ("float32", "float64") else 1e-3, dtype),
    )
    rows = []
    for k in range(6):
        late = None if k < 3 else _arr([0.5 + 0.1 * k, -2.0], dtype)
        rows.append([_arr([1.0 - 0.1 * k, 0.25], dtype), late])
    return Case(dtype, h, [_arr([1.0, -1.0], dtype), _arr([0.5, 2.0], dtype)], rows)


def _try(
    impl: Any,
    case: Case,
    candidates: list[tuple[Any, Variant]],
    result: AxisResult,
    fp: Fingerprint,
) -> None:
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
    """A candidate's name in reports: the (ε placement, bias correction) pair, saying when it
    was probed with AMSGrad or judged as computed in another format than the parameters'
    (the same pair is probed both ways)."""
    if not isinstance(value, tuple):
        return value
    label = value[:2]
    if variant.amsgrad is not None:
        label = (*label, f"amsgrad={variant.amsgrad}")
    if variant.precision is not Precision.NATIVE:
        label = (*label, f"computed in {variant.precision}")
    return label


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


def precision_candidates(dtype: str) -> tuple[Precision, ...]:
    """The compute precisions probed for parameters of ``dtype``, in the order tried.

    ``native`` (the dtype itself) first: the evidence must *demand* another format before
    one is reported. Then the narrower formats, tightest first: float64 parameters updated
    in float32 arithmetic fail the native bounds and match float32's. Wider formats come
    last: their bounds are tighter than the native ones, so the ε probe alone cannot
    exclude them; the precision probe (:func:`_precision_case`) can, and a wider format
    is chosen only when it matches there (see :func:`precision_options`). A wider format
    has more significand bits *and* the parameters' exponent range: float16 is not a wider
    format for bfloat16 parameters (it overflows above 65504), so it is not a candidate
    there; an implementation that upcasts bfloat16 is found computing in float32.
    """
    order = (Precision.FLOAT64, Precision.FLOAT32, Precision.BFLOAT16, Precision.FLOAT16)
    fmt = {p: float_format(p.value) for p in order}
    own = float_format(dtype)
    narrower = sorted((p for p in order if fmt[p].p < own.p), key=lambda p: -fmt[p].p)
    wider = sorted(
        (p for p in order if fmt[p].p > own.p and fmt[p].emax >= own.emax),
        key=lambda p: -fmt[p].p,
    )
    return (Precision.NATIVE, *narrower, *wider)


def _reorder(result: AxisResult, first: Any) -> Any:
    result.matches = [first] + [x for x in result.matches if x != first]
    return first


@dataclass
class _PrecisionOption:
    """One compute precision the first probes allow, with the (ε placement, bias
    correction) pairs that matched under it and the pair chosen."""

    variant: Variant
    eps_matches: list[Any]
    bias_matches: list[bool]


def _unit(precision: Precision, dtype: str) -> float:
    return float_format(precision.compute_dtype(dtype)).unit_roundoff


def _probe_eps_and_precision(
    impl: Any, fp: Fingerprint, base: Variant, claims: dict[str, Any], prefer: Variant
) -> list[_PrecisionOption]:
    """ε placement × bias correction (AMSGrad off or uncorrected) × compute precision,
    then the precision probe. Returns the possible precisions, the one to try first
    leading (empty when the ε probe matched nothing)."""
    r = AxisResult("eps_placement", [], [])
    precisions = precision_candidates(fp.dtype)
    cands = [
        ((e, bc, pr, a), base.replace(eps_placement=e, bias_correction=bc, amsgrad=a, precision=pr))
        for pr in precisions
        for a in (None, Amsgrad.MAX_UNCORRECTED)
        for bc in (True, False)
        for e in EPS_PLACEMENTS
    ]
    _try(impl, _eps_case(fp.dtype), cands, r, fp)
    found = list(dict.fromkeys(r.matches))
    rp = AxisResult("precision", [], list(precisions), detail=r.detail)
    rb = AxisResult("bias_correction", [], [True, False], detail=r.detail)
    fp.axes["eps_placement"], fp.axes["bias_correction"] = r, rb
    fp.axes["precision"] = rp
    r.matches = []
    if not found:
        return []
    want = (
        claims.get("eps_placement", prefer.eps_placement),
        claims.get("bias_correction", prefer.bias_correction),
    )
    options = []
    for pr in (p for p in precisions if any(m[2] == p for m in found)):
        # (ε placement, bias correction, AMSGrad form) under this precision; the precision
        # probe is judged with the AMSGrad form that matched (max_uncorrected divides by
        # the uncorrected maximum, which no |g| sequence makes equal to plain Adam)
        triples = [(e, bc, a) for e, bc, p, a in found if p == pr]
        pairs = list(dict.fromkeys((e, bc) for e, bc, _ in triples))
        e, bc = want if want in pairs else pairs[0]
        a = next(a for x, y, a in triples if (x, y) == (e, bc))
        eps_matches = sorted({x for x, _ in pairs}, key=EPS_PLACEMENTS.index)
        bias_matches = sorted({x for _, x in pairs}, reverse=True)
        options.append(
            _PrecisionOption(
                base.replace(eps_placement=e, bias_correction=bc, amsgrad=a, precision=pr),
                [e] + [x for x in eps_matches if x != e],
                [bc] + [x for x in bias_matches if x != bc],
            )
        )
    return _precision_probe(impl, fp, options)


def _precision_probe(
    impl: Any, fp: Fingerprint, options: list[_PrecisionOption]
) -> list[_PrecisionOption]:
    """Judge the precision probe under each option; those that match come first, the others
    follow in their order.

    Among the matches, a wider format leads (the native bounds also hold for a wider
    computation, so a wider format that matches is the one the evidence demands), but the
    *least* wide of them: rounding the result to the parameters' format can hide every
    difference between two wider formats (float16 parameters updated in float32 or in
    float64 arithmetic round to the same float16 numbers), and the narrower of the two is
    the claim the evidence supports. Its bounds hold for the wider one too, so a correct
    implementation is never judged against bounds tighter than its arithmetic. Then the
    native format, then the narrower formats, tightest first."""
    probe = AxisResult("precision", [], [o.variant.precision for o in options])
    _try(
        impl,
        _precision_case(fp.dtype),
        [(o.variant.precision, o.variant) for o in options],
        probe,
        fp,
    )
    rp = fp.axes["precision"]
    rp.detail = f"ε probe: {rp.detail}; precision probe: {probe.detail}"
    native = float_format(fp.dtype).unit_roundoff

    def preference(o: _PrecisionOption) -> tuple[int, float]:
        unit = _unit(o.variant.precision, fp.dtype)
        if unit < native:
            return (0, -unit)  # wider: the least wide first
        return (1, unit)  # native, then narrower, tightest first

    matched = sorted((o for o in options if o.variant.precision in probe.matches), key=preference)
    ordered = matched + [o for o in options if o not in matched]
    rp.matches = [o.variant.precision for o in ordered]
    return ordered


def _apply_option(fp: Fingerprint, option: _PrecisionOption) -> Variant:
    """Record ``option`` as the detected ε placement, bias correction and precision."""
    fp.axes["eps_placement"].matches = list(option.eps_matches)
    fp.axes["bias_correction"].matches = list(option.bias_matches)
    _reorder(fp.axes["precision"], option.variant.precision)
    return option.variant


def _probe_choice(
    impl: Any,
    fp: Fingerprint,
    base: Variant,
    axis: str,
    case: Case,
    values: tuple[Any, ...],
    preferred: tuple[Any, ...],
) -> Variant:
    """Probe one axis over ``values``; keep the first preferred match."""
    r = AxisResult(axis, [], list(values))
    _try(impl, case, [(v, base.replace(**{axis: v})) for v in values], r, fp)
    fp.axes[axis] = r
    if not r.matches:
        return base
    chosen = _prefer(r.matches, *preferred)
    return base.replace(**{axis: _reorder(r, chosen)})


def _probe_maximize(impl: Any, fp: Fingerprint, base: Variant) -> None:
    r = AxisResult("maximize", [], ["negate_before_decay"])
    fp.axes["maximize"] = r
    if not supports(impl, "maximize"):
        r.skipped = "maximize not supported"
        return
    case = _decay_case(fp.dtype, maximize=True)
    if not supports(impl, "weight_decay"):
        case.hyper = case.hyper.replace(weight_decay=0.0)
    _try(impl, case, [("negate_before_decay", base)], r, fp)


def fingerprint(
    impl: Any, *, prefer: Variant | None = None, dtype: str | None = None
) -> Fingerprint:
    """Detect the variant of ``impl`` for parameters of ``dtype`` on every axis it supports.

    ``dtype`` defaults to the most precise one the implementation supports. The compute
    precision is probed first (with the main axes), so an implementation that computes in
    another format than its parameters' is still recognised on every other axis; when a
    later axis matches nothing under it, the later axes are probed again under the next
    possible precision.
    """
    fp = Fingerprint(dtype=dtype or fingerprint_dtype(impl))
    prefer = prefer or Variant()
    claims = getattr(impl, "claims", {}) or {}
    options = _probe_eps_and_precision(impl, fp, Variant(), claims, prefer)
    if not options:
        fp.variant = _probe_later_axes(impl, fp, Variant(), claims, prefer)
        return fp
    tried: list[tuple[Fingerprint, Variant]] = []
    for option in options:  # the next precision when a later axis matches nothing
        trial = _copy(fp)
        base = _probe_later_axes(impl, trial, _apply_option(trial, option), claims, prefer)
        tried.append((trial, base))
        if trial.known:
            break
    trial, base = tried[-1] if tried[-1][0].known else tried[0]
    if len(tried) > 1:
        names = ", ".join(str(b.precision) for _, b in tried)
        outcome = f"chose {base.precision}" if trial.known else "none matched every axis"
        trial.axes["precision"].detail += f"; later axes probed under {names} in turn: {outcome}"
    trial.variant = base
    return trial


def _copy(fp: Fingerprint) -> Fingerprint:
    """A fingerprint with the same axes so far (each axis result copied) and errors."""
    return Fingerprint(
        dtype=fp.dtype,
        axes={
            k: AxisResult(r.axis, list(r.matches), list(r.candidates), r.detail, r.skipped)
            for k, r in fp.axes.items()
        },
        variant=fp.variant,
        errors=list(fp.errors),
    )


def _probe_later_axes(
    impl: Any, fp: Fingerprint, base: Variant, claims: dict[str, Any], prefer: Variant
) -> Variant:
    """AMSGrad, decay, step scope and maximize, the main axes fixed at ``base``."""
    base = _probe_choice(
        impl,
        fp,
        base,
        "amsgrad",
        _amsgrad_case(fp.dtype),
        AMSGRAD_FORMS,
        (claims.get("amsgrad", prefer.amsgrad), None),
    )
    if supports(impl, "weight_decay"):
        base = _probe_choice(
            impl,
            fp,
            base,
            "decay",
            _decay_case(fp.dtype),
            DECAY_FORMS,
            (claims.get("decay", prefer.decay), Decay.L2),
        )
    else:
        fp.axes["decay"] = AxisResult(
            "decay", [], list(DECAY_FORMS), skipped="weight_decay not supported"
        )
    if supports(impl, "skip"):
        base = _probe_choice(
            impl,
            fp,
            base,
            "step_scope",
            _scope_case(fp.dtype),
            tuple(StepScope),
            (claims.get("step_scope", prefer.step_scope), StepScope.PARAM),
        )
    else:
        fp.axes["step_scope"] = AxisResult(
            "step_scope", [], list(StepScope), skipped="None gradients not supported"
        )
        base = base.replace(step_scope=claims.get("step_scope", StepScope.OPTIMIZER))
    _probe_maximize(impl, fp, base)
    return base


__all__ = ["AXES", "AxisResult", "Fingerprint", "fingerprint", "fingerprint_dtype"]
