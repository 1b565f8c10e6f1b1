"""Driving an implementation through a case: θ after every step, failures recorded."""

from __future__ import annotations

import traceback
import warnings
from typing import Any

import numpy as np

from ..dtypes import as_dtype
from .model import Case, Run
from .protocol import InputMutated


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise-equal values (NaN equal to NaN)."""
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.all(
        (a == b) | (np.isnan(a.astype(np.float64)) & np.isnan(b.astype(np.float64)))))


def _format_exception(err: BaseException) -> str:
    tb = traceback.format_exception(type(err), err, err.__traceback__)
    return "".join(tb[-6:]).strip()


def drive(impl: Any, case: Case, *, session: Any = None, start: int = 0,
          stop: int | None = None) -> Run:
    """Run ``impl`` on ``case``; record θ after every step. Never raises for the
    implementation's own errors: they are stored in :attr:`Run.error`."""
    dtype = as_dtype(case.dtype)
    params0 = [p.copy() for p in case.params]
    thetas: list[list[np.ndarray]] = []
    grads: list[list[np.ndarray | None]] = []
    run = Run(thetas=thetas, grads=grads)
    step_no = start
    try:
        if session is None:
            if case.groups:
                groups, k = [], 0
                for hyper, count in case.groups:
                    groups.append((hyper, [p.copy() for p in case.params[k:k + count]]))
                    k += count
                session = impl.create_groups(groups, dtype)
            else:
                session = impl.create(case.hyper, [p.copy() for p in case.params], dtype)
        thetas.append(_checked_params(session.params(), case))
        end = case.n_steps if stop is None else stop
        for k in range(start, end):
            step_no = k + 1
            if case.grad_fn is not None:
                g = case.grad_fn([p.copy() for p in thetas[-1]], k + 1)
            else:
                g = case.grads[k]
            g = [None if x is None else np.asarray(x, dtype=dtype) for x in g]
            given = [None if x is None else x.copy() for x in g]
            with warnings.catch_warnings():  # NaN/inf warnings of the implementation's own
                warnings.simplefilter("ignore", RuntimeWarning)
                session.step(list(given))
            for i, (x, y) in enumerate(zip(g, given, strict=True)):
                if x is not None and not same_bits(x, y):
                    raise InputMutated(f"step() wrote into the gradient array of params[{i}]")
            grads.append(g)
            thetas.append(_checked_params(session.params(), case))
    except InputMutated as err:
        run.mutated = str(err)
        run.error_step = step_no
    except Exception as err:  # the implementation's own failure, reported, never raised
        run.error = _format_exception(err)
        run.error_step = step_no
    for i, (p, q) in enumerate(zip(case.params, params0, strict=True)):
        if not same_bits(p, q):
            run.mutated = f"the initial value of params[{i}] given to create() was modified"
    run.session = session  # type: ignore[attr-defined]
    return run


def _checked_params(values: Any, case: Case) -> list[np.ndarray]:
    dtype = as_dtype(case.dtype)
    out = []
    values = list(values)
    if len(values) != len(case.params):
        raise ValueError(f"params() returned {len(values)} arrays for {len(case.params)} "
                         "parameters")
    for i, (v, p) in enumerate(zip(values, case.params, strict=True)):
        arr = np.asarray(v)
        if arr.shape != p.shape:
            raise ValueError(f"params()[{i}] has shape {arr.shape}; expected {p.shape}")
        if arr.dtype != dtype:
            raise ValueError(f"params()[{i}] has dtype {arr.dtype}; expected {dtype} "
                             "(the implementation changed the parameter's dtype)")
        out.append(arr.copy())
    return out
