"""Generators that pull content from the rest of the project into the pages.

Each ``gen:`` directive below renders from the code at build time. Output that was not produced
(the comparison experiments failed, no conformance matrix or benchmark results on disk) renders
as a visible "not generated" note naming the command that produces it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import posixpath
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from adamproofs.derivations import DERIVATIONS, derive
from adamproofs.derivations._render import escape_markdown, prose_markdown, render_checked_steps

from . import algorithm, defects  # noqa: F401  (defects registers its generators)
from .directives import Context, generator
from .markdown import indent, not_generated, table

log = logging.getLogger("mkdocs.plugins.adamproofs")


# --- the annotated algorithm ------------------------------------------------------------------


@generator("algorithm")
def _algorithm(ctx: Context) -> str:
    return algorithm.render_table(algorithm.ALGORITHM_1)


@generator("algorithm-variants")
def _algorithm_variants(ctx: Context) -> str:
    return algorithm.render_table(algorithm.VARIANTS)


@generator("algorithm-source")
def _algorithm_source(ctx: Context) -> str:
    return algorithm.render_source()


# --- derivations ------------------------------------------------------------------------------


@cache
def _checked_steps(name: str, summary: bool) -> str:
    built = derive(name)
    if not built.verified:  # shown open with its ✘ badges, and fails a --strict build
        log.warning(
            "derivation %r has unverified steps: %s",
            name,
            "; ".join(step.text for step in built.failures()),
        )
    return render_checked_steps(built, summary=summary)


def _known(ctx: Context, name: str) -> str:
    if name not in DERIVATIONS:
        raise KeyError(
            f"{ctx.page}: no derivation named {name!r}; registered: {', '.join(DERIVATIONS)}"
        )
    return name


@generator("derivation")
def derivation(ctx: Context, *names: str) -> str:
    """Each named derivation as one collapsible block of checked steps (the page's prose
    tells the argument; the block holds the derivation's summary, steps and verdicts)."""
    return "\n\n".join(_checked_steps(_known(ctx, name), True) for name in names)


@generator("derivations-all")
def derivations_all(ctx: Context) -> str:
    """Every registered derivation, in registry order: a heading (a link target), its
    summary, then its collapsible block of checked steps."""
    parts = []
    for name in DERIVATIONS:
        built = derive(name)
        heading = f"## {escape_markdown(built.title)} {{ #{name} }}"
        parts.append(
            f"{heading}\n\n{prose_markdown(built.summary)}\n\n" + _checked_steps(name, False)
        )
    return "\n\n".join(parts)


def _demote_headings(md: str, levels: int = 1) -> str:
    """Push Markdown ATX headings down so generated Markdown nests under the page's headings."""
    out, fence = [], False
    for line in md.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        if not fence and re.match(r"#{1,5} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


# --- executed examples ------------------------------------------------------------------------


@cache
def _run_example(path: Path, root: Path) -> str:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    proc = subprocess.run(
        [sys.executable, str(path)], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"docs example {path} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


@generator("example")
def example(ctx: Context, relpath: str) -> str:
    """Show ``docs/examples/FILE`` and the output it printed when the build ran it."""
    path = ctx.root / "docs" / "examples" / relpath
    if not path.is_file():
        raise FileNotFoundError(f"{ctx.page}: example {path} does not exist")
    log.info("running docs example %s", relpath)
    output = _run_example(path, ctx.root).rstrip() or "(no output)"
    code = path.read_text().rstrip()
    return (
        f'```python title="{relpath}"\n{code}\n```\n\n'
        f"Output (produced when this page was built):\n\n```text\n{output}\n```\n"
    )


@generator("cli-help")
def cli_help(ctx: Context, *command: str) -> str:
    """The ``--help`` text of an ``adamproofs`` sub-command, from its argparse definition."""
    from adamproofs.cli import build_parser

    parser = build_parser()
    if not command:
        return f"```text\n{parser.format_help().rstrip()}\n```\n"
    subparsers = next(
        (a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None
    )
    sub = subparsers.choices.get(command[0]) if subparsers else None
    if sub is None:
        return not_generated(
            f"The help of `adamproofs {' '.join(command)}`",
            "that sub-command is not available in this build.",
        )
    return f"```text\n{sub.format_help().rstrip()}\n```\n"


# --- comparisons ------------------------------------------------------------------------------

COMPARE_PREFIX = "generated/compare"
#: The committed full run (``adamproofs compare --full --jobs 2 --out results/compare``).
COMMITTED_COMPARE = Path("results", "compare")


def committed_compare(root: Path) -> Path | None:
    """``results/compare`` when it holds a run (its ``summary.md``)."""
    path = root / COMMITTED_COMPARE
    return path if (path / "summary.md").is_file() else None


_COMPARE_RUNS: dict[Path, tuple[subprocess.Popen, Path, Path]] = {}
_COMPARE_FAILURES: dict[Path, str] = {}


def start_compare(root: Path) -> None:
    """Start ``adamproofs compare --quick`` in the background (the build goes on meanwhile)."""
    if (
        os.environ.get("ADAMPROOFS_COMPARE_DIR")
        or root in _COMPARE_RUNS
        or committed_compare(root) is not None
    ):
        return
    out = cache_dir(root) / "compare"
    log_path = cache_dir(root) / "compare.log"
    log.info("started `adamproofs compare --quick --out %s` (log: %s)", out, log_path)
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "adamproofs", "compare", "--quick", "--out", str(out)],
            cwd=root,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    _COMPARE_RUNS[root] = (proc, out, log_path)


@cache
def compare_outputs(root: Path) -> Path | None:
    """The output directory of ``adamproofs compare --quick`` (run once per build process).

    ``ADAMPROOFS_COMPARE_DIR`` names an existing output directory to use instead; without
    it the committed full run (:data:`COMMITTED_COMPARE`) is used when present.
    """
    given = os.environ.get("ADAMPROOFS_COMPARE_DIR")
    if given:
        return Path(given) if Path(given, "summary.md").is_file() else None
    if committed_compare(root) is not None:
        return committed_compare(root)
    start_compare(root)
    if root not in _COMPARE_RUNS:
        return None
    proc, out, log_path = _COMPARE_RUNS[root]
    status = proc.wait(timeout=900)
    if status != 0 or not (out / "summary.md").is_file():
        tail = log_path.read_text()[-2000:]
        _COMPARE_FAILURES[root] = (
            f"it exited with status {status}; the end of its log:\n\n"
            + indent("```text\n" + tail.strip() + "\n```")
        )
        log.warning("`adamproofs compare --quick` failed (exit %s): %s", status, tail)
        return None
    return out


def cache_dir(root: Path) -> Path:
    """Where the build keeps what it runs (``ADAMPROOFS_DOCS_CACHE``, else artifacts/docs-cache)."""
    path = Path(os.environ.get("ADAMPROOFS_DOCS_CACHE", root / "artifacts" / "docs-cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _strip_title(md: str) -> str:
    """Drop a leading ``# Title`` line (the page has its own title)."""
    lines = md.lstrip().splitlines()
    return "\n".join(lines[1:]) if lines and lines[0].startswith("# ") else md


def _rewrite_links(
    md: str, ctx: Context, prefix: str, base: str = "", anchors: dict[str, str] | None = None
) -> str:
    """Point relative links/images of generated Markdown at their generated copies.

    A link to another generated Markdown file becomes a link to its section of this page
    (``anchors``: file -> section id) or, if it has none, plain text.
    """
    anchors = anchors or {}

    def fix(match: re.Match[str]) -> str:
        label, target = match.group(1), match.group(2)
        if re.match(r"^[a-z]+:|^#|^/", target):
            return match.group(0)
        if target.split("#")[0].endswith(".md"):
            section = anchors.get(posixpath.normpath(base + target.split("#")[0]))
            if section:
                return f"{label}(#{section})"
            return label[1:-1] if label.startswith("[") else label
        return f"{label}({ctx.link(f'{prefix}/{base}{target}')})"

    return re.sub(r"(!?\[[^\]]*\])\(([^)\s]+)\)", fix, md)


def _with_id(heading: str, name: str) -> str:
    """A heading with an explicit ``compare-NAME`` id (braces in its text as entities, so that
    attr_list reads only the id)."""
    text = heading.replace("{", "&#123;").replace("}", "&#125;")
    return f"{text} {{ #compare-{name} }}"


@generator("compare")
def compare(ctx: Context) -> str:
    """The comparison experiments: the index, then each problem's summary, tables, figures."""
    out = compare_outputs(ctx.root)
    if out is None:
        why = _COMPARE_FAILURES.get(ctx.root, "`adamproofs compare` is not available.")
        return not_generated(
            "The comparison results", why, "`adamproofs compare --quick --out DIR`"
        )
    index = (out / "summary.md").read_text()
    problems = [p for p in sorted(out.iterdir()) if (p / "summary.md").is_file()]
    order = {name: index.find(f"{name}/summary.md") for name in (p.name for p in problems)}
    problems.sort(key=lambda p: (order[p.name] < 0, order[p.name], p.name))
    anchors = {f"{p.name}/summary.md": f"compare-{p.name}" for p in problems}
    parts = [
        _rewrite_links(_demote_headings(_strip_title(index)), ctx, COMPARE_PREFIX, anchors=anchors)
    ]
    for problem in problems:
        md = _demote_headings((problem / "summary.md").read_text())
        # an explicit id on the section's first heading, the target of the index's links
        heading = re.search(r"^(#{2,6} .*)$", md, flags=re.MULTILINE)
        if heading:
            md = (
                md[: heading.start()]
                + _with_id(heading.group(1), problem.name)
                + md[heading.end() :]
            )
        parts.append(
            _rewrite_links(md, ctx, COMPARE_PREFIX, base=f"{problem.name}/", anchors=anchors)
        )
    return "\n\n".join(parts)


# --- conformance matrix -----------------------------------------------------------------------

MATRIX_PREFIX = "generated/matrix"


@cache
def matrix_outputs(root: Path) -> Path | None:
    """The matrix directory: ``ADAMPROOFS_MATRIX_DIR``, else ``build/conformance`` (where
    ``.ci/matrix.sh`` writes it), else ``artifacts/matrix``."""
    for candidate in (
        os.environ.get("ADAMPROOFS_MATRIX_DIR"),
        root / "build" / "conformance",
        root / "artifacts" / "matrix",
    ):
        if candidate and Path(candidate, "conformance-matrix.json").is_file():
            return Path(candidate)
    return None


@generator("matrix")
def matrix(ctx: Context) -> str:
    """The conformance matrix of the installed frameworks, from the check's JSON reports."""
    out = matrix_outputs(ctx.root)
    if out is None:
        return not_generated(
            "The conformance matrix",
            "no `conformance-matrix.json` was found.",
            "`.ci/matrix.sh` (writes `build/conformance/`), then rebuild "
            "(or point `ADAMPROOFS_MATRIX_DIR` at an existing output directory).",
        )
    md_file = out / "conformance-matrix.md"
    reports = sorted((out / "reports").glob("*.json"))
    links = ", ".join(
        f"[{p.stem}]({ctx.link(f'{MATRIX_PREFIX}/reports/{p.name}')})" for p in reports
    )
    tail = f"\n\nThe full JSON report of each row: {links}.\n" if links else ""
    if md_file.is_file():
        md = _strip_title(md_file.read_text())
        return _rewrite_links(md, ctx, MATRIX_PREFIX) + tail
    data = json.loads((out / "conformance-matrix.json").read_text())
    return "```json\n" + json.dumps(data, indent=2)[:20000] + "\n```\n"


# --- the ecosystem matrix (committed results of a full run) -----------------------------------

ECOSYSTEM_RESULTS = Path("results") / "ecosystem"


def _demote_headings(md: str) -> str:
    """Every Markdown heading one level down (the page's section holds the document)."""
    return re.sub(r"^(#{1,5}) ", r"#\1 ", md, flags=re.MULTILINE)


@generator("ecosystem-matrix")
def ecosystem_matrix(ctx: Context) -> str:
    """The ecosystem matrix from the committed ``results/ecosystem/ecosystem-matrix.md``."""
    md_file = ctx.root / ECOSYSTEM_RESULTS / "ecosystem-matrix.md"
    if not md_file.is_file():
        return not_generated(
            "The ecosystem matrix",
            f"`{(ECOSYSTEM_RESULTS / 'ecosystem-matrix.md').as_posix()}` is not in the tree.",
            f"`adamproofs matrix --out {ECOSYSTEM_RESULTS.as_posix()}`, then rebuild.",
        )
    return _demote_headings(_strip_title(md_file.read_text()))


# --- performance ------------------------------------------------------------------------------

BENCHMARKS_PREFIX = "generated/benchmarks"
IMAGE_SUFFIXES = (".svg", ".png")


def benchmark_outputs(root: Path) -> Path | None:
    """``benchmarks/results`` if it holds results."""
    path = root / "benchmarks" / "results"
    return path if path.is_dir() and any(path.glob("*.json")) else None


@generator("benchmarks")
def benchmarks(ctx: Context) -> str:
    """The committed benchmark results (``benchmarks/results/*.json`` and their figures)."""
    out = benchmark_outputs(ctx.root)
    if out is None:
        return not_generated(
            "The benchmark results",
            "`benchmarks/results/` holds no JSON results yet.",
            "`python -m benchmarks.run`.",
        )
    results = sorted(out.glob("*.json"))
    parts = []
    images = sorted(p for p in out.rglob("*") if p.suffix in IMAGE_SUFFIXES)
    # one picture per figure: prefer SVG when both formats were written
    stems = {p.with_suffix("") for p in images if p.suffix == ".svg"}
    for image in images:
        if image.suffix == ".png" and image.with_suffix("") in stems:
            continue
        rel = image.relative_to(out).as_posix()
        parts.append(f"![{image.stem}]({ctx.link(f'{BENCHMARKS_PREFIX}/{rel}')}){{ .figure }}")
    for path in results:
        data = json.loads(path.read_text())
        parts.append(f"### `{path.name}`\n\n" + _render_benchmark(data))
    return "\n\n".join(parts)


#: Known tables of ``benchmarks/results/*.json`` (schema 2), in reading order, with titles.
BENCHMARK_TABLES = {
    "goals": "Goals, judged on this run: medians, with the 95% bootstrap interval of each ratio",
    "adam_ratios": "Ratios (same run, medians; `*_vs_probe` = probe time / contender time, "
    "the others contender / peer; `_lo`/`_hi` the 95% interval, `_cpu` the "
    "calling thread's CPU time)",
    "adam_step": "One Adam step: median time per contender",
    "many_arrays": "Many small arrays (float32), median ms per step",
    "memory": "Peak extra memory of one step (resident-set high-water mark and tracemalloc)",
    "oracle": "The oracle: scalar Adam updates per second (plain mpmath against MPFR)",
    "check_share": "The oracle's share of `adamproofs check` time",
    "check_cost": "What a check costs: wall time, and the shares of the oracle and the "
    "enclosure (`python -m benchmarks.check_cost`)",
}


def _condense_intervals(records: list[dict]) -> list[dict]:
    """``x``, ``x_lo``, ``x_hi`` in one cell ``x [lo, hi]``; ``x_best``, ``x_cpu`` left to
    the JSON (the page would otherwise be five columns per ratio wide)."""
    out = []
    for r in records:
        row = {}
        for k, v in r.items():
            if k.endswith(("_lo", "_hi", "_best", "_cpu")) and k.rsplit("_", 1)[0] in r:
                continue
            if f"{k}_lo" in r and f"{k}_hi" in r:
                v = f"{_fmt(v)} [{_fmt(r[k + '_lo'])}, {_fmt(r[k + '_hi'])}]"
            row[k] = v
        out.append(row)
    return out


def _render_benchmark(data: Any) -> str:
    """The run's description, then a table per list of flat records (known ones first)."""
    if isinstance(data, dict):
        tables = {
            k: v
            for k, v in data.items()
            if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)
        }
        scalars = [(k, v) for k, v in data.items() if not isinstance(v, (list, dict))]
        md = "".join(f"- **{k}**: {_fmt(v)}\n" for k, v in scalars)
        keys = [k for k in BENCHMARK_TABLES if k in tables]
        keys += [k for k in tables if k not in BENCHMARK_TABLES]
        for key in keys:
            records = _condense_intervals(tables[key])
            headers = list(dict.fromkeys(h for r in records for h in r))
            md += f"\n**{BENCHMARK_TABLES.get(key, key)}**\n\n" + table(
                headers, [[_fmt(r.get(h, "")) for h in headers] for r in records]
            )
        return md or "```json\n" + json.dumps(data, indent=2)[:20000] + "\n```\n"
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        headers = list(dict.fromkeys(h for r in data for h in r))
        return table(headers, [[_fmt(r.get(h, "")) for h in headers] for r in data])
    return "```json\n" + json.dumps(data, indent=2)[:20000] + "\n```\n"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)[:80]
    return str(value)


def generated_tree(prefix: str, directory: Path | None) -> dict[str, Path]:
    """Every file under ``directory`` (figures, CSV, JSON), keyed by its site path."""
    if directory is None:
        return {}
    return {
        f"{prefix}/{p.relative_to(directory).as_posix()}": p
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.suffix != ".md"
    }


#: TeX in figure captions, spelled out for the image's alt text.
_ALT_TEX = {
    r"\alpha": "α",
    r"\beta": "β",
    r"\epsilon": "ε",
    r"\Delta": "Δ",
    r"\rho": "ρ",
    r"\infty": "∞",
    r"\sqrt": "√",
    r"\leq": "≤",
    r"\,": " ",
}


def plain_caption(caption: str) -> str:
    """A caption with ``$...$`` math as plain text (``$\\beta_2^p$`` -> ``β2p``), for alt text."""

    def plain(match: re.Match[str]) -> str:
        tex = match.group(1)
        for command, text in _ALT_TEX.items():
            tex = tex.replace(command, text)
        return re.sub(r"[\\{}_^]", "", tex)

    return re.sub(r"\$([^$]*)\$", plain, caption)


@generator("figure")
def figure(ctx: Context, name: str, caption: str = "") -> str:
    """An image of a build-time figure (:mod:`.figures`), with its caption (Markdown, math
    allowed) below it."""
    from .figures import FIGURES, PREFIX

    if name not in FIGURES:
        raise KeyError(f"{ctx.page}: no figure named {name!r}; known: {sorted(FIGURES)}")
    alt = plain_caption(caption).replace("[", "(").replace("]", ")") or name
    out = f"![{alt}]({ctx.link(f'{PREFIX}/{name}.svg')}){{ .figure }}\n"
    if caption:
        out += f"\n*{caption}*\n"
    return out


@cache
def _run_command(argv: tuple[str, ...], root: Path) -> tuple[int, str]:
    env = dict(
        os.environ,
        PYTHONWARNINGS="ignore",
        PYTHONPATH=os.pathsep.join(
            [
                str(root / "docs" / "examples"),
                str(root),
                *filter(None, [os.environ.get("PYTHONPATH")]),
            ]
        ),
    )
    proc = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=root,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=600,
    )
    return proc.returncode, proc.stdout


@generator("command")
def command(ctx: Context, line: str, expect: str = "0") -> str:
    """Run ``python -m LINE`` (``docs/examples`` on the path) and show what it printed.

    ``expect`` is the exit status the page relies on; any other status fails the build.
    """
    argv = tuple(line.split())
    log.info("running `%s` for %s", line, ctx.page)
    status, output = _run_command(argv, ctx.root)
    if str(status) != expect:
        raise RuntimeError(
            f"{ctx.page}: `{line}` exited {status}, the page expects {expect}:\n{output[-3000:]}"
        )
    return (
        f"```console\n$ PYTHONPATH=docs/examples {line}\n{output.rstrip()}\n"
        f"$ echo $?\n{status}\n```\n"
    )
