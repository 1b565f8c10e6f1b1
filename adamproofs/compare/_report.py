"""What a problem hands back, and how it is written: JSON, CSV, Markdown.

Layout under ``--out DIR`` (names are stable so the docs can embed them)::

    DIR/summary.md                       index: one line per problem, links
    DIR/<problem>/summary.md             title, what it shows, table, figures
    DIR/<problem>/results.json           every number (and the settings used)
    DIR/<problem>/results.csv            the summary table
    DIR/<problem>/<figure>.png|.svg      figures
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ProblemReport:
    """One problem's results: table rows (dicts, ``columns`` in order), numbers, figures."""

    name: str
    title: str
    description: str
    columns: list[str]
    rows: list[dict[str, Any]]
    numbers: dict[str, Any]
    figures: list[tuple[str, str]] = field(default_factory=list)  # (stem, caption)
    findings: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    #: the columns of the Markdown table (default: ``columns``); the CSV keeps ``columns``
    shown: list[str] | None = None
    #: set when the problem could not run here (e.g. an optional library is missing)
    skipped: str | None = None


#: Table headers for the column keys (Markdown only; the CSV and JSON keep the keys).
HEADERS: dict[str, str] = {
    "optimizer": "Optimizer",
    "best_lr": "Best α",
    "train_loss": "Training loss",
    "loss": "Final loss",
    "heldout_loss": "Held-out loss",
    "grid_edge": "Best α in grid",
    "final_mean": "Final loss",
    "final_std": "Spread (sd)",
    "final_min": "Min",
    "final_max": "Max",
    "diverged_runs_at_best": "Diverged seeds",
    "seeds": "Seeds",
    "target": "Target",
    "error": "Tracking error",
    "error_mean": "Tracking error",
    "error_std": "Spread (sd)",
    "error_min": "Min",
    "error_max": "Max",
    "beta1": "β1",
    "beta2": "β2",
    "lr": "α",
    "bias_correction": "Bias correction",
    "first_step_over_lr": "First step / α",
    "early_loss": "Loss early on",
    "early_loss_mean": "Loss early on",
    "final_loss": "Final loss",
    "final_loss_mean": "Final loss",
    "final_loss_std": "Spread (sd)",
    "heldout_final": "Held-out loss",
    "max_loss_over_initial": "Peak / initial loss",
    "stable": "Stable",
    "problem": "Problem",
    "method": "Method",
    "steps": "Steps",
    "final_suboptimality": "f − f*",
    "seconds_total": "Seconds",
    "setting": "Setting",
    "x_final_mean": "Final x",
    "x_final_min": "Min",
    "x_final_max": "Max",
    "avg_regret_mean": "Average regret",
    "case": "Case",
    "paper_bound": "Paper's bound",
    "S_at_T": "S(T)",
    "S_limit": "S(∞)",
    "max_measured": "Largest |Δ|/α",
    "max_measured_over_S": "Largest / S(t)",
    "first_t_S_exceeds_paper": "First t above bound",
}


def header(key: str) -> str:
    """The display header of a column key (a readable fallback for unknown keys)."""
    return HEADERS.get(key, key.replace("_", " ").capitalize())


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "diverged" if value > 0 else "-inf"
        if value == 0:
            return "0"
        if abs(value) >= 1e4 or abs(value) < 1e-3:
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _cell(text: str) -> str:
    """A Markdown table cell: pipes escaped, no line breaks."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(columns: list[str], rows: list[dict[str, Any]]) -> str:
    head = "| " + " | ".join(_cell(header(c)) for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_cell(_fmt(r.get(c, ""))) for c in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def write(report: ProblemReport, out: Path) -> list[Path]:
    """Write one problem's files under ``out/<name>/``; returns the paths written."""
    d = out / report.name
    d.mkdir(parents=True, exist_ok=True)
    written = []
    data = {
        "problem": report.name,
        "title": report.title,
        "settings": report.settings,
        "table": report.rows,
        "numbers": report.numbers,
        "findings": report.findings,
        "figures": [f"{stem}.png" for stem, _ in report.figures],
        "skipped": report.skipped,
    }
    path = d / "results.json"
    path.write_text(json.dumps(_jsonable(data), indent=1, sort_keys=True) + "\n")
    written.append(path)
    path = d / "results.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(
            fh, fieldnames=report.columns, extrasaction="ignore", lineterminator="\n"
        )
        w.writeheader()
        for row in report.rows:
            w.writerow({c: _jsonable(row.get(c, "")) for c in report.columns})
    written.append(path)
    lines = [f"# {report.title}", "", report.description.strip(), ""]
    if report.skipped:
        lines += [f"**Not run here:** {report.skipped}", ""]
    if report.findings:
        lines += ["**Findings (computed from this run's numbers):**", ""]
        lines += [f"- {f}" for f in report.findings] + [""]
    if report.rows:
        lines += [markdown_table(report.shown or report.columns, report.rows), ""]
    for stem, caption in report.figures:
        lines += [f"![{caption}]({stem}.png)", "", f"*{caption}*", ""]
    settings = ", ".join(f"{k} = {_fmt(v)}" for k, v in report.settings.items())
    lines += [f"Settings: {settings}.", ""]
    path = d / "summary.md"
    path.write_text("\n".join(lines))
    written.append(path)
    return written


def read_results(out: Path, name: str) -> ProblemReport:
    """The report of a problem already written under ``out/<name>/`` (from its results.json;
    figure captions and the description are not stored there and come back empty)."""
    data = json.loads((out / name / "results.json").read_text())
    return ProblemReport(
        name=data["problem"],
        title=data["title"],
        description="",
        columns=[],
        rows=data["table"],
        numbers=data["numbers"],
        findings=data["findings"],
        settings=data["settings"],
        skipped=data["skipped"],
    )


def write_index(reports: list[ProblemReport], out: Path, header: str) -> Path:
    """``out/summary.md``: one row per problem with its first finding and links."""
    lines = [
        "# Adam and the optimizers it came from",
        "",
        header.strip(),
        "",
        "| Problem | First finding | Details |",
        "|---|---|---|",
    ]
    for r in reports:
        first = (
            f"Not run here: {r.skipped}" if r.skipped else r.findings[0] if r.findings else r.title
        )
        lines.append(
            f"| {_cell(r.title)} | {_cell(first)} | [{r.name}/summary.md]({r.name}/summary.md) |"
        )
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path
