"""The checker's front ends (CLI, pytest plugin, check()): settings refused alike and before
anything runs, option claims, atomic reports, Ctrl-C, complete reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adamproofs.conformance import Checker, UsageError, check
from adamproofs.conformance._report import PropertyResult, Report

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd: Path = ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "adamproofs", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--option", "eps=0.0"], "--option eps=0.0: eps is set by the checker"),
        (
            ["--option", "betas=(0.9, 0.99)"],
            "--option betas=(0.9, 0.99): betas is set by the checker",
        ),
        (
            ["--option", "device=cuda"],
            "--option device='cuda': device is not an option; use --device",
        ),
        (
            ["--option", "momentum=0.9"],
            "--option momentum=0.9 does not apply to the target 'numpy'; "
            "allowed: amsgrad, backend, bias_correction, decay, "
            "eps_placement",
        ),
        (["--profile", "bogus"], "--profile='bogus' is not one of quick, default, thorough"),
        (
            ["--kind", "jax"],
            "--kind='jax' is not one of torch, optax, keras, mlx, tinygrad, tensorflow, "
            "functional, plain",
        ),
    ],
)
def test_bad_settings_are_usage_errors_naming_the_setting(args, message):
    out = _cli("numpy", "--property", "first_step", *args)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "fingerprinting" not in out.stderr  # refused before anything ran


def test_option_colliding_with_the_checker_is_refused_by_check_too():
    with pytest.raises(UsageError, match=re.escape("--option eps=0.0: eps is set by the checker")):
        check("numpy", options={"eps": 0.0}, progress=None)
    with pytest.raises(UsageError, match=re.escape("--option nesterov=True does not apply")):
        Checker("numpy", options={"nesterov": True}).implementation()  # checked on loading


def test_json_into_a_missing_folder_is_refused_before_running(tmp_path):
    target = tmp_path / "no" / "such" / "r.json"
    out = _cli("numpy", "--property", "first_step", "--json", str(target))
    assert out.returncode == 2
    assert "--json" in out.stderr and "does not exist" in out.stderr
    assert "fingerprinting" not in out.stderr and "RESULT" not in out.stdout
    assert not target.parent.exists()


def test_report_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text("old\n")
    report = Report(
        target="x", kind=None, profile="quick", seed=0, dtypes=["float32"], required_variant=None
    )

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.write_json(path)
    assert path.read_text() == "old\n"  # the old content, never a half-written report
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left
    monkeypatch.undo()
    report.write_json(path)
    assert json.loads(path.read_text())["target"] == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_ctrl_c_exits_130_without_a_report(tmp_path):
    (tmp_path / "interrupted_adam.py").write_text(
        textwrap.dedent("""
        class Adam:
            def __init__(self, params, *, lr, beta1, beta2, eps, weight_decay):
                pass
            def step(self, grads):
                raise KeyboardInterrupt  # what Ctrl-C raises in the middle of a check
    """)
    )
    report = tmp_path / "r.json"
    # in-process, a KeyboardInterrupt in the target is what Ctrl-C raises in the checker
    out = _cli(
        "interrupted_adam:Adam",
        "--property",
        "first_step",
        "--quiet",
        "--json",
        str(report),
        "--in-process",
        cwd=tmp_path,
    )
    assert out.returncode == 130, out.stderr
    assert "interrupted" in out.stderr and "Traceback" not in out.stderr
    assert (
        not report.exists()
        and [p.name for p in tmp_path.iterdir() if p.suffix in (".json", ".tmp")] == []
    )


def test_a_report_missing_selected_rows_does_not_conform():
    report = Report(
        target="x",
        kind=None,
        profile="quick",
        seed=0,
        dtypes=["float32"],
        required_variant=None,
        expected_rows=2,
    )
    report.results = [
        PropertyResult("variant", "float64", "pass"),
        PropertyResult("first_step", "float32", "pass"),
    ]
    assert not report.complete and not report.conforms
    report.results.append(PropertyResult("agreement", "float32", "pass"))
    assert report.complete and report.conforms


def test_an_option_naming_an_axis_is_a_claim():
    torch = pytest.importorskip("torch")

    class IgnoresAmsgrad(torch.optim.Adam):
        def __init__(
            self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False
        ):
            super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    ignored = check(
        IgnoresAmsgrad, options={"amsgrad": True}, dtypes=["float64"], properties=[], progress=None
    )
    assert not ignored.conforms
    note = next(r.note for r in ignored.results if r.name == "variant")
    assert (
        "amsgrad: --option amsgrad=True claims max_corrected, max_raw, max_uncorrected, "
        "detected none" in note
    )
    honoured = check(
        "numpy", options={"decay": "decoupled"}, dtypes=["float64"], properties=[], progress=None
    )
    assert honoured.conforms, honoured.table()


def _pytest(tmp_path: Path, *args: str, env: dict | None = None):
    (tmp_path / "test_user.py").write_text("def test_users_own():\n    assert True\n")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ADAMPROOFS_")}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )


@pytest.mark.parametrize(
    "args, env, cli_args",
    [
        ([], {"ADAMPROOFS_PROFILE": "bogus"}, ["--profile", "bogus"]),
        (["--adam-dtype=int8"], {}, ["--dtype", "int8"]),
        (["--adam-seed=-1"], {}, ["--seed", "-1"]),
        (["--adam-option=eps=0.0"], {}, ["--option", "eps=0.0"]),
        (["--adam-option=momentum=0.9"], {}, ["--option", "momentum=0.9"]),
    ],
)
def test_plugin_bad_settings_give_the_cli_message(tmp_path, args, env, cli_args):
    cli = _cli("numpy", *cli_args)
    assert cli.returncode == 2
    message = cli.stderr.strip()
    out = _pytest(tmp_path, "--adam-target=numpy", *args, env=env)
    assert out.returncode != 0
    assert message in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr and "passed" not in out.stdout
