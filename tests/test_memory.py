"""A fast Adam step allocates no temporary the size of the parameters.

Measured two ways: tracemalloc (NumPy reports its array allocations to it) for the
NumPy and the compiled backends, and the resident-set high-water mark (Linux
``VmHWM``, reset through ``/proc/self/clear_refs``), which also sees memory that
compiled code or C libraries allocate outside tracemalloc. The allowance is a few
chunk-sized scratch buffers; each test first shows that its probe does detect a
parameter-sized temporary, so it cannot pass vacuously.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from adamproofs import Adam
from adamproofs.fast import DEFAULT_CHUNK_BYTES, Optimizer, set_num_threads

N = 1 << 22  # 16 MiB of float32, 32 MiB of float64 per array
#: The variant that needs the most scratch: L2 decay (a second buffer) and AMSGrad.
CONFIG = Adam(lr=1e-3, weight_decay=0.1, amsgrad="max_corrected")


#: Threads of the NumPy backend in these tests (the array is large enough to be split).
THREADS = 2


def _allowance(dtype: np.dtype) -> int:
    """Two chunk buffers per thread, plus 256 KiB for Python objects."""
    return 2 * THREADS * DEFAULT_CHUNK_BYTES + (256 << 10)


@pytest.fixture(autouse=True)
def _pinned_threads() -> Iterator[None]:
    set_num_threads(THREADS)
    yield
    set_num_threads(None)


def _traced_peak(fn: Callable[[], None]) -> int:
    """Peak bytes traced by tracemalloc while ``fn`` runs, above what was live before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _backends() -> list[str]:
    out = ["numpy"]
    try:
        import numba  # noqa: F401
    except ImportError:
        return out
    return [*out, "numba"]


def _setup(backend: str, dtype: np.dtype, config: Adam = CONFIG) -> tuple[Optimizer, np.ndarray]:
    rng = np.random.default_rng(0)
    p = rng.standard_normal(N).astype(dtype)
    g = rng.standard_normal(N).astype(dtype)
    g[::3] = 0  # with ε = 0 the 0/0 := 0 mask is built
    opt = Optimizer(config, [p], backend=backend)
    opt.step([g])  # compile / load, first-use allocations
    return opt, g


def test_tracemalloc_probe_sees_a_parameter_sized_temporary() -> None:
    p = np.ones(N, np.float32)
    assert _traced_peak(lambda: np.multiply(p, 2.0)) >= p.nbytes


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("dtype", [np.dtype(np.float32), np.dtype(np.float64)], ids=str)
@pytest.mark.parametrize("eps", [1e-8, 0.0], ids=["eps", "eps0"])
def test_step_peak_traced_memory_is_a_few_chunks(backend: str, dtype: np.dtype, eps: float) -> None:
    opt, g = _setup(backend, dtype, CONFIG.replace(eps=eps))
    peak = _traced_peak(lambda: opt.step([g]))
    assert peak <= _allowance(dtype) < N * dtype.itemsize // 4, (  # far below one temporary
        f"{backend} {dtype}: a step allocated {peak} bytes at its peak; allowed "
        f"{_allowance(dtype)} (parameters: {N * dtype.itemsize})"
    )


def _hwm_available() -> bool:
    clear = Path("/proc/self/clear_refs")
    try:
        clear.write_text("5")
    except OSError:
        return False
    return "VmHWM" in Path("/proc/self/status").read_text()


def _rss_peak(fn: Callable[[], None]) -> int:
    """Growth of the resident-set high-water mark while ``fn`` runs (bytes)."""

    def field(name: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(name)

    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    base = field("VmRSS")
    fn()
    return field("VmHWM") - base


needs_hwm = pytest.mark.skipif(
    not _hwm_available(), reason="needs Linux /proc/self/clear_refs to reset VmHWM"
)


@needs_hwm
def test_rss_probe_sees_a_parameter_sized_temporary() -> None:
    p = np.ones(4 * N, np.float32)

    def temporary() -> None:
        t = p * 2.0
        t += 1  # touch every page

    assert _rss_peak(temporary) >= p.nbytes // 2


@needs_hwm
@pytest.mark.parametrize("backend", _backends())
def test_step_peak_resident_memory_is_a_few_chunks(backend: str) -> None:
    dtype = np.dtype(np.float64)
    opt, g = _setup(backend, dtype)
    opt.step([g])
    growth = max(_rss_peak(lambda: opt.step([g])) for _ in range(2))
    limit = 4 << 20  # 4 MiB: page-granular noise, far below one 32 MiB array
    assert growth <= limit, f"{backend}: resident memory grew by {growth} bytes in a step"


def test_step_with_converted_compute_dtype_uses_four_chunks_per_thread() -> None:
    """float16 parameters, float32 state: θ and g chunks are converted (two more buffers)."""
    rng = np.random.default_rng(0)
    p = rng.standard_normal(N).astype(np.float16)
    g = rng.standard_normal(N).astype(np.float16)
    opt = Optimizer(CONFIG, [p], backend="numpy")
    opt.step([g])
    peak = _traced_peak(lambda: opt.step([g]))
    allowance = 4 * THREADS * DEFAULT_CHUNK_BYTES + (256 << 10)
    assert peak <= allowance < N * 4 // 2, f"float16 step allocated {peak} bytes at its peak"
