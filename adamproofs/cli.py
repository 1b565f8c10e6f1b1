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
    "check": "adamproofs.conformance.cli",
    "derive": "adamproofs.derivations.cli",
    "compare": "adamproofs.compare.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adamproofs",
        description="Verified Adam: check an implementation against the arbitrary-precision "
                    "reference, print the derivations, compare optimizers.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"adamproofs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and (err.name == module_name or module_name.startswith(err.name + ".")):
                continue  # sub-command not available in this build
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
