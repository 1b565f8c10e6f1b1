"""Cells, run in a process of the library's environment.

    python -m adamproofs.conformance.ecosystem.child < REQUESTS

Each line of standard input is one request, a JSON object: the cell, its implementation
entry, the profile, the library's modules and, for a property cell, the variant its
fingerprint cell judged by. The process answers each request, in order, with one line on
standard output: :data:`MARKER` and a JSON object. It ends when its input ends. Whatever
the libraries print goes to standard error (file descriptor 1 is pointed there), and they
read an empty standard input, so neither channel can be corrupted by a target. A result has
a ``status``: ``checked``, ``no adapter`` (this build lacks the adapter the entry needs),
``not installed`` (a library module is missing), ``unsupported`` (the implementation does not
run this dtype) or ``error``. Progress goes to stderr.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from importlib import metadata
from typing import IO, Any

#: What starts the stdout line that holds the result.
MARKER = "adamproofs-cell-result: "


def versions(modules: list[str]) -> dict[str, str | None]:
    """The distribution version of each module (None: not installed)."""
    out: dict[str, str | None] = {}
    for name in modules:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def adapter_available(name: str) -> bool:
    """Whether this build registers ``name`` as a built-in target or an adapter kind."""
    from .._targets import BUILTINS
    from ..adapters import ADAPTERS

    return name in BUILTINS or name in ADAPTERS


def _checker(request: dict[str, Any], dtype: str, seed: int) -> Any:
    from .._runner import Checker

    entry = request["entry"]
    return Checker(
        entry["target"],
        kind=entry["kind"],
        dtypes=[dtype],
        variant=entry["variant"],
        profile=request["profile"],
        seed=seed,
        options=dict(entry["options"]),
        isolation=None,  # this process is the isolation
    )


def _number(x: Any) -> Any:
    return None if isinstance(x, float) and x != x else x


def fingerprint_cell(request: dict[str, Any]) -> dict[str, Any]:
    """The variant detected in the cell's dtype and its verdict (``pass``/``fail``)."""
    from ..protocol import supports

    dtype = request["cell"]["dtype"]
    checker = _checker(request, dtype, 0)
    impl = checker.implementation()
    name = str(getattr(impl, "name", request["entry"]["target"]))
    if not supports(impl, dtype):
        return {"status": "unsupported", "implementation": name}
    result = checker.variant_result(dtype)
    fp = checker.fingerprint_in(dtype)
    return {
        "status": "checked",
        "implementation": name,
        "verdict": result.verdict,
        "note": result.note,
        "detected": fp.variant.describe(),
        "axes": fp.variant.as_dict(),
        "judged_by": checker.variant_in(dtype).as_dict(),
    }


def property_cell(request: dict[str, Any]) -> dict[str, Any]:
    """One property in the cell's dtype, judged by the fingerprint cell's variant; a failure
    is the first failing case hypothesis draws (unshrunk, so the same on any machine:
    ``adamproofs check`` shrinks it)."""
    from ...variants import Variant
    from .._runner import PROFILES, run_property
    from ..properties import PROPERTIES

    cell = request["cell"]
    checker = _checker(request, cell["dtype"], cell["seed"])
    examples, long_steps = PROFILES[checker.profile]
    result = run_property(
        PROPERTIES[cell["prop"]],
        checker.implementation(),
        Variant(**request["judged_by"]),
        cell["dtype"],
        examples=examples,
        long_steps=long_steps,
        seed=checker.seed,
        shrink=False,  # shrinking runs on a time budget, which would tie results to load
    )
    data = result.as_dict()
    finding = data.get("finding") or {}
    return {
        "status": "checked",
        "verdict": data["verdict"],
        "examples": data["examples"],
        "worst_ulps": _number(data["worst_ulps"]),
        "worst_error_over_bound": _number(data["worst_error_over_bound"]),
        "checked_steps": data["checked_steps"],
        "unchecked_steps": data["unchecked_steps"],
        "note": data["note"],
        "message": finding.get("message"),
    }


def run_request(request: dict[str, Any]) -> dict[str, Any]:
    """The cell's result (see the module docstring); never raises."""
    from ..protocol import TargetError, UsageError

    entry = request["entry"]
    result: dict[str, Any] = {"versions": versions(request["modules"])}
    missing = [m for m in request["modules"] if importlib.util.find_spec(m) is None]
    needed = request.get("adapter")
    if missing:
        return {**result, "status": "not installed", "error": f"missing: {', '.join(missing)}"}
    if needed and not adapter_available(needed):
        return {
            **result,
            "status": "no adapter",
            "error": f"this build of adamproofs has no {needed!r} adapter",
        }
    try:
        if request["cell"]["prop"] is None:
            result.update(fingerprint_cell(request))
        else:
            result.update(property_cell(request))
    except (TargetError, UsageError) as err:
        result.update(status="error", error=f"cannot load {entry['target']!r}: {err}")
    except Exception as err:  # the implementation's crash is the cell's finding
        result.update(status="error", error=f"{type(err).__name__}: {err}")
    return result


def _private_channels() -> tuple[IO[str], IO[str]]:
    """The request and result channels, moved off descriptors 0 and 1: those become
    ``/dev/null`` and standard error, for the libraries."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    results = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return requests, results


def main() -> int:
    requests, results = _private_channels()
    for line in requests:
        if not line.strip():
            continue
        result = run_request(json.loads(line))
        results.write(MARKER + json.dumps(result, default=str) + "\n")
        results.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
