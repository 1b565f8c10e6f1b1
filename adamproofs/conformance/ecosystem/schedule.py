"""Run cells on ``dask.distributed``: each cell a task, run in a cell process of its
library's environment (:mod:`.processes`: one per worker thread and implementation, reused
for ``cells_per_process`` cells).

A property cell's task takes its fingerprint cell's future as an argument, so Dask runs the
fingerprint first and once. A cell whose process died (a signal, or an exit without a
result) raises :class:`CellCrashed`, which Dask retries (``retries=``); a cell whose Dask worker
died is rescheduled by the scheduler (``distributed.scheduler.allowed-failures``). A timeout is
the cell's result (``error``), not retried: it would time out again. Results come back keyed
by the cell, so the document does not depend on how many workers ran them or in what order.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cells import Cell
from .config import Library
from .envs import EnvError, Interpreter, ensure_env
from .processes import CellCrashed, CellTimedOut, run_in_process

__all__ = ["CellCrashed", "Job", "execute", "local_client", "remote_client", "run_cell"]


@dataclass(frozen=True)
class Job:
    """A cell with everything its task needs."""

    cell: Cell
    request: Mapping[str, Any]
    library: Library | None  # None: run in ``interpreter`` as it is (--current-env)
    interpreter: Interpreter | None
    env_root: str
    timeout: float
    cells_per_process: int = 1


def interpreter_for(job: Job) -> Interpreter:
    """The job's interpreter, its library's environment built here if missing."""
    if job.library is None:
        assert job.interpreter is not None
        return job.interpreter
    return ensure_env(job.library, Path(job.env_root))


def run_cell(job: Job, fingerprint: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run ``job`` in a cell process of its library (a Dask task); a property cell gets its
    fingerprint's result and runs only when that is ``checked``."""
    started = time.perf_counter()
    request = dict(job.request)
    if fingerprint is not None:
        if fingerprint.get("status") != "checked":
            return {
                "status": fingerprint.get("status", "error"),
                "error": fingerprint.get("error"),
                "seconds": 0.0,
            }
        request["judged_by"] = fingerprint["judged_by"]
    try:
        interpreter = interpreter_for(job)
    except EnvError as err:
        return {"status": "not installed", "error": str(err), "seconds": 0.0}
    try:
        result = run_in_process(
            interpreter,
            request,
            timeout=job.timeout,
            cells_per_process=job.cells_per_process,
            implementation=job.cell.entry,
        )
    except CellTimedOut as err:
        return {
            "status": "error",
            "error": str(err),
            "seconds": round(time.perf_counter() - started, 1),
        }
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


Runner = Callable[..., dict[str, Any]]


def execute(
    client: Any,
    jobs: list[Job],
    *,
    retries: int = 2,
    runner: Runner = run_cell,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every job's result, keyed by :attr:`Cell.key`; a task that failed for good (its
    retries spent) gives ``{"status": "error", "error": ...}``."""
    from distributed import as_completed

    say = progress or (lambda line: None)
    token = uuid.uuid4().hex[:8]  # keys unique on a shared scheduler
    by_cell = {job.cell: job for job in jobs}
    futures: dict[Cell, Any] = {}
    for job in sorted(jobs, key=lambda j: (j.cell.prop is not None, j.cell.key)):
        cell = job.cell
        key = f"{cell.key}#{token}"
        if cell.prop is None:
            futures[cell] = client.submit(
                runner, job, key=key, retries=retries, pure=False, priority=10
            )
        else:
            parent = futures.get(cell.fingerprint)
            if parent is None:
                raise ValueError(f"{cell.key}: its fingerprint cell is not among the jobs")
            futures[cell] = client.submit(runner, job, parent, key=key, retries=retries, pure=False)
    cells_of = {fut.key: cell for cell, fut in futures.items()}
    results: dict[str, dict[str, Any]] = {}
    total = len(futures)
    for done, fut in enumerate(as_completed(list(futures.values())), 1):
        cell = cells_of[fut.key]
        try:
            result = fut.result()
        except Exception as err:
            result = {"status": "error", "error": f"{type(err).__name__}: {err}", "seconds": None}
        results[cell.key] = result
        state = result.get("verdict") or result.get("status")
        say(f"[{done}/{total}] {cell.key}: {state}")
    assert set(results) == {c.key for c in by_cell}
    return dict(sorted(results.items()))


def local_client(workers: int, retries: int) -> Any:
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes and its client;
    a dead worker's cell is rescheduled up to ``retries`` times."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: several runs may share a machine
            silence_logs=logging.ERROR,
        )
    return Client(cluster)


def remote_client(address: str) -> Any:
    """A client of the scheduler at ``address`` (its workers must see this checkout at the
    same path and may build the libraries' environments themselves)."""
    from distributed import Client

    return Client(address)


def log(line: str) -> None:
    """Progress, on stderr."""
    print(line, file=sys.stderr, flush=True)
