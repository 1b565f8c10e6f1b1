"""Oracle speed: scalar Adam updates per second, and the oracle's share of ``adamproofs check``.

- ``loop``: :func:`adamproofs.reference.fastpath.updates_per_second`, the rule loop
  over 2000 coordinates on mpmath (``mp``) and on MPFR (``gmpy``), interleaved.
- ``run``: the whole :func:`adamproofs.reference.run` on a property-test-shaped case
  (8 parameters, 20 steps, float inputs converted in, mpmath values out), for the
  mpmath oracle and the fast path.
- ``check share``: ``adamproofs check`` under cProfile; the oracle's time is the time
  spent in :mod:`adamproofs.reference`, mpmath and gmpy2 when entered from outside
  them (so nested calls are not counted twice).
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import numpy as np

from adamproofs import Adam
from adamproofs.reference import fastpath, oracle


def loop_rates(dps_list: tuple[int, ...], rounds: int, n: int = 2000, steps: int = 3,
               progress: Callable[[str], None] | None = None) -> list[dict]:
    samples: dict[tuple[str, int], list[float]] = {}
    rng = random.Random(0)
    for r in range(rounds):
        jobs = [(a, d) for a in ("mp", "gmpy") for d in dps_list]
        rng.shuffle(jobs)
        for arith, dps in jobs:
            rate = fastpath.updates_per_second(dps, n=n, steps=steps, arithmetic=arith)
            samples.setdefault((arith, dps), []).append(rate)
        if progress:
            progress(f"oracle loop round {r + 1}/{rounds}")
    rows = []
    for dps in dps_list:
        mp, gm = (statistics.median(samples[(a, dps)]) for a in ("mp", "gmpy"))
        rows.append({"what": "rule loop", "dps": dps, "mp_updates_per_s": round(mp),
                     "gmpy_updates_per_s": round(gm), "speedup": gm / mp})
    return rows


def run_rates(dps: int, rounds: int, repeats: int = 20) -> dict:
    """reference.run end to end, mpmath vs the fast path (updates per second)."""
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal(8)
    grads = [rng.standard_normal(8) for _ in range(20)]
    cfg = Adam()
    rates: dict[str, list[float]] = {"mp": [], "gmpy": []}
    for _ in range(rounds):
        for name, fn in (("mp", oracle.run), ("gmpy", fastpath.run)):
            t0 = time.perf_counter()
            for _ in range(repeats):
                fn(cfg, theta0, grads, dps=dps)
            rates[name].append(repeats * 8 * 20 / (time.perf_counter() - t0))
    mp, gm = statistics.median(rates["mp"]), statistics.median(rates["gmpy"])
    return {"what": "reference.run, 8 params x 20 steps", "dps": dps,
            "mp_updates_per_s": round(mp), "gmpy_updates_per_s": round(gm), "speedup": gm / mp}


def _oracle_file(filename: str) -> bool:
    f = filename.replace("\\", "/")
    return "adamproofs/reference/" in f or "/mpmath/" in f or "gmpy2" in f


@contextlib.contextmanager
def mpfr_replay() -> Iterator[None]:
    """Patch the conformance replay to run the oracle on MPFR (the proposed wiring).

    ``replay._judge_param`` builds ``MPArithmetic(DPS)`` for each parameter; here it gets
    a :class:`~adamproofs.reference.fastpath.GmpyArithmetic` of the same precision, with
    its context entered for the duration of the call.
    """
    from adamproofs.conformance import replay

    original = replay._judge_param

    def judge_param(*args: Any, **kwargs: Any) -> Any:
        G = fastpath.gmpy_arithmetic(replay.DPS)
        with G.scope(), mock.patch.object(replay, "MPArithmetic", lambda dps: G):
            return original(*args, **kwargs)

    with mock.patch.object(replay, "_judge_param", judge_param):
        yield


def check_share(argv: list[str], mpfr: bool = False) -> dict:
    """Run ``adamproofs check ARGV`` under cProfile; the share of time in the oracle."""
    from adamproofs.cli import main

    prof = cProfile.Profile()
    out = io.StringIO()
    t0 = time.perf_counter()
    patch = mpfr_replay() if mpfr else contextlib.nullcontext()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()), patch:
        prof.enable()
        try:
            status = main(["check", *argv])
        except SystemExit as exc:  # argparse or main may exit
            status = exc.code
        finally:
            prof.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    total = stats.total_tt
    oracle_time = 0.0
    for func, (_, _, _, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if not _oracle_file(func[0]) and not func[0].startswith("<built-in"):
            continue
        for caller, edge in callers.items():
            if not _oracle_file(caller[0]) and _oracle_file(func[0]):
                oracle_time += edge[3]  # cumulative time along this edge
    return {"what": "adamproofs check " + " ".join(argv), "oracle": "MPFR" if mpfr else "mpmath",
            "exit_status": status,
            "wall_s_profiled": wall, "profiled_total_s": total, "oracle_s": oracle_time,
            "oracle_share": oracle_time / total if total else float("nan")}
