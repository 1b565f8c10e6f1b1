"""The pytest plugin: inert by default, runs the properties with --adam-target."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pytest(tmp_path: Path, *args: str, env: dict | None = None):
    (tmp_path / "test_user.py").write_text("def test_users_own():\n    assert True\n")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ADAMPROOFS_")}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    # the plugin is loaded through its pytest11 entry point (adamproofs is installed)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )


def test_plugin_is_inert_without_a_target(tmp_path):
    out = _pytest(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout and "adamproofs[" not in out.stdout


def test_plugin_imports_no_framework():
    code = textwrap.dedent("""
        import sys
        import adamproofs.pytest_plugin
        heavy = [m for m in ("torch", "jax", "optax", "keras", "tensorflow") if m in sys.modules]
        assert not heavy, heavy
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr


def test_plugin_runs_properties_for_a_correct_target(tmp_path):
    out = _pytest(
        tmp_path,
        "--adam-target=tests.conformance.mutants:NUMPY_CORRECT",
        "--adam-profile=quick",
        "--adam-variant=paper",
        "-m",
        "adamproofs",
        "-k",
        "variant or first_step",
        "-rA",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 passed" in out.stdout  # variant + first_step in float32 and float64
    assert "test_users_own" not in out.stdout


def test_plugin_reports_a_failure_with_reproducer(tmp_path):
    out = _pytest(
        tmp_path,
        "--adam-profile=quick",
        "-m",
        "adamproofs",
        "-k",
        "first_step",
        env={"ADAMPROOFS_TARGET": "tests.conformance.mutants:NUMPY_wrong_sign"},
    )
    assert out.returncode == 1
    assert "reproducer:" in out.stdout and "'first_step', 'float32'" in out.stdout


def _ids(output: str) -> list[str]:
    return [line for line in output.splitlines() if "::test_adam_conforms[" in line]


def test_plugin_collected_count_matches_what_runs(tmp_path):
    settings = ["--adam-target=numpy", "--adam-profile=quick", "--adam-dtype=float16"]
    collected = _pytest(tmp_path, *settings, "--collect-only")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ids = _ids(collected.stdout)
    from adamproofs.conformance import Checker

    rows = Checker("numpy", dtypes=["float32", "float64", "float16"]).rows
    assert len(ids) == 1 + len(rows)  # the fingerprint, then every row
    assert f"{len(ids) + 1} tests collected" in collected.stdout  # + the user's own test
    ran = _pytest(tmp_path, *settings, "-m", "adamproofs", "-k", "variant or first_step")
    assert "4 passed" in ran.stdout, ran.stdout  # variant + first_step in three dtypes


def test_plugin_test_id_pasted_back_selects_exactly_that_test(tmp_path):
    from adamproofs import pytest_conformance

    test_id = f"{pytest_conformance.__file__}::test_adam_conforms[agreement-float32]"
    settings = ["--adam-target=numpy", "--adam-profile=quick"]
    collected = _pytest(tmp_path, *settings, test_id, "--collect-only")
    assert _ids(collected.stdout) != [] and len(_ids(collected.stdout)) == 1, collected.stdout
    assert _ids(collected.stdout)[0].endswith("::test_adam_conforms[agreement-float32]")
    ran = _pytest(tmp_path, *settings, test_id, "-rA")
    assert ran.returncode == 0 and "2 passed" in ran.stdout, ran.stdout  # + the user's test
    assert "PASSED" in ran.stdout and "agreement-float32" in ran.stdout


def test_plugin_failure_says_how_to_rerun_it_alone(tmp_path):
    out = _pytest(
        tmp_path,
        "--adam-profile=quick",
        "-m",
        "adamproofs",
        "-k",
        "first_step-float32",
        env={"ADAMPROOFS_TARGET": "tests.conformance.mutants:NUMPY_wrong_sign"},
    )
    assert out.returncode == 1
    rerun = next(line for line in out.stdout.splitlines() if line.startswith("rerun it alone"))
    assert rerun.endswith("::test_adam_conforms[first_step-float32]'")
