"""Findings as sentences computed from a problem's table (never written by hand).

Every function here takes table rows (dicts with the keys of :meth:`.runner.Sweep.table`
after :func:`.experiments.common.sweep_rows`: ``optimizer`` is the display label) and
returns sentences whose names and numbers all come from those rows, so a rerun that
changes the ranking changes the text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Row = dict[str, Any]


def _num(x: float) -> str:
    if math.isinf(x):
        return "diverged"
    return f"{x:.3g}"


def _with_spread(row: Row, mean: str, std: str) -> str:
    m, s = row[mean], row.get(std)
    if s is None or not math.isfinite(m) or not math.isfinite(s):
        return _num(m)
    return f"{_num(m)} ± {s:.2g}"


def ranking(rows: Sequence[Row], mean: str, std: str, what: str, *, name: str = "optimizer") -> str:
    """Which row has the lowest ``mean``, which the highest, and which rows are within
    one standard deviation of the lowest, meaning that their intervals mean ± sd (over
    seeds) overlap the lowest's: ``what`` names the quantity."""
    usable = [r for r in rows if not math.isnan(r[mean])]
    if not usable:
        raise ValueError(f"no row has a number in column {mean!r}")
    order = sorted(usable, key=lambda r: (r[mean], str(r[name])))
    best, worst = order[0], order[-1]
    text = f"Lowest {what}: {best[name]} ({_with_spread(best, mean, std)})"
    if len(order) > 1:
        text += f"; highest: {worst[name]} ({_with_spread(worst, mean, std)})"
    spread = best.get(std)
    close = [
        r[name]
        for r in order[1:]
        if spread is not None
        and math.isfinite(spread)
        and math.isfinite(r[mean])
        and r[mean] - best[mean] <= spread + (r.get(std) or 0)
    ]
    if close:
        text += f". Within one standard deviation of the lowest: {', '.join(close)}"
    return text + "."


def generalisation_gap(rows: Sequence[Row]) -> str:
    """Held-out minus training loss at each best rate: the smallest and the largest gap."""
    gaps = [
        (r["heldout_mean"] - r["final_mean"], str(r["optimizer"]))
        for r in rows
        if math.isfinite(r.get("heldout_mean", math.nan)) and math.isfinite(r["final_mean"])
    ]
    if not gaps:
        return "No held-out loss was recorded (or every run diverged)."
    gaps.sort()
    (lo, lo_name), (hi, hi_name) = gaps[0], gaps[-1]
    if len(gaps) == 1:
        return f"Held-out minus training loss: {_num(hi)} ({hi_name})."
    return (
        f"Held-out minus training loss at the chosen rates ranges from {_num(lo)} "
        f"({lo_name}) to {_num(hi)} ({hi_name})."
    )


def grid_edges(rows: Sequence[Row], key: str = "grid_edge") -> str:
    """Whether every chosen rate is inside its grid, or which are still at an end."""
    stuck = [f"{r['optimizer']} ({r[key]})" for r in rows if r[key] != "inside"]
    if not stuck:
        return "Every optimizer's best rate is inside its grid (not at either end)."
    return (
        "Best rate still at an end of its grid after the allowed widenings (the optimum "
        f"may lie beyond it): {', '.join(stuck)}."
    )


def slowest(rows: Sequence[Row], mean: str = "final_mean", *, name: str = "optimizer") -> Row:
    """The row with the highest ``mean`` (ties: the first by name)."""
    return max(rows, key=lambda r: (r[mean], str(r[name])))
