"""Shared helpers of the framework-adapter tests: trajectories, the error model, checks.

Every expected value comes from the reference (mpmath) and the written error model
(:mod:`adamproofs.tolerance`), never from the framework's own output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adamproofs import reference
from adamproofs.config import Adam
from adamproofs.conformance._runner import check
from adamproofs.conformance.protocol import Hyper, Implementation
from adamproofs.tolerance import error_bound


def trajectory(
    impl: Implementation, hyper: Hyper, theta0: np.ndarray, grads: list[np.ndarray], dtype: str
) -> np.ndarray:
    """θ after every step of one parameter, shape (T+1, n), as float64."""
    dt = np.dtype(dtype)
    session = impl.create(hyper, [np.asarray(theta0, dtype=dt)], dt)
    rows = [session.params()[0]]
    for g in grads:
        session.step([np.asarray(g, dtype=dt)])
        rows.append(session.params()[0])
    return np.stack(rows).astype(np.float64)


def excess(
    cfg: Adam, theta0: np.ndarray, grads: list[np.ndarray], actual: np.ndarray, dtype: str
) -> float:
    """The worst error of ``actual`` over the error bound of ``cfg``'s exact trajectory
    (≤ 1: within the bound)."""
    exact = reference.run(cfg, theta0, grads, dps=40).to_numpy("float64")
    bound = error_bound(cfg, exact, compute_dtype=dtype)
    return float(bound.excess(actual, exact["theta"]).max())


def run_check(target: Any, **settings: Any) -> dict[str, Any]:
    """The checker's JSON report for ``target`` (quick profile, in this process)."""
    settings = {"profile": "quick", "progress": None, "isolation": None, **settings}
    return check(target, **settings).as_dict()


def verdicts(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    """``(property, dtype) -> verdict`` of a report."""
    return {(r["property"], r["dtype"]): r["verdict"] for r in report["results"]}


def message(report: dict[str, Any], prop: str, dtype: str) -> str:
    """The finding's message (or the note) of one row."""
    row = next(r for r in report["results"] if r["property"] == prop and r["dtype"] == dtype)
    return str((row["finding"] or {}).get("message") or row["note"] or "")
