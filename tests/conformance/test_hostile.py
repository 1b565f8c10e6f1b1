"""The hostile corpus (:mod:`tests.conformance.hostile`): every target that exits, hangs,
crashes, hogs memory, writes into the caller's arrays or returns the wrong thing gets
the verdict of its table row, with the stage and the cause in the report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from adamproofs.conformance import check
from adamproofs.conformance._isolation import Isolation
from adamproofs.conformance.protocol import TargetError
from tests.conformance.hostile import CORPUS, Hostile

ROOT = Path(__file__).resolve().parents[2]

#: One restart (a target that kills its worker on every case is given up on after the
#: second end), 256 MiB of memory; the timeout is the target's (2 s for those that hang).
MEMORY_LIMIT = 256 * 2**20


def _params() -> list:
    out = []
    for name, hostile in CORPUS.items():
        marks = [pytest.mark.xfail(reason=hostile.xfail, strict=True)] if hostile.xfail else []
        out.append(pytest.param(hostile, id=name, marks=marks))
    return out


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
    assert {h.verdict for h in CORPUS.values()} == {"pass", "fail", "unloadable"}


@pytest.mark.parametrize("hostile", _params())
def test_hostile_target(hostile: Hostile) -> None:
    kwargs = {
        "profile": "quick",
        "dtypes": ["float32"],
        "properties": list(hostile.properties),
        "progress": None,
        "isolation": Isolation(timeout=hostile.timeout, memory_limit=MEMORY_LIMIT, restarts=1),
    }
    if hostile.verdict == "unloadable":
        with pytest.raises(TargetError) as info:
            check(hostile.target, **kwargs)
        assert re.search(hostile.expect, str(info.value)), str(info.value)
        return
    report = check(hostile.target, **kwargs)
    table = report.table()
    assert report.conforms == (hostile.verdict == "pass"), table
    assert re.search(hostile.expect, table), table


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "adamproofs",
            "check",
            *args,
            "--profile",
            "quick",
            "--only-dtype",
            "float32",
            "--property",
            "inputs_unmutated",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_reports_an_exit_in_step_as_a_failure_naming_the_stage() -> None:
    done = _cli("tests.conformance.hostile.step:OsExit0", "--quiet")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "step 1: the worker process exited with status 0" in done.stdout


def test_cli_reports_an_exit_at_import_as_an_unloadable_target() -> None:
    done = _cli("tests.conformance.hostile.import_os_exit0:Adam", "--quiet")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "import: the worker process exited with status 0" in done.stderr


def test_cli_timeout_bounds_a_target_that_loops_forever() -> None:
    done = _cli("tests.conformance.hostile.step:InfiniteLoop", "--quiet", "--timeout", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "step 1: did not finish within 2 s" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--timeout", "0"), "--timeout='0' must be a positive number of seconds"),
        (
            ("--memory-limit", "lots"),
            "--memory-limit='lots' must be a positive whole number of MiB",
        ),
        (("--in-process", "--timeout", "5"), "--in-process runs the target without a worker"),
    ],
)
def test_cli_isolation_settings_are_validated(args, message) -> None:
    done = _cli("numpy", *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
