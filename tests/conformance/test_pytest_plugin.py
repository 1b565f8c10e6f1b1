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
    assert "reproducer:" in out.stdout and "check_property('first_step'" in out.stdout
