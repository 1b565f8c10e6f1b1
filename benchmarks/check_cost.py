"""``python -m benchmarks.check_cost``: what ``adamproofs check`` costs, and where the time goes.

For each target (the NumPy reference, ``torch``), profile (``default``, ``thorough``) and
isolation (``in-process``: the target runs in the checker's process; ``isolated``: in a
worker process, the default of the command line), one check is timed end to end
(:class:`adamproofs.conformance.Checker`, settings as ``adamproofs check`` uses them), with
timers around the two exact parts of the judgement:

- the **oracle**: the MPFR replay of every step from the implementation's θ
  (:func:`adamproofs.conformance._replay._replay`) and the direct oracle runs of some
  properties (:func:`adamproofs.reference.run`);
- the **enclosure**: :class:`adamproofs.tolerance._enclosure.Enclosure`, built and read
  for the steps the first-order bound does not grant.

Timers, not a profiler: a profiler slows pure-Python code (the oracle, the enclosure) far
more than the target's compiled step, so its shares overstate both. The timers count a
call once (nested calls inside the same part are not added again) and run in the
checker's process, where the judgement happens in both isolation modes. The rest of the
time is the target's steps, the worker round trips, drawing the examples, the first-order
bounds and the report.

A warm-up check per target (``quick`` profile, not recorded) loads the libraries first.
Writes ``benchmarks/results/check-cost.json`` (``--out``): the run's description, and
``check_cost``, one record per check with ``wall_s``, ``oracle_s``, ``enclosure_s`` and
their shares, ``rows`` and ``conforms``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ("numpy", "torch")
PROFILES = ("default", "thorough")
MODES = ("in-process", "isolated")
#: The share of a check that the oracle and the enclosure together should stay under.
GOAL_SHARE = 0.20


@dataclass
class _Timer:
    """Seconds spent inside one part (outermost calls only)."""

    seconds: float = 0.0
    depth: int = 0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self.depth:
                return function(*args, **kwargs)
            self.depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.depth -= 1

        return timed


@contextlib.contextmanager
def timed_parts() -> Iterator[dict[str, _Timer]]:
    """Timers around the oracle and the enclosure while the block runs."""
    from adamproofs import reference
    from adamproofs.conformance import _replay as replay
    from adamproofs.tolerance._enclosure import Enclosure

    timers = {"oracle": _Timer(), "enclosure": _Timer()}
    targets = [
        (replay, "_replay", "oracle"),
        (reference, "run", "oracle"),
        (Enclosure, "__init__", "enclosure"),
        (Enclosure, "at", "enclosure"),
        (Enclosure, "scalars_at", "enclosure"),
    ]
    with contextlib.ExitStack() as stack:
        for owner, name, part in targets:
            original = getattr(owner, name)
            stack.enter_context(mock.patch.object(owner, name, timers[part].wrap(original)))
        yield timers


def measure(target: str, profile: str, mode: str) -> dict[str, Any]:
    """One ``adamproofs check TARGET --profile PROFILE`` (``--in-process`` for in-process),
    timed end to end, with the oracle's and the enclosure's seconds."""
    from adamproofs.conformance._isolation import DEFAULT_ISOLATION
    from adamproofs.conformance._runner import Checker

    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not one of {', '.join(MODES)}")
    isolation = None if mode == "in-process" else DEFAULT_ISOLATION
    with timed_parts() as timers:
        start = time.perf_counter()
        checker = Checker(target, profile=profile, isolation=isolation)
        report = checker.run(None)
        wall = time.perf_counter() - start
    oracle, enclosure = timers["oracle"].seconds, timers["enclosure"].seconds
    data = report.as_dict()
    return {
        "target": target,
        "profile": profile,
        "mode": mode,
        "wall_s": round(wall, 2),
        "oracle_s": round(oracle, 2),
        "enclosure_s": round(enclosure, 2),
        "oracle_share": oracle / wall,
        "enclosure_share": enclosure / wall,
        "oracle_and_enclosure_share": (oracle + enclosure) / wall,
        "rows": len(data["results"]),
        "conforms": bool(data["conforms"]),
    }


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for module in ("numpy", "torch", "mpmath", "gmpy2"):
        try:
            out[module] = __import__(module).__version__
        except ImportError:
            out[module] = "not installed"
    return out


def parse_list(text: str, allowed: tuple[str, ...], option: str) -> list[str]:
    """A non-empty comma-separated ``option`` value, every item one of ``allowed``."""
    values = [v for v in text.split(",") if v]
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise SystemExit(
            f"{option}={text!r}: expected a comma-separated list of {', '.join(allowed)}"
        )
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.check_cost", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--targets", default=",".join(TARGETS), help="numpy, torch")
    parser.add_argument("--profiles", default=",".join(PROFILES), help="quick, default, thorough")
    parser.add_argument("--modes", default=",".join(MODES), help="in-process, isolated")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "check-cost.json", help="the JSON written"
    )
    args = parser.parse_args(argv)
    targets = parse_list(args.targets, TARGETS, "--targets")
    profiles = parse_list(args.profiles, ("quick", *PROFILES), "--profiles")
    modes = parse_list(args.modes, MODES, "--modes")
    started = _dt.datetime.now(_dt.timezone.utc)
    result: dict[str, Any] = {
        "schema": 1,
        "command": " ".join(["python -m benchmarks.check_cost", *(argv or sys.argv[1:])]),
        "date": started.isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": _versions(),
        "goal": f"oracle + enclosure < {GOAL_SHARE:.0%} of every check",
        "check_cost": [],
    }
    rows: list[dict[str, Any]] = result["check_cost"]
    for target in targets:
        print(f"warm-up: {target} --profile quick (not recorded)", file=sys.stderr, flush=True)
        measure(target, "quick", "in-process")
    for profile in profiles:  # every target at one profile before the next, longer profile
        for target in targets:
            for mode in modes:
                row = measure(target, profile, mode)
                rows.append(row)
                print(
                    f"{target:6} {profile:9} {mode:11} {row['wall_s']:7.1f} s   oracle "
                    f"{row['oracle_share']:6.1%}  enclosure {row['enclosure_share']:6.1%}  "
                    f"together {row['oracle_and_enclosure_share']:6.1%}",
                    file=sys.stderr,
                    flush=True,
                )
                _write(result, args.out)  # what was measured so far survives an interruption
    print(
        f"largest oracle + enclosure share {result['largest_share']:.1%} (goal < "
        f"{GOAL_SHARE:.0%}); wrote {args.out}",
        file=sys.stderr,
    )
    return 0


def _write(result: dict[str, Any], out: Path) -> None:
    """Write ``result`` with the load average now and the goal judged on its rows."""
    worst = max(r["oracle_and_enclosure_share"] for r in result["check_cost"])
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["largest_share"] = worst
    result["goal_met"] = "yes" if worst < GOAL_SHARE else "NO"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
