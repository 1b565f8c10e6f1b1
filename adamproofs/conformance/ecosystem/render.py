"""The ecosystem matrix as a versioned JSON document and as the Markdown page of the docs.

JSON (``schema`` :data:`SCHEMA`, ``schema_version`` :data:`SCHEMA_VERSION`)::

    {"schema": ..., "schema_version": 1, "adamproofs_version": ..., "date": ISO 8601 UTC,
     "command": "adamproofs matrix ...", "config": ..., "profile": ..., "seeds": [...],
     "dtypes": [...], "properties": [...],
     "run": {"workers": ..., "scheduler": ..., "environments": ..., "wall_seconds": ...},
     "libraries": {NAME: {"pip": [...], "versions": {MODULE: VERSION}, "status": ...,
                          "error": ...}},
     "implementations": [{"id": ..., "library": ..., "target": ..., "kind": ...,
        "options": {...}, "variant": ..., "note": ..., "implementation": ...,
        "status": "checked" | "no adapter" | "not installed" | "error",
        "verdict": "conforms" | "does not conform" | "error" | null,
        "dtypes": {DTYPE: {"status": ..., "detected": ..., "axes": {...},
                           "variant_verdict": ..., "failed": [PROPERTY, ...]}},
        "findings": ["DTYPE · PROPERTY: message", ...], "error": ...}],
     "cells": {CELL_KEY: {"status": ..., ..., "seconds": ...}}}

Only ``date``, ``run`` and the ``seconds`` of each cell depend on how and when the matrix
was run (:func:`without_timing` drops them); everything else is sorted and repeatable.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .cells import Cell
from .config import Config, Entry

SCHEMA = "adamproofs-ecosystem-matrix"
SCHEMA_VERSION = 1
JSON_NAME = "ecosystem-matrix.json"
MD_NAME = "ecosystem-matrix.md"

#: Cell statuses that mean the implementation was not run at all.
NOT_RUN = ("no adapter", "not installed")


def _one_line(text: Any) -> str:
    """``text`` on one line, without a traceback's frames (the JSON keeps them)."""
    head = str(text).split("Traceback (most recent call last)", 1)[0]
    return " ".join(head.split('  File "', 1)[0].split())


def _finding(cell: Cell, result: Mapping[str, Any]) -> str | None:
    what = f"{cell.dtype} · {cell.prop or 'variant'}"
    if cell.prop is not None and cell.seed:
        what += f" (seed {cell.seed})"
    if result.get("status") == "error":
        return f"{what}: error: {result.get('error')}"
    if result.get("status") != "checked":
        return None
    if cell.prop is None:
        if result.get("verdict") == "fail":
            return f"{what}: {result.get('note')}"
        return None
    if result.get("verdict") in ("fail", "error"):
        return f"{what}: {result.get('message') or result.get('note') or result.get('verdict')}"
    return None


def grouped_findings(findings: Sequence[str]) -> list[str]:
    """The page's findings: those with the same message in one line, where they occurred
    named compactly (``float32, float16 · agreement, step_bound; float64 · agreement:
    message``): the properties that failed in the same dtypes share one list."""
    places: dict[str, dict[str, list[str]]] = {}  # message -> property -> dtypes
    for finding in findings:
        where, sep, message = finding.partition(": ")
        dtype, dot, prop = where.partition(" · ")
        if not sep or not dot:  # not of the form "DTYPE · PROPERTY: message"
            places.setdefault(finding, {})
            continue
        dtypes = places.setdefault(message, {}).setdefault(prop, [])
        if dtype not in dtypes:
            dtypes.append(dtype)
    lines = []
    for message, by_prop in places.items():
        if not by_prop:
            lines.append(message)
            continue
        by_dtypes: dict[tuple[str, ...], list[str]] = {}
        for prop, dtypes in by_prop.items():
            by_dtypes.setdefault(tuple(dtypes), []).append(prop)
        where = "; ".join(f"{', '.join(d)} · {', '.join(p)}" for d, p in by_dtypes.items())
        lines.append(f"{where}: {message}")
    return lines


def _dtype_summary(
    entry: Entry, dtype: str, cells: Mapping[Cell, Mapping[str, Any]]
) -> dict[str, Any]:
    fp = cells.get(Cell(entry.id, dtype), {})
    failed = sorted(
        {
            c.prop
            for c, r in cells.items()
            if c.entry == entry.id
            and c.dtype == dtype
            and c.prop is not None
            and (r.get("status") == "error" or r.get("verdict") in ("fail", "error"))
        }
    )
    return {
        "status": fp.get("status"),
        "detected": fp.get("detected"),
        "axes": fp.get("axes"),
        "variant_verdict": fp.get("verdict"),
        "failed": failed,
    }


def _verdict(statuses: set[str], findings: list[str], failed_any: bool) -> str | None:
    if "checked" not in statuses:
        return None
    if failed_any:
        return "does not conform"
    return "error" if "error" in statuses else "conforms"


def _implementation(
    entry: Entry, dtypes: Sequence[str], cells: Mapping[Cell, Mapping[str, Any]]
) -> dict[str, Any]:
    own = {c: r for c, r in cells.items() if c.entry == entry.id}
    statuses = {str(r.get("status")) for r in own.values()}
    findings = [
        f
        for c, r in sorted(own.items(), key=lambda kv: kv[0].key)
        if (f := _finding(c, r)) is not None
    ]
    failed_any = any(
        r.get("status") == "checked" and r.get("verdict") in ("fail", "error") for r in own.values()
    )
    names = [r["implementation"] for r in own.values() if r.get("implementation")]
    errors = sorted({str(r["error"]) for r in own.values() if r.get("error")})
    if "checked" in statuses:
        status = "checked"
    elif statuses <= {"unsupported"} and statuses:
        status = "unsupported"
    else:
        status = next((s for s in (*NOT_RUN, "error") if s in statuses), "error")
    return {
        **entry.as_dict(),
        "implementation": names[0] if names else None,
        "status": status,
        "verdict": _verdict(statuses, findings, failed_any),
        "dtypes": {d: _dtype_summary(entry, d, own) for d in dtypes},
        "findings": findings,
        "error": errors[0] if status != "checked" and errors else None,
    }


def _versions(config: Config, cells: Mapping[Cell, Mapping[str, Any]]) -> dict[str, Any]:
    library_of = {e.id: e.library for e in config.entries}
    found: dict[str, dict[str, Any]] = {}
    for cell, result in sorted(cells.items(), key=lambda kv: kv[0].key):
        if result.get("versions"):
            found.setdefault(library_of[cell.entry], dict(result["versions"]))
    return found


def build_document(
    config: Config,
    entries: Sequence[Entry],
    results: Mapping[str, Mapping[str, Any]],
    cells: Sequence[Cell],
    *,
    command: str,
    run: Mapping[str, Any],
    install_errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON document (see the module docstring) from the cells' results."""
    from ... import __version__

    by_cell = {c: results[c.key] for c in cells}
    versions = _versions(config, by_cell)
    install_errors = dict(install_errors or {})
    library_of = {e.id: e.library for e in entries}
    for name in dict.fromkeys(library_of.values()):
        own = [r for c, r in by_cell.items() if library_of[c.entry] == name]
        if (
            name not in install_errors
            and own
            and all(r.get("status") == "not installed" for r in own)
        ):
            install_errors[name] = str(own[0].get("error"))
    libraries = {
        name: {
            "pip": list(config.libraries[name].pip),
            "versions": versions.get(name, {}),
            "status": "not installed" if name in install_errors else "ready",
            "error": install_errors.get(name),
        }
        for name in dict.fromkeys(library_of.values())
    }
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "adamproofs_version": __version__,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "config": config.source,
        "profile": config.profile,
        "seeds": list(config.seeds),
        "dtypes": list(config.dtypes),
        "properties": list(config.properties),
        "run": dict(run),
        "libraries": libraries,
        "implementations": [_implementation(e, config.entry_dtypes(e), by_cell) for e in entries],
        "cells": {c.key: dict(results[c.key]) for c in sorted(cells, key=lambda c: c.key)},
    }


#: Fields that must agree for two documents to be merged.
SAME_RUN = ("schema", "schema_version", "config", "profile", "seeds", "dtypes", "properties")


def merge_documents(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One document from runs of disjoint sets of implementations with the same settings
    (:data:`SAME_RUN`): implementations in the order given, the commands joined by ``&&``
    then the merge (each part's ``--out`` shown as PART1, PART2, ...),
    ``run`` the list of the parts' runs, the date the latest."""
    if not docs:
        raise ValueError("merge_documents: no documents")
    first = docs[0]
    for doc in docs[1:]:
        for key in SAME_RUN:
            if doc[key] != first[key]:
                raise ValueError(
                    f"merge_documents: {key} differs ({first[key]!r} and {doc[key]!r})"
                )
    ids = [i["id"] for d in docs for i in d["implementations"]]
    if len(set(ids)) != len(ids):
        raise ValueError(f"merge_documents: an implementation is in two documents: {ids}")
    cells = {k: v for d in docs for k, v in d["cells"].items()}
    return {
        **first,
        "date": max(d["date"] for d in docs),
        "command": " && ".join(
            [f"{d['command']} --out PART{k}" for k, d in enumerate(docs, 1)]
            + ["adamproofs matrix --merge " + " ".join(f"PART{k}" for k in range(1, len(docs) + 1))]
        ),
        "run": {"parts": [d["run"] for d in docs]},
        "libraries": {k: v for d in docs for k, v in d["libraries"].items()},
        "implementations": [i for d in docs for i in d["implementations"]],
        "cells": dict(sorted(cells.items())),
    }


def without_timing(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` less what depends on when and how it was run (date, run, cell seconds)."""
    out = {k: v for k, v in doc.items() if k not in ("date", "run")}
    out["cells"] = {
        k: {f: v for f, v in r.items() if f != "seconds"} for k, r in doc["cells"].items()
    }
    return out


# --- Markdown ---------------------------------------------------------------------------------


def md_text(text: Any) -> str:
    """Plain text inside a Markdown table cell or list item: no line breaks, no pipes, and
    brackets as entities (``params[0]`` must not read as a link)."""
    return (
        str(text).replace("\n", " ").replace("|", "\\|").replace("[", "&#91;").replace("]", "&#93;")
    )


def _dtype_cell(summary: Mapping[str, Any] | None) -> str:
    if summary is None or summary.get("status") is None:
        return "–"
    status = summary["status"]
    if status == "unsupported":
        return "unsupported"
    if status != "checked":
        return md_text(status)
    mark = "✓" if summary["variant_verdict"] == "pass" else "✗ variant"
    text = f"{summary['detected']} {mark}"
    if summary["failed"]:
        text += " ✗ " + ", ".join(summary["failed"])
    return md_text(text)


def _library_label(doc: Mapping[str, Any], name: str) -> str:
    versions = doc["libraries"].get(name, {}).get("versions") or {}
    shown = [f"{m} {v}" for m, v in versions.items() if v]
    return md_text(f"{name} ({', '.join(shown)})" if shown else name)


def to_markdown(doc: Mapping[str, Any]) -> str:
    """The page: one row per implementation (the variant detected in each dtype, the
    verdict), each finding in one line, the libraries' versions, the date and the command."""
    dtypes = doc["dtypes"]
    lines = [
        "# Ecosystem conformance matrix",
        "",
        f"Made on {doc['date'][:10]} by `{doc['command']}` (adamproofs {doc['adamproofs_version']},"
        f" profile `{doc['profile']}`, seed{'s' if len(doc['seeds']) > 1 else ''} "
        f"{', '.join(map(str, doc['seeds']))}, properties: {', '.join(doc['properties'])}).",
        "",
        "Each dtype column shows the variant detected in that dtype (✓: a known variant, and "
        "the claimed one where the entry claims one) and the properties that failed there.",
        "",
        "| implementation | library | target | claimed variant | "
        + " | ".join(dtypes)
        + " | verdict |",
        "|---|---|---|---|" + "---|" * len(dtypes) + "---|",
    ]
    for impl in doc["implementations"]:
        verdict = impl["verdict"] or impl["status"]
        cells = [_dtype_cell(impl["dtypes"].get(d)) for d in dtypes]
        lines.append(
            f"| {md_text(impl['id'])} | {_library_label(doc, impl['library'])} | "
            f"`{impl['target']}` | {md_text(impl['variant'] or '–')} | "
            + " | ".join(cells)
            + f" | **{md_text(verdict)}** |"
        )
    lines += ["", "## Findings", ""]
    any_finding = False
    for impl in doc["implementations"]:
        items = list(impl["findings"])
        if impl["status"] != "checked" and impl["error"]:
            items = [f"{impl['status']}: {impl['error']}"]
        if not items:
            continue
        any_finding = True
        lines += [f"**{md_text(impl['id'])}** ({md_text(impl['note'] or impl['target'])})", ""]
        lines += [f"- {md_text(item)}" for item in grouped_findings(list(map(_one_line, items)))]
        lines.append("")
    if not any_finding:
        lines += ["None.", ""]
    lines += ["## Libraries", "", "| library | pip | versions | status |", "|---|---|---|---|"]
    for name, lib in doc["libraries"].items():
        versions = ", ".join(f"{m} {v}" for m, v in lib["versions"].items() if v) or "–"
        status = lib["status"] + (f": {lib['error']}" if lib["error"] else "")
        pip = ", ".join(f"`{p}`" for p in lib["pip"]) or "(adamproofs only)"
        lines.append(f"| {md_text(name)} | {pip} | {md_text(versions)} | {md_text(status)} |")
    return "\n".join(lines).rstrip() + "\n"


# --- files ------------------------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename,
    so a reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a plain file is not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_document(doc: Mapping[str, Any], out: Path) -> tuple[Path, Path]:
    """``ecosystem-matrix.json`` and ``ecosystem-matrix.md`` in ``out``."""
    json_path, md_path = out / JSON_NAME, out / MD_NAME
    write_atomic(json_path, json.dumps(doc, indent=1, sort_keys=False) + "\n")
    write_atomic(md_path, to_markdown(doc))
    return json_path, md_path
