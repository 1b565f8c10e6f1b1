"""What a pasted reproducer runs: one shrunk case of one property, judged again.

A reproducer (see :func:`~.report.reproducer`) is a script that calls :func:`main`; it exits
with status 1 while the implementation still fails the case, 0 once it passes, and 2 with a
message saying how to make the target importable when it cannot be loaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..dtypes import as_dtype
from ..variants import Variant
from ._model import Case, GradRows, Setup
from .protocol import Hyper, TargetError

__all__ = ["Hyper", "array", "import_root", "main"]


def array(values: Sequence[float], shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """``values`` (exact float64 literals) as an array of ``dtype`` and ``shape``."""
    return np.array(values, dtype=np.float64).astype(as_dtype(dtype)).reshape(shape)


def import_root(target: str, path: Sequence[str] | None = None) -> str | None:
    """The folder of ``path`` (default: the current directory, then ``sys.path``) that holds
    the top package or module of ``module.path:attr``, found on disk without importing it;
    None for a built-in target or one not found."""
    module = target.partition(":")[0]
    if ":" not in target or not module:
        return None
    parts = module.split(".")
    for folder in [os.getcwd(), *(sys.path if path is None else path)]:
        base = Path(folder or os.getcwd())
        inner = base.joinpath(*parts)
        if inner.with_suffix(".py").is_file() or (inner / "__init__.py").is_file():
            return str(base.resolve())
    return None


def main(
    target: str,
    prop: str,
    dtype: str,
    hyper: Hyper,
    *,
    params: list[np.ndarray],
    grads: GradRows,
    variant: dict[str, Any] | None = None,
    groups: list[tuple[Hyper, int]] | None = None,
    setup: Setup | None = None,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
) -> NoReturn:
    """Judge the case again and exit: 1 while property ``prop`` fails on it, 0 once it
    passes, 2 when the target cannot be loaded (with what to do about it). ``variant`` is
    what the case is judged against (default: the paper's Algorithm 1)."""
    sys.exit(
        run(
            target,
            prop,
            dtype,
            hyper,
            params=params,
            grads=grads,
            variant=variant,
            groups=groups,
            setup=setup,
            kind=kind,
            options=options,
        )
    )


def run(
    target: str,
    prop: str,
    dtype: str,
    hyper: Hyper,
    *,
    params: list[np.ndarray],
    grads: GradRows,
    variant: dict[str, Any] | None = None,
    groups: list[tuple[Hyper, int]] | None = None,
    setup: Setup | None = None,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
) -> int:
    """:func:`main` without the exit: the status it would exit with (messages on stdout)."""
    from ._targets import load_target
    from .properties import check_property

    try:
        impl = load_target(target, kind=kind, **(options or {}))
    except TargetError as err:
        print(f"reproducer: cannot load the target {target!r}: {err}")
        print(
            "make it importable: run this script with PYTHONPATH set to the folder that "
            "holds its top package, or pip install -e the project that provides it"
        )
        return 2
    case = Case(dtype, hyper, params=params, grads=grads, groups=groups, setup=setup)
    try:
        verdict = check_property(prop, impl, case, Variant(**(variant or {})))
    finally:
        close = getattr(impl, "close", None)
        if close is not None:
            close()
    if verdict.passed:
        print(f"passes: {prop!r} holds on this case ({dtype})")
        return 0
    f = verdict.finding
    print(f"FAILS: {prop!r} ({dtype}): " + (f.message if f is not None else "failed"))
    if f is not None and f.impl is not None:
        print("implementation:", repr(f.impl))
        print("oracle:        ", repr(f.exact))
    return 1
