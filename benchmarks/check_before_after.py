"""``python -m benchmarks.check_before_after``: this checkout's ``adamproofs check`` against an
earlier revision's, timed side by side on one machine.

The earlier revision is checked out into a temporary ``git worktree`` (removed afterwards)
and both run as ``python -m adamproofs check TARGET --profile PROFILE --quiet``, each with
its own source tree on ``PYTHONPATH`` and the same interpreter and packages, so the only
difference is the code. Runs alternate (base, head, base, head, ...) so that a drift in the
machine's load falls on both sides alike; each run records the load average before it. The
figure of merit is the ratio of medians, head over base, per target and profile.

That is the command a user types, with each revision's own defaults (dtypes, isolation),
so the ratio is what an upgrade costs a user. It is not a like-for-like count of work: a
revision that checks more dtypes or steps pays for them here.

Writes ``benchmarks/results/check-before-after.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.check_cost import parse_list

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ("numpy", "torch")
PROFILES = ("quick", "default", "thorough")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def time_check(tree: Path, target: str, profile: str, timeout: float) -> dict[str, Any]:
    """One ``adamproofs check`` run from the source tree ``tree``: wall seconds and exit."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-m", "adamproofs", "check", target, "--profile", profile, "--quiet"]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    wall = time.perf_counter() - start
    return {"wall_s": round(wall, 2), "exit": proc.returncode, "load_before": round(load, 2)}


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians of each side and their ratio (head / base)."""
    base = statistics.median(r["wall_s"] for r in runs["base"])
    head = statistics.median(r["wall_s"] for r in runs["head"])
    return {"base_median_s": base, "head_median_s": head, "ratio": round(head / base, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.check_before_after", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--base", required=True, help="the earlier revision (any git rev)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="numpy, torch")
    parser.add_argument("--profiles", default="default", help="quick, default, thorough")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (default 3)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "check-before-after.json", help="the JSON written"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        raise SystemExit(f"--repeats={args.repeats}: expected a positive number of runs")
    targets = parse_list(args.targets, TARGETS, "--targets")
    profiles = parse_list(args.profiles, PROFILES, "--profiles")
    base_rev = _git("rev-parse", "--verify", f"{args.base}^{{commit}}")
    head_rev = _git("rev-parse", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    result: dict[str, Any] = {
        "schema": 1,
        "command": " ".join(["python -m benchmarks.check_before_after", *(argv or sys.argv[1:])]),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "base": base_rev,
        "head": head_rev + (" (with uncommitted changes)" if dirty else ""),
        "comparisons": [],
    }
    with tempfile.TemporaryDirectory(prefix="adamproofs-base-") as tmp:
        base_tree = Path(tmp) / "tree"
        _git("worktree", "add", "--detach", str(base_tree), base_rev)
        try:
            trees = {"base": base_tree, "head": ROOT}
            for profile in profiles:
                for target in targets:
                    for tree in trees.values():  # warm-up: file caches, .pyc files
                        time_check(tree, target, "quick", args.timeout)
                    runs: dict[str, list[dict[str, Any]]] = {"base": [], "head": []}
                    for k in range(args.repeats):
                        for side, tree in trees.items():
                            run = time_check(tree, target, profile, args.timeout)
                            runs[side].append(run)
                            print(
                                f"{target:6} {profile:9} {side} #{k + 1}: {run['wall_s']:7.1f} s"
                                f"  exit {run['exit']}  load {run['load_before']:.2f}",
                                file=sys.stderr,
                                flush=True,
                            )
                    row = {"target": target, "profile": profile, "runs": runs, **summarize(runs)}
                    result["comparisons"].append(row)
                    print(
                        f"{target:6} {profile:9} base {row['base_median_s']:.1f} s, head "
                        f"{row['head_median_s']:.1f} s: {row['ratio']:.2f}x",
                        file=sys.stderr,
                        flush=True,
                    )
                    _write(result, args.out)
        finally:
            _git("worktree", "remove", "--force", str(base_tree))
    return 0


def _write(result: dict[str, Any], out: Path) -> None:
    """Write ``result`` atomically (what was measured so far survives an interruption)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)


if __name__ == "__main__":
    raise SystemExit(main())
