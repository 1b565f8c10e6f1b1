"""The command-line dispatcher."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adamproofs import cli


def test_help_lists_the_sub_commands(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for name in ("check", "derive", "compare"):
        assert name in out


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2


def test_a_broken_sub_command_does_not_take_the_others_down(monkeypatch, capsys):
    real_import = cli.importlib.import_module

    def import_module(name):
        if name == "adamproofs._broken_for_test":
            raise SyntaxError("invalid syntax (a half-edited file)")
        return real_import(name)

    monkeypatch.setattr(cli.importlib, "import_module", import_module)
    monkeypatch.setattr(
        cli, "SUBCOMMANDS", {**cli.SUBCOMMANDS, "broken": "adamproofs._broken_for_test"}
    )
    parser = cli.build_parser()
    args = parser.parse_args(["broken", "x"])
    assert args.func(args) == 2
    assert "cannot load this sub-command" in capsys.readouterr().err
    assert parser.parse_args(["derive"]).command == "derive"


def test_check_keras_module_target_without_keras_says_what_to_install(monkeypatch, capsys):
    for name in ("keras", "keras.optimizers"):  # as if Keras were not installed
        monkeypatch.setitem(sys.modules, name, None)
    # in-process: the missing modules are this process's (a worker would import its own)
    assert cli.main(["check", "keras.optimizers:AdamW", "--quiet", "--in-process"]) == 2
    err = capsys.readouterr().err
    assert "cannot load target 'keras.optimizers:AdamW'" in err
    assert "pip install keras jax (or torch)" in err


def test_check_user_module_missing_tensorflow_hints_at_keras_backend(tmp_path, monkeypatch, capsys):
    """A module importing Keras with its default backend fails on tensorflow: say why."""
    (tmp_path / "adamproofs_test_needs_tf.py").write_text("import tensorflow\n")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # as if it were not installed
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert cli.main(["check", "adamproofs_test_needs_tf:Adam", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "tensorflow" in err
    assert "set KERAS_BACKEND=jax (or torch) or pass --kind keras" in err


def test_the_default_check_conforms_without_the_optional_ml_dtypes(tmp_path):
    """The README's first command on a bare install (no ml_dtypes, so no bfloat16 arrays):
    the fingerprint still weighs bfloat16 arithmetic as a candidate, from the format's
    numbers alone, and the bundled Adam conforms. ml_dtypes is hidden from the checker and
    from its worker process by a module that refuses to import."""
    (tmp_path / "ml_dtypes.py").write_text("raise ImportError('hidden for this test')\n")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(root)])}
    done = subprocess.run(
        [sys.executable, "-m", "adamproofs", "check", "--profile", "quick", "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMS: numpy" in done.stdout
