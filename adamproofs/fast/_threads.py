"""How many threads a fast step may use, shared by the NumPy and the compiled backends.

The default is ``ADAMPROOFS_NUM_THREADS`` when that is set, else ``OMP_NUM_THREADS``
(which joblib's and Dask's workers set to their share of the cores, so a grid of
optimizers in parallel processes does not oversubscribe them), else every core this
process may run on (``os.sched_getaffinity``). Threads never change results: the update
is elementwise, so a thread only decides *which* elements it computes, not how.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

_ENV = "ADAMPROOFS_NUM_THREADS"
_threads: int | None = None
_default: int | None = None  # default_num_threads(), read once (it costs a syscall)
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()


def available_cores() -> int:
    """Cores this process may run on (the affinity of its main thread)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(os.getpid())))
    return max(1, os.cpu_count() or 1)


def _check(n: object, what: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{what}={n!r} must be a positive int")
    return n


def default_num_threads() -> int:
    """``ADAMPROOFS_NUM_THREADS``, else ``OMP_NUM_THREADS``, else :func:`available_cores`.

    A bad ``ADAMPROOFS_NUM_THREADS`` is an error; an ``OMP_NUM_THREADS`` that is not a
    positive int (OpenMP also allows lists such as ``"4,2"``) is other libraries' business
    and is skipped.
    """
    env = os.environ.get(_ENV)
    if env is not None and env.strip():
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"{_ENV}={env!r} must be a positive int") from None
        return _check(value, _ENV)
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) >= 1:
        return int(omp)
    return available_cores()


def set_num_threads(n: int | None) -> None:
    """Threads per step for large arrays (``None``: back to :func:`default_num_threads`)."""
    global _threads
    _threads = None if n is None else _check(n, "n")


def get_num_threads() -> int:
    """Threads a step may use. The default is read once, on first use (like
    ``NUMBA_NUM_THREADS``): a step asks for every group, or every array."""
    global _default
    if _threads is not None:
        return _threads
    if _default is None:
        _default = default_num_threads()
    return _default


def pool(n: int) -> ThreadPoolExecutor:
    """A shared executor with at least ``n`` workers.

    Growing it makes a new executor; the old one is never shut down, so a caller still
    holding it can submit safely (its idle workers exit when it is garbage-collected).
    """
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < n:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="adamproofs")
            _pool_size = n
        return _pool


def _after_fork_in_child() -> None:
    """A forked child inherits the pool object but none of its threads: start afresh."""
    global _pool, _pool_size, _lock, _default
    _pool, _pool_size, _lock, _default = None, 0, threading.Lock(), None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
