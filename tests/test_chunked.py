"""The chunk driver of the NumPy backend: spans, threads, error state, bit-identity."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adamproofs import Adam
from adamproofs.config import SGD, AdaGrad, AdaMax, Momentum, Nesterov, RMSProp
from adamproofs.fast import Optimizer, get_num_threads, set_num_threads, threads
from adamproofs.fast.chunked import PARALLEL_MIN, run_chunked, spans
from adamproofs.fast.kernels import scalars

N = PARALLEL_MIN + 4321  # large enough to be split, not a multiple of any chunk


@given(n=st.integers(0, 4 * PARALLEL_MIN), chunk=st.integers(1, 1 << 16),
       t=st.integers(1, 8))
def test_spans_tile_the_array_at_chunk_boundaries(n: int, chunk: int, t: int) -> None:
    parts = spans(n, chunk, t)
    assert parts[0][0] == 0 and parts[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(parts))  # contiguous, no overlap
    assert all(lo % chunk == 0 and lo < hi for lo, hi in parts if n)
    assert len(parts) <= t
    if n < PARALLEL_MIN or t == 1:
        assert parts == [(0, n)]


def _run(cfg, n_threads: int, dtype: str = "float32", state_dtype="auto",
         chunk: int = 1 << 15, steps: int = 3) -> Optimizer:
    rng = np.random.default_rng(7)
    p = rng.standard_normal(N).astype(dtype)
    gs = [(rng.standard_normal(N) * 10.0 ** rng.integers(-6, 2, N)).astype(dtype)
          for _ in range(steps)]
    gs[1][::97] = 0  # exact zeros (0/0 := 0 when ε = 0)
    opt = Optimizer(cfg, [p], backend="numpy", state_dtype=state_dtype, chunk_size=chunk)
    set_num_threads(n_threads)
    try:
        with np.errstate(all="ignore"):
            for g in gs:
                opt.step([g])
    finally:
        set_num_threads(None)
    return opt


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"u{a.dtype.itemsize}")


CONFIGS = [
    Adam(),
    Adam(eps=0.0, amsgrad="max_corrected", weight_decay=0.1, decay="l2", maximize=True),
    Adam(eps_placement="root", amsgrad="max_raw", weight_decay=0.01, decay="decoupled"),
    Adam(eps_placement="hat", bias_correction=False, weight_decay=0.01,
         decay="decoupled_after"),
    AdaMax(), SGD(lr=0.1), Momentum(lr=0.1), Nesterov(lr=0.1), AdaGrad(), RMSProp(),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: repr(c)[:60])
def test_thread_count_does_not_change_a_single_bit(cfg) -> None:
    one = _run(cfg, 1, chunk=5000)
    for t in (2, 3):
        many = _run(cfg, t, chunk=5000)
        assert np.array_equal(_bits(one.params[0]), _bits(many.params[0])), t
        for name in one.state[0]:
            assert np.array_equal(_bits(one.state[0][name]), _bits(many.state[0][name])), name


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_threads_with_a_converted_compute_dtype(dtype: str) -> None:
    if dtype == "bfloat16":
        pytest.importorskip("ml_dtypes")
        import ml_dtypes

        dtype = ml_dtypes.bfloat16
    one, two = _run(Adam(), 1, dtype=dtype), _run(Adam(), 2, dtype=dtype)
    assert one.state[0]["m"].dtype == np.float32  # "auto": float32 state and arithmetic
    assert np.array_equal(_bits(one.params[0]), _bits(two.params[0]))


def test_spans_run_on_several_threads() -> None:
    seen: set[int] = set()
    barrier = threading.Barrier(2, timeout=10)  # both spans must be in flight at once

    def kernel(cfg, s, p, g, st_, w1, w2) -> None:
        if threading.get_ident() not in seen:
            seen.add(threading.get_ident())
            barrier.wait()
        np.subtract(p, g, p)

    p = np.zeros(2 * PARALLEL_MIN, np.float32)
    g = np.ones_like(p)
    run_chunked(kernel, SGD(), scalars(SGD(), 1, p.dtype), p, g, {}, chunk=1 << 15, threads=2)
    assert len(seen) == 2
    assert np.all(p == -1)


def test_caller_error_state_applies_in_worker_threads() -> None:
    cfg = Adam()
    p = np.zeros(N, np.float32)
    g = np.ones(N, np.float32)
    g[-1] = np.float32(1e30)  # g² overflows in the last span (a worker thread)
    opt = Optimizer(cfg, [p], backend="numpy")
    set_num_threads(2)
    try:
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            opt.step([g])
    finally:
        set_num_threads(None)


def test_kernel_exceptions_reach_the_caller() -> None:
    def kernel(cfg, s, p, g, st_, w1, w2) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("boom in a worker")

    p = np.zeros(2 * PARALLEL_MIN, np.float32)
    with pytest.raises(RuntimeError, match="boom in a worker"):
        run_chunked(kernel, SGD(), scalars(SGD(), 1, p.dtype), p, p.copy(), {},
                    chunk=PARALLEL_MIN, threads=2)


def test_thread_setting_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADAMPROOFS_NUM_THREADS", "3")
    assert threads.default_num_threads() == 3
    monkeypatch.setenv("ADAMPROOFS_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="ADAMPROOFS_NUM_THREADS='zero'"):
        threads.default_num_threads()
    monkeypatch.delenv("ADAMPROOFS_NUM_THREADS")
    assert threads.default_num_threads() == threads.available_cores()
    set_num_threads(1)
    try:
        assert get_num_threads() == 1
    finally:
        set_num_threads(None)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="must be a positive int"):
            threads.set_num_threads(bad)
