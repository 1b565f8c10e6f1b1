"""The performance goals, judged on one run's results (``goals`` records).

Each record names the goal, where it was measured, the measured value with its
bootstrap interval where there is one, the target, and whether the median meets it.
A goal whose section was skipped or whose contender was missing is simply absent.
"""

from __future__ import annotations

from typing import Any

from adamproofs.fast import DEFAULT_CHUNK_BYTES

#: Sizes at which the single-array goals are judged.
GOAL_SIZES = (10**7, 5 * 10**7)


def memory_allowance_mib(threads: int) -> float:
    """Peak extra memory allowed for one fast step: four chunk-sized scratch buffers per
    thread (the most any variant uses: two, plus two when θ and g are converted), plus
    1 MiB for Python objects and page granularity. Chunks are a fixed number of bytes,
    whatever the dtype."""
    return (4 * DEFAULT_CHUNK_BYTES * threads + 2**20) / 2**20


def _record(
    goal: str,
    where: str,
    value: float,
    target: str,
    met: bool,
    interval: tuple[float, float] | None = None,
) -> dict[str, Any]:
    measured = round(value) if abs(value) >= 1e4 else round(value, 3)
    rec: dict[str, Any] = {"goal": goal, "where": where, "measured": measured}
    if interval is not None:
        rec["interval_95"] = f"[{interval[0]:.3f}, {interval[1]:.3f}]"
    rec.update({"target": target, "met": "yes" if met else "NO"})
    return rec


def _step_goals(ratios: list[dict]) -> list[dict]:
    out = []
    specs = [
        (
            "compiled step / torch fused",
            "numba_vs_torch_fused",
            "<= 1",
            lambda x: x <= 1.0,
            lambda r: r["n"] in GOAL_SIZES,
        ),
        (
            "bandwidth probe / compiled step",
            "numba_vs_probe",
            ">= 0.8",
            lambda x: x >= 0.8,
            lambda r: r["n"] in GOAL_SIZES,
        ),
        (
            "NumPy step / torch foreach",
            "numpy_vs_torch_foreach",
            "<= 0.5",
            lambda x: x <= 0.5,
            lambda r: r["n"] == 10**7 and r["dtype"] == "float32",
        ),
    ]
    for goal, key, target, ok, applies in specs:
        for r in ratios:
            if key in r and applies(r):
                where = f"{r['dtype']} n={r['n']:.0e} {r['threads']}T"
                out.append(
                    _record(
                        goal, where, r[key], target, ok(r[key]), (r[key + "_lo"], r[key + "_hi"])
                    )
                )
    return out


def _many_goals(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        name = r["contender"]
        if "vs_torch_foreach" not in r or not name.startswith("adamproofs"):
            continue
        if "step_many" in name:  # the raw entry point; the Optimizer rows are the goal
            continue
        out.append(
            _record(
                f"many arrays: {name.rsplit(' ', 1)[0]} / torch foreach",
                f"{r['case']} {r['threads']}T",
                r["vs_torch_foreach"],
                "<= 1",
                r["vs_torch_foreach"] <= 1.0,
            )
        )
    return out


def _memory_goals(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        if not r["contender"].startswith("adamproofs"):
            continue
        peak = max(r["rss_peak_mib"], r["traced_peak_mib"])  # the larger of the two views
        limit = memory_allowance_mib(r["threads"])
        out.append(
            _record(
                "peak extra memory of a step (MiB)",
                f"{r['dtype']} n={r['n']:.0e} {r['contender']}",
                peak,
                f"<= {limit:g}",
                peak <= limit,
            )
        )
    return out


def _oracle_goals(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        if r["dps"] != 50:
            continue
        rate = r["gmpy_updates_per_s"]
        out.append(
            _record(
                "oracle scalar updates per second at 50 digits",
                r["what"],
                rate,
                ">= 100000",
                rate >= 100_000,
            )
        )
    return out


def _check_goals(rows: list[dict]) -> list[dict]:
    return [
        _record(
            "oracle share of the default adamproofs check",
            f"oracle on {r['oracle']}",
            r["oracle_share"],
            "< 0.2",
            r["oracle_share"] < 0.2,
        )
        for r in rows
        if r["oracle"] == "MPFR"
    ]


def goals(result: dict[str, Any]) -> list[dict]:
    """Every goal the sections present in ``result`` can judge."""
    out: list[dict] = []
    out += _step_goals(result.get("adam_ratios", []))
    out += _many_goals(result.get("many_arrays", []))
    out += _memory_goals(result.get("memory", []))
    out += _oracle_goals(result.get("oracle", []))
    out += _check_goals(result.get("check_share", []))
    return out
