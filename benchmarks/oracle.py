"""Oracle speed: scalar Adam updates per second, and the oracle's share of ``adamproofs check``.

- ``loop``: :func:`updates_per_second`, the rule loop
  over 2000 coordinates on mpmath (``mp``) and on MPFR (``gmpy``), interleaved.
- ``run``: the whole :func:`adamproofs.reference.run` on a property-test-shaped case
  (8 parameters, 20 steps, float inputs converted in, mpmath values out): plain
  mpmath (``arithmetic="mpmath"``) against the default (MPFR when gmpy2 is installed).
- ``check share``: ``adamproofs check`` under cProfile; the oracle's time is the time
  spent in :mod:`adamproofs.reference`, mpmath and gmpy2 when entered from outside
  them (so nested calls are not counted twice). ``oracle="mpfr"`` measures the
  shipped replay (:func:`adamproofs.conformance._replay.oracle_arithmetic`: MPFR when
  gmpy2 is installed); ``oracle="mpmath"`` patches the replay onto plain mpmath, for
  comparison. The result's ``"oracle"`` names what actually ran.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import math
import pstats
import random
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Literal
from unittest import mock

import numpy as np

from adamproofs import Adam, reference
from adamproofs.reference import Arithmetic, GmpyArithmetic, MPArithmetic, get_arithmetic
from adamproofs.reference._inputs import hyperparameters
from adamproofs.reference.rules import adam_step, initial_state

OracleName = Literal["mpfr", "mpmath"]


def updates_per_second(
    dps: int = 50, n: int = 2000, steps: int = 5, arithmetic: str = "gmpy"
) -> float:
    """Scalar Adam updates per second of the rule loop on ``arithmetic`` ("gmpy" or "mp").

    Times :func:`adamproofs.reference.rules.adam_step` directly (no conversions):
    ``"gmpy"`` is ``get_arithmetic("mp")`` (MPFR when gmpy2 is installed), ``"mp"``
    is plain mpmath.
    """
    cfg = Adam()
    A: Arithmetic = get_arithmetic("mp" if arithmetic == "gmpy" else "mpmath", dps)
    h = hyperparameters(cfg, A, None)
    theta = [A.number(math.sin(i + 1.0)) for i in range(n)]
    state = initial_state(cfg, n, A)
    grads = [[A.number(math.cos(i * (t + 2.0))) for i in range(n)] for t in range(steps)]
    with A.scope():
        start = time.perf_counter()
        for t in range(steps):
            theta, state = adam_step(cfg, h, t + 1, theta, grads[t], state, A)
        elapsed = time.perf_counter() - start
    return n * steps / elapsed


def loop_rates(
    dps_list: tuple[int, ...],
    rounds: int,
    n: int = 2000,
    steps: int = 3,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    samples: dict[tuple[str, int], list[float]] = {}
    rng = random.Random(0)
    for r in range(rounds):
        jobs = [(a, d) for a in ("mp", "gmpy") for d in dps_list]
        rng.shuffle(jobs)
        for arith, dps in jobs:
            rate = updates_per_second(dps, n=n, steps=steps, arithmetic=arith)
            samples.setdefault((arith, dps), []).append(rate)
        if progress:
            progress(f"oracle loop round {r + 1}/{rounds}")
    rows = []
    for dps in dps_list:
        mp, gm = (statistics.median(samples[(a, dps)]) for a in ("mp", "gmpy"))
        rows.append(
            {
                "what": "rule loop",
                "dps": dps,
                "mp_updates_per_s": round(mp),
                "gmpy_updates_per_s": round(gm),
                "speedup": gm / mp,
            }
        )
    return rows


def run_rates(dps: int, rounds: int, repeats: int = 20) -> dict:
    """reference.run end to end: plain mpmath (forced) vs the default (updates per second).

    The default is the MPFR fast path when gmpy2 is installed, else mpmath too.
    """
    rng = np.random.default_rng(0)
    theta0 = rng.standard_normal(8)
    grads = [rng.standard_normal(8) for _ in range(20)]
    cfg = Adam()
    rates: dict[str, list[float]] = {"mpmath": [], "mp": []}
    for _ in range(rounds):
        for arithmetic in rates:
            t0 = time.perf_counter()
            for _ in range(repeats):
                reference.run(cfg, theta0, grads, dps=dps, arithmetic=arithmetic)
            rates[arithmetic].append(repeats * 8 * 20 / (time.perf_counter() - t0))
    mp, fast = statistics.median(rates["mpmath"]), statistics.median(rates["mp"])
    return {
        "what": "reference.run, 8 params x 20 steps",
        "dps": dps,
        "mp_updates_per_s": round(mp),
        "gmpy_updates_per_s": round(fast),
        "speedup": fast / mp,
    }


def _oracle_file(filename: str) -> bool:
    f = filename.replace("\\", "/")
    return "adamproofs/reference/" in f or "/mpmath/" in f or "gmpy2" in f


@contextlib.contextmanager
def mpmath_replay() -> Iterator[None]:
    """Patch the conformance replay onto plain mpmath (``MPArithmetic(DPS)`` per parameter,
    as before the MPFR wiring), for comparison with the shipped replay."""
    from adamproofs.conformance import _replay as replay

    with mock.patch.object(replay, "oracle_arithmetic", lambda: MPArithmetic(replay.DPS)):
        yield


def _replay_oracle(oracle: OracleName) -> tuple[contextlib.AbstractContextManager, str]:
    """The patch for ``oracle`` and the name of the arithmetic the replay will then use."""
    from adamproofs.conformance import _replay as replay

    if oracle == "mpmath":
        return mpmath_replay(), "mpmath"
    if oracle == "mpfr":
        shipped = replay.oracle_arithmetic()
        name = "MPFR" if isinstance(shipped, GmpyArithmetic) else "mpmath"
        return contextlib.nullcontext(), name
    raise ValueError(f"oracle={oracle!r} is not one of 'mpfr', 'mpmath'")


def _oracle_seconds(stats: pstats.Stats) -> float:
    """Time in the oracle's files along call edges entering them from outside."""
    total = 0.0
    for func, (_, _, _, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if not _oracle_file(func[0]):
            continue
        for caller, edge in callers.items():
            if not _oracle_file(caller[0]):
                total += edge[3]  # cumulative time along this edge
    return total


def check_share(argv: list[str], oracle: OracleName = "mpfr") -> dict:
    """Run ``adamproofs check ARGV`` under cProfile; the share of time in the oracle.

    ``oracle="mpfr"``: the replay as shipped (MPFR when gmpy2 is installed);
    ``"mpmath"``: the replay patched onto plain mpmath.
    """
    from adamproofs.cli import main

    patch, name = _replay_oracle(oracle)
    prof = cProfile.Profile()
    out = io.StringIO()
    t0 = time.perf_counter()
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
    oracle_time = _oracle_seconds(stats)
    return {
        "what": "adamproofs check " + " ".join(argv),
        "oracle": name,
        "exit_status": status,
        "wall_s_profiled": wall,
        "profiled_total_s": total,
        "oracle_s": oracle_time,
        "oracle_share": oracle_time / total if total else float("nan"),
    }
