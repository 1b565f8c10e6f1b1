"""The command-line dispatcher."""

from __future__ import annotations

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
    monkeypatch.setattr(cli, "SUBCOMMANDS", {**cli.SUBCOMMANDS,
                                             "broken": "adamproofs._broken_for_test"})
    parser = cli.build_parser()
    args = parser.parse_args(["broken", "x"])
    assert args.func(args) == 2
    assert "cannot load this sub-command" in capsys.readouterr().err
    assert parser.parse_args(["derive"]).command == "derive"
