"""Drive a per-chunk NumPy kernel over whole flat arrays, on one thread or several.

A kernel of :mod:`adamproofs.fast._kernels` updates one chunk in place with ufuncs and
two chunk-sized scratch buffers. :func:`run_chunked_many` walks a group of arrays
(one step's parameters sharing one set of scalars) in chunks of ``chunk`` elements
(default: 512 KiB of the compute dtype, :func:`default_chunk`),
so the working set of one chunk (θ, g, the state and the scratch) stays in the
core's cache and a step allocates no parameter-sized temporary.

A group of at least :data:`PARALLEL_MIN` elements, in chunks that average at least
:data:`PARALLEL_MIN_PER_CALL` elements, is cut into one part per thread of about equal
size (:func:`partition`: whole arrays where they fit, large ones split at multiples of
:data:`SPLIT_GRANULE` elements), and the parts run concurrently: NumPy releases the GIL
inside each ufunc loop. Every element sees the same operations in the same order
whichever thread computes it, so the result is bit-identical for any thread count. Each
thread has its own scratch buffers: the extra memory of a step is two chunks per thread
(four when θ and g are converted to another compute dtype).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np

from . import _threads as _threads
from ._plan import Plan, Scalars

#: Bytes of one array in one chunk by default (:func:`default_chunk`). A chunk of θ, g,
#: m, v and two scratch buffers is then 3 MiB, in a core's L2/L3 share, and a ufunc call
#: on it lasts tens of µs, so Python's per-call cost and the GIL hand-offs between
#: threads stay small. Measured on a 2-core EPYC (10⁷ parameters, one run, interleaved):
#: float32 took 13.4 / 13.2 / 13.4 / 14.7 ms on one thread with 64K / 128K / 256K / 512K
#: elements per chunk, and 8.5-11.2 / 8.1-9.1 / 8.4-8.9 / 9.1-9.9 ms on two (three
#: runs); float64 32.1 / 32.5 ms on one thread with 64K / 128K, 18.4 / 19.5 ms on two.
#: Below 32K elements two threads were no faster than one (GIL hand-offs).
CHUNK_BYTES = 512 << 10

#: Groups with at least this many elements are split across threads ... (a 10⁶-element
#: float32 step takes about 1 ms on one thread; waking a worker and the GIL hand-offs
#: cost a sizeable part of that: in interleaved benchmark runs two threads took 1.3 ms)
PARALLEL_MIN = 1 << 20
#: ... if their ufunc calls average at least this many elements. Shorter calls spend
#: their time in Python, under the GIL, and two threads then run slower than one (1000
#: arrays of 1000 float32: 7.7 ms on one thread, 10.4 ms on two, on a 2-core EPYC).
PARALLEL_MIN_PER_CALL = 1 << 15

#: ``kernel(plan, scalars, p, g, state, w1, w2)``: one step on a chunk, in place.
ChunkKernel = Callable[..., None]
#: One array of a group: flat θ, flat g and the flat state arrays.
Item = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]
#: A piece of work: (index of the item, lo, hi) of its elements.
Piece = tuple[int, int, int]


def default_chunk(dtype: np.dtype) -> int:
    """Elements per chunk for a compute dtype: :data:`CHUNK_BYTES` of it (128K float32)."""
    return max(1, CHUNK_BYTES // np.dtype(dtype).itemsize)


#: Arrays are split between threads at multiples of this many elements (a cache line of
#: float64 and more): the split points decide only who computes what, never the bits.
SPLIT_GRANULE = 64


def partition(sizes: Sequence[int], chunk: int, threads: int) -> list[list[Piece]]:
    """Pieces of the arrays of ``sizes``, in order, cut into at most ``threads`` parts of
    about ``sum(sizes) / threads`` elements (each within one :data:`SPLIT_GRANULE` of
    the share rounded up to it); an array is split only at multiples of the granule from
    its start. Empty arrays are left out (no parts
    when all are empty). One part, unthreaded, below :data:`PARALLEL_MIN` elements or
    when the ``chunk``-sized ufunc calls would average under
    :data:`PARALLEL_MIN_PER_CALL` elements."""
    total = sum(sizes)
    if total == 0:
        return []
    whole = [[(i, 0, n) for i, n in enumerate(sizes) if n]]
    calls = sum(-(-n // chunk) for n in sizes)
    if threads <= 1 or total < PARALLEL_MIN or total < PARALLEL_MIN_PER_CALL * calls:
        return whole
    g = SPLIT_GRANULE
    share = -(-total // threads)
    target = -(-share // g) * g  # the share, rounded up to the granule
    parts: list[list[Piece]] = [[]]
    room = target
    for i, n in enumerate(sizes):
        lo = 0
        while lo < n:
            if room <= 0:
                parts.append([])
                room = target
            take = n - lo
            if take > room:  # split at the granule boundary at or after `room`
                take = min(take, -(-room // g) * g)
            parts[-1].append((i, lo, lo + take))
            room -= take
            lo += take
    return [p for p in parts if p] or whole


def run_chunked_many(
    kernel: ChunkKernel,
    plan: Plan,
    s: Scalars,
    items: Sequence[Item],
    *,
    chunk: int | None = None,
    compute_dtype: np.dtype | None = None,
    threads: int | None = None,
) -> None:
    """Apply ``kernel`` to every item, chunk by chunk, in place (see the module docstring).

    ``chunk`` defaults to :func:`default_chunk` of the compute dtype. ``compute_dtype``
    (default: the first θ's dtype) is the state's dtype: when θ's
    differs, each chunk of θ and g is converted to it and θ is rounded back. The calling
    thread's NumPy error state (``np.errstate``, with its ``call`` handler) applies on
    every thread; an exception in any part is raised here after every part has finished.
    """
    if not items:
        return
    dt = np.dtype(compute_dtype) if compute_dtype is not None else items[0][0].dtype
    chunk = default_chunk(dt) if chunk is None else chunk
    ops = s.operands(dt)
    n_threads = _threads.get_num_threads() if threads is None else threads
    parts = partition([p.shape[0] for p, _, _ in items], chunk, n_threads)
    if not parts:
        return
    if len(parts) == 1:
        _run_part(kernel, plan, ops, items, parts[0], chunk, dt)
        return
    err, call = np.geterr(), np.geterrcall()  # "call" mode needs its handler too
    handler: Any = call

    def work(part: list[Piece]) -> None:
        with np.errstate(call=handler, **err):
            _run_part(kernel, plan, ops, items, part, chunk, dt)

    pool = _threads.pool(len(parts) - 1)
    futures: list[Future[Any]] = []
    try:
        futures += [pool.submit(work, part) for part in parts[1:]]
        _run_part(kernel, plan, ops, items, parts[0], chunk, dt)
    finally:
        for f in futures:  # wait for every part before returning (or raising)
            f.exception()
    for f in futures:
        f.result()  # re-raise a worker's exception in the caller


def run_chunked(
    kernel: ChunkKernel,
    plan: Plan,
    s: Scalars,
    p: np.ndarray,
    g: np.ndarray,
    state: dict[str, np.ndarray],
    *,
    chunk: int | None = None,
    compute_dtype: np.dtype | None = None,
    threads: int | None = None,
) -> None:
    """:func:`run_chunked_many` for one array."""
    run_chunked_many(
        kernel, plan, s, [(p, g, state)], chunk=chunk, compute_dtype=compute_dtype, threads=threads
    )


def _run_part(
    kernel: ChunkKernel,
    plan: Plan,
    s: Scalars,
    items: Sequence[Item],
    part: list[Piece],
    chunk: int,
    dt: np.dtype,
) -> None:
    c = max(1, min(chunk, max(hi - lo for _, lo, hi in part)))
    w1 = np.empty(c, dtype=dt)
    w2 = np.empty(c, dtype=dt)
    pc: Any = None  # conversion buffers for θ and g, made when first needed
    gc: Any = None
    for i, lo, hi in part:
        p, g, state = items[i]
        convert = p.dtype != dt
        if convert and pc is None:
            pc, gc = np.empty(c, dtype=dt), np.empty(c, dtype=dt)
        for start in range(lo, hi, c):
            stop = min(start + c, hi)
            k = stop - start
            if start == 0 and stop == p.shape[0]:  # a whole array: no views to make
                pk, gk, views = p, g, state
            else:
                pk, gk = p[start:stop], g[start:stop]
                views = {name: a[start:stop] for name, a in state.items()}
            wa, wb = (w1, w2) if k == c else (w1[:k], w2[:k])
            if convert:
                pw, gw = pc[:k], gc[:k]
                pw[...] = pk
                gw[...] = gk
                kernel(plan, s, pw, gw, views, wa, wb)
                pk[...] = pw  # round θ back to its dtype
            else:
                kernel(plan, s, pk, gk, views, wa, wb)
