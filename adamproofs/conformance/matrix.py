r"""The conformance matrix: ``adamproofs check`` on every installed framework, as JSON and Markdown.

    python -m adamproofs.conformance.matrix --out DIR [--rows numpy,optax] [--dtypes ...]

Each row (``numpy``, ``torch``, ``torch-foreach``, ``torch-fused``, ``optax``,
``keras`` and the named variants in :data:`ROWS`) is checked by
:func:`adamproofs.conformance._runner.check` in a subprocess of its own, so that
process-wide framework settings (JAX's 64-bit mode, Keras's backend, torch's
thread pool) cannot leak from one row into the next, and a crash of a framework
is a row marked ``error``, not the end of the matrix. Rows whose framework is not
installed are listed as ``not installed``. Progress goes to stderr.

Besides the check's own report, each row records *hazards*: what the
implementation does at the framework's usual hyperparameters in float16 and
bfloat16 (the checker itself picks hyperparameters representable in the dtype),
see :func:`hazards`.

Outputs in ``DIR``: ``conformance-matrix.json`` (schema below, version
:data:`SCHEMA_VERSION`), ``conformance-matrix.md`` (for the docs site) and
``reports/ROW.json`` (the row's entry with the full check report; spaces and other
characters outside ``[A-Za-z0-9_.-]`` in ROW become ``-``)::

    {"schema": "adamproofs-conformance-matrix", "schema_version": 1,
     "adamproofs_version": ..., "profile": ..., "seed": ..., "dtypes": [...],
     "environment": {"python": ..., "numpy": ..., "torch": ..., ...},
     "rows": [{"row": "optax", "target": "optax", "options": {...},
               "status": "checked" | "not installed" | "error",
               "implementation": ..., "verdict": "conforms" | "does not conform" | null,
               "variant": {"eps_placement": ..., ...}, "detected_variant": ...,
               "dtypes": {"float32": {"verdict": "pass" | "fail" | "skip",
                                      "worst_ulps": ..., "worst_error_over_bound": ...,
                                      "checked_steps": ..., "unchecked_steps": ...,
                                      "failed": [property, ...]}},
               "failures": [{"property": ..., "dtype": ..., "message": ...}],
               "hazards": [...], "seconds": ..., "error": null | "..."}]}
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..dtypes import as_dtype
from ..variants import AXES as VARIANT_AXES
from .protocol import Hyper, Implementation

#: Matrix schema version (bump on incompatible changes of the JSON layout).
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Row:
    """One line of the matrix: a built-in target, the adapter options, what it needs."""

    target: str
    requires: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    note: str = ""


#: Every row the matrix knows, in display order.
ROWS: dict[str, Row] = {
    "numpy": Row("numpy", ("numpy",), note="this project's fast Adam"),
    "torch": Row("torch", ("torch",), note="torch.optim.Adam, foreach=False (CPU default)"),
    "torch-foreach": Row("torch-foreach", ("torch",), note="torch.optim.Adam, foreach=True"),
    "torch-fused": Row("torch-fused", ("torch",), note="torch.optim.Adam, fused=True"),
    "torch AdamW": Row(
        "torch",
        ("torch",),
        {"decoupled_weight_decay": True},
        note="torch.optim.Adam(decoupled_weight_decay=True) = AdamW",
    ),
    "torch amsgrad": Row(
        "torch", ("torch",), {"amsgrad": True}, note="torch.optim.Adam(amsgrad=True)"
    ),
    "optax": Row("optax", ("jax", "optax"), note="optax.adam, eager"),
    "optax jit": Row("optax", ("jax", "optax"), {"jit": True}, note="optax.adam under jax.jit"),
    "optax adamw": Row("optax", ("jax", "optax"), {"alias": "adamw"}, note="optax.adamw"),
    "optax amsgrad": Row("optax", ("jax", "optax"), {"alias": "amsgrad"}, note="optax.amsgrad"),
    "keras": Row("keras", ("keras",), note="keras.optimizers.Adam (JAX backend if installed)"),
    "keras AdamW": Row("keras", ("keras",), {"optimizer": "AdamW"}, note="keras.optimizers.AdamW"),
    "keras amsgrad": Row(
        "keras", ("keras",), {"amsgrad": True}, note="keras.optimizers.Adam(amsgrad=True)"
    ),
    "keras torch-backend": Row(
        "keras",
        ("keras", "torch"),
        {"backend": "torch"},
        note="keras.optimizers.Adam on the torch backend (foreach ops)",
    ),
    "keras floatx=float32": Row(
        "keras",
        ("keras",),
        {"floatx": "keep"},
        note="keras.optimizers.Adam, float64 variables but the default floatx (α held in float32)",
    ),
}

#: Variant axes shown as columns, in order.
#: (every axis of the variant model except the compute precision, which is per dtype)
AXES: tuple[str, ...] = tuple(a for a in VARIANT_AXES if a != "precision")

VERSION_MODULES: tuple[str, ...] = (
    "numpy",
    "mpmath",
    "hypothesis",
    "torch",
    "jax",
    "jaxlib",
    "optax",
    "keras",
    "ml_dtypes",
)


def log(message: str) -> None:
    """Progress, on stderr."""
    print(message, file=sys.stderr, flush=True)


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def environment() -> dict[str, str | None]:
    """Python and framework versions (None: not installed), read from package metadata."""
    from importlib import metadata

    env: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in VERSION_MODULES:
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = None
    return env


# ---------------------------------------------------------------------------------------
# Hazards at the framework's usual hyperparameters (low precision)
# ---------------------------------------------------------------------------------------


def _final(
    impl: Implementation, hyper: Hyper, theta0: np.ndarray, grads: list[np.ndarray], dtype: np.dtype
) -> np.ndarray:
    session = impl.create(hyper, [theta0.astype(dtype)], dtype)
    for g in grads:
        session.step([g.astype(dtype)])
    return np.asarray(session.params()[0], dtype=np.float64)


def hazards(impl: Implementation, dtypes: Sequence[str]) -> list[str]:
    """Findings at usual hyperparameters (reported beside the verdict, never verdicts).

    - float16/bfloat16, zero gradient at step 1 with ε = 1e-8: ε rounds to 0 in
      float16, so m̂/(√v̂ + ε) = 0/0 = NaN unless the implementation computes wider;
    - float16/bfloat16, β2 = 0.999, g = 1 for 3 steps, α = 0.01: exactly, θ moves by
      3α. β2 rounds to 1.0 in bfloat16, so an implementation that forms 1 − β2^t in
      bfloat16 gets a zero step size and θ never moves;
    - float32, constant g = 1, ε = 0, β2 = 0.9999: exactly m̂ = g and v̂ = g², so step
      2 is exactly α. Computing 1 − β2^t in float32 (optax, Keras, torch capturable)
      makes it off by about (t+1)·u·β2^t/(1 − β2^t) ≈ 2·10⁻⁴ relative; in float64
      (torch's eager paths) by a few float32 ulps. A legitimate variant (axis X2 of the
      reference notes), reported as a note.
    """
    found = []
    for name in dtypes:
        if name not in impl.features:
            continue
        dtype = as_dtype(name)
        one = np.ones(2)
        try:
            if name == "float32":
                hyper = Hyper(lr=1.0, beta1=0.5, beta2=0.9999, eps=0.0)
                before, after = (_final(impl, hyper, np.zeros(2), [one] * k, dtype) for k in (1, 2))
                rel = abs(float(before[0] - after[0]) - 1.0)
                if rel > 1e-5:
                    found.append(
                        f"float32: the bias corrections 1 − β^t are computed in "
                        f"float32 (step 2 of a constant gradient is off by {rel:.1e} "
                        "relative; exact: 0); legitimate, but 1 − β2^t loses digits "
                        "for β2 near 1"
                    )
                continue
            if name == "float64":
                continue
            zero = _final(impl, Hyper(lr=1e-3, eps=1e-8), one, [np.zeros(2)], dtype)
            moved = _final(impl, Hyper(lr=1e-2, beta2=0.999), one, [one] * 3, dtype)
        except Exception as err:  # the implementation's failure is a finding
            found.append(f"{name}: raised {type(err).__name__}: {err}")
            continue
        if not np.all(np.isfinite(zero)):
            found.append(
                f"{name}: a zero first gradient with eps=1e-8 gives θ = {zero[0]} "
                "(ε rounds to 0 in this dtype, and 0/0 = NaN)"
            )
        if np.all(moved == 1.0):
            found.append(
                f"{name}: with beta2=0.999 and g=1, θ never moves in 3 steps "
                "(β2 rounds to 1 in this dtype, so 1 − β2^t is 0)"
            )
    return found


# ---------------------------------------------------------------------------------------
# One row (runs in the child process)
# ---------------------------------------------------------------------------------------


def _summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Per-dtype worst errors, verdicts and failure messages from a check report."""
    per_dtype: dict[str, dict[str, Any]] = {}
    failures = []
    for res in report.get("results", []):
        if res["property"] == "variant":
            if res["verdict"] in ("fail", "error"):
                failures.append(
                    {"property": "variant", "dtype": res["dtype"], "message": _message(res)}
                )
            continue
        entry = per_dtype.setdefault(
            res["dtype"],
            {
                "verdict": "skip",
                "worst_ulps": None,
                "worst_error_over_bound": None,
                "checked_steps": 0,
                "unchecked_steps": 0,
                "failed": [],
            },
        )
        if res["verdict"] == "skip":
            continue
        entry["checked_steps"] += int(res.get("checked_steps") or 0)
        entry["unchecked_steps"] += int(res.get("unchecked_steps") or 0)
        for key in ("worst_ulps", "worst_error_over_bound"):
            if res.get(key) is not None:
                entry[key] = res[key] if entry[key] is None else max(entry[key], res[key])
        if res["verdict"] in ("fail", "error"):
            entry["verdict"] = "fail"
            entry["failed"].append(res["property"])
            failures.append(
                {"property": res["property"], "dtype": res["dtype"], "message": _message(res)}
            )
        elif entry["verdict"] == "skip":
            entry["verdict"] = "pass"
    return {"dtypes": per_dtype, "failures": failures}


def _message(res: dict[str, Any]) -> str:
    finding = res.get("finding") or {}
    return str(finding.get("message") or res.get("note") or res["verdict"])


def run_row(
    name: str,
    *,
    dtypes: Sequence[str],
    profile: str,
    seed: int,
    properties: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Check one row in this process and return its matrix entry (plus the full report)."""
    from ._runner import check
    from ._targets import load_target

    row = ROWS[name]
    started = time.perf_counter()
    report = check(
        row.target,
        dtypes=list(dtypes),
        profile=profile,
        seed=seed,
        properties=properties,
        options=dict(row.options),
        progress=lambda m: log(f"  [{name}] {m}"),
    )
    data = report.as_dict()
    impl = load_target(row.target, **row.options)
    log(f"  [{name}] low-precision hazards")
    notes = hazards(impl, list(dict.fromkeys(["float32", *dtypes])))
    summary = _summarise(data)
    return {
        "row": name,
        "target": row.target,
        "options": dict(row.options),
        "note": row.note,
        "status": "checked",
        "implementation": impl.name,
        "verdict": "conforms" if data.get("conforms") else "does not conform",
        "variant": {axis: data.get("variant_axes", {}).get(axis) for axis in AXES},
        "detected_variant": data.get("detected_variant"),
        "claims": dict(getattr(impl, "claims", {})),
        **summary,
        "hazards": notes,
        "seconds": round(time.perf_counter() - started, 1),
        "error": None,
        "report": data,
    }


def _child(args: argparse.Namespace) -> int:
    try:
        entry = run_row(
            args.one, dtypes=args.dtypes.split(","), profile=args.profile, seed=args.seed
        )
    except Exception as err:  # reported as the row's error by the parent
        entry = {"row": args.one, "status": "error", "error": f"{type(err).__name__}: {err}"}
    Path(args.json).write_text(json.dumps(entry, indent=1, default=_jsonable))
    return 0


def _jsonable(x: Any) -> Any:
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


# ---------------------------------------------------------------------------------------
# The matrix (parent process)
# ---------------------------------------------------------------------------------------


def _placeholder(name: str, status: str, error: str | None = None) -> dict[str, Any]:
    row = ROWS[name]
    return {
        "row": name,
        "target": row.target,
        "options": dict(row.options),
        "note": row.note,
        "status": status,
        "implementation": None,
        "verdict": None,
        "variant": dict.fromkeys(AXES),
        "detected_variant": None,
        "claims": {},
        "dtypes": {},
        "failures": [],
        "hazards": [],
        "seconds": 0.0,
        "error": error,
    }


def check_row(
    name: str, out: Path, *, dtypes: Sequence[str], profile: str, seed: int, timeout: float
) -> dict[str, Any]:
    """Run one row in a subprocess; write its full report under ``out/reports``."""
    missing = [m for m in ROWS[name].requires if not installed(m)]
    if missing:
        return _placeholder(name, "not installed", f"missing: {', '.join(missing)}")
    reports = out / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".json")
    path.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "adamproofs.conformance.matrix",
        "--one",
        name,
        "--json",
        str(path),
        "--dtypes",
        ",".join(dtypes),
        "--profile",
        profile,
        "--seed",
        str(seed),
    ]
    env = dict(os.environ)
    try:
        proc = subprocess.run(cmd, timeout=timeout, env=env, stdout=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return _placeholder(name, "error", f"timed out after {timeout:.0f} s")
    if not path.exists():
        return _placeholder(
            name,
            "error",
            f"the check process exited with status {proc.returncode} and wrote no report",
        )
    entry = json.loads(path.read_text())
    if entry.get("status") != "checked":
        return _placeholder(name, "error", entry.get("error"))
    return entry


def build_matrix(
    rows: Sequence[str],
    out: Path,
    *,
    dtypes: Sequence[str],
    profile: str,
    seed: int,
    timeout: float,
) -> dict[str, Any]:
    """Check every row and return the matrix document (without the full reports)."""
    entries = []
    for k, name in enumerate(rows, 1):
        log(f"[{k}/{len(rows)}] {name}: {ROWS[name].note}")
        started = time.perf_counter()
        entry = check_row(name, out, dtypes=dtypes, profile=profile, seed=seed, timeout=timeout)
        entry.pop("report", None)
        log(
            f"[{k}/{len(rows)}] {name}: {entry['verdict'] or entry['status']} "
            f"({time.perf_counter() - started:.0f} s)"
        )
        entries.append(entry)
    from .. import __version__

    return {
        "schema": "adamproofs-conformance-matrix",
        "schema_version": SCHEMA_VERSION,
        "adamproofs_version": __version__,
        "profile": profile,
        "seed": seed,
        "dtypes": list(dtypes),
        "environment": environment(),
        "rows": entries,
    }


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        if math.isinf(x):
            return "inf"
        return f"{x:.3g}"
    return str(x)


def _cell(axis: str, value: Any) -> str:
    if value is None:
        return "none" if axis == "amsgrad" else "not probed"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _md_text(text: str) -> str:
    """One Markdown line of plain text: brackets as entities, so ``params[0][()]`` is not
    read as a link (mkdocs-autorefs fails the strict build on it), and no line breaks."""
    return text.replace("\n", " ").replace("[", "&#91;").replace("]", "&#93;")


def _dtype_cell(e: dict[str, Any] | None) -> str:
    if e is None:
        return "not checked"
    if e["verdict"] == "skip":
        return "skipped (unsupported)"
    checked, unchecked = e["checked_steps"], e["unchecked_steps"]
    judged = f"{checked} of {checked + unchecked} steps judged"
    if checked == 0:
        return f"unjudged ({judged}: the error bound is void)"
    return (
        f"{_fmt(e['worst_ulps'])} / {_fmt(e['worst_error_over_bound'])} ({e['verdict']}; {judged})"
    )


def to_markdown(matrix: dict[str, Any]) -> str:
    """The matrix as Markdown: variants, worst errors per dtype, verdicts, findings."""
    dtypes = matrix["dtypes"]
    env = matrix["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env.items() if v is not None)
    lines = [
        "# Conformance matrix",
        "",
        f"`adamproofs check` (profile `{matrix['profile']}`, seed {matrix['seed']}) on "
        f"every installed framework, CPU. Versions: {versions}.",
        "",
        "A row *conforms* when it follows a known variant on every axis and every "
        "property stays within the error bound of the written floating-point error "
        "analysis. Worst errors are over all properties: ulps of the dtype at the "
        "exact value, and error divided by the bound (≤ 1 conforms).",
        "",
        "## Variants",
        "",
        "| row | implementation | ε placement | bias correction | AMSGrad | decay "
        "| step counter | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in matrix["rows"]:
        v = r["variant"]
        verdict = r["verdict"] or r["status"]
        if r["status"] == "error":
            verdict = f"error: {r['error']}"
        lines.append(
            f"| {r['row']} | {r['implementation'] or r['note']} | "
            + " | ".join(_cell(a, v.get(a)) if r["status"] == "checked" else "–" for a in AXES)
            + f" | **{verdict}** |"
        )
    lines += [
        "",
        "## Worst error per dtype",
        "",
        "Each cell: worst ulps / worst error÷bound (verdict; steps where the error "
        "model gives a finite bound, out of all steps run).",
        "",
        "| row | " + " | ".join(dtypes) + " |",
        "|---|" + "---|" * len(dtypes),
    ]
    for r in matrix["rows"]:
        if r["status"] != "checked":
            lines.append(f"| {r['row']} | " + " | ".join(r["status"] for _ in dtypes) + " |")
            continue
        cells = [_dtype_cell(r["dtypes"].get(d)) for d in dtypes]
        lines.append(f"| {r['row']} | " + " | ".join(cells) + " |")
    lines += ["", "## Findings", ""]
    any_finding = False
    for r in matrix["rows"]:
        items = [f"{f['property']} [{f['dtype']}]: {f['message']}" for f in r["failures"]]
        items += [f"hazard: {h}" for h in r["hazards"]]
        if r["status"] == "error":
            items.append(f"error: {r['error']}")
        if not items:
            continue
        any_finding = True
        lines.append(f"**{r['row']}**")
        lines.append("")
        lines += [f"- {_md_text(item)}" for item in items]
        lines.append("")
    if not any_finding:
        lines.append("None.")
    return "\n".join(lines).rstrip() + "\n"


def write_matrix(matrix: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``conformance-matrix.json`` and ``.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "conformance-matrix.json", out / "conformance-matrix.md"
    json_path.write_text(json.dumps(matrix, indent=1, default=_jsonable) + "\n")
    md_path.write_text(to_markdown(matrix))
    return json_path, md_path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m adamproofs.conformance.matrix", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--out", help="output directory (required unless --one)")
    p.add_argument(
        "--rows",
        default=",".join(ROWS),
        help=f"comma-separated rows (default: all): {', '.join(ROWS)}",
    )
    p.add_argument(
        "--dtypes",
        default="float32,float64,float16,bfloat16",
        help="comma-separated dtypes to check (default: all four)",
    )
    p.add_argument("--profile", choices=("quick", "default", "thorough"), default="default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per row")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--json", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        return _child(args)
    if not args.out:
        print("matrix: --out DIR is required", file=sys.stderr)
        return 2
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        print(f"matrix: unknown rows {unknown}; allowed: {', '.join(ROWS)}", file=sys.stderr)
        return 2
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    try:
        dtypes = [as_dtype(d).name for d in dtypes]
    except TypeError as err:
        print(f"matrix: {err}", file=sys.stderr)
        return 2
    if args.seed < 0:
        print(f"matrix: --seed={args.seed} must be >= 0", file=sys.stderr)
        return 2
    out = Path(args.out)
    matrix = build_matrix(
        rows, out, dtypes=dtypes, profile=args.profile, seed=args.seed, timeout=args.timeout
    )
    json_path, md_path = write_matrix(matrix, out)
    log(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
