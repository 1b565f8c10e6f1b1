"""``adamproofs check [TARGET]``: the conformance suite on the command line.

Exit status: 0 conforms, 1 does not conform, 2 usage error or the target cannot
be loaded (for instance its framework is not installed).
"""

from __future__ import annotations

import argparse
import ast
import sys
from typing import Any

from ..variants import AXES, NAMED
from .properties import PROPERTIES
from .targets import BUILTINS, KINDS

_AXIS_HELP = "\n".join(f"  {a.name}={'|'.join(a.choices)}  ({a.doc})" for a in AXES.values())

EPILOG = f"""\
TARGET is a built-in ({', '.join(BUILTINS)}; default numpy) or module.path:attr, where
attr is a torch.optim.Optimizer subclass, an optax GradientTransformation factory, a Keras
optimizer class, or a plain class/factory taking (params, *, lr, beta1, beta2, eps,
weight_decay) with a step(grads) method (see adamproofs.conformance.protocol).

--variant NAME[,axis=value...] requires a variant; NAME is one of {', '.join(NAMED)}
(a name also requires decay=l2 and step_scope=param unless overridden, e.g.
paper,decay=decoupled). Without it, any known variant passes. Axes:
{_AXIS_HELP}

Properties: {', '.join(PROPERTIES)}.
Exit status: 0 conforms, 1 does not conform, 2 usage error or target cannot be loaded.
"""


def register(subparsers: Any) -> None:
    """Add the ``check`` sub-command."""
    p = subparsers.add_parser(
        "check", help="check an Adam implementation against the reference",
        description="Check an Adam implementation against the arbitrary-precision reference.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", nargs="?", default="numpy", metavar="TARGET")
    p.add_argument("--kind", choices=KINDS, help="force the adapter for module.path:attr")
    p.add_argument("--variant", help="require a variant, e.g. paper or eps_hat,decay=decoupled")
    p.add_argument("--dtype", action="append", default=[], metavar="DTYPE",
                   help="add a dtype to float32 and float64 (float16, bfloat16); repeatable")
    p.add_argument("--only-dtype", action="append", default=[], metavar="DTYPE",
                   help="check only these dtypes (repeatable)")
    p.add_argument("--profile", choices=("quick", "default", "thorough"), default="default")
    p.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    p.add_argument("--property", action="append", default=[], dest="properties",
                   metavar="NAME", help="run only these properties (repeatable)")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra constructor option for the target, e.g. amsgrad=True or "
                        "decoupled_weight_decay=True (torch), eps_placement='hat' (numpy); "
                        "repeatable")
    p.add_argument("--json", metavar="PATH", help="write the JSON report (schema version 1)")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args: argparse.Namespace) -> int:
    from .protocol import TargetError
    from .runner import check

    dtypes = args.only_dtype or ["float32", "float64", *args.dtype]
    dtypes = list(dict.fromkeys(dtypes))
    if args.seed < 0:
        print(f"adamproofs check: --seed={args.seed} must be >= 0", file=sys.stderr)
        return 2
    try:
        options = parse_options(args.option)
    except ValueError as err:
        print(f"adamproofs check: {err}", file=sys.stderr)
        return 2
    try:
        report = check(args.target, kind=args.kind, dtypes=dtypes, variant=args.variant,
                       profile=args.profile, seed=args.seed,
                       properties=args.properties or None, fail_fast=args.fail_fast,
                       device=args.device, progress=None if args.quiet else _progress,
                       options=options or None)
    except TargetError as err:
        print(f"adamproofs check: cannot load target {args.target!r}: {err}", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"adamproofs check: {err}", file=sys.stderr)
        return 2
    print(report.table())
    if args.json:
        report.write_json(args.json)
    return 0 if report.conforms else 1


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["amsgrad=True", "eps_placement=hat"]`` -> ``{"amsgrad": True, ...}`` (Python
    literals, anything else kept as a string)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--option {item!r} is not of the form KEY=VALUE")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m adamproofs.conformance.cli``."""
    parser = argparse.ArgumentParser(prog="adamproofs check", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
