"""The one-screen form of a report: what ``adamproofs check`` prints without ``--verbose``.

In order: the verdict; the detected variant (or ``no known variant``) with the evidence of
each fingerprint probe, one line each; the diagnosis; one line per failing property; one
reproducer, that of the smallest failing case. Every line is at most ``width`` characters
except the reproducer's, which must stay runnable.
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import TYPE_CHECKING

from ..variants import NAMED, Decay, Precision, StepScope, Variant, named
from ._notes import note

if TYPE_CHECKING:
    from ._fingerprint import AxisResult, Fingerprint
    from ._report import PropertyResult, Report

#: The fingerprint's probes, by the first axis each decides (see :mod:`.fingerprint`).
PROBES: dict[str, str] = {
    "eps_placement": "ε probe: ε = 1e-6, gradients near ε, 1 and ε/100, α = 1, 5 steps",
    "amsgrad": "AMSGrad probe: g = 1, then 1e-3 for 5 steps",
    "decay": "decay probe: λ = 0.5, α = 0.1",
    "step_scope": "step-counter probe: a parameter whose first gradient comes at step 4",
    "maximize": "maximize probe: maximize=True with λ > 0",
}

_NUMBER = re.compile(r"-?\d+\.\d{6,}(?:e[-+]?\d+)?")


#: the diagnosis's sentence may wrap onto this many lines; its first details follow
_DIAGNOSIS_LINES = 3
_DIAGNOSIS_DETAILS = 3


def clip(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters (an ellipsis marks the cut)."""
    line = re.sub(r"\s*\n\s*", " ", text.rstrip())
    return line if len(line) <= width else line[: max(0, width - 1)] + "…"


def short_numbers(text: str) -> str:
    """Long decimals of ``text`` rounded to 6 significant digits (for one-line notes)."""
    return _NUMBER.sub(lambda m: f"{float(m.group()):.6g}", text)


def one_line(message: str) -> str:
    """A multi-line message on one line: its first line, and the next when the first ends
    with a colon (``the implementation raised at step 1:`` ``step 1: raised ValueError: why``;
    a traceback after it is left out)."""
    lines = [x.strip() for x in message.splitlines() if x.strip()]
    if not lines:
        return ""
    if len(lines) > 1 and lines[0].endswith(":"):
        detail = lines[1] if lines[1].startswith("step ") else f"{lines[0]} {lines[1]}"
        return short_numbers(detail)
    return short_numbers(lines[0])


_MISS = re.compile(r"^(?P<label>.*): no \(step (?P<step>\d+): (?P<impl>\S+) vs (?P<exact>\S+)\)$")


def variant_name(fp: Fingerprint) -> str | None:
    """The detected variant's name: one of :data:`~adamproofs.variants.NAMED`, or a name
    composed of two (``eps_hat + amsgrad_max_raw``: the ε form of one, the AMSGrad form of
    the other); None when some probed axis matched no known variant."""
    if not fp.known:
        return None
    v = fp.variant
    direct = named(v)
    if direct is not None:
        return direct
    base = named(v.replace(amsgrad=None))
    if base is None or v.amsgrad is None:
        return None
    return f"{base} + {named(Variant(amsgrad=v.amsgrad))}"


def _axis_default(axis: str, v: Variant) -> bool:
    """Whether ``v``'s value on a non-named axis is the usual one (not worth a mention)."""
    if axis == "decay":
        return v.decay is Decay.L2
    if axis == "step_scope":
        return v.step_scope is StepScope.PARAM
    if axis == "precision":
        return v.precision is Precision.NATIVE
    return True


def variant_line(report: Report) -> str:
    """``variant: NAME (...)`` or ``variant: no known variant``."""
    fp = report.fingerprint
    if fp is None:
        return "variant: not fingerprinted"
    name = variant_name(fp)
    if name is None:
        return f"variant: no known variant ({fp.dtype}): " + note("no_known_variant")
    extra = [
        f"{a}={getattr(fp.variant, a)}"
        for a in ("decay", "step_scope", "precision")
        if not _axis_default(a, fp.variant) and a in fp.axes
    ]
    composed = name not in NAMED
    tail = [*extra, note("composed_name")] if composed else extra
    return f"variant: {name}" + (f" ({', '.join(tail)})" if tail else "")


def _groups(fp: Fingerprint) -> list[list[AxisResult]]:
    """The axes grouped by the probe that decided them (axes that share a probe share
    its evidence)."""
    groups: list[list[AxisResult]] = []
    for r in fp.axes.values():
        for g in groups:
            if g[0].detail == r.detail and r.detail and not r.skipped:
                g.append(r)
                break
        else:
            groups.append([r])
    return groups


def _first_miss(detail: str) -> str:
    """The first rejected candidate of a probe's evidence (``label: no (step N: a vs b)``),
    as ``step N gives a; closest LABEL gives b``."""
    for part in detail.split("; "):
        m = _MISS.match(part)
        if m is not None:
            return short_numbers(
                f"step {m['step']} gives {m['impl']}; closest {m['label']} gives {m['exact']}"
            )
    return short_numbers(detail.split("; ")[0])


def evidence_lines(fp: Fingerprint, width: int) -> list[str]:
    """One line per probe that matched no known form (the axes it decides, the probe, the
    closest candidate), then one line for the axes that matched and those not probed."""
    lines, matched, skipped = [], [], []
    failed: dict[str, list[list[AxisResult]]] = {}  # probes that raised, by what they raised
    for group in _groups(fp):
        axes = ", ".join(r.axis for r in group)
        lead = group[0]
        probe = PROBES.get(lead.axis, f"{lead.axis} probe")
        if lead.skipped:
            skipped.append(f"{axes} ({lead.skipped})")
        elif all(r.matches for r in group):
            matched += [f"{r.axis}={r.matches[0]}" for r in group]
        elif ": no (" in lead.detail or ": match" in lead.detail:
            text = f"{axes}: no known form: {_first_miss(lead.detail)} ({probe})"
            lines.append(clip("  " + text, width))
        else:
            failed.setdefault(one_line(lead.detail or "?").split(":")[0], []).append(group)
    for groups in failed.values():
        axes = ", ".join(r.axis for g in groups for r in g)
        text = f"the probe failed: {one_line(groups[0][0].detail or '?')} (axes {axes})"
        lines.append(clip("  " + text, width))
    tail = [f"matched {', '.join(matched)}"] if matched else []
    tail += [f"not probed: {', '.join(skipped)}"] if skipped else []
    if tail:
        lines.append(clip("  " + "; ".join(tail), width))
    return lines


def finding_line(r: PropertyResult) -> str:
    """The first finding of a row, on one line: the numbers when there are some."""
    f = r.finding
    if f is None:
        return r.note or r.verdict
    if f.impl is not None and f.exact is not None and f.step is not None:
        where = f"param {f.param}" + (f"[{f.index}]" if f.index is not None else "")
        ulps = "" if f.ulps is None or not math.isfinite(f.ulps) else f", {f.ulps:.3g} ulps"
        return f"step {f.step}, {where}: gives {f.impl:.6g}, oracle {f.exact:.6g}{ulps}"
    return one_line(f.message)


def case_size(r: PropertyResult) -> tuple[int, int]:
    """How big a row's reproducer case is to read: the numbers in it (parameters and
    gradients, the recorded ones for gradients computed from θ), then its steps."""
    case = r.reproducer_case
    if case is None:
        return (0, 0)
    grads = r.recorded_grads if case.grad_fn is not None and r.recorded_grads else case.grads
    numbers = sum(int(p.size) for p in case.params)
    numbers += sum(int(g.size) for row in grads for g in row if g is not None)
    return numbers, len(grads)


def smallest_failure(report: Report) -> PropertyResult | None:
    """The failing row whose reproducer has the smallest case (first in report order on
    a tie)."""
    with_code = [r for r in report.failures if r.reproducer and r.reproducer_case is not None]
    if not with_code:
        return None
    return min(with_code, key=case_size)


def _failing_lines(report: Report, width: int) -> list[str]:
    """One line per failing property (its dtypes joined), the first dtype's finding."""
    by_name: dict[str, list[PropertyResult]] = {}
    for r in report.failures:
        if r.name != "variant":
            by_name.setdefault(r.name, []).append(r)
    lines = []
    for name, rows in by_name.items():
        dtypes = ",".join(r.dtype for r in rows)
        verdict = rows[0].verdict.upper()
        lines.append(clip(f"{verdict} {name:<19} {dtypes:<8} {finding_line(rows[0])}", width))
    return lines


def common_finding(report: Report) -> str | None:
    """The kind of finding most failing properties share, when it is not a wrong number
    (``inputs mutated``, ``the implementation raised``: the text before the first colon)."""
    kinds = [
        finding_line(r).split(":")[0]
        for r in report.failures
        if r.name != "variant" and r.finding is not None
    ]
    if len(kinds) < 3:
        return None
    top = max(set(kinds), key=kinds.count)
    if top.startswith("step ") or 2 * kinds.count(top) <= len(kinds):
        return None
    return note("common_finding", n=kinds.count(top), m=len(kinds), what=top)


def summary(report: Report, width: int = 100) -> str:
    """The one-screen report (see the module docstring)."""
    failing = [r for r in report.results if r.name != "variant" and r.verdict in ("fail", "error")]
    judged = [r for r in report.results if r.name != "variant"]
    verdict = "CONFORMS" if report.conforms else "DOES NOT CONFORM"
    counts = f"{len(judged) - len(failing)} of {len(judged)} rows pass"
    lines = [
        clip(
            f"{verdict}: {report.target} ({counts}; {', '.join(report.dtypes)}, "
            f"profile {report.profile}, seed {report.seed})",
            width,
        )
    ]
    if not report.complete:
        lines.append(note("stopped_early"))
    lines.append(clip(variant_line(report), width))
    variant_rows = [r for r in report.results if r.name == "variant"]
    if report.fingerprint is not None and (
        not report.conforms or any(r.verdict != "pass" for r in variant_rows)
    ):
        lines += evidence_lines(report.fingerprint, width)
    fp = report.fingerprint
    if fp is not None and fp.known:  # the variant failed for a claim or a required axis
        for r in variant_rows:
            if r.verdict != "pass" and r.note:
                lines.append(clip(f"  {r.dtype}: {short_numbers(r.note)}", width))
    if report.required_variant:
        lines.append(f"required variant: {report.required_variant}")
    if report.common_feature:
        lines.append(clip(report.common_feature, width))
    shared = common_finding(report)
    if shared is not None:
        lines.append(clip(shared, width))
    d = report.diagnosis
    if d is not None:
        summary = d.summary.removeprefix("Diagnosis: ")
        wrapped = textwrap.wrap(
            f"diagnosis ({d.status}, {d.dtype}): {summary}",
            width,
            subsequent_indent="  ",
            max_lines=_DIAGNOSIS_LINES,
            placeholder=" …",
        )
        lines += wrapped
        lines += [clip("  " + x, width) for x in d.details[:_DIAGNOSIS_DETAILS]]
    lines += _failing_lines(report, width)
    rest = [r for r in judged if r.verdict == "skip"]
    if rest and not failing:
        lines.append(clip(f"skipped: {', '.join(sorted({r.name for r in rest}))}", width))
    smallest = smallest_failure(report)
    if smallest is not None and smallest.reproducer is not None:
        lines.append(
            f"reproducer ({smallest.name}, {smallest.dtype}; " + note("one_reproducer") + "):"
        )
        lines.append(smallest.reproducer)
    return "\n".join(lines)
