"""Peak extra memory of one step, per contender, measured in a fresh process.

``python -m benchmarks.memory --n 1e7 --dtype float32 --threads 2`` prints one JSON
record per contender. Two measures:

- ``rss_peak_mib``: growth of the resident-set high-water mark during a step (Linux:
  writing ``5`` to ``/proc/self/clear_refs`` resets ``VmHWM``). It sees temporaries of
  NumPy, numba, PyTorch or any C library alike. The process runs with glibc's
  ``MALLOC_MMAP_THRESHOLD_=131072``, so every block of 128 KiB or more is mapped fresh
  and returned on free (by default glibc raises that threshold as blocks are freed and
  then reuses resident memory, which would hide a temporary after the first step).
- ``traced_peak_mib``: tracemalloc's peak (NumPy reports its array buffers to it; it
  cannot see PyTorch's allocator).

Both are taken as the largest over three steps after one warm-up step; page
granularity makes figures under about 0.1 MiB noise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

_STATUS = Path("/proc/self/status")
_CLEAR = Path("/proc/self/clear_refs")
_ENV = {"MALLOC_MMAP_THRESHOLD_": str(128 << 10)}


def available() -> bool:
    """True where the high-water mark can be reset (Linux, not every container)."""
    try:
        _CLEAR.write_text("5")
    except OSError:
        return False
    return "VmHWM" in _STATUS.read_text()


def _field(name: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(name)


def _rss_peak(step: Any) -> int:
    _CLEAR.write_text("5")
    base = _field("VmRSS")
    step()
    return _field("VmHWM") - base


def _traced_peak(step: Any) -> int:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def measure(n: int, dtype_name: str, threads: int, with_torch: bool) -> list[dict]:
    """One record per contender (in this process)."""
    from . import contenders as C

    dtype = np.dtype(dtype_name)
    arrays = C.shared_arrays(n, dtype)
    rows = []
    for c in C.single_array_contenders(arrays, threads, with_torch):
        if c.name.startswith("probe"):
            continue
        if c.setup:
            c.setup()
        c.step()
        rss = max(_rss_peak(c.step) for _ in range(3))
        traced = max(_traced_peak(c.step) for _ in range(3))
        rows.append(
            {
                "dtype": dtype_name,
                "n": n,
                "threads": threads,
                "contender": c.name,
                "rss_peak_mib": round(rss / 2**20, 2),
                "traced_peak_mib": round(traced / 2**20, 2),
                "rss_of_parameter_bytes": round(rss / (n * dtype.itemsize), 4),
            }
        )
    return rows


def measure_in_subprocess(n: int, dtype_name: str, threads: int, with_torch: bool) -> list[dict]:
    """:func:`measure` in a fresh interpreter with the allocator setting above."""
    root = Path(__file__).resolve().parent.parent
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.memory",
        "--child",
        "--n",
        str(n),
        "--dtype",
        dtype_name,
        "--threads",
        str(threads),
    ] + ([] if with_torch else ["--no-torch"])
    proc = subprocess.run(
        cmd, cwd=root, env={**os.environ, **_ENV}, capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--n", type=lambda x: int(float(x)), default=10**7)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    from .contenders import torch_available

    with_torch = torch_available() and not args.no_torch
    if not args.child:  # the allocator setting must be in place when the process starts
        print(
            json.dumps(
                measure_in_subprocess(args.n, args.dtype, args.threads, with_torch), indent=1
            )
        )
        return 0
    print(json.dumps(measure(args.n, args.dtype, args.threads, with_torch) if available() else []))
    return 0


if __name__ == "__main__":
    sys.exit(main())
