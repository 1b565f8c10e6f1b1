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
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()


def available_cores() -> int:
    """Cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _check(n: object, what: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{what}={n!r} must be a positive int")
    return n


def default_num_threads() -> int:
    """``ADAMPROOFS_NUM_THREADS``, else ``OMP_NUM_THREADS``, else :func:`available_cores`."""
    for name in (_ENV, "OMP_NUM_THREADS"):
        env = os.environ.get(name)
        if env is None or env.strip() == "":
            continue
        try:
            value = int(env)
        except ValueError:
            if name == _ENV:
                raise ValueError(f"{_ENV}={env!r} must be a positive int") from None
            continue  # OpenMP allows lists ("4,2") for nested levels; not ours to judge
        return _check(value, name)
    return available_cores()


def set_num_threads(n: int | None) -> None:
    """Threads per step for large arrays (``None``: back to :func:`default_num_threads`)."""
    global _threads
    _threads = None if n is None else _check(n, "n")


def get_num_threads() -> int:
    """Threads a step may use."""
    return _threads if _threads is not None else default_num_threads()


def pool(n: int) -> ThreadPoolExecutor:
    """A shared executor with at least ``n`` workers (made once, grown when asked for more)."""
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="adamproofs")
            _pool_size = n
        return _pool
