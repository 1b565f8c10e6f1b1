"""The conformance report: a readable table, a versioned JSON document, reproducers.

JSON report, schema version 2 (``report.schema.json`` beside this module is the
JSON Schema; :data:`SCHEMA` is the same document)::

    {
      "schema": "adamproofs-conformance-report",
      "schema_version": 2,
      "adamproofs_version": "0.1.0",
      "target": "torch-fused",            # what was checked
      "kind": null,                       # --kind, if forced
      "profile": "default", "seed": 0,
      "dtypes": ["float32", "float64"],
      "features": ["checkpoint", "float16", ...],  # what the adapter declared
      "required_variant": "paper",        # --variant, or null
      "detected_variant": "paper",        # a name in adamproofs.config.VARIANTS, or null
      "variant_axes": {"eps_placement": "paper", "bias_correction": true,
                       "amsgrad": null, "decay": "l2", "step_scope": "param",
                       "maximize": "negate_before_decay"},   # "unknown" / null (not probed)
      "variant_used": {...},              # the axes the properties were checked against
      "conforms": true,
      "seconds": 41.2,
      "results": [                        # one per property and dtype; first: "variant"
        {"property": "agreement", "dtype": "float32",
         "verdict": "pass" | "fail" | "skip" | "error",
         "examples": 10, "worst_ulps": 0.6, "worst_error_over_bound": 0.2,
         "checked_steps": 812, "unchecked_steps": 0, "seconds": 1.3, "note": "",
         "finding": null | {"message": ..., "param": 0, "step": 3, "index": 1,
                            "impl": 0.123, "exact": 0.1229, "bound": 1e-9, "ulps": 812.0},
         "reproducer": null | "python source"}
      ],
      "diagnosis": null | {"status": "explained" | "unexplained", "dtype": "float32",
                           "summary": "...", "details": [...], "model": ["..."]},
      "environment": {"python": "3.11.7", "numpy": "2.4.6", "torch": "2.13.0+cpu",
                      "keras": "3.12.0", "keras_backend": "jax", ...}  # optional
    }

``conforms`` is true when every selected row has a result (a check stopped early by
``--fail-fast`` has not) and no result is ``fail`` or ``error``. ``worst_ulps`` is the
largest per-step error in ulps of the dtype (see :mod:`.replay`);
``worst_error_over_bound`` is the largest error divided by the error bound of
:mod:`adamproofs.tolerance` (a conforming implementation stays at or below 1).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..variants import Variant
from ._fingerprint import Fingerprint
from ._model import Case, Finding, GradRows
from ._reproduce import import_root
from .diagnosis import Diagnosis
from .protocol import Hyper

SCHEMA_VERSION = 2

_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "property",
        "dtype",
        "verdict",
        "examples",
        "worst_ulps",
        "worst_error_over_bound",
        "seconds",
        "note",
        "finding",
        "reproducer",
    ],
    "properties": {
        "property": {"type": "string"},
        "dtype": {"type": "string"},
        "verdict": {"enum": ["pass", "fail", "skip", "error"]},
        "examples": {"type": "integer", "minimum": 0},
        "worst_ulps": {"type": ["number", "null"]},
        "worst_error_over_bound": {"type": ["number", "null"]},
        "checked_steps": {"type": "integer", "minimum": 0},
        "unchecked_steps": {"type": "integer", "minimum": 0},
        "seconds": {"type": "number", "minimum": 0},
        "note": {"type": "string"},
        "finding": {"type": ["object", "null"]},
        "reproducer": {"type": ["string", "null"]},
    },
}

#: JSON Schema (draft 2020-12) of the report.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://adamproofs.invalid/schemas/conformance-report-2.json",
    "title": "adamproofs conformance report",
    "type": "object",
    "required": [
        "schema",
        "schema_version",
        "adamproofs_version",
        "target",
        "profile",
        "seed",
        "dtypes",
        "required_variant",
        "detected_variant",
        "variant_axes",
        "variant_used",
        "conforms",
        "seconds",
        "results",
    ],
    "properties": {
        "schema": {"const": "adamproofs-conformance-report"},
        "schema_version": {"const": SCHEMA_VERSION},
        "adamproofs_version": {"type": "string"},
        "target": {"type": "string"},
        "kind": {"type": ["string", "null"]},
        "profile": {"enum": ["quick", "default", "thorough"]},
        "seed": {"type": "integer", "minimum": 0},
        "dtypes": {"type": "array", "items": {"type": "string"}},
        "features": {"type": "array", "items": {"type": "string"}},
        "required_variant": {"type": ["string", "null"]},
        "detected_variant": {"type": ["string", "null"]},
        "variant_axes": {"type": "object"},
        "variant_used": {"type": "object"},
        "conforms": {"type": "boolean"},
        "seconds": {"type": "number", "minimum": 0},
        "results": {"type": "array", "items": _RESULT_SCHEMA},
        "diagnosis": {
            "type": ["object", "null"],
            "required": ["status", "dtype", "summary", "details", "model"],
            "properties": {
                "status": {"enum": ["explained", "unexplained"]},
                "dtype": {"type": "string"},
                "summary": {"type": "string"},
                "details": {"type": "array", "items": {"type": "string"}},
                "model": {"type": "array", "items": {"type": "string"}},
            },
        },
        "common_feature": {"type": ["string", "null"]},
        "environment": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


#: Modules whose versions a report records when the check imported them.
_ENV_MODULES = (
    "numpy",
    "mpmath",
    "gmpy2",
    "numba",
    "torch",
    "jax",
    "jaxlib",
    "optax",
    "keras",
    "ml_dtypes",
)


def environment() -> dict[str, str]:
    """Python's and the imported frameworks' versions, and Keras's backend: what a reader
    needs to reproduce the report (only modules already imported are listed)."""
    import platform
    import sys

    env = {"python": platform.python_version()}
    for name in _ENV_MODULES:
        mod = sys.modules.get(name)
        if mod is not None:
            env[name] = str(getattr(mod, "__version__", "?"))
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        with contextlib.suppress(Exception):  # a broken Keras must not break the report
            env["keras_backend"] = str(keras.backend.backend())
    return env


def _num(x: float | None) -> float | None:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return float(x)


@dataclass
class PropertyResult:
    """The outcome of one property in one dtype."""

    name: str
    dtype: str
    verdict: str
    examples: int = 0
    worst_ulps: float = 0.0
    worst_excess: float = 0.0
    checked: int = 0
    unchecked: int = 0
    seconds: float = 0.0
    note: str = ""
    finding: Finding | None = None
    reproducer: str | None = None
    reproducer_case: Case | None = None
    recorded_grads: GradRows | None = None

    def as_dict(self) -> dict[str, Any]:
        finding = None
        if self.finding is not None:
            finding = {
                k: (_num(v) if isinstance(v, float) else v)
                for k, v in self.finding.__dict__.items()
            }
        return {
            "property": self.name,
            "dtype": self.dtype,
            "verdict": self.verdict,
            "examples": self.examples,
            "worst_ulps": _num(self.worst_ulps),
            "worst_error_over_bound": _num(self.worst_excess),
            "checked_steps": self.checked,
            "unchecked_steps": self.unchecked,
            "seconds": round(self.seconds, 3),
            "note": self.note,
            "finding": finding,
            "reproducer": self.reproducer,
        }


@dataclass
class Report:
    """Everything :func:`~.runner.check` found; ``conforms`` is the answer."""

    target: str
    kind: str | None
    profile: str
    seed: int
    dtypes: list[str]
    required_variant: str | None
    features: list[str] = field(default_factory=list)
    fingerprint: Fingerprint | None = None
    expected_rows: int | None = None
    detected_variant: str | None = None
    variant_used: dict[str, Any] = field(default_factory=dict)
    results: list[PropertyResult] = field(default_factory=list)
    seconds: float = 0.0
    environment: dict[str, str] = field(default_factory=dict)
    diagnosis: Diagnosis | None = None
    common_feature: str = ""

    @property
    def complete(self) -> bool:
        """Every selected row has a verdict (not so when a check stopped early)."""
        rows = sum(1 for r in self.results if r.name != "variant")
        return self.expected_rows is None or rows >= self.expected_rows

    @property
    def conforms(self) -> bool:
        """True when every selected row was judged and none failed or errored."""
        return self.complete and all(r.verdict in ("pass", "skip") for r in self.results)

    @property
    def failures(self) -> list[PropertyResult]:
        return [r for r in self.results if r.verdict in ("fail", "error")]

    def as_dict(self) -> dict[str, Any]:
        axes = self.fingerprint.describe() if self.fingerprint is not None else {}
        return {
            "schema": "adamproofs-conformance-report",
            "schema_version": SCHEMA_VERSION,
            "adamproofs_version": __version__,
            "target": self.target,
            "kind": self.kind,
            "profile": self.profile,
            "seed": self.seed,
            "dtypes": self.dtypes,
            "features": self.features,
            "required_variant": self.required_variant,
            "detected_variant": self.detected_variant,
            "variant_axes": axes,
            "variant_used": self.variant_used,
            "conforms": self.conforms,
            "seconds": round(self.seconds, 3),
            "results": [r.as_dict() for r in self.results],
            "diagnosis": None if self.diagnosis is None else self.diagnosis.as_dict(),
            "common_feature": self.common_feature or None,
            "environment": dict(self.environment),
        }

    def write_json(self, path: str | Path) -> None:
        """Write :meth:`as_dict` to ``path`` atomically (a temporary file beside it, then
        ``os.replace``): ``path`` holds either its old content or the whole report."""
        write_atomically(Path(path), json.dumps(self.as_dict(), indent=2) + "\n")

    def summary(self, width: int = 100) -> str:
        """The one-screen report (what the CLI prints; see :mod:`.summary`)."""
        from ._summary import summary

        return summary(self, width)

    def table(self) -> str:
        """The full report: every row, every finding and reproducer (``--verbose``)."""
        from ._summary import variant_name

        lines = [f"target: {self.target}    profile: {self.profile}    seed: {self.seed}"]
        if self.environment:
            lines.append(
                "environment: " + ", ".join(f"{k} {v}" for k, v in self.environment.items())
            )
        if self.fingerprint is not None:
            axes = ", ".join(f"{k}={v}" for k, v in self.fingerprint.describe().items())
            name = variant_name(self.fingerprint) or "no known variant"
            lines.append(f"detected variant: {name} ({axes})")
        if self.required_variant:
            lines.append(f"required variant: {self.required_variant}")
        head = (
            f"{'property':<20} {'dtype':<9} {'verdict':<7} {'worst ulps':>11} "
            f"{'err/bound':>9} {'examples':>8} {'time':>7}"
        )
        lines += ["", head, "-" * len(head)]
        for r in self.results:
            ulps = "-" if r.verdict == "skip" else f"{r.worst_ulps:.3g}"
            exc = (
                "-"
                if r.verdict == "skip"
                else ("inf" if not math.isfinite(r.worst_excess) else f"{r.worst_excess:.2g}")
            )
            lines.append(
                f"{r.name:<20} {r.dtype:<9} {r.verdict.upper():<7} {ulps:>11} "
                f"{exc:>9} {r.examples:>8} {r.seconds:6.1f}s"
                + (f"  {r.note}" if r.note and r.verdict in ("skip", "pass") else "")
            )
        for r in self.failures:
            lines += ["", f"== {r.name} ({r.dtype}): {r.verdict.upper()} =="]
            if r.finding is not None:
                lines.append(r.finding.message)
            elif r.note:
                lines += r.note.split("; ")
            if r.reproducer:
                lines += ["", "reproducer:", r.reproducer]
        if self.common_feature:
            lines += ["", self.common_feature]
        if self.diagnosis is not None:
            d = self.diagnosis
            lines += ["", f"diagnosis ({d.status}, {d.dtype}): {d.summary}", *d.details]
        lines += [
            "",
            f"RESULT: {'CONFORMS' if self.conforms else 'DOES NOT CONFORM'} ({self.seconds:.1f} s)",
        ]
        return "\n".join(lines)


def writable(path: str | Path) -> str | None:
    """Why a report cannot be written to ``path`` (None: it can), checked before a run."""
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        return f"{str(path)!r} is a folder"
    if not folder.is_dir():
        return f"the folder {str(folder)!r} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {str(folder)!r} is not writable"
    if target.exists() and not os.access(target, os.W_OK):
        return f"{str(path)!r} is not writable"
    return None


def write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` through a temporary file in the same folder and ``os.replace``;
    the temporary file is removed if anything (even Ctrl-C) interrupts the write."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- reproducers ----------------------------------------------------------------------------


def _float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(float(x))


def _array(a: np.ndarray) -> str:
    flat = ", ".join(_float(float(x)) for x in np.asarray(a).astype(np.float64).ravel())
    shape = tuple(int(s) for s in np.shape(a))
    return f"arr([{flat}], {shape})"


def _hyper(h: Hyper) -> str:
    return (
        f"Hyper(lr={h.lr!r}, beta1={h.beta1!r}, beta2={h.beta2!r}, eps={h.eps!r}, "
        f"weight_decay={h.weight_decay!r}, maximize={h.maximize!r})"
    )


def reproducer(
    report: Report,
    result: PropertyResult,
    variant: Variant,
    kind: str | None,
    options: dict[str, Any] | None,
) -> str | None:
    """Python source that judges the shrunk failing case again: it prints the finding and
    exits 1 while the defect is present, 0 once it is fixed (see :mod:`.reproduce`)."""
    case = result.reproducer_case
    if case is None:
        return None
    grads = case.grads
    if case.grad_fn is not None and result.recorded_grads:
        grads = result.recorded_grads  # the gradients the implementation computed from its θ
    rows = [
        "        [" + ", ".join("None" if g is None else _array(g) for g in row) + "],"
        for row in grads
    ]
    groups = (
        "None"
        if not case.groups
        else "[" + ", ".join(f"({_hyper(h)}, {n})" for h, n in case.groups) + "]"
    )
    setup_import = (
        []
        if case.setup is None
        else [f"from {type(case.setup).__module__} import {type(case.setup).__name__}"]
    )
    extra = [f"    kind={kind!r},"] if kind else []
    if options:
        extra.append(f"    options={dict(options)!r},")
    params = ", ".join(_array(p) for p in case.params)
    body = [
        f"arr = lambda values, shape: array(values, shape, {case.dtype!r})",
        "main(",
        f"    {report.target!r}, {result.name!r}, {case.dtype!r},",
        f"    {_hyper(case.hyper)},",
        f"    params=[{params}],",
        *_grads_lines(rows),
        *([] if variant == Variant() else [f"    variant={variant.as_dict()!r},"]),
        *([f"    groups={groups},"] if case.groups else []),
        *([f"    setup={case.setup!r},"] if case.setup is not None else []),
        *extra,
        ")",
    ]
    nonfinite = any(w in line for line in body for w in ("inf", "nan"))
    return "\n".join(
        [
            f"# adamproofs {__version__}: {result.name!r} fails in {case.dtype}; "
            "exits 1 while it does, 0 once fixed",
            *_import_comment(report.target),
            *(["from numpy import inf, nan"] if nonfinite else []),
            "from adamproofs.conformance._reproduce import Hyper, array, main",
            *setup_import,
            *body,
        ]
    )


def _grads_lines(rows: list[str]) -> list[str]:
    """``grads=[...]``: on one line when it is short, else one line per step."""
    inline = "    grads=[" + " ".join(r.strip() for r in rows) + "],"
    if len(inline) <= 100:
        return [inline.replace("],],", "]],")]
    return ["    grads=[", *rows, "    ],"]


def _import_comment(target: str) -> list[str]:
    """How to make ``target`` importable, as comment lines of a reproducer."""
    if ":" not in target:
        return []  # a built-in target
    root = import_root(target)
    module = target.partition(":")[0]
    if root is None:
        return [f"# {module!r} must be importable (pip install -e its project, or PYTHONPATH)"]
    if "site-packages" in root or "dist-packages" in root:
        return [f"# {module!r} is installed in this environment; run it with the same Python"]
    return [
        f"# {module!r} must be importable: PYTHONPATH={root} python THIS_FILE "
        "(or pip install -e the project)"
    ]
