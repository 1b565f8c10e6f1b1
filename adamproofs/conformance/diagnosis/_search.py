"""The search: which model explains the implementation's steps on the diagnostic trajectories.

1. Drive the implementation (through the :class:`~..protocol.Implementation` protocol, so
   an isolated worker works too) on :func:`.trajectories.diagnostic_trajectories`.
2. Replay the base variant (what the check required, else the paper's Adam). If it fits
   at the parameters' own precision, the update rule is not what failed.
3. Replay every single change around the base (each other value of each variant axis,
   each catalogued defect the trajectories can show) and the base at each lower
   precision; if none fits, every pair of changes of different slots (two defects never
   replace the same stage).
4. ``explained`` only when exactly one model fits every judged step and every other
   model of the same or lower complexity misses by more than :data:`~.replay.CLEAR`
   allowances (never confident and wrong); models that coincide are reported as
   indistinguishable. Otherwise ``unexplained``, naming the first quantity that departs
   from the base (θ, or m / v where the implementation lets its state be read).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ...variants import UPDATE_AXES, StepScope, Variant
from .._drive import drive
from .._model import Run
from ._candidates import Candidate, pairs, single_changes, singles
from ._catalogue import CATALOGUE
from ._describe import algorithm, aliases, maths, phrase
from ._model import Diagnosis
from ._moments import first_state_departure
from ._replay import CLEAR, Fit, Recorded, evaluate
from ._trajectories import diagnostic_trajectories


def _record(impl: Any, dtype: str) -> list[Recorded]:
    features = frozenset(getattr(impl, "features", ()))
    out = []
    for traj in diagnostic_trajectories(features, dtype):
        run: Run = drive(impl, traj.case)
        out.append(Recorded.of(traj.name, traj.case, run, traj.features))
        if run.failed:  # a target that raised, hung or crashed is not driven again
            break
    return out


def _features(records: list[Recorded]) -> frozenset[str]:
    """What the trajectories the implementation completed steps of can show."""
    return frozenset().union(*(r.features for r in records))


def _label(fit: Fit, dtype: str, level: int) -> tuple[str, ...]:
    lv = fit.levels[level]
    return fit.candidate.names + (() if lv.name == "native" else (lv.name,))


def _describe_model(fit: Fit, dtype: str, level: int, base: Variant) -> tuple[str, str, list[str]]:
    """(maths, what Algorithm 1 does, code lines) of a fitting model."""
    parts, algos, lines = [], [], []
    for change in fit.candidate.changes:
        parts.append(maths(change))
        algos.append(algorithm(change, base))
        code = getattr(change, "code", None)
        if code:
            lines.append(f"{change.name}: `{code}`")
        for alias in aliases(change):
            lines.append(f"also written as {alias.name}: `{alias.code}` ({alias.maths})")
    name = fit.levels[level].name
    if name != "native":
        entry = CATALOGUE[name]
        parts.append(entry.maths)
        algos.append(entry.algorithm)
        lines.append(f"{name}: `{entry.code}`")
    return " and ".join(parts), "; ".join(algos), lines


def _base_name(base: Variant) -> str:
    return base.describe()


def diagnose(
    impl: Any,
    dtype: str,
    *,
    base: Variant | None = None,
    pair_search: bool = True,
) -> Diagnosis:
    """The model that explains ``impl``'s steps in ``dtype`` (see the module doc).

    When nothing explains them from ``base``, the search is repeated from ``base`` with
    the other step scope: a step counter per optimizer is legitimate and common, so a
    hand-written Adam with one slip and an optimizer-wide ``t`` is still a single defect.
    """
    started = time.perf_counter()
    base = base if base is not None else Variant()
    compute = base.precision.compute_dtype(dtype)
    base = Variant(**{a: getattr(base, a) for a in (*UPDATE_AXES, "step_scope")})
    records = _record(impl, dtype)
    found, base_fits = _diagnose_from(impl, records, dtype, base, compute, pair_search, started)
    if found.status == "explained" or base_fits or not pair_search:
        return found
    other = next(s for s in StepScope if s is not base.step_scope)
    retry, _ = _diagnose_from(
        impl, records, dtype, base.replace(step_scope=other), compute, pair_search, started
    )
    if retry.status != "explained":
        return found
    scope = f"step_scope={other.value} (a legitimate variant): t counts " + (
        "the optimizer's steps" if other is StepScope.OPTIMIZER else "each parameter's updates"
    )
    return replace(retry, details=(scope, *retry.details))


def _diagnose_from(
    impl: Any,
    records: list[Recorded],
    dtype: str,
    base: Variant,
    compute: str,
    pair_search: bool,
    started: float,
) -> tuple[Diagnosis, bool]:
    """:func:`diagnose` from one base variant, on trajectories already recorded; also
    whether the base itself fits every judged step."""
    usable = [r for r in records if len(r.thetas) > 1]
    errors = [f"{r.name}: {r.error}" for r in records if r.error]
    if not usable:
        return (
            Diagnosis(
                "unexplained",
                dtype,
                "Diagnosis: none — the implementation completed no step of the diagnostic "
                "trajectories" + (f" ({errors[0].splitlines()[0]})" if errors else ""),
                tuple(errors),
            ),
            False,
        )
    features = _features(usable)
    base_fit = evaluate(Candidate(base), usable, dtype, compute)
    if base_fit.tightest() == 0:
        return (
            Diagnosis(
                "unexplained",
                dtype,
                f"Diagnosis: your steps match Adam ({_base_name(base)}) at all {base_fit.judged} "
                f"judged steps of the diagnostic trajectories (worst {base_fit.worst[0]:.2g} of "
                "the bound): no deviation of the update rule shows there; "
                "see the failing property.",
                tuple(f"the implementation stopped early on {e.splitlines()[0]}" for e in errors),
            ),
            True,
        )
    changes = single_changes(base, features)
    fits = [base_fit] + [evaluate(c, usable, dtype, compute) for c in singles(base, changes)]
    if not any(_tier(f, tier) for f in fits for tier in TIERS[:3]) and pair_search:
        fits += [evaluate(c, usable, dtype, compute) for c in pairs(base, changes)]
    seconds = time.perf_counter() - started
    context = (
        f"{len(fits)} models replayed on {len(usable)} diagnostic trajectories "
        f"({', '.join(r.name for r in usable)}) in {seconds:.1f} s"
    )
    tail = [context] + [f"the implementation stopped early on {e.splitlines()[0]}" for e in errors]
    for tier in TIERS:
        found = [f for f in fits if _tier(f, tier)]
        if found:
            return _verdict(found, fits, dtype, base, tier, tail), False
    return _unexplained(impl, base_fit, fits, usable, dtype, base, tail), False


#: The order in which models are preferred: (precision, number of changes). A model at
#: the parameters' own precision ("native") with one change comes first, then the base at
#: a lower precision, then one change at a lower precision, then pairs.
TIERS: tuple[tuple[str, int], ...] = (
    ("native", 1),
    ("lower", 0),
    ("lower", 1),
    ("native", 2),
    ("lower", 2),
)


def _tier(fit: Fit, tier: tuple[str, int]) -> bool:
    """Whether ``fit`` explains every judged step within ``tier``."""
    level = fit.tightest()
    if level is None or len(fit.candidate.changes) != tier[1]:
        return False
    return (level == 0) == (tier[0] == "native")


def _level(fit: Fit) -> int:
    level = fit.tightest()
    assert level is not None
    return level


def _verdict(
    found: list[Fit],
    fits: list[Fit],
    dtype: str,
    base: Variant,
    tier: tuple[str, int],
    tail: list[str],
) -> Diagnosis:
    if len(found) > 1:
        labels = [" + ".join(_label(f, dtype, _level(f))) for f in found]
        phrases = [" and ".join(phrase(c) for c in f.candidate.changes) or "Adam" for f in found]
        return Diagnosis(
            "unexplained",
            dtype,
            f"Diagnosis: {len(found)} models explain your steps equally and the diagnostic "
            f"trajectories cannot tell them apart: {'; '.join(labels)}.",
            tuple(phrases + tail),
            candidates=tuple(_label(f, dtype, _level(f)) for f in found),
        )
    fit = found[0]
    level = _level(fit)
    rivals = [
        (float(f.worst[level]), f)
        for f in fits
        if f is not fit and len(f.candidate.changes) <= tier[1]
    ]
    runner = min(rivals, key=lambda x: x[0]) if rivals else None
    label = _label(fit, dtype, level)
    what, algo, lines = _describe_model(fit, dtype, level, base)
    if runner is not None and not runner[0] > CLEAR:
        return Diagnosis(
            "unexplained",
            dtype,
            f"Diagnosis: your steps are closest to Adam with {what} ({' + '.join(label)}), but "
            f"{' + '.join(runner[1].candidate.names) or 'Adam'} comes within "
            f"{runner[0]:.2g} of the bound, so neither is certain.",
            tuple(lines + tail),
            candidates=(label, runner[1].candidate.names),
        )
    legit = all(not hasattr(c, "code") for c in fit.candidate.changes) and level == 0
    summary = (
        f"Diagnosis: your steps match Adam with {what} at all {fit.judged} judged steps "
        f"(worst {fit.worst[level]:.2g} of the bound); {algo}."
    )
    if legit:
        summary += f" This is a legitimate variant, not the {_base_name(base)} variant required."
    details = list(lines)
    if runner is not None:
        r = runner[1]
        where = r.worst_at[level]
        at = f" at step {where.step} of the {where.trajectory} trajectory" if where else ""
        details.append(
            f"runner-up: {' + '.join(r.candidate.names) or 'Adam (' + _base_name(base) + ')'} "
            f"misses by {runner[0]:.3g}× the bound{at}"
        )
    return Diagnosis("explained", dtype, summary, tuple(details + tail), model=label)


def _unexplained(
    impl: Any,
    base_fit: Fit,
    fits: list[Fit],
    records: list[Recorded],
    dtype: str,
    base: Variant,
    tail: list[str],
) -> Diagnosis:
    first = base_fit.first
    where = (
        f"θ departs first, at step {first.step} of the {first.trajectory} trajectory "
        f"(params[{first.param}][{first.index}]: yours {first.impl!r}, Adam {first.model!r}, "
        f"{first.ratio:.3g}× the bound)"
        if first is not None
        else "θ departs from Adam"
    )
    state = first_state_departure(impl, records, base_fit.candidate, dtype)
    if state is not None:
        where = state + f"; {where}"
    near = sorted(
        (f for f in fits if f is not base_fit and f.judged),
        key=lambda f: float(f.worst[-1]) if not f.rejected else float("inf"),
    )
    details = []
    if near and not near[0].rejected:
        details.append(
            f"closest model: {' + '.join(near[0].candidate.names)} "
            f"(worst {near[0].worst[-1]:.3g}× the bound)"
        )
    return Diagnosis(
        "unexplained",
        dtype,
        f"Diagnosis: no catalogued defect (alone or in pairs) or legitimate variant explains "
        f"your steps; {where}.",
        tuple(details + tail),
    )


def diagnose_failure(
    impl: Any,
    dtype: str,
    variant_in: Callable[[str], Variant],
    required: Variant | None,
) -> Diagnosis:
    """:func:`diagnose` for a failing check in ``dtype``, never raising: the base is the
    required variant (else the paper's Adam) at the precision the check detected
    (``variant_in(dtype)``); an error of the diagnosis itself is an ``unexplained``
    diagnosis naming it, so that it cannot change the verdict."""
    try:
        precision = variant_in(dtype).precision
        base = (required or Variant()).replace(precision=precision)
        return diagnose(impl, dtype, base=base)
    except Exception as err:  # the diagnosis must never change the check's verdict
        return Diagnosis(
            "unexplained",
            dtype,
            f"Diagnosis: none — the diagnosis failed ({type(err).__name__}: {err})",
        )
