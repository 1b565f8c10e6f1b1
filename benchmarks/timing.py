"""Interleaved timing: every contender visited in a freshly shuffled order each round.

Protocol (see ``/work/shared/reference/perf-anchors.md``): per visit, set the
contender's thread count, take one untimed step, then ``samples`` timed samples of
``inner`` steps each; ``gc`` is disabled while timing; a gap (default 30 ms) separates
visits, because OpenMP workers (torch's and numba's) spin-wait for several ms after
a parallel region and would otherwise steal the next contender's cores. The calling
thread is pinned (``sched_setaffinity``) to the first ``threads`` cores of the
process during a visit, so a one-thread contender stays on one core.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Contender:
    """A named step function; ``setup`` runs before each visit (e.g. thread counts)."""

    name: str
    step: Callable[[], None]
    threads: int = 1
    setup: Callable[[], None] | None = None
    samples: list[float] = field(default_factory=list)  # wall seconds per step
    cpu_samples: list[float] = field(default_factory=list)  # this thread's CPU seconds
    visit_sizes: list[int] = field(default_factory=list)  # samples taken in each visit

    def by_visit(self) -> list[list[float]]:
        """``samples`` grouped by the visit (round) that took them."""
        out, i = [], 0
        for k in self.visit_sizes:
            out.append(self.samples[i : i + k])
            i += k
        return out

    def summary(self) -> dict[str, float]:
        """Wall-clock median, quartiles and best; and the calling thread's CPU time.

        ``cpu_median_ms`` is the time the calling thread was on a core: for a contender
        that runs entirely in the calling thread (one thread) it excludes the time the
        OS gave the core to other processes, so it is the robust measure on a shared
        machine; for multi-threaded contenders it is not the step time.
        """
        s = sorted(self.samples)
        q = statistics.quantiles(s, n=4) if len(s) >= 2 else [s[0]] * 3
        return {
            "median_ms": statistics.median(s) * 1e3,
            "q1_ms": q[0] * 1e3,
            "q3_ms": q[2] * 1e3,
            "best_ms": s[0] * 1e3,
            "cpu_median_ms": statistics.median(self.cpu_samples) * 1e3,
            "samples": len(s),
        }


def calibrate(contenders: list[Contender], target_s: float) -> int:
    """Steps per sample so that the slowest contender's sample lasts about ``target_s``."""
    worst = 0.0
    for c in contenders:
        if c.setup:
            c.setup()
        c.step()
        t0 = time.perf_counter()
        c.step()
        worst = max(worst, time.perf_counter() - t0)
    return max(1, int(target_s / max(worst, 1e-7)))


def interleave(
    contenders: list[Contender],
    *,
    rounds: int,
    samples: int,
    inner: int,
    gap_s: float = 0.03,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Fill each contender's ``samples`` (seconds per step), interleaving contenders."""
    rng = random.Random(seed)
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    try:
        for r in range(rounds):
            order = list(contenders)
            rng.shuffle(order)
            for c in order:
                if cores:  # the calling thread on the first `threads` cores
                    os.sched_setaffinity(0, cores[: max(1, c.threads)])
                _visit(c, samples, inner)
                time.sleep(gap_s)
            if progress:
                progress(f"round {r + 1}/{rounds}")
    finally:
        if cores:
            os.sched_setaffinity(0, cores)


def _visit(c: Contender, samples: int, inner: int) -> None:
    """One untimed step, then ``samples`` timed samples of ``inner`` steps each."""
    if c.setup:
        c.setup()
    c.step()  # untimed: caches, thread pools
    c.visit_sizes.append(samples)
    gc.disable()
    try:
        for _ in range(samples):
            c0 = time.thread_time()
            t0 = time.perf_counter()
            for _ in range(inner):
                c.step()
            t1 = time.perf_counter()
            c.samples.append((t1 - t0) / inner)
            c.cpu_samples.append((time.thread_time() - c0) / inner)
    finally:
        gc.enable()


def ratio_interval(
    a: list[list[float]],
    b: list[list[float]],
    *,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Paired percentile-bootstrap interval of median(a) / median(b).

    ``a`` and ``b`` hold the samples of each round (visit), in round order. Samples of
    one visit share the machine's state and are not independent, so whole rounds are
    resampled, the same rounds for both contenders (they ran side by side). Read the
    interval as the spread of the ratio within this run, not across machines.
    """
    import numpy as np

    rounds = min(len(a), len(b))
    if rounds == 0:
        raise ValueError("ratio_interval needs at least one round of samples")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, rounds, (resamples, rounds))
    ratios = np.empty(resamples)
    for k, idx in enumerate(picks):
        xa = [x for r in idx for x in a[r]]
        xb = [x for r in idx for x in b[r]]
        ratios[k] = np.median(xa) / np.median(xb)
    lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
