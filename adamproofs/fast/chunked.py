"""Drive a per-chunk NumPy kernel over whole flat arrays, on one thread or several.

A kernel of :mod:`adamproofs.fast.kernels` updates one chunk in place with ufuncs and
two chunk-sized scratch buffers. :func:`run_chunked` walks the arrays in chunks of
``chunk`` elements, so the working set of one chunk (θ, g, the state and the scratch)
stays in the core's cache and a step allocates no parameter-sized temporary.

Arrays of at least :data:`PARALLEL_MIN` elements are cut into one contiguous span
per thread (:mod:`adamproofs.fast.threads`); NumPy releases the GIL inside each
ufunc loop, so the spans run concurrently. Every element sees the same operations
in the same order whichever thread computes it, so the result is bit-identical for
any thread count. Each thread has its own scratch buffers: the extra memory of a
step is at most four chunks per thread.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np

from ..config import OptimizerConfig
from . import threads as _threads
from .kernels import Scalars

#: Arrays with at least this many elements are split across threads.
PARALLEL_MIN = 1 << 17

ChunkKernel = Callable[..., None]


def spans(n: int, chunk: int, threads: int) -> list[tuple[int, int]]:
    """Contiguous ``[lo, hi)`` spans, one per thread, cut at multiples of ``chunk``."""
    if threads <= 1 or n < PARALLEL_MIN:
        return [(0, n)]
    chunks = -(-n // chunk)
    per = -(-chunks // min(threads, chunks)) * chunk
    return [(lo, min(lo + per, n)) for lo in range(0, n, per)]


def run_chunked(kernel: ChunkKernel, cfg: OptimizerConfig, s: Scalars, p: np.ndarray,
                g: np.ndarray, state: dict[str, np.ndarray], *, chunk: int,
                compute_dtype: np.dtype | None = None, threads: int | None = None) -> None:
    """Apply ``kernel`` to flat ``p``, ``g`` and ``state`` chunk by chunk, in place.

    ``compute_dtype`` (default ``p.dtype``) is the state's dtype: when it differs, each
    chunk of θ and g is converted to it, and θ is rounded back once per step. The
    calling thread's NumPy error state (``np.errstate``) applies on every thread.
    """
    n = p.shape[0]
    dt = np.dtype(compute_dtype) if compute_dtype is not None else p.dtype
    ops = s if isinstance(s.lr, np.ndarray) else s.operands()
    parts = spans(n, chunk, _threads.get_num_threads() if threads is None else threads)
    if len(parts) == 1:
        _run_span(kernel, cfg, ops, p, g, state, 0, n, chunk, dt)
        return
    err = np.geterr()

    def work(lo: int, hi: int) -> None:
        with np.errstate(**err):
            _run_span(kernel, cfg, ops, p, g, state, lo, hi, chunk, dt)

    pool = _threads.pool(len(parts) - 1)
    futures: list[Future[Any]] = [pool.submit(work, lo, hi) for lo, hi in parts[1:]]
    try:
        _run_span(kernel, cfg, ops, p, g, state, parts[0][0], parts[0][1], chunk, dt)
    finally:
        for f in futures:  # wait for every span before returning (or raising)
            f.exception()
    for f in futures:
        f.result()  # re-raise a worker's exception in the caller


def _run_span(kernel: ChunkKernel, cfg: OptimizerConfig, s: Scalars, p: np.ndarray,
              g: np.ndarray, state: dict[str, np.ndarray], lo: int, hi: int, chunk: int,
              dt: np.dtype) -> None:
    c = min(chunk, max(hi - lo, 1))
    w1 = np.empty(c, dtype=dt)
    w2 = np.empty(c, dtype=dt)
    names, arrays = tuple(state), tuple(state.values())
    convert = p.dtype != dt
    if convert:
        pc = np.empty(c, dtype=dt)
        gc = np.empty(c, dtype=dt)
    for start in range(lo, hi, c):
        stop = min(start + c, hi)
        k = stop - start
        views = {name: a[start:stop] for name, a in zip(names, arrays)}
        if k != c:
            w1, w2 = w1[:k], w2[:k]
        if convert:
            pk, gk = pc[:k], gc[:k]
            pk[...] = p[start:stop]
            gk[...] = g[start:stop]
            kernel(cfg, s, pk, gk, views, w1, w2)
            p[start:stop] = pk  # round θ back to its dtype
        else:
            kernel(cfg, s, p[start:stop], g[start:stop], views, w1, w2)
