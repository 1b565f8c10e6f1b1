"""``python -m benchmarks.run [--quick]``: the fast Adam against PyTorch's CPU Adam and the
memory-bandwidth probe, many small arrays, peak memory, and the oracle's speed.

Every ratio compares medians taken side by side in the same run: contenders are
interleaved in a freshly shuffled order each round, 30 ms apart, the calling thread
pinned to the first ``threads`` cores (see :mod:`benchmarks.timing`). Thread counts are
set per contender (adamproofs' NumPy and numba backends, numba's own pool, torch) and
stated in the names. The peak-memory section runs in a child process (the allocator
setting it needs must be present at start-up; :mod:`benchmarks.memory`); everything else
runs in this one. Writes ``benchmarks/results/latest.json``, ``latest-adam-step.svg`` and
``latest-memory.svg``.

JSON schema (version 2): top-level scalars describe the run (``schema``, ``command``,
``date``, ``machine``, ``cpus``, load averages, versions, ``quick``); lists of records:

- ``goals``: the performance goals judged on this run (:mod:`benchmarks.goals`): ``goal``,
  ``where``, ``measured``, ``interval_95`` (where there is one), ``target``, ``met``;
- ``adam_step``: one row per (dtype, n, threads, contender) with ``median_ms``, ``q1_ms``,
  ``q3_ms``, ``best_ms``, ``cpu_median_ms``, ``samples``, ``bytes`` (7 passes), ``gbps``;
- ``adam_ratios``: per (dtype, n, threads) the ratios of :data:`RATIO_PAIRS`, each with
  ``_lo``/``_hi`` (95% paired bootstrap interval over rounds), ``_best`` (best samples)
  and, with one thread, ``_cpu`` (the calling thread's CPU time, which excludes time the
  OS gave to other processes);
- ``many_arrays``: per (case, threads, contender) medians, ``vs_torch_foreach`` (also
  ``_best`` and, one thread, ``_cpu``);
- ``memory``: per contender, the peak extra resident and traced memory of one step;
- ``oracle``: scalar Adam updates per second, plain mpmath against MPFR (the default);
- ``check_share``: the oracle's share of ``adamproofs check`` time (under cProfile),
  with the oracle on MPFR (as shipped) and on plain mpmath.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from adamproofs.fast import _compiled as compiled
from adamproofs.fast import _threads as threads_mod

from . import contenders as C
from . import memory as M
from . import oracle as O
from .goals import goals
from .timing import calibrate, interleave, ratio_interval

RESULTS = Path(__file__).resolve().parent / "results"
_T0 = time.perf_counter()


def say(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("numba", "torch", "mpmath", "gmpy2"):
        try:
            out[mod] = __import__(mod).__version__
        except ImportError:
            out[mod] = "not installed"
    return out


def bench_adam_step(
    sizes: list[int], dtypes: list[str], threads: list[int], with_torch: bool, quick: bool
) -> tuple[list[dict], list[dict]]:
    rows, ratios = [], []
    for dtype_name in dtypes:
        dtype = np.dtype(dtype_name)
        for n in sizes:
            arrays = C.shared_arrays(n, dtype)
            for t in threads:
                say(f"adam step {dtype_name} n={n:.0e} threads={t}")
                cs = C.single_array_contenders(arrays, t, with_torch)
                big = n >= 10**7
                inner = 1 if big else calibrate(cs, 0.004)
                rounds = (2 if quick else 8) if big else (3 if quick else 10)
                interleave(
                    cs,
                    rounds=rounds,
                    samples=3 if big else 5,
                    inner=inner,
                    progress=lambda m: say(f"  {m}"),
                )
                nbytes = 7 * n * dtype.itemsize
                by_key = {c.name.rsplit(" ", 1)[0]: c for c in cs}
                for c in cs:
                    s = c.summary()
                    rows.append(
                        {
                            "dtype": dtype_name,
                            "n": n,
                            "threads": t,
                            "contender": c.name,
                            **{k: round(v, 4) for k, v in s.items()},
                            "bytes": nbytes,
                            "gbps": round(nbytes / s["median_ms"] / 1e6, 2),
                        }
                    )
                r: dict[str, Any] = {"dtype": dtype_name, "n": n, "threads": t}
                for label, a, b in RATIO_PAIRS:
                    if a in by_key and b in by_key:
                        r.update(_ratio(label, by_key[a], by_key[b], cpu=t == 1))
                ratios.append(r)
                say(
                    "  "
                    + ", ".join(
                        f"{k}={r[k]} [{r[k + '_lo']}, {r[k + '_hi']}]"
                        for k, _, _ in RATIO_PAIRS
                        if k in r
                    )
                )
            del arrays
    return rows, ratios


#: (label, numerator, denominator): label = median time(numerator) / median time(denominator);
#: so ``*_vs_probe`` is probe / contender, the fraction of the bandwidth limit reached.
RATIO_PAIRS = [
    ("numba_vs_probe", "probe", "adamproofs numba"),
    ("numpy_vs_probe", "probe", "adamproofs numpy"),
    ("numba_vs_torch_fused", "adamproofs numba", "torch fused"),
    ("numpy_vs_torch_foreach", "adamproofs numpy", "torch foreach"),
    ("numpy_vs_torch_fused", "adamproofs numpy", "torch fused"),
]


def _ratio(label: str, a: Any, b: Any, *, cpu: bool) -> dict[str, float]:
    """Median ratio a/b with its paired bootstrap interval (whole rounds resampled), the
    best-sample ratio and, with one thread, the ratio of the calling thread's CPU times
    (which leaves out time the OS gave to other processes)."""
    sa, sb = a.summary(), b.summary()
    lo, hi = ratio_interval(a.by_visit(), b.by_visit())
    out = {
        label: sa["median_ms"] / sb["median_ms"],
        label + "_lo": lo,
        label + "_hi": hi,
        label + "_best": sa["best_ms"] / sb["best_ms"],
    }
    if cpu:
        out[label + "_cpu"] = sa["cpu_median_ms"] / sb["cpu_median_ms"]
    return {k: round(v, 3) for k, v in out.items()}


def bench_many(threads: list[int], with_torch: bool, quick: bool) -> list[dict]:
    cases = {"1000 x 1000": [(1000,)] * 1000, "resnet18 shapes": C.resnet18_shapes()}
    rows = []
    for case, shapes in cases.items():
        for t in threads:
            say(f"many arrays: {case}, threads={t}")
            cs = C.many_array_contenders(shapes, np.dtype("float32"), t, with_torch)
            inner = calibrate(cs, 0.01)
            interleave(
                cs,
                rounds=3 if quick else 5,
                samples=3,
                inner=inner,
                progress=lambda m: say(f"  {m}"),
            )
            ref = next((c.summary() for c in cs if c.name.startswith("torch foreach")), None)
            foreach = ref["median_ms"] if ref else None
            for c in cs:
                s = c.summary()
                row = {
                    "case": case,
                    "arrays": len(shapes),
                    "parameters": int(sum(np.prod(s_) for s_ in shapes)),
                    "dtype": "float32",
                    "threads": t,
                    "contender": c.name,
                    **{k: round(v, 4) for k, v in s.items()},
                }
                if ref:
                    row["vs_torch_foreach"] = round(s["median_ms"] / ref["median_ms"], 3)
                    row["vs_torch_foreach_best"] = round(s["best_ms"] / ref["best_ms"], 3)
                    if t == 1:
                        row["vs_torch_foreach_cpu"] = round(
                            s["cpu_median_ms"] / ref["cpu_median_ms"], 3
                        )
                rows.append(row)
                say(
                    f"  {c.name}: {s['median_ms']:.3f} ms"
                    + (f" ({row['vs_torch_foreach']}x torch foreach)" if foreach else "")
                )
    return rows


def print_table(rows: list[dict], keys: list[str]) -> None:
    widths = [max(len(k), *(len(_fmt(k, r.get(k, ""))) for r in rows)) for k in keys]
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths)))
    for r in rows:
        print("  ".join(_fmt(k, r.get(k, "")).ljust(w) for k, w in zip(keys, widths)))
    print()


def _fmt(key: str, v: Any) -> str:
    if key == "n" and isinstance(v, int):
        return f"{v:.0e}"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def bench_memory(n: int, dtype_name: str, threads: int, with_torch: bool) -> list[dict]:
    """Peak extra memory of one step per contender (see :mod:`benchmarks.memory`)."""
    rows = M.measure_in_subprocess(n, dtype_name, threads, with_torch)
    for r in rows:
        say(
            f"  {r['contender']}: resident +{r['rss_peak_mib']:.2f} MiB "
            f"({r['rss_of_parameter_bytes']:.1%} of θ), traced {r['traced_peak_mib']:.2f} MiB"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--quick", action="store_true", help="small sizes, few rounds (smoke test)")
    ap.add_argument(
        "--threads", default=None, help="comma-separated thread counts (default: 1 and all cores)"
    )
    ap.add_argument("--sizes", default=None, help="comma-separated sizes, e.g. 1e6,1e7")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    ap.add_argument(
        "--skip",
        default="",
        help="comma-separated sections to skip: step, many, memory, oracle, check",
    )
    ap.add_argument("--out", default=str(RESULTS / "latest.json"))
    args = ap.parse_args(argv)

    cpus = threads_mod.available_cores()
    threads = [int(x) for x in args.threads.split(",")] if args.threads else sorted({1, cpus})
    sizes = (
        [int(float(x)) for x in args.sizes.split(",")]
        if args.sizes
        else ([10**5, 10**6] if args.quick else [10**3, 10**5, 10**6, 10**7, 5 * 10**7])
    )
    skip = set(filter(None, args.skip.split(",")))
    with_torch = C.torch_available() and not args.no_torch
    say(
        f"threads {threads}, sizes {sizes}, torch {'yes' if with_torch else 'no'}, numba "
        f"{'yes' if compiled.numba_available() else 'no'}; warming up the compiled kernels"
    )
    compiled.warm_up()
    result: dict[str, Any] = {
        "schema": 2,
        "command": "python -m benchmarks.run " + " ".join(argv or sys.argv[1:]),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "cpus": cpus,
        "load_average_at_start": round(os.getloadavg()[0], 2)
        if hasattr(os, "getloadavg")
        else "n/a",
        "quick": args.quick,
        **{f"version_{k}": v for k, v in _versions().items()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every section, so an interrupted run keeps its results
        result["goals"] = goals(result)
        result["load_average_at_end"] = (
            round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else "n/a"
        )
        out.write_text(json.dumps(result, indent=1) + "\n")

    if "step" not in skip:
        rows, ratios = bench_adam_step(
            sizes, args.dtypes.split(","), threads, with_torch, args.quick
        )
        result["adam_step"] = rows
        result["adam_ratios"] = ratios
        print("\nAdam step (median ms; bandwidth probe = same 7 passes, no arithmetic)\n")
        print_table(
            rows,
            [
                "dtype",
                "n",
                "threads",
                "contender",
                "median_ms",
                "q1_ms",
                "q3_ms",
                "cpu_median_ms",
                "gbps",
            ],
        )
        print_table(
            ratios,
            ["dtype", "n", "threads"]
            + [k for k, _, _ in RATIO_PAIRS if any(k in r for r in ratios)],
        )
        save()
    if "many" not in skip:
        result["many_arrays"] = bench_many(threads, with_torch, args.quick)
        print("\nMany arrays, float32 (median ms per step)\n")
        print_table(
            result["many_arrays"],
            [
                "case",
                "threads",
                "contender",
                "median_ms",
                "cpu_median_ms",
                "vs_torch_foreach",
                "vs_torch_foreach_best",
                "vs_torch_foreach_cpu",
            ],
        )
        save()
    if "memory" not in skip and M.available():  # Linux
        n = 10**6 if args.quick else 10**7
        say(f"memory: peak extra resident memory of one step, float32 n={n:.0e}")
        result["memory"] = [r for t in threads for r in bench_memory(n, "float32", t, with_torch)]
        print("\nPeak extra memory of one step (resident-set high-water mark)\n")
        print_table(result["memory"], list(result["memory"][0]))
        save()
    if "oracle" not in skip and fastpath_available():
        say("oracle: rule loop, mpmath vs MPFR")
        rows = O.loop_rates(
            (30, 50, 100),
            rounds=2 if args.quick else 5,
            n=500 if args.quick else 2000,
            progress=say,
        )
        say("oracle: reference.run end to end")
        rows.append(O.run_rates(50, rounds=2 if args.quick else 5, repeats=5 if args.quick else 20))
        result["oracle"] = rows
        print("\nOracle (scalar Adam updates per second)\n")
        print_table(rows, list(rows[0]))
        save()
    if "check" not in skip:
        argv_check = ["--profile", "quick" if args.quick else "default", "--quiet"]
        result["check_share"] = []
        say("warm-up run of adamproofs check (imports, caches; not recorded)")
        O.check_share(["--profile", "quick", "--quiet"])
        for oracle in ("mpfr", "mpmath") if fastpath_available() else ("mpmath",):
            say(
                f"oracle share of adamproofs check {' '.join(argv_check)} (cProfile), "
                f"oracle on {oracle}"
            )
            result["check_share"].append(O.check_share(argv_check, oracle=oracle))
        print_table(result["check_share"], list(result["check_share"][0]))
    save()
    print("\nGoals\n")
    print_table(result["goals"], list(result["goals"][0]) if result["goals"] else [])
    say(f"wrote {out}")
    from .figure import plot, plot_memory

    if "adam_step" in result:
        for path in plot(result, out.with_name(out.stem + "-adam-step")):
            say(f"wrote {path}")
    if result.get("memory"):
        for path in plot_memory(result, out.with_name(out.stem + "-memory")):
            say(f"wrote {path}")
    return 0


def _machine() -> str:
    """The CPU model (``/proc/cpuinfo``) or the platform's name for it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fastpath_available() -> bool:
    from adamproofs.reference import _mpfr as mpfr

    return mpfr.available()


if __name__ == "__main__":
    sys.exit(main())
