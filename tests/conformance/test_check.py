"""check(), the report (table, JSON against its schema, reproducers) and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adamproofs.conformance import assert_conforms, check
from adamproofs.conformance._report import SCHEMA
from tests.conformance import mutants

ROOT = Path(__file__).resolve().parents[2]
FAST = ["first_step", "agreement"]


def _cli(*args: str, cwd: Path = ROOT, env: dict | None = None):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "adamproofs", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )


def test_schema_file_matches_the_module():
    on_disk = json.loads((ROOT / "adamproofs/conformance/report.schema.json").read_text())
    assert on_disk == SCHEMA


def test_report_json_validates_and_records_everything(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    report = check("numpy", profile="quick", properties=FAST, progress=None)
    path = tmp_path / "r.json"
    report.write_json(path)
    data = json.loads(path.read_text())
    jsonschema.validate(data, SCHEMA)
    assert data["conforms"] is True and data["detected_variant"] == "paper"
    # one fingerprint per dtype, then the rows dtype by dtype
    assert [r["property"] for r in data["results"]] == ["variant", "variant", *FAST, *FAST]
    assert [r["dtype"] for r in data["results"][:2]] == ["float32", "float64"]
    assert {r["dtype"] for r in data["results"][2:]} == {"float32", "float64"}
    assert all(r["examples"] > 0 for r in data["results"])


def test_failure_has_a_reproducer_that_reproduces(tmp_path):
    report = check(
        mutants.NUMPY_MUTANTS["hardcoded_beta2"],
        variant="paper",
        profile="quick",
        properties=["agreement"],
        progress=None,
        dtypes=["float32"],
    )
    assert not report.conforms
    failed = report.failures[0]
    assert failed.reproducer and "'agreement'" in failed.reproducer
    table = report.table()
    assert "DOES NOT CONFORM" in table and "reproducer:" in table
    assert report.target == "tests.conformance.mutants:NUMPY_hardcoded_beta2"
    script = tmp_path / "repro.py"
    script.write_text(failed.reproducer)
    out = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert out.returncode == 1, out.stderr  # the defect is still there
    assert "implementation:" in out.stdout and "oracle:" in out.stdout


def test_assert_conforms_raises_with_the_table():
    with pytest.raises(AssertionError, match="does not conform"):
        assert_conforms(
            mutants.NUMPY_MUTANTS["wrong_sign"], profile="quick", properties=FAST, fail_fast=True
        )


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="profile='fast'"):
        check("numpy", profile="fast")
    with pytest.raises(ValueError, match="property 'nope'"):
        check("numpy", properties=["nope"])
    with pytest.raises(ValueError, match="seed=-1"):
        check("numpy", seed=-1)


# --- the CLI and its exit statuses ------------------------------------------------------


def test_cli_conforming_target_exits_0_and_writes_json(tmp_path):
    out = _cli(
        "numpy",
        "--profile",
        "quick",
        "--property",
        "first_step",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("CONFORMS: numpy")
    assert "[1/2] first_step" in out.stderr  # progress goes to stderr
    assert json.loads((tmp_path / "r.json").read_text())["conforms"] is True


def test_cli_mutant_exits_1_with_reproducer():
    out = _cli(
        "tests.conformance.mutants:NUMPY_eps_hat",
        "--variant",
        "paper",
        "--profile",
        "quick",
        "--property",
        "first_step",
        "--quiet",
    )
    assert out.returncode == 1, out.stderr
    assert "DOES NOT CONFORM" in out.stdout
    assert "eps_placement: required 'paper', detected 'hat'" in out.stdout


def test_cli_implementation_that_raises_is_a_failure(tmp_path):
    (tmp_path / "raising_adam.py").write_text(
        textwrap.dedent("""
        class Adam:
            def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
                pass
            def step(self, grads):
                raise ZeroDivisionError("my bug")
    """)
    )
    out = _cli(
        "raising_adam:Adam",
        "--profile",
        "quick",
        "--property",
        "first_step",
        "--quiet",
        cwd=tmp_path,
    )
    assert out.returncode == 1, out.stderr
    assert "my bug" in out.stdout and "Traceback" not in out.stderr


def test_cli_missing_framework_exits_2(tmp_path):
    (tmp_path / "needs_framework.py").write_text("import no_such_framework_abc\n")
    out = _cli("needs_framework:Adam", cwd=tmp_path)
    assert out.returncode == 2
    assert "no_such_framework_abc" in out.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["nonsense"], "neither a built-in"),
        (["numpy", "--variant", "adamw"], "'adamw' is not one of"),
        (["numpy", "--dtype", "float8"], "float8"),
        (["numpy", "--seed", "-3"], "--seed=-3"),
    ],
)
def test_cli_usage_errors_exit_2(args, message):
    out = _cli(*args)
    assert out.returncode == 2
    assert message in out.stderr


def test_cli_torch_missing_is_exit_2_not_a_crash(tmp_path):
    # a sitecustomize that hides torch simulates an installation without it
    (tmp_path / "sitecustomize.py").write_text(
        textwrap.dedent("""
        import sys
        sys.modules["torch"] = None
    """)
    )
    out = _cli("torch-fused", env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"})
    assert out.returncode == 2
    assert "the torch adapter needs PyTorch" in out.stderr
    assert "install it with: pip install torch" in out.stderr


def test_options_reach_the_target():
    from adamproofs.conformance._cli import parse_options

    assert parse_options(["amsgrad=True", "eps_placement=hat"]) == {
        "amsgrad": True,
        "eps_placement": "hat",
    }
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_options(["amsgrad"])
    report = check(
        "numpy",
        options={"eps_placement": "hat", "backend": "numpy"},
        variant="eps_hat",
        profile="quick",
        properties=["first_step"],
        dtypes=["float32"],
        progress=None,
    )
    assert report.conforms and report.detected_variant == "eps_hat"


def test_a_failed_fingerprint_names_each_candidate_once():
    report = check(
        mutants.NUMPY_MUTANTS["wrong_sign"],
        profile="quick",
        properties=FAST,
        fail_fast=True,
        progress=None,
    )
    note = next(r.note for r in report.results if r.name == "variant")
    assert "bias_correction: follows no known variant (the eps_placement probe above)" in note
    # the pair probed with AMSGrad is labelled as such, so no label repeats
    labels = [part.split(": ")[0] for part in note.split("(", 1)[1].split("); ")]
    assert "('paper', True, 'amsgrad=max_uncorrected')" in note
    assert len(labels) == len(set(labels))


def test_report_records_the_environment_it_ran_in():
    report = check(
        "numpy", profile="quick", properties=["first_step"], dtypes=["float32"], progress=None
    )
    env = report.as_dict()["environment"]
    assert env["python"] and env["numpy"] == __import__("numpy").__version__
    assert "environment: python" in report.table()
