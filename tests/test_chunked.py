"""The chunk driver of the NumPy backend: spans, threads, error state, bit-identity."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adamproofs import Adam
from adamproofs.config import SGD, AdaGrad, AdaMax, Momentum, Nesterov, RMSProp
from adamproofs.fast import Optimizer, default_chunk, get_num_threads, set_num_threads
from adamproofs.fast import _threads as threads
from adamproofs.fast._chunked import (
    PARALLEL_MIN,
    PARALLEL_MIN_PER_CALL,
    SPLIT_GRANULE,
    partition,
    run_chunked,
)
from adamproofs.fast._kernels import kernel_for
from adamproofs.fast._plan import Scalars, compile_plan


def plan_of(cfg, dtype=np.float32):
    return compile_plan(cfg, dtype)


def kernel_of(cls):
    return kernel_for(plan_of(cls()))


N = PARALLEL_MIN + 4321  # large enough to be split, not a multiple of any chunk
CHUNK = PARALLEL_MIN_PER_CALL * 5 // 4  # long enough calls to be split across threads


@given(
    sizes=st.lists(st.integers(0, 3 * PARALLEL_MIN), max_size=12),
    chunk=st.integers(1, 1 << 16),
    t=st.integers(1, 8),
)
def test_partition_covers_every_element_once_in_balanced_parts(sizes, chunk, t) -> None:
    parts = partition(sizes, chunk, t)
    assert len(parts) <= t and all(parts)
    assert (len(parts) >= 1) == (sum(sizes) > 0)
    covered = {i: [] for i in range(len(sizes))}
    for i, lo, hi in (piece for part in parts for piece in part):
        assert 0 <= lo < hi <= sizes[i]
        assert lo % SPLIT_GRANULE == 0  # split only at granule boundaries of the array
        covered[i].append((lo, hi))
    for i, n in enumerate(sizes):  # in order, contiguous, complete, no overlap
        spans = covered[i]
        assert [lo for lo, _ in spans] == [0, *(hi for _, hi in spans[:-1])] if n else not spans
        assert (spans[-1][1] if spans else 0) == n
    total = sum(sizes)
    calls = sum(-(-n // chunk) for n in sizes)
    if total and (t == 1 or total < PARALLEL_MIN or total < PARALLEL_MIN_PER_CALL * calls):
        assert len(parts) == 1
    elif total:  # balanced: every part within one granule of the ideal share
        share = -(-total // t)
        target = -(-share // SPLIT_GRANULE) * SPLIT_GRANULE
        sizes_of = [sum(hi - lo for _, lo, hi in part) for part in parts]
        assert max(sizes_of) < target + SPLIT_GRANULE
        assert all(size >= target for size in sizes_of[:-1])  # only the last part is short


def _run(
    cfg,
    n_threads: int,
    dtype: str = "float32",
    state_dtype="auto",
    chunk: int = CHUNK,
    steps: int = 3,
) -> Optimizer:
    rng = np.random.default_rng(7)
    p = rng.standard_normal(N).astype(dtype)
    gs = [
        (rng.standard_normal(N) * 10.0 ** rng.integers(-6, 2, N)).astype(dtype)
        for _ in range(steps)
    ]
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
    Adam(eps_placement="hat", bias_correction=False, weight_decay=0.01, decay="decoupled_after"),
    AdaMax(),
    SGD(lr=0.1),
    Momentum(lr=0.1),
    Nesterov(lr=0.1),
    AdaGrad(),
    RMSProp(),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: repr(c)[:60])
def test_thread_count_does_not_change_a_single_bit(cfg) -> None:
    one = _run(cfg, 1)
    for t in (2, 3):
        assert len(partition([N], CHUNK, t)) == t  # really split
        many = _run(cfg, t)
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
    for name in one.state[0]:
        assert np.array_equal(_bits(one.state[0][name]), _bits(two.state[0][name])), name


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
    run_chunked(
        kernel, plan_of(SGD()), plan_of(SGD()).scalars(1), p, g, {}, chunk=1 << 15, threads=2
    )
    assert len(seen) == 2
    assert np.all(p == -1)


def test_caller_error_state_applies_in_worker_threads() -> None:
    cfg = Adam()
    p = np.zeros(N, np.float32)
    g = np.ones(N, np.float32)
    g[-1] = np.float32(1e30)  # g² overflows in the last span (a worker thread)
    opt = Optimizer(cfg, [p], backend="numpy")
    assert len(partition([N], default_chunk(p.dtype), 2)) == 2  # the overflow: second part
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
        run_chunked(
            kernel,
            plan_of(SGD()),
            plan_of(SGD()).scalars(1),
            p,
            p.copy(),
            {},
            chunk=PARALLEL_MIN,
            threads=2,
        )


def test_thread_setting_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "5")  # what joblib's workers set
    assert threads.default_num_threads() == 5
    for ignored in ("4,2", "0", "-3", "many"):  # lists, and values that are not ours to judge
        monkeypatch.setenv("OMP_NUM_THREADS", ignored)
        assert threads.default_num_threads() == threads.available_cores()
    monkeypatch.setenv("ADAMPROOFS_NUM_THREADS", "3")  # ours wins
    assert threads.default_num_threads() == 3
    monkeypatch.setenv("ADAMPROOFS_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="ADAMPROOFS_NUM_THREADS='zero'"):
        threads.default_num_threads()
    monkeypatch.delenv("ADAMPROOFS_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert threads.default_num_threads() == threads.available_cores()
    set_num_threads(1)
    try:
        assert get_num_threads() == 1
    finally:
        set_num_threads(None)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="must be a positive int"):
            threads.set_num_threads(bad)


def test_a_group_of_arrays_split_across_threads_is_bit_identical() -> None:
    sizes = [600_003, 5, 0, 270_001, 250_000, 1]
    assert len(partition(sizes, CHUNK, 3)) == 3
    rng = np.random.default_rng(3)
    grads = [[rng.standard_normal(n).astype(np.float32) for n in sizes] for _ in range(3)]
    results = []
    for t in (1, 2, 3):
        params = [np.linspace(-1, 1, n, dtype=np.float32) for n in sizes]
        opt = Optimizer(
            Adam(weight_decay=0.1, decay="decoupled"), params, backend="numpy", chunk_size=CHUNK
        )
        set_num_threads(t)
        try:
            for gs in grads:
                opt.step(gs)
        finally:
            set_num_threads(None)
        results.append(opt)
    for other in results[1:]:
        for a, b, sa, sb in zip(results[0].params, other.params, results[0].state, other.state):
            assert np.array_equal(_bits(a), _bits(b))
            assert all(np.array_equal(_bits(sa[k]), _bits(sb[k])) for k in sa)


def test_default_chunk_is_a_fixed_number_of_bytes() -> None:
    assert default_chunk(np.float32) == 128 * 1024
    assert default_chunk(np.float64) == 64 * 1024
    assert Optimizer(Adam(), [np.zeros(3, np.float16)]).chunk_size is None  # by compute dtype
    for bad in (0, -5, 1.5, True, "64"):
        with pytest.raises(ValueError, match=r"chunk_size=.* must be a positive int or None"):
            Optimizer(Adam(), [np.zeros(3, np.float32)], chunk_size=bad)


def test_python_float_scalars_compute_in_the_compute_dtype() -> None:
    # NumPy 2 does not treat 0-d float64 arrays as weak: operands are cast to the chunk's dtype
    rng = np.random.default_rng(5)
    p = rng.standard_normal(10_000).astype(np.float32)
    g = rng.standard_normal(10_000).astype(np.float32)
    a, b = p.copy(), p.copy()
    run_chunked(kernel_of(SGD), plan_of(SGD(lr=0.1)), Scalars(lr=0.1), a, g, {})
    run_chunked(kernel_of(SGD), plan_of(SGD(lr=0.1)), Scalars(lr=np.float32(0.1)), b, g, {})
    assert a.dtype == np.float32 and np.array_equal(_bits(a), _bits(b))


def test_errstate_call_handler_reaches_the_worker_threads() -> None:
    seen = []
    p = np.zeros(N, np.float32)
    g = np.ones(N, np.float32)
    g[-1] = np.float32(1e30)  # g² overflows in the last part (a worker thread)
    opt = Optimizer(Adam(), [p], backend="numpy", chunk_size=CHUNK)
    set_num_threads(2)
    try:
        with np.errstate(over="call", call=lambda kind, flag: seen.append(kind)):
            opt.step([g])
    finally:
        set_num_threads(None)
    assert "overflow" in seen


def test_a_grown_pool_leaves_the_old_one_usable() -> None:
    old = threads.pool(1)
    threads.pool(threads._pool_size + 1)  # another caller asks for more workers
    assert old.submit(lambda: 7).result(timeout=10) == 7


def test_concurrent_steps_from_several_python_threads() -> None:
    sizes = [PARALLEL_MIN + 1000] * 2
    results: dict[int, Optimizer] = {}

    def worker(k: int) -> None:
        ps = [np.linspace(-1, 1, n, dtype=np.float32) for n in sizes]
        opt = Optimizer(Adam(), ps, backend="numpy", chunk_size=CHUNK)
        for step in range(3):
            opt.step([np.full(n, 0.5 + step, np.float32) for n in sizes])
        results[k] = opt

    set_num_threads(2)
    try:
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
        for th in ts:
            th.start()
        for th in ts:
            th.join(timeout=60)
    finally:
        set_num_threads(None)
    assert sorted(results) == [0, 1, 2]
    for k in (1, 2):
        assert all(np.array_equal(a, b) for a, b in zip(results[0].params, results[k].params))


def test_a_forked_child_steps_with_threads(tmp_path) -> None:
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    script = f"""
import os, sys, numpy as np
from adamproofs import Adam
from adamproofs.fast import Optimizer, set_num_threads
set_num_threads(2)
p = np.zeros({N}, np.float32)
opt = Optimizer(Adam(), [p], backend="numpy", chunk_size={CHUNK})
opt.step([np.ones_like(p)])  # the parent's pool now exists
pid = os.fork()
if pid == 0:
    opt.step([np.ones_like(p)])  # would hang on the inherited pool
    os._exit(0 if np.all(p < 0) else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_the_default_thread_count_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "_default", None)
    monkeypatch.setenv("ADAMPROOFS_NUM_THREADS", "3")
    assert get_num_threads() == 3
    monkeypatch.setenv("ADAMPROOFS_NUM_THREADS", "5")  # after first use: like NUMBA_NUM_THREADS
    assert get_num_threads() == 3
    set_num_threads(2)
    try:
        assert get_num_threads() == 2  # an explicit setting always wins
    finally:
        set_num_threads(None)
