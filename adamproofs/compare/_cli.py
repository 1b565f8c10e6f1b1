"""``adamproofs compare``: run the comparison problems and write figures, numbers and tables.

Output (stable names, for the docs site)::

    DIR/summary.md                  index of the problems run, with links
    DIR/manifest.json               mode, seeds, command, date, library versions, wall
                                    time, and every file written, per problem; ``runs``
                                    lists every command that wrote into DIR
    DIR/<problem>/summary.md        Markdown: description, findings, table, figures
    DIR/<problem>/results.json      all numbers and settings
    DIR/<problem>/results.csv       the summary table
    DIR/<problem>/<figure>.png/.svg figures (Agg backend)

``--quick`` is the small version for CI; ``--full`` (the default) is the version whose
results are committed in ``results/compare/``
(``adamproofs compare --full --jobs 2 --out results/compare``).

Running some problems into a directory that holds a run of the same mode, seeds and added
optimizers replaces those problems and keeps the others: the index lists them all, and the
manifest's ``runs`` records each command with the problems it wrote (the top-level command,
date and versions are the latest run's).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from .experiments import PROBLEMS

FIGURES: dict[str, tuple[str, ...]] = {
    "quadratic": ("trajectories", "loss"),
    "rosenbrock": ("trajectories", "loss"),
    "logistic": ("loss", "sweep"),
    "sparse": ("loss", "sweep"),
    "mlp": ("loss", "sweep"),
    "cnn": ("loss", "sweep"),
    "nonstationary": ("tracking",),
    "reddi": ("iterates",),
    "bias_correction": ("ablation", "early_steps"),
    "stepsize": ("stepsize",),
    "newton": ("newton",),
}

#: Libraries whose versions the manifest records (those installed).
LIBRARIES = ("numpy", "scipy", "scikit-learn", "joblib", "matplotlib", "torch")

#: Most points a sweep adds beyond an end of an optimizer's grid (full / quick).
MAX_WIDENINGS, QUICK_MAX_WIDENINGS = 3, 0


def expected_files(problem: str) -> list[str]:
    """The files ``compare`` writes for ``problem`` (relative to ``--out``) when it runs."""
    out = [f"{problem}/{name}" for name in ("summary.md", "results.json", "results.csv")]
    for stem in FIGURES[problem]:
        out += [f"{problem}/{stem}.png", f"{problem}/{stem}.svg"]
    return out


def _positive(name: str, low: int = 1):  # -> argparse type
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}={text!r} is not an integer") from None
        if value < low and not (name == "--jobs" and value == -1):
            allowed = (
                "a positive integer or -1 (all cores)"
                if name == "--jobs"
                else f"an integer >= {low}"
            )
            raise argparse.ArgumentTypeError(f"{name}={value} is not allowed; expected {allowed}")
        return value

    return parse


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare Adam with the optimizers it came from (figures, tables)",
        description="Run comparison problems and write PNG/SVG figures, JSON/CSV numbers and "
        "Markdown summaries. Problems: " + ", ".join(PROBLEMS) + ".",
    )
    parser.add_argument(
        "problems",
        nargs="*",
        metavar="PROBLEM",
        help="problems to run (default: all): "
        + ", ".join(PROBLEMS)
        + ". Into a directory holding a run of the same mode and seeds, the other "
        "problems stay and the manifest lists both runs",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument(
        "--seeds",
        type=_positive("--seeds", 2),
        default=5,
        help="seeds per setting, drawn as bands (default 5, at least 2)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        action="store_true",
        help="small models, short runs, three-point grids that are not widened "
        "(CI; a few minutes on 2 cores)",
    )
    mode.add_argument(
        "--full",
        action="store_true",
        help="the committed results (the default): five-point grids widened "
        f"up to {MAX_WIDENINGS} times per optimizer while the best rate "
        "sits at an end",
    )
    parser.add_argument(
        "--optimizer",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="add your optimizer to every learning-rate sweep: a class or "
        "factory taking (params, *, lr, beta1, beta2, eps, weight_decay) "
        "with step(grads) updating params in place (the plain protocol "
        "of `adamproofs check`), or anything else `adamproofs check` "
        "accepts; repeatable",
    )
    parser.add_argument(
        "--jobs",
        type=_positive("--jobs"),
        default=1,
        help="joblib workers for the optimizer × lr × seed grids (-1: all "
        "cores); results do not depend on it",
    )
    parser.set_defaults(func=run)


def versions() -> dict[str, str]:
    """Python and the installed libraries the comparisons use."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    try:
        out["adamproofs"] = metadata.version("adamproofs")
    except metadata.PackageNotFoundError:
        out["adamproofs"] = "source checkout"
    return out


def _plugins(targets: list[str]) -> tuple[str, ...] | str:
    """Roster keys of the users' optimizers, or an error message."""
    from ..conformance.protocol import TargetError
    from ._roster import plugin_key
    from ._runner import load_plugin

    keys = []
    for target in targets:
        try:
            keys.append(plugin_key(target))
            load_plugin(target)
        except (ValueError, TargetError) as err:
            return f"--optimizer {target!r}: {err}"
    return tuple(dict.fromkeys(keys))


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run (as typed, relative output path kept)."""
    parts = [
        "adamproofs",
        "compare",
        *args.problems,
        "--quick" if args.quick else "--full",
        "--seeds",
        str(args.seeds),
        "--jobs",
        str(args.jobs),
    ]
    for target in args.optimizer:
        parts += ["--optimizer", target]
    return " ".join([*parts, "--out", str(args.out)])


def earlier_manifest(
    out: Path, mode: str, seeds: int, optimizers: list[str]
) -> dict[str, Any] | None:
    """The manifest already in ``out`` if a run with the same mode, seeds and added optimizers
    wrote it (its problems that are not rerun stay, and are listed); otherwise None."""
    path = out / "manifest.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    same = (
        data.get("mode") == mode
        and data.get("seeds") == seeds
        and data.get("optimizers_added", []) == optimizers
        and isinstance(data.get("problems"), dict)
    )
    return data if same else None


def earlier_runs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs a manifest records (a manifest written by one run records it at the top)."""
    if "runs" in manifest:
        return list(manifest["runs"])
    keys = ("command", "date", "wall_seconds", "cpu_count", "jobs", "versions")
    return [
        {**{k: manifest[k] for k in keys if k in manifest}, "problems": list(manifest["problems"])}
    ]


def index_header(runs: list[dict[str, Any]], mode: str, seeds: int) -> str:
    """The first paragraph of ``summary.md``: every command that wrote the directory."""
    parts = []
    for k, r in enumerate(runs):
        which = (
            ""
            if k == 0 and len(r["problems"]) == len(PROBLEMS)
            else (f" ({', '.join(r['problems'])})")
        )
        parts.append(
            f"`{r['command']}`{which} on {r['date'][:10]} (wall time "
            f"{r['wall_seconds'] / 60:.1f} min on {r['cpu_count']} cores)"
        )
    last = runs[-1]["versions"]
    return (
        "Generated by "
        + ", then ".join(parts)
        + f"; {mode} mode, {seeds} seeds. Each optimizer runs through "
        "`adamproofs.fast.Optimizer` at its best learning rate from a sweep whose grid is "
        "widened while the best rate sits at an end; numbers are means over seeds with their "
        "standard deviation. Versions: " + ", ".join(f"{k} {v}" for k, v in last.items()) + "."
    )


def run(args: argparse.Namespace) -> int:
    from . import _report as report
    from .experiments import Context, module

    unknown = [p for p in args.problems if p not in PROBLEMS]
    if unknown:
        print(
            f"adamproofs compare: unknown problem(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(PROBLEMS)}",
            file=sys.stderr,
        )
        return 2
    plugins = _plugins(args.optimizer)
    if isinstance(plugins, str):
        print(f"adamproofs compare: {plugins}", file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.problems)) or list(PROBLEMS)
    ctx = Context(
        out=args.out,
        seeds=args.seeds,
        quick=args.quick,
        jobs=args.jobs,
        plugins=plugins,
        max_widenings=QUICK_MAX_WIDENINGS if args.quick else MAX_WIDENINGS,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    reports = []
    files: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    start = time.monotonic()
    for i, name in enumerate(names, 1):
        t0 = time.monotonic()
        print(f"[{i}/{len(names)}] {name} ...", file=sys.stderr, flush=True)
        rep = module(name).run(ctx)
        written = report.write(rep, args.out)
        figs = [f"{name}/{stem}.{ext}" for stem, _ in rep.figures for ext in ("png", "svg")]
        files[name] = [str(p.relative_to(args.out)) for p in written] + figs
        reports.append(rep)
        seconds[name] = round(time.monotonic() - t0, 1)
        note = f" (skipped: {rep.skipped})" if rep.skipped else ""
        print(
            f"[{i}/{len(names)}] {name} done in {seconds[name]:.1f} s{note}",
            file=sys.stderr,
            flush=True,
        )
    wall = time.monotonic() - start
    mode = "quick" if args.quick else "full"
    when = datetime.datetime.now(datetime.timezone.utc)
    this_run = {
        "command": command_line(args),
        "date": when.isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 1),
        "cpu_count": os.cpu_count(),
        "jobs": args.jobs,
        "versions": versions(),
        "problems": names,
    }
    earlier = earlier_manifest(args.out, mode, args.seeds, list(args.optimizer)) or {}
    kept = [p for p in earlier.get("problems", {}) if p in PROBLEMS and p not in names]
    runs = [*(earlier_runs(earlier) if kept else []), this_run]
    reports += [report.read_results(args.out, p) for p in kept]
    order = [p for p in PROBLEMS if p in names or p in kept]
    reports.sort(key=lambda r: order.index(r.name))
    report.write_index(reports, args.out, index_header(runs, mode, args.seeds))
    seconds_all = {**earlier.get("seconds_per_problem", {}), **seconds}
    files_all = {**earlier.get("problems", {}), **files}
    manifest = {
        "mode": mode,
        "seeds": args.seeds,
        **{k: v for k, v in this_run.items() if k != "problems"},
        "runs": runs,
        "seconds_per_problem": {p: seconds_all[p] for p in order if p in seconds_all},
        "optimizers_added": list(args.optimizer),
        "skipped": {r.name: r.skipped for r in reports if r.skipped},
        "problems": {p: files_all[p] for p in order},
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(names)} problem(s) to {args.out} in {wall:.1f} s", file=sys.stderr)
    return 0
