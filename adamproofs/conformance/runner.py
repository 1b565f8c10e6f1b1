"""Run the fingerprint and every property against one implementation: :func:`check`.

>>> from adamproofs.conformance import check
>>> report = check("numpy", profile="quick")        # doctest: +SKIP
>>> report.conforms                                 # doctest: +SKIP
True

Each property runs as a hypothesis test per dtype (seeded, no example database,
no deadline): hypothesis draws cases, :func:`hypothesis.target` pushes toward
the largest error relative to the bound, and a failure is shrunk to a minimal
case, which the report turns into a copy-pasteable reproducer.
"""

from __future__ import annotations

import math
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.errors import Unsatisfiable

from ..dtypes import as_dtype
from ..variants import Variant, parse_variant
from .cases import Context
from .fingerprint import Fingerprint, fingerprint
from .isolation import (
    DEFAULT_ISOLATION,
    InProcessImplementation,
    IsolatedImplementation,
    Isolation,
    isolate,
)
from .model import Case, Judgement
from .properties import PROPERTIES, Property
from .protocol import supports
from .report import PropertyResult, Report, environment, reproducer
from .targets import load_target

#: profile -> (examples per property and dtype, steps of the long-horizon property)
PROFILES: dict[str, tuple[int, int]] = {
    "quick": (4, 100),
    "default": (10, 300),
    "thorough": (100, 2000),
}

Progress = Callable[[str], None]


#: profile -> seconds hypothesis may spend shrinking one failure
SHRINK_SECONDS: dict[str, float] = {"quick": 3.0, "default": 8.0, "thorough": 60.0}


class _ShrinkBudgetSpent(BaseException):
    """Raised (as a BaseException, so hypothesis stops at once) when shrinking has
    taken its budget; the smallest failing case seen so far is reported."""


class _Failed(Exception):
    def __init__(self, case: Case, judgement: Judgement) -> None:
        super().__init__(judgement.finding.message if judgement.finding else "failed")
        self.case = case
        self.judgement = judgement


@dataclass
class _Stats:
    examples: int = 0
    worst_excess: float = 0.0
    worst_ulps: float = 0.0
    unchecked: int = 0
    checked: int = 0


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_property(prop: Property, impl: Any, variant: Variant, dtype: str, *, examples: int,
                 long_steps: int, seed: int, shrink: bool = True,
                 shrink_seconds: float = 8.0) -> PropertyResult:
    """One property in one dtype as a seeded hypothesis run (shrinking a failure for at
    most ``shrink_seconds``)."""
    ctx = Context(impl=impl, dtype=dtype, variant=variant, examples=examples,
                  long_steps=long_steps)
    stats = _Stats()
    start = time.perf_counter()
    latest: list[_Failed] = []
    first_failure: list[float] = []
    missing = sorted(f for f in prop.needs | {dtype} if not supports(impl, f))
    if missing:
        return PropertyResult(prop.name, dtype, "skip", note="needs " + ", ".join(missing))
    if not prop.applies(variant):
        return PropertyResult(prop.name, dtype, "skip",
                              note="does not apply to the variant " + str(variant.as_dict()))
    phases = [Phase.explicit, Phase.generate, Phase.target] + ([Phase.shrink] if shrink else [])

    @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck), phases=phases,
                         report_multiple_bugs=False, print_blob=False,
                         verbosity=Verbosity.quiet)
    @hypothesis.seed(seed ^ zlib.crc32(f"{prop.name}/{dtype}".encode()))
    @hypothesis.given(case=prop.strategy(ctx))
    def body(case: Case) -> None:
        j = prop.check(impl, case, variant)
        stats.examples += 1
        stats.checked += j.checked
        stats.unchecked += j.unchecked
        if math.isfinite(j.worst_excess):
            stats.worst_excess = max(stats.worst_excess, j.worst_excess)
            hypothesis.target(min(j.worst_excess, 1e12), label="error / bound")
        if math.isfinite(j.worst_ulps):
            stats.worst_ulps = max(stats.worst_ulps, j.worst_ulps)
        if not j.passed:
            failure = _Failed(case, j)
            latest[:] = [failure]
            if not first_failure:
                first_failure.append(time.perf_counter())
            elif time.perf_counter() - first_failure[0] > shrink_seconds:
                raise _ShrinkBudgetSpent()
            raise failure

    result = PropertyResult(prop.name, dtype, "pass")
    failure: _Failed | None = None
    try:
        body()
    except _Failed as err:
        failure = err
    except _ShrinkBudgetSpent:
        failure = latest[0]
    except Unsatisfiable as err:
        result.verdict = "skip"
        result.note = f"no valid case could be drawn ({err})"
    except Exception as err:  # a bug of the checker: reported loudly, never swallowed
        result.verdict = "error"
        result.note = f"checker error: {type(err).__name__}: {err}"
    if failure is not None:
        result.verdict = "fail"
        result.finding = failure.judgement.finding
        result.reproducer_case = failure.case
        result.recorded_grads = failure.judgement.recorded_grads
        if failure.judgement.finding is not None:
            f = failure.judgement.finding
            if f.ulps is not None and math.isfinite(f.ulps):
                stats.worst_ulps = max(stats.worst_ulps, f.ulps)
        stats.worst_excess = math.inf if stats.worst_excess <= 1 else stats.worst_excess
    if result.verdict == "pass" and stats.examples and not stats.checked:
        result.verdict = "skip"
        result.note = "vacuous: every step was outside the error model (no bound applies)"
    elif result.verdict == "pass" and stats.unchecked:
        share = stats.unchecked / (stats.unchecked + stats.checked)
        result.note = f"{share:.0%} of steps outside the error model (not judged)"
    result.examples = stats.examples
    result.worst_ulps = stats.worst_ulps
    result.worst_excess = stats.worst_excess
    result.unchecked = stats.unchecked
    result.checked = stats.checked
    result.seconds = time.perf_counter() - start
    return result


def _variant_verdict(fp: Fingerprint, required: Variant | None, claims: dict[str, Any]
                     ) -> tuple[str, str]:
    problems = []
    reported: dict[str, str] = {}  # detail -> the axis that reported it (shared probes)
    for axis, r in fp.axes.items():
        if r.skipped:
            continue
        if not r.matches:
            if r.detail in reported:
                problems.append(f"{axis}: follows no known variant (the {reported[r.detail]} "
                                "probe above)")
            else:
                reported[r.detail] = axis
                problems.append(f"{axis}: follows no known variant ({r.detail})")
            continue
        want = None
        if required is not None and axis in required.as_dict():
            want = required.as_dict()[axis]
            source = "required"
        elif axis in claims:
            want = claims[axis]
            source = "claimed"
        if want is not None and want not in r.matches:
            problems.append(f"{axis}: {source} {want!r}, detected {r.matches[0]!r}")
    if fp.errors:
        problems.extend(fp.errors)
    return ("fail" if problems else "pass"), "; ".join(problems)


def _spec(obj: Any) -> str | None:
    """``module:qualname`` of an importable class or function (for reproducers)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def check(target: Any = "numpy", *, kind: str | None = None,
          dtypes: Sequence[str] = ("float32", "float64"), variant: str | None = None,
          profile: str = "default", seed: int = 0, properties: Sequence[str] | None = None,
          progress: Progress | None = _stderr, fail_fast: bool = False, shrink: bool = True,
          device: str = "cpu", options: dict[str, Any] | None = None,
          isolation: Isolation | None = DEFAULT_ISOLATION) -> Report:
    """Check ``target`` (a built-in name, ``module.path:attr``, a class, or an
    :class:`~.protocol.Implementation`) and return a :class:`~.report.Report`.

    The target runs in a worker process (:func:`~.isolation.isolate`; ``isolation``
    sets the timeout per call, the memory limit and the restarts; ``None`` runs it
    in-process). Raises :class:`~.protocol.TargetError` when the target cannot be loaded
    and ``ValueError`` for bad arguments; the implementation's own failures (exceptions,
    exits, crashes, timeouts) never raise.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is not one of {', '.join(PROFILES)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative int")
    names = list(PROPERTIES) if properties is None else list(properties)
    for name in names:
        if name not in PROPERTIES:
            raise ValueError(f"property {name!r} is not one of {', '.join(PROPERTIES)}")
    dtype_names = []
    for d in dtypes:
        try:
            dtype_names.append(as_dtype(d).name)
        except TypeError as err:
            raise ValueError(f"dtype {d!r}: {err}") from err
    required = None
    if variant is not None:
        required, _ = parse_variant(variant)
    say = progress or (lambda msg: None)
    started = time.perf_counter()
    impl = (load_target(target, kind=kind, device=device, **(options or {})) if isolation is None
            else isolate(target, kind=kind, device=device, options=options, isolation=isolation))
    name = target if isinstance(target, str) else (_spec(target)
                                                   or getattr(impl, "name", repr(target)))
    report = Report(target=str(name), kind=kind, profile=profile, seed=seed,
                    dtypes=dtype_names, required_variant=variant,
                    features=sorted(getattr(impl, "features", ())))
    say(f"adamproofs check {name}: fingerprinting the variant ...")
    t0 = time.perf_counter()
    try:
        fp = fingerprint(impl, prefer=required)
    except Exception as err:  # pragma: no cover - fingerprint catches implementation errors
        fp = Fingerprint(dtype="?", errors=[f"checker error: {type(err).__name__}: {err}"])
    verdict, note = _variant_verdict(fp, required, getattr(impl, "claims", {}) or {})
    report.fingerprint = fp
    report.detected_variant = fp.named()
    report.results.append(PropertyResult("variant", fp.dtype, verdict, note=note,
                                         seconds=time.perf_counter() - t0,
                                         examples=len(fp.axes)))
    say(f"  variant: {fp.describe()} -> {verdict}" + (f" ({note})" if note else ""))
    use = required if required is not None else fp.variant
    report.variant_used = use.as_dict()
    examples, long_steps = PROFILES[profile]
    total = len(names) * len(dtype_names)
    count = 0
    stop = fail_fast and verdict != "pass"
    for dtype in dtype_names:
        for pname in names:
            if stop:
                break
            count += 1
            res = run_property(PROPERTIES[pname], impl, use, dtype, examples=examples,
                               long_steps=long_steps, seed=seed, shrink=shrink,
                               shrink_seconds=SHRINK_SECONDS[profile])
            if res.verdict == "fail":
                res.reproducer = reproducer(report, res, use, kind, options)
            report.results.append(res)
            say(f"  [{count}/{total}] {pname:<20} {dtype:<8} {res.verdict:<5} "
                f"{res.examples:>4} ex  {res.worst_ulps:10.3g} ulps  {res.seconds:6.2f} s"
                + (f"  {res.note}" if res.note else ""))
            if fail_fast and res.verdict in ("fail", "error"):
                stop = True
    report.seconds = time.perf_counter() - started
    if isinstance(impl, (IsolatedImplementation, InProcessImplementation)):
        impl.close()
    report.environment = environment()
    say(f"adamproofs check {name}: {'CONFORMS' if report.conforms else 'DOES NOT CONFORM'} "
        f"({report.seconds:.1f} s)")
    return report
