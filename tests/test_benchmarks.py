"""The benchmark harness computes what it claims (no timing is asserted here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import goals as G
from benchmarks import run as R
from benchmarks.timing import Contender, ratio_interval


def test_ratio_interval_brackets_the_ratio_of_medians() -> None:
    rng = np.random.default_rng(0)
    a = [list(2.0 + 0.1 * rng.standard_normal(4)) for _ in range(10)]
    b = [list(1.0 + 0.05 * rng.standard_normal(4)) for _ in range(10)]
    lo, hi = ratio_interval(a, b)
    point = float(np.median(np.concatenate(a)) / np.median(np.concatenate(b)))
    assert lo <= point <= hi
    assert lo > 1.8 and hi < 2.2
    lo_same, hi_same = ratio_interval([[1.0] * 3] * 3, [[1.0] * 3] * 3)
    assert lo_same == hi_same == 1.0


def test_ratio_interval_resamples_rounds_together() -> None:
    # both contenders slow in the same round: paired resampling keeps the ratio at 1
    a = [[1.0, 1.0], [3.0, 3.0], [1.0, 1.0], [3.0, 3.0]]
    assert ratio_interval(a, a) == (1.0, 1.0)
    with pytest.raises(ValueError, match="at least one round"):
        ratio_interval([], [])


def test_ratio_record_uses_medians_and_both_interval_ends() -> None:
    a, b = Contender("a", lambda: None), Contender("b", lambda: None)
    a.samples, a.cpu_samples, a.visit_sizes = [3.0, 1.0, 2.0], [1.0, 1.0, 1.0], [1, 1, 1]
    b.samples, b.cpu_samples, b.visit_sizes = [4.0, 4.0, 4.0], [2.0, 2.0, 2.0], [1, 1, 1]
    assert a.by_visit() == [[3.0], [1.0], [2.0]]
    r = R._ratio("x", a, b, cpu=True)
    assert r["x"] == 0.5 and r["x_best"] == 0.25 and r["x_cpu"] == 0.5
    assert r["x_lo"] <= 0.5 <= r["x_hi"]


def _ratios(**values: float) -> dict:
    row = {"dtype": "float32", "n": 10**7, "threads": 1}
    for k, v in values.items():
        row.update({k: v, k + "_lo": v - 0.01, k + "_hi": v + 0.01})
    return row


@pytest.mark.parametrize(
    ("fused", "probe", "foreach", "met"),
    [
        (0.99, 0.81, 0.49, ["yes", "yes", "yes"]),
        (1.01, 0.79, 0.51, ["NO", "NO", "NO"]),
    ],
)
def test_step_goals_judge_each_threshold(fused, probe, foreach, met) -> None:
    result = {
        "adam_ratios": [
            _ratios(
                numba_vs_torch_fused=fused, numba_vs_probe=probe, numpy_vs_torch_foreach=foreach
            )
        ]
    }
    rows = G.goals(result)
    assert [r["met"] for r in rows] == met
    assert rows[0]["interval_95"] == f"[{fused - 0.01:.3f}, {fused + 0.01:.3f}]"


def test_goals_skip_sizes_and_sections_they_do_not_cover() -> None:
    small = _ratios(numba_vs_torch_fused=2.0)
    small["n"] = 10**5
    assert G.goals({"adam_ratios": [small]}) == []
    assert G.goals({}) == []


def test_memory_goal_allows_four_chunks_per_thread() -> None:
    limit = G.memory_allowance_mib(2)
    row = {
        "dtype": "float64",
        "n": 10**7,
        "threads": 2,
        "contender": "adamproofs numpy 2T",
        "rss_peak_mib": 0.1,
        "traced_peak_mib": limit + 0.01,
    }
    assert G.goals({"memory": [row]})[0]["met"] == "NO"  # the larger of the two views counts
    row["traced_peak_mib"] = limit
    assert G.goals({"memory": [row]})[0]["met"] == "yes"
    torch_row = dict(row, contender="torch foreach 2T", rss_peak_mib=76.0)
    assert G.goals({"memory": [torch_row]}) == []  # peers are reported, not judged


def test_a_tiny_run_writes_the_documented_json(tmp_path) -> None:
    out = tmp_path / "r.json"
    status = R.main(
        [
            "--quick",
            "--sizes",
            "2e3",
            "--dtypes",
            "float32",
            "--threads",
            "1",
            "--no-torch",
            "--skip",
            "many,memory,oracle,check",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    data = json.loads(out.read_text())
    assert data["schema"] == 2 and data["quick"] is True
    names = {r["contender"] for r in data["adam_step"]}
    assert "adamproofs numpy 1T" in names
    for r in data["adam_step"]:
        assert r["median_ms"] > 0 and r["bytes"] == 7 * 2000 * 4
    assert (tmp_path / "r-adam-step.svg").is_file()


def test_check_cost_times_a_check_and_its_oracle_and_enclosure(tmp_path) -> None:
    from benchmarks import check_cost

    out = tmp_path / "check-cost.json"
    argv = ["--targets", "numpy", "--profiles", "quick", "--modes", "in-process", "--out"]
    assert check_cost.main([*argv, str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["command"].startswith("python -m benchmarks.check_cost --targets numpy")
    (row,) = result["check_cost"]
    assert (row["target"], row["profile"], row["mode"]) == ("numpy", "quick", "in-process")
    assert row["conforms"] and row["rows"] > 1
    assert row["oracle_s"] > 0  # the replay ran under the timer
    assert 0 < row["oracle_share"] <= row["oracle_and_enclosure_share"] <= 1
    assert row["oracle_and_enclosure_share"] == pytest.approx(
        row["oracle_share"] + row["enclosure_share"]
    )
    assert result["largest_share"] == row["oracle_and_enclosure_share"]


def test_check_cost_timer_counts_nested_calls_once(monkeypatch) -> None:
    import itertools

    from benchmarks import check_cost

    ticks = itertools.count()  # a clock that advances by 1 at every reading
    monkeypatch.setattr(check_cost.time, "perf_counter", lambda: float(next(ticks)))
    timer = check_cost._Timer()
    timed_inner = timer.wrap(lambda: None)
    timer.wrap(lambda: timed_inner())()
    assert timer.seconds == 1.0 and timer.depth == 0  # one start and one stop: the outer call
    timed_inner()  # at the top level the inner call counts on its own
    assert timer.seconds == 2.0


def test_check_cost_rejects_an_unknown_target() -> None:
    from benchmarks import check_cost

    with pytest.raises(SystemExit, match="--targets='jax'"):
        check_cost.main(["--targets", "jax"])
