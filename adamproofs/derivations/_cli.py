"""``adamproofs derive``: list the derivations, or check and print some of them.

Exit status: 0 when every printed derivation verified, 1 when any step failed its
check, 2 for an unknown name or bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time

from ._registry import DERIVATIONS, derive
from ._render import RENDERERS, render


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "derive",
        help="print Adam's derivations, every step checked",
        description="Without NAME: list the derivations. With NAMEs (or --all): build them, "
        "checking every step with sympy, mpmath or the reference optimizer, and "
        "print them. Exit 1 if any step fails to verify.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="derivation names")
    parser.add_argument("--all", action="store_true", help="every derivation, in order")
    parser.add_argument(
        "--format", choices=tuple(RENDERERS), default="text", help="output format (default: text)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    names = list(DERIVATIONS) if args.all else list(args.names)
    if not names:
        width = max(len(name) for name in DERIVATIONS)
        for name, entry in DERIVATIONS.items():
            print(f"{name.ljust(width)}  {entry.title}")
        return 0
    unknown = [name for name in names if name not in DERIVATIONS]
    if unknown:
        print(
            f"adamproofs derive: unknown derivation(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(DERIVATIONS)}",
            file=sys.stderr,
        )
        return 2
    failed = []
    for k, name in enumerate(names, start=1):
        start = time.perf_counter()
        if not args.quiet:
            print(f"[{k}/{len(names)}] checking {name} ...", end="", file=sys.stderr, flush=True)
        derivation = derive(name)
        if not args.quiet:
            status = "ok" if derivation.verified else "FAILED"
            print(f" {status} ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
        if not derivation.verified:
            failed.append(name)
        sys.stdout.write(render(derivation, args.format))
        if k < len(names):
            sys.stdout.write("\n")
    if failed:
        print(f"adamproofs derive: steps failed to verify in {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
