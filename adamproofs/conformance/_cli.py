"""``adamproofs check [TARGET]``: the conformance suite on the command line.

Exit status: 0 when every selected row was judged and passed and the report (``--json``)
was written; 1 does not conform; 2 usage error (checked before anything runs, the
``--json`` path included), the target cannot be loaded (for instance its framework is not
installed), or the report could not be written; 130 interrupted (Ctrl-C; no report is
written).
"""

from __future__ import annotations

import argparse
import ast
import sys
from typing import Any

from ..variants import AXES, NAMED
from ._features import FEATURES
from ._report import writable
from ._runner import Checker, parse_isolation
from ._targets import BUILTINS, KINDS
from .properties import PROPERTIES
from .protocol import TargetError, UsageError

_AXIS_HELP = "\n".join(f"  {a.name}={'|'.join(a.choices)}  ({a.doc})" for a in AXES.values())

EPILOG = f"""\
TARGET is a built-in ({", ".join(BUILTINS)}; default numpy) or module.path:attr, where
attr is a torch.optim.Optimizer subclass, an optax GradientTransformation factory, a Keras
optimizer class, an MLX, tinygrad or TensorFlow optimizer, a functional optimizer (a
jax.example_libraries-style triple factory, or a step-function factory returning (init, step)),
or a plain class/factory taking (params, *, lr, beta1, beta2, eps, weight_decay) with a
step(grads) method (see adamproofs.conformance.protocol and .adapters.functional).

--variant NAME[,axis=value...] requires a variant; NAME is one of {", ".join(NAMED)}
(a name also requires decay=l2 and step_scope=param unless overridden, e.g.
paper,decay=decoupled). Without it, any known variant passes. Axes:
{_AXIS_HELP}

--option KEY=VALUE goes to the target's adapter or constructor. The checker sets the
hyperparameters itself (lr, betas, eps, weight_decay, ...): such an option, or one the target
does not take, is a usage error. An option naming a variant axis (amsgrad=True,
decay=decoupled, decoupled_weight_decay=True, eps_root=...) is a claim: the fingerprint must
detect it.

--without FEATURE[,FEATURE...] leaves a feature out of the generated cases (and skips the
properties that need it): {", ".join(FEATURES)}. When most failures share one
feature, the report says so and judges the other failing properties without it.

The default output fits one screen (verdict, variant and its evidence, diagnosis, one
line per failing property, the smallest reproducer); --verbose prints every row and
every reproducer. A reproducer exits 1 while the defect is present, 0 once it is fixed.

Properties: {", ".join(PROPERTIES)}.
Exit status: 0 every selected row judged and passed (and --json written), 1 does not
conform, 2 usage error or target cannot be loaded or report not written, 130 interrupted.
"""


def register(subparsers: Any) -> None:
    """Add the ``check`` sub-command."""
    p = subparsers.add_parser(
        "check",
        help="check an Adam implementation against the reference",
        description="Check an Adam implementation against the arbitrary-precision reference.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``check`` options (shared by ``adamproofs check`` and ``python -m``)."""
    p.add_argument("target", nargs="?", default="numpy", metavar="TARGET")
    p.add_argument(
        "--kind", metavar="{" + ",".join(KINDS) + "}", help="force the adapter for module.path:attr"
    )
    p.add_argument("--variant", help="require a variant, e.g. paper or eps_hat,decay=decoupled")
    p.add_argument(
        "--dtype",
        action="append",
        default=[],
        metavar="DTYPE",
        help="add a dtype to float32 and float64 (float16, bfloat16); repeatable",
    )
    p.add_argument(
        "--only-dtype",
        action="append",
        default=[],
        metavar="DTYPE",
        help="check only these dtypes (repeatable)",
    )
    p.add_argument(
        "--profile",
        default="default",
        metavar="{quick,default,thorough}",
        help="examples per property (default: default)",
    )
    p.add_argument("--seed", default="0", help="hypothesis seed, a non-negative int (default 0)")
    p.add_argument(
        "--property",
        action="append",
        default=[],
        dest="properties",
        metavar="NAME",
        help="run only these properties (repeatable)",
    )
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra constructor option for the target, e.g. amsgrad=True or "
        "decoupled_weight_decay=True (torch), eps_placement='hat' (numpy); "
        "repeatable",
    )
    p.add_argument("--json", metavar="PATH", help="write the JSON report (schema version 2)")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    p.add_argument(
        "--timeout",
        metavar="SECONDS",
        help="deadline for each call of the target: import, construction, one step, "
        "a checkpoint (default 60); past it the call fails and the worker "
        "process is restarted",
    )
    p.add_argument(
        "--memory-limit",
        metavar="MIB",
        help="address space the target's worker may add, in MiB (default: none)",
    )
    p.add_argument(
        "--in-process",
        action="store_true",
        help="run the target in this process (no deadline, no crash protection)",
    )
    p.add_argument(
        "--without",
        metavar="FEATURE[,FEATURE...]",
        help="leave these features out of the generated cases (one of "
        f"{', '.join(FEATURES)}); repeatable",
        action="append",
        default=[],
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="print the full table, every finding and every reproducer (default: one screen)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:  # a report being written is left as it was (atomic write)
        return _fail("interrupted; no report written", 130)


def _run(args: argparse.Namespace) -> int:
    try:
        checker, json_path = _checker(args)
        checker.implementation()
    except UsageError as err:
        return _fail(str(err))
    except TargetError as err:
        return _fail(f"cannot load target {args.target!r}: {err}")
    report = checker.run(progress=None if args.quiet else _progress)
    print(report.table() if args.verbose else report.summary())
    if json_path is not None:
        try:
            report.write_json(json_path)
        except OSError as err:
            return _fail(f"cannot write the report to {json_path!r}: {err}")
    return 0 if report.conforms else 1


def _checker(args: argparse.Namespace) -> tuple[Checker, str | None]:
    """The :class:`Checker` for the command line, every setting (``--json`` too) checked."""
    if args.json is not None:
        problem = writable(args.json)
        if problem is not None:
            raise UsageError(f"--json {args.json!r}: cannot write the report there: {problem}")
    dtypes = args.only_dtype or ["float32", "float64", *args.dtype]
    checker = Checker(
        args.target,
        kind=args.kind,
        dtypes=list(dict.fromkeys(dtypes)),
        variant=args.variant,
        profile=args.profile,
        seed=args.seed,
        properties=args.properties or None,
        fail_fast=args.fail_fast,
        device=args.device,
        options=parse_options(args.option),
        isolation=parse_isolation(args.timeout, args.memory_limit, args.in_process),
        without=[name for item in args.without for name in item.split(",")],
    )
    return checker, args.json


def _fail(message: str, status: int = 2) -> int:
    print(f"adamproofs check: {message}", file=sys.stderr)
    return status


def parse_options(items: list[str]) -> dict[str, Any]:
    """``["amsgrad=True", "eps_placement=hat"]`` -> ``{"amsgrad": True, ...}`` (Python
    literals, anything else kept as a string)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise UsageError(f"--option {item!r} is not of the form KEY=VALUE")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m adamproofs.conformance._cli``."""
    parser = argparse.ArgumentParser(
        prog="adamproofs check", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
