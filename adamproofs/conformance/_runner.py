"""The checker: the fingerprint and every property against one implementation.

>>> from adamproofs.conformance import Checker
>>> checker = Checker("numpy", profile="quick")     # validates every setting
>>> report = checker.run()                          # doctest: +SKIP
>>> report.conforms                                 # doctest: +SKIP
True

:class:`Checker` is the one front end: :func:`check`,
:func:`~adamproofs.conformance.assert_conforms`, the ``adamproofs check`` command and the
pytest plugin all build one, so they take the same settings, refuse the same bad ones with
the same :class:`~.protocol.UsageError` messages, and judge the same rows.

Each property runs as a hypothesis test per dtype (seeded, no example database,
no deadline): hypothesis draws cases, :func:`hypothesis.target` pushes toward
the largest error relative to the bound, and a failure is shrunk to a minimal
case, which the report turns into a copy-pasteable reproducer.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, cast

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from ..dtypes import as_dtype
from ..errors import ConfigError
from ..variants import Precision, Variant, parse_variant
from ._cases import Context
from ._features import FEATURES, case_features, hidden, parse_without
from ._fingerprint import Fingerprint, fingerprint, fingerprint_dtype
from ._isolation import DEFAULT_ISOLATION, Isolation, isolate
from ._model import Case, Judgement
from ._notes import note
from ._options import Claim, claims_of, refuse_reserved
from ._report import PropertyResult, Report, environment, reproducer
from ._summary import clip, variant_name
from ._targets import KINDS, load_target
from .diagnosis import diagnose_failure
from .properties import PROPERTIES, Property
from .protocol import Implementation, UsageError, supports

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


def run_property(
    prop: Property,
    impl: Implementation,
    variant: Variant,
    dtype: str,
    *,
    examples: int,
    long_steps: int,
    seed: int,
    shrink: bool = True,
    shrink_seconds: float = 8.0,
    without: frozenset[str] = frozenset(),
) -> PropertyResult:
    """One property in one dtype as a seeded hypothesis run (shrinking a failure for at
    most ``shrink_seconds``), on cases without the features of ``without``
    (:data:`~.features.FEATURES`)."""
    hide = hidden(without)
    ctx = Context(
        impl=impl,
        dtype=dtype,
        variant=variant,
        examples=examples,
        long_steps=long_steps,
        hidden=hide,
    )
    stats = _Stats()
    start = time.perf_counter()
    latest: list[_Failed] = []
    first_failure: list[float] = []
    left_out = sorted(n for n in without if FEATURES[n].hides & prop.needs)
    if left_out:
        return PropertyResult(
            prop.name, dtype, "skip", note=note("left_out", features=",".join(left_out))
        )
    missing = sorted(f for f in prop.needs | {dtype} if not supports(impl, f))
    if missing:
        return PropertyResult(
            prop.name, dtype, "skip", note=note("needs", features=", ".join(missing))
        )
    if not prop.applies(variant):
        return PropertyResult(
            prop.name, dtype, "skip", note=note("does_not_apply", variant=variant.as_dict())
        )
    phases = [Phase.explicit, Phase.generate, Phase.target] + ([Phase.shrink] if shrink else [])

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=phases,
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
    )
    @hypothesis.seed(seed ^ zlib.crc32(f"{prop.name}/{dtype}".encode()))
    @hypothesis.given(case=_without(prop.strategy(ctx), without))
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
        result.note = (
            note("all_left_out", features=",".join(sorted(without)))
            if without
            else note("no_valid_case", error=err)
        )
    except Exception as err:  # a bug of the checker: reported loudly, never swallowed
        result.verdict = "error"
        result.note = note("checker_error", error=f"{type(err).__name__}: {err}")
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
        result.note = note("vacuous")
    elif result.verdict == "pass" and stats.unchecked:
        share = stats.unchecked / (stats.unchecked + stats.checked)
        result.note = note("outside_model", share=share)
    result.examples = stats.examples
    result.worst_ulps = stats.worst_ulps
    result.worst_excess = stats.worst_excess
    result.unchecked = stats.unchecked
    result.checked = stats.checked
    result.seconds = time.perf_counter() - start
    return result


def _without(strategy: st.SearchStrategy[Case], without: frozenset[str]) -> st.SearchStrategy[Case]:
    """``strategy`` without the cases that have a feature of ``without``."""
    if not without:
        return strategy
    return strategy.filter(lambda case: not (case_features(case) & without))


def _axis_problems(
    fp: Fingerprint, required: Variant | None, fixed: Collection[str], claims: dict[str, Any]
) -> list[str]:
    problems = []
    reported: dict[str, str] = {}  # detail -> the axis that reported it (shared probes)
    wanted = (
        {a: v for a, v in required.as_dict().items() if a in fixed} if required is not None else {}
    )
    for axis, r in fp.axes.items():
        if r.skipped:
            continue
        if not r.matches:
            if r.detail in reported:
                problems.append(note("same_probe", axis=axis, other=reported[r.detail]))
            else:
                reported[r.detail] = axis
                problems.append(note("no_known_form", axis=axis, evidence=r.detail))
            continue
        if axis in wanted:
            want, source = wanted[axis], "required"
        elif axis in claims:
            want, source = claims[axis], "claimed"
        else:
            continue
        if want is not None and want not in r.matches:
            problems.append(
                note("axis_mismatch", axis=axis, source=source, want=want, got=r.matches[0])
            )
    return problems


def variant_verdict(
    fp: Fingerprint,
    required: Variant | None,
    fixed: Collection[str],
    claims: dict[str, Any],
    option_claims: tuple[Claim, ...] = (),
) -> tuple[str, str]:
    """``("pass" | "fail", why)``: every probed axis follows a known variant, the required
    one on the ``fixed`` axes (those ``--variant`` names: a variant's name fixes every axis
    but the compute precision), the implementation's own ``claims`` and the claims of its
    options (:mod:`.options`)."""
    problems = _axis_problems(fp, required, fixed, claims)
    for claim in option_claims:
        r = fp.axes.get(claim.axis)
        problem = claim.problem(r.matches if r else [], r.skipped if r else "not probed")
        if problem is not None:
            problems.append(problem)
    problems.extend(fp.errors)
    return ("fail" if problems else "pass"), "; ".join(problems)


def _spec(obj: Any) -> str | None:
    """``module:qualname`` of an importable class or function (for reproducers)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def _dtype_names(dtypes: Sequence[str]) -> tuple[str, ...]:
    names = []
    for d in dtypes:
        try:
            names.append(as_dtype(d).name)
        except TypeError as err:
            raise UsageError(f"--dtype {d!r}: {err}") from err
    return tuple(dict.fromkeys(names))


def _property_names(properties: Sequence[str] | None) -> tuple[str, ...]:
    names = tuple(PROPERTIES) if properties is None else tuple(properties)
    for name in names:
        if name not in PROPERTIES:
            raise UsageError(f"--property {name!r} is not one of {', '.join(PROPERTIES)}")
    return tuple(dict.fromkeys(names))


def _required_variant(spec: str | None) -> tuple[Variant | None, set[str]]:
    if spec is None:
        return None, set()
    try:
        return parse_variant(spec)
    except ConfigError as err:
        raise UsageError(str(err)) from None  # names --variant and what is allowed


def parse_seed(value: Any) -> int:
    """A seed: a non-negative int (or its decimal spelling, from an environment variable)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UsageError(f"--seed={value!r} must be a non-negative int")
    return value


def parse_isolation(
    timeout: Any = None, memory_limit_mib: Any = None, in_process: bool = False
) -> Isolation | None:
    """The isolation the front ends ask for: ``--timeout`` seconds per call of the target
    (default 60), ``--memory-limit`` MiB (default none), or ``--in-process`` (``None``)."""
    if in_process:
        if timeout is not None or memory_limit_mib is not None:
            raise UsageError(
                "--in-process runs the target without a worker process, so "
                "--timeout and --memory-limit cannot apply; give one or the other"
            )
        return None
    seconds = DEFAULT_ISOLATION.timeout
    if timeout is not None:
        try:
            seconds = float(timeout)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds > 0):
            raise UsageError(f"--timeout={timeout!r} must be a positive number of seconds")
    limit = None
    if memory_limit_mib is not None:
        try:
            mib = int(str(memory_limit_mib))
        except ValueError:
            mib = 0
        if mib <= 0:
            raise UsageError(
                f"--memory-limit={memory_limit_mib!r} must be a positive whole number of MiB"
            )
        limit = mib * 2**20
    return Isolation(timeout=seconds, memory_limit=limit)


def parse_profile(value: Any) -> str:
    """A profile name (a key of :data:`PROFILES`)."""
    if value not in PROFILES:
        raise UsageError(f"--profile={value!r} is not one of {', '.join(PROFILES)}")
    return str(value)


class Checker:
    """One check of one target: settings validated on construction, the target loaded once.

    >>> checker = Checker("mypkg.optim:MyAdam", variant="paper", profile="quick")  # doctest: +SKIP
    >>> report = checker.run()                                                     # doctest: +SKIP
    >>> assert report.conforms, report.table()                                     # doctest: +SKIP

    Raises :class:`~.protocol.UsageError` (a ``ValueError``) for a bad setting, naming it
    and what is allowed. :meth:`implementation` loads the target (the front ends call it
    before running anything): it raises :class:`~.protocol.TargetError` when the target
    cannot be loaded and :class:`~.protocol.UsageError` for an option the target does not
    take. The implementation's own failures never raise.
    """

    def __init__(
        self,
        target: Any = "numpy",
        *,
        kind: str | None = None,
        dtypes: Sequence[str] = ("float32", "float64"),
        variant: str | None = None,
        profile: str = "default",
        seed: int = 0,
        properties: Sequence[str] | None = None,
        fail_fast: bool = False,
        shrink: bool = True,
        device: str = "cpu",
        options: dict[str, Any] | None = None,
        isolation: Isolation | None = DEFAULT_ISOLATION,
        diagnose: bool = True,
        without: str | Sequence[str] | None = None,
    ) -> None:
        if kind is not None and kind not in KINDS:
            raise UsageError(f"--kind={kind!r} is not one of {', '.join(KINDS)}")
        self.target = target
        self.kind = kind
        self.profile = parse_profile(profile)
        self.seed = parse_seed(seed)
        self.properties = _property_names(properties)
        self.dtypes = _dtype_names(dtypes)
        self.variant_spec = variant
        self.required, self.fixed_axes = _required_variant(variant)
        if isolation is not None and not isinstance(isolation, Isolation):
            raise UsageError(f"isolation={isolation!r} must be an Isolation or None (in-process)")
        self.isolation = isolation
        self.fail_fast = fail_fast
        self.shrink = shrink
        self.diagnose = diagnose
        self.device = device
        self.options = dict(options or {})
        refuse_reserved(self.options)
        self.claims = claims_of(self.options)
        self.without = parse_without(without)
        self._impl: Implementation | None = None
        self._fingerprints: dict[str, Fingerprint] = {}
        self._variant_results: dict[str, PropertyResult] = {}

    # --- the rows ------------------------------------------------------------------------

    @property
    def rows(self) -> list[tuple[str, str]]:
        """The selected ``(property, dtype)`` rows, in run order (dtype by dtype)."""
        return [(name, dtype) for dtype in self.dtypes for name in self.properties]

    @property
    def name(self) -> str:
        """How reports name the target."""
        if isinstance(self.target, str):
            return self.target
        return _spec(self.target) or str(getattr(self.implementation(), "name", repr(self.target)))

    def implementation(self) -> Implementation:
        """The implementation under test, loaded on first use (see :func:`load_implementation`)."""
        if self._impl is None:
            self._impl = load_implementation(
                self.target,
                kind=self.kind,
                device=self.device,
                options=self.options,
                isolation=self.isolation,
            )
        return self._impl

    def new_report(self, dtypes: Sequence[str] | None = None) -> Report:
        """An empty report for this check (``dtypes``: those of the rows it will hold)."""
        impl = self.implementation()
        return Report(
            target=str(self.name),
            kind=self.kind,
            profile=self.profile,
            seed=self.seed,
            dtypes=list(self.dtypes if dtypes is None else dtypes),
            required_variant=self.variant_spec,
            features=sorted(getattr(impl, "features", ())),
        )

    # --- the variant ---------------------------------------------------------------------

    @property
    def fingerprint_dtypes(self) -> tuple[str, ...]:
        """The dtypes fingerprinted: each selected one the target supports (else its most
        precise), so each dtype's rows are judged against the variant detected in it."""
        impl = self.implementation()
        own = tuple(d for d in self.dtypes if supports(impl, d))
        return own or (fingerprint_dtype(impl),)

    def variant_result(self, dtype: str | None = None) -> PropertyResult:
        """The fingerprint's row for ``dtype`` (computed once): every axis known, required,
        as claimed; a compute precision other than the parameters' own is stated."""
        dtype = dtype or self.fingerprint_dtypes[0]
        if dtype not in self._variant_results:
            impl = self.implementation()
            t0 = time.perf_counter()
            try:
                fp = fingerprint(impl, prefer=self.required, dtype=dtype)
            except Exception as err:  # pragma: no cover - fingerprint catches the impl's errors
                fp = Fingerprint(
                    dtype=dtype, errors=[f"checker error: {type(err).__name__}: {err}"]
                )
            verdict, why = variant_verdict(
                fp,
                self.required,
                self.fixed_axes,
                getattr(impl, "claims", {}) or {},
                self.claims,
            )
            precision = fp.variant.precision
            if (
                precision is not Precision.NATIVE
                and fp.axes.get("precision", None)
                and fp.axes["precision"].matches
            ):
                fact = note("precision", dtype=dtype, precision=precision)
                why = f"{fact}; {why}" if why else fact
            self._fingerprints[dtype] = fp
            self._variant_results[dtype] = PropertyResult(
                "variant",
                fp.dtype,
                verdict,
                note=why,
                seconds=time.perf_counter() - t0,
                examples=len(fp.axes),
            )
        return self._variant_results[dtype]

    @property
    def fingerprint(self) -> Fingerprint:
        """The fingerprint of the first fingerprinted dtype (running it if needed)."""
        return self.fingerprint_in(self.fingerprint_dtypes[0])

    def fingerprint_in(self, dtype: str) -> Fingerprint:
        """The fingerprint in ``dtype`` (running it if needed)."""
        self.variant_result(dtype)
        return self._fingerprints[dtype]

    @property
    def variant(self) -> Variant:
        """The variant of the first fingerprinted dtype (see :meth:`variant_in`)."""
        return self.variant_in(self.fingerprint_dtypes[0])

    def variant_in(self, dtype: str) -> Variant:
        """What ``dtype``'s rows are judged against: ``--variant`` (on every axis it fixes;
        the compute precision detected in ``dtype`` unless it fixes that too), else the
        variant detected in ``dtype``."""
        own = dtype in self.fingerprint_dtypes
        detected = self.fingerprint_in(dtype).variant if own else self.variant
        if self.required is None:
            return detected
        if "precision" in self.fixed_axes:
            return self.required
        return self.required.replace(precision=detected.precision)

    # --- one row -------------------------------------------------------------------------

    def run_row(
        self,
        name: str,
        dtype: str,
        without: frozenset[str] | None = None,
        shrink: bool | None = None,
    ) -> PropertyResult:
        """One property in one dtype, with a reproducer when it fails; its cases leave out
        the features of ``without`` (default: the checker's ``without``)."""
        examples, long_steps = PROFILES[self.profile]
        variant = self.variant_in(dtype)
        result = run_property(
            PROPERTIES[name],
            self.implementation(),
            variant,
            dtype,
            examples=examples,
            long_steps=long_steps,
            seed=self.seed,
            shrink=self.shrink if shrink is None else shrink,
            shrink_seconds=SHRINK_SECONDS[self.profile],
            without=self.without if without is None else without,
        )
        if result.verdict == "fail":
            result.reproducer = reproducer(
                self.new_report([dtype]), result, variant, self.kind, self.options
            )
        return result

    # --- the whole check -----------------------------------------------------------------

    def run(self, progress: Progress | None = _stderr) -> Report:
        """Fingerprint, then every selected row; the report says whether it conforms."""
        say = progress or (lambda msg: None)
        started = time.perf_counter()
        report = self.new_report()
        report.expected_rows = len(self.rows)
        try:
            return self._run(report, say, started)
        finally:
            close = getattr(self._impl, "close", None)
            if close is not None:
                close()
                self._impl = None

    def _run(self, report: Report, say: Progress, started: float) -> Report:
        say(f"adamproofs check {report.target}: fingerprinting the variant ...")
        stop = False
        for dtype in self.fingerprint_dtypes:
            variant = self.variant_result(dtype)
            fp = self._fingerprints[dtype]
            report.results.append(variant)
            say(
                clip(
                    f"  variant ({dtype}): {variant_name(fp) or 'no known variant'} -> "
                    f"{variant.verdict}" + (f" ({variant.note})" if variant.note else ""),
                    PROGRESS_WIDTH,
                )
            )
        report.fingerprint = self.fingerprint
        report.detected_variant = variant_name(self.fingerprint)
        report.variant_used = self.variant.as_dict()
        for count, (name, dtype) in enumerate(self.rows, 1):
            if stop:
                break
            res = self.run_row(name, dtype)
            report.results.append(res)
            say(
                f"  [{count}/{len(self.rows)}] {name:<20} {dtype:<8} {res.verdict:<5} "
                f"{res.examples:>4} ex  {res.worst_ulps:10.3g} ulps  {res.seconds:6.2f} s"
                + (f"  {clip(res.note, PROGRESS_WIDTH)}" if res.note else "")
            )
            stop = self.fail_fast and res.verdict in ("fail", "error")
        if not self.fail_fast:
            self._judge_common_feature(report, say)
        if self.diagnose and report.failures:
            report.diagnosis = diagnose_failure(
                self.implementation(), report.failures[0].dtype, self.variant_in, self.required
            )
        report.seconds = time.perf_counter() - started
        report.environment = environment()
        say(
            f"adamproofs check {report.target}: "
            f"{'CONFORMS' if report.conforms else 'DOES NOT CONFORM'} ({report.seconds:.1f} s)"
        )
        return report

    def _judge_common_feature(self, report: Report, say: Progress) -> None:
        """When the failing cases share a feature and the first failing row passes without
        it, judge the other failing rows again without it and say so once in the report
        (the first row keeps its failure: the feature is a defect too)."""
        failed = [
            r
            for r in report.results
            if r.name != "variant" and r.verdict == "fail" and r.reproducer_case is not None
        ]
        if len(failed) < 2:
            return
        counts = Counter(
            f
            for r in failed
            for f in case_features(r.reproducer_case)  # type: ignore[arg-type]
            if f not in self.without
        )
        first = failed[0]
        for feature, n in counts.most_common(_COMMON_FEATURE_TRIES):
            if 2 * n <= len(failed):
                break
            narrower = self.without | {feature}
            say(f"  most failing cases have {FEATURES[feature].what}: judging without them")
            if self.run_row(first.name, first.dtype, narrower, shrink=False).verdict == "fail":
                continue
            still = 0
            for r in failed[1:]:
                again = self.run_row(r.name, r.dtype, narrower)
                again.note = "; ".join(
                    x for x in (note("judged_without", feature=feature), again.note) if x
                )
                still += again.verdict in ("fail", "error")
                report.results[report.results.index(r)] = again
            report.common_feature = note(
                "common_feature",
                what=FEATURES[feature].what,
                feature=feature,
                judged=f"without it, {still} of the other {len(failed) - 1} failing rows "
                "still fail",
            )
            return


#: how many candidate features :meth:`Checker._judge_common_feature` tries at most
_COMMON_FEATURE_TRIES = 3

#: progress lines (stderr) are cut to this width; the report holds the whole notes
PROGRESS_WIDTH = 160


def load_implementation(
    target: Any,
    *,
    kind: str | None,
    device: str,
    options: dict[str, Any],
    isolation: Isolation | None = DEFAULT_ISOLATION,
) -> Implementation:
    """The one place the checker loads the implementation under test: in a worker process
    (:func:`~.isolation.isolate`) unless ``isolation`` is ``None``."""
    if isolation is None:
        return load_target(target, kind=kind, device=device, **options)
    # the worker proxies answer the protocol's calls; their sessions are proxies too
    return cast(
        Implementation,
        isolate(target, kind=kind, device=device, options=options, isolation=isolation),
    )


def check(target: Any = "numpy", *, progress: Progress | None = _stderr, **settings: Any) -> Report:
    """``Checker(target, **settings).run(progress)``: check ``target`` (a built-in name,
    ``module.path:attr``, a class, or an :class:`~.protocol.Implementation`) and return a
    :class:`~.report.Report`. See :class:`Checker` for the settings and what raises."""
    return Checker(target, **settings).run(progress)
