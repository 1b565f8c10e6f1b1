"""The ``adamproofs`` command line: one sub-command per job.

Each sub-command lives in its own module exposing ``register(subparsers)``, which
adds an ``argparse`` parser whose ``func`` default returns the exit status.
Modules are imported lazily so that ``adamproofs --help`` stays fast and a
missing optional dependency only affects its own sub-command.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: sub-command name -> module that registers it
SUBCOMMANDS: dict[str, str] = {
    "check": "adamproofs.conformance._cli",
    "derive": "adamproofs.derivations._cli",
    "compare": "adamproofs.compare._cli",
    "matrix": "adamproofs.conformance.ecosystem.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adamproofs",
        description="Verified Adam: check an implementation against the arbitrary-precision "
        "reference, print the derivations, compare optimizers.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"adamproofs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and (err.name == module_name or module_name.startswith(err.name + ".")):
                continue  # sub-command not available in this build
            _register_broken(sub, name, err)
            continue
        except Exception as err:  # one broken sub-command must not take the others down
            _register_broken(sub, name, err)
            continue
        module.register(sub)
    return parser


def _register_broken(sub: argparse._SubParsersAction, name: str, err: BaseException) -> None:
    """A placeholder that explains why ``name`` cannot run (exit status 2)."""
    message = f"adamproofs {name}: cannot load this sub-command: {type(err).__name__}: {err}"

    def fail(args: argparse.Namespace) -> int:
        print(message, file=sys.stderr)
        return 2

    p = sub.add_parser(name, help=f"(unavailable: {type(err).__name__})", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=fail)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
