r"""Run one optimizer on one problem, and grids of such runs through joblib.

A *problem* is any object with

- ``dim``: number of parameters (one flat float64 vector θ);
- ``init(rng) -> θ0``;
- ``grad(theta, t, rng) -> g``: the (stochastic) gradient of :math:`f_t` at
  :math:`\theta_{t-1}`, t counted from 1;
- ``loss(theta, t) -> float``: the evaluation objective recorded in the curves
  (full-batch loss, or tracking error for online problems);
- ``project(theta)`` (optional, in place): a projection applied after each step
  (Reddi's problem clips θ to [-1, 1]; an adapter around the optimizer, not a rule);
- ``heldout_loss(theta) -> float`` (optional): the loss on held-out data, recorded at the
  same steps as ``loss``.

The update itself is always :class:`adamproofs.fast.Optimizer`, except for a user's
optimizer given as ``--optimizer module:attr`` (:class:`Plugin`), which runs through the
conformance suite's adapter protocol (:mod:`adamproofs.conformance.protocol`). A step-size
schedule :math:`\alpha_t = \alpha/\sqrt{t}` is the optimizer's ``lr`` schedule.

Grids (optimizer × lr × seed) go through ``joblib.Parallel``; each task carries a
small picklable :class:`ProblemSpec` and builds (and caches) its problem in the
worker, so any joblib backend (loky, threading, Dask, Ray) runs them unchanged.
Results come back in task order, so the output does not depend on ``n_jobs``.
"""

from __future__ import annotations

import math
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from ..config import OptimizerConfig
from ..fast import Optimizer
from . import _lrsearch as lrsearch
from ._roster import entry, plugin_target

#: A run whose loss exceeds this multiple of its initial loss (or is not finite) is
#: declared diverged and stopped; its remaining recorded losses are +inf.
DIVERGED_FACTOR = 1e8


class Problem(Protocol):
    dim: int

    def init(self, rng: np.random.Generator) -> np.ndarray: ...

    def grad(self, theta: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray: ...

    def loss(self, theta: np.ndarray, t: int) -> float: ...


@dataclass(frozen=True)
class ProblemSpec:
    """A picklable recipe: ``factory`` is ``"module:function"`` and ``kwargs`` its arguments."""

    factory: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    @staticmethod
    def of(factory: str, **kwargs: Any) -> ProblemSpec:
        return ProblemSpec(factory, tuple(sorted(kwargs.items())))

    def build(self) -> Problem:
        return _build(self)


@lru_cache(maxsize=16)
def _build(spec: ProblemSpec) -> Problem:
    import importlib

    module_name, _, func = spec.factory.partition(":")
    return getattr(importlib.import_module(module_name), func)(**dict(spec.kwargs))


def seed_for(*parts: Any) -> int:
    """A stable 32-bit seed from labels (crc32; independent of PYTHONHASHSEED)."""
    return zlib.crc32(repr(parts).encode())


@dataclass
class RunResult:
    """What one run records: losses at ``steps`` (0 = before the first step), and the
    held-out losses at the same steps when the problem has held-out data."""

    steps: np.ndarray
    losses: np.ndarray
    diverged: bool
    theta: np.ndarray
    path: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    heldout: np.ndarray | None = None


@dataclass(frozen=True)
class Plugin:
    """A user's optimizer (``module.path:attr``) at rate ``lr``, loaded through the
    conformance suite's adapters (the plain NumPy protocol, or any framework it knows) with
    the other hyperparameters at Adam's defaults: β1 = 0.9, β2 = 0.999, ε = 1e-8, λ = 0."""

    target: str
    lr: float

    def start(self, theta: np.ndarray) -> Any:
        """A session over a copy of ``theta`` (float64)."""
        from ..conformance.protocol import Hyper

        impl = load_plugin(self.target)
        return impl.create(Hyper(lr=self.lr), [theta], np.dtype(np.float64))


@lru_cache(maxsize=8)
def load_plugin(target: str) -> Any:
    """The :class:`~adamproofs.conformance.protocol.Implementation` for ``target``.

    Raises :class:`~adamproofs.conformance.protocol.TargetError` (with the reason) when it
    cannot be imported or used, or does not declare float64.
    """
    from ..conformance._targets import load_target
    from ..conformance.protocol import TargetError

    impl = load_target(target)
    if "float64" not in impl.features:
        raise TargetError(
            f"optimizer {target!r} does not declare float64 in its features "
            f"({sorted(impl.features)}); the comparisons run in float64"
        )
    return impl


class _Stepper:
    """One update rule behind one call: the fast optimizer, or a plugin's session."""

    def __init__(
        self, config: OptimizerConfig | Plugin, theta: np.ndarray, schedule: str = "constant"
    ) -> None:
        self.theta = theta
        self.session: Any = None
        self.opt: Optimizer | None = None
        if isinstance(config, Plugin):
            self.session = config.start(theta)
            return
        base_lr = float(config.lr)
        self.opt = Optimizer(
            config,
            [theta],
            lr=(lambda t: base_lr / math.sqrt(t)) if schedule == "inv_sqrt" else None,
        )

    def step(self, g: np.ndarray) -> None:
        if self.opt is not None:
            self.opt.step([g])
            return
        self.session.step([g])
        self.theta[...] = self.session.params()[0]


def _check_run(
    config: OptimizerConfig | Plugin, steps: int, schedule: str, record_every: int
) -> None:
    if schedule not in ("constant", "inv_sqrt"):
        raise ValueError(f"schedule={schedule!r} is not one of ('constant', 'inv_sqrt')")
    if schedule == "inv_sqrt" and isinstance(config, Plugin):
        raise ValueError(
            f"schedule='inv_sqrt' needs a built-in optimizer; {config.target!r} "
            "gets its rate once, when it is constructed"
        )
    if steps < 1 or record_every < 1:
        raise ValueError(f"steps={steps!r} and record_every={record_every!r} must be >= 1")


def _recorded_steps(steps: int, every: int) -> list[int]:
    """0, every, 2·every, ... and always the last step."""
    record = list(range(0, steps + 1, every))
    if record[-1] != steps:
        record.append(steps)
    return record


def optimize(
    problem: Problem,
    config: OptimizerConfig | Plugin,
    steps: int,
    seed: int,
    *,
    schedule: str = "constant",
    record_every: int = 1,
    keep_path: bool = False,
    theta0: np.ndarray | None = None,
) -> RunResult:
    """Run ``config`` for ``steps`` steps from ``problem.init`` (or a copy of ``theta0``).

    ``schedule``: ``"constant"`` (α) or ``"inv_sqrt"`` (α_t = α/√t; not for a
    :class:`Plugin`, whose rate is fixed when it is built).
    """
    _check_run(config, steps, schedule, record_every)
    rng = np.random.default_rng(seed)
    theta = problem.init(rng) if theta0 is None else np.array(theta0, dtype=np.float64)
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    stepper = _Stepper(config, theta, schedule)
    project = getattr(problem, "project", None)
    heldout_loss = getattr(problem, "heldout_loss", None)
    record = _recorded_steps(steps, record_every)
    losses = np.full(len(record), np.inf)
    heldout = np.full(len(record), np.inf) if heldout_loss is not None else None
    path = np.empty((steps + 1, theta.size)) if keep_path else None
    if path is not None:
        path[0] = theta
    l0 = problem.loss(theta, 0)
    losses[0] = l0
    if heldout is not None:
        heldout[0] = problem.heldout_loss(theta)  # type: ignore[attr-defined]
    limit = DIVERGED_FACTOR * max(abs(l0), 1e-12)
    k = 1
    diverged = False
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(1, steps + 1):
            g = problem.grad(theta, t, rng)
            stepper.step(g)
            if project is not None:
                project(theta)
            if path is not None:
                path[t] = theta
            if k < len(record) and record[k] == t:
                val = problem.loss(theta, t)
                if not np.isfinite(val) or abs(val) > limit or not np.all(np.isfinite(theta)):
                    diverged = True
                    if path is not None:
                        path = path[: t + 1]
                    break
                losses[k] = val
                if heldout is not None:
                    heldout[k] = problem.heldout_loss(theta)  # type: ignore[attr-defined]
                k += 1
    return RunResult(np.asarray(record), losses, diverged, theta.copy(), path, heldout=heldout)


def scheduled(config: OptimizerConfig, lr: float) -> OptimizerConfig:
    """``config`` with its learning rate set to ``lr``, a finite positive float.

    For a rate that changes every step, pass a schedule to the optimizer instead
    (``Optimizer(config, params, lr=lambda t: ...)``).
    """
    if not (isinstance(lr, float) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} must be a finite positive float")
    return config.replace(lr=lr)


# -- grids ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One cell of a grid: optimizer key (or an explicit config), lr, seed, run options."""

    problem: ProblemSpec
    optimizer: str
    lr: float
    seed: int
    steps: int
    schedule: str = "constant"
    record_every: int = 1
    keep_path: bool = False
    config: OptimizerConfig | None = None  # overrides the roster entry when given
    tag: str = ""


def run_task(task: Task) -> RunResult:
    """Worker body: build the problem (cached per process) and run the task.

    BLAS runs single-threaded inside a task: the matrices are small, parallelism comes
    from the grid, and OpenBLAS threads spinning on a busy machine cost 100x.
    """
    with single_threaded_blas():
        return _run_task(task)


def single_threaded_blas() -> Any:
    """``threadpoolctl.threadpool_limits(1)`` when threadpoolctl is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def _run_task(task: Task) -> RunResult:
    cfg: OptimizerConfig | Plugin
    target = plugin_target(task.optimizer)
    if task.config is not None:
        cfg = task.config
    elif target is not None:
        cfg = Plugin(target, task.lr)
    else:
        cfg = entry(task.optimizer).config(task.lr)
    problem = task.problem.build()
    seed = seed_for(task.problem.factory, task.seed)  # same seed -> same data order for all
    return optimize(
        problem,
        cfg,
        task.steps,
        seed,
        schedule=task.schedule,
        record_every=task.record_every,
        keep_path=task.keep_path,
    )


class Progress:
    """Prints ``label: done/total`` to stderr at most every ``every_s`` seconds and at the end."""

    def __init__(self, label: str, total: int, every_s: float = 2.0, stream: Any = None) -> None:
        self.label, self.total, self.every_s = label, total, every_s
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.start = self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.done == self.total or now - self.last >= self.every_s:
            self.last = now
            print(
                f"  {self.label}: {self.done}/{self.total} runs ({now - self.start:.1f} s)",
                file=self.stream,
                flush=True,
            )


def run_grid(tasks: Sequence[Task], jobs: int = 1, label: str = "grid") -> list[RunResult]:
    """Run ``tasks`` with ``joblib.Parallel(n_jobs=jobs)``; results in task order."""
    from joblib import Parallel, delayed

    progress = Progress(label, len(tasks))
    if jobs == 1:
        out = []
        for task in tasks:
            out.append(run_task(task))
            progress.update()
        return out
    results: list[RunResult] = []
    gen: Iterable[RunResult] = Parallel(n_jobs=jobs, return_as="generator")(
        delayed(run_task)(task) for task in tasks
    )
    for res in gen:
        results.append(res)
        progress.update()
    return results


# -- sweeps and statistics --------------------------------------------------------------


def final_score(res: RunResult, tail: float = 0.1) -> float:
    """Mean recorded loss over the last ``tail`` fraction of the run; +inf if it diverged."""
    if res.diverged:
        return math.inf
    n = max(1, round(len(res.losses) * tail))
    return float(np.mean(res.losses[-n:]))


def late_score(res: RunResult) -> float:
    """Selection score: mean recorded loss over the second half of the run (+inf if it
    diverged). Less sensitive to one lucky final value than the final loss alone, and it
    penalises a rate that only recovers at the very end."""
    return final_score(res, tail=0.5)


def heldout_score(res: RunResult, tail: float = 0.1) -> float:
    """:func:`final_score` of the held-out losses (NaN when the problem has none)."""
    if res.heldout is None:
        return math.nan
    if res.diverged:
        return math.inf
    n = max(1, round(len(res.heldout) * tail))
    return float(np.mean(res.heldout[-n:]))


def mean_or_inf(values: Sequence[float] | np.ndarray) -> float:
    """The mean, or +inf when any value is not finite (a diverged seed spoils the cell)."""
    arr = np.asarray(values, dtype=float)
    return float(np.mean(arr)) if np.all(np.isfinite(arr)) else math.inf


@dataclass
class Sweep:
    """A learning-rate sweep of several optimizers over seeds, and each one's best rate.

    Each optimizer has its own grid (``grids``), widened by :mod:`.lrsearch` until its best
    rate is interior or the widenings run out (``edges``). ``score`` is what the table
    reports (final loss); ``select`` picks the best rate.
    """

    optimizers: tuple[str, ...]
    grids: dict[str, tuple[float, ...]]
    seeds: tuple[int, ...]
    runs: dict[tuple[str, float, int], RunResult]
    score: Callable[[RunResult], float] = final_score
    select: Callable[[RunResult], float] = late_score
    edges: dict[str, lrsearch.EdgeCheck] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # display names of non-roster keys

    def label(self, opt: str) -> str:
        return self.labels[opt] if opt in self.labels else entry(opt).label

    @property
    def lrs(self) -> tuple[float, ...]:
        """Every rate any optimizer ran at, ascending."""
        return tuple(sorted({lr for grid in self.grids.values() for lr in grid}))

    def scores(self, opt: str, lr: float) -> np.ndarray:
        return np.array([self.score(self.runs[opt, lr, s]) for s in self.seeds])

    def mean_score(self, opt: str, lr: float) -> float:
        return mean_or_inf(self.scores(opt, lr))

    def selection(self, opt: str, lr: float) -> float:
        return mean_or_inf([self.select(self.runs[opt, lr, k]) for k in self.seeds])

    def best_lr(self, opt: str) -> float:
        """Lowest mean selection score over the seeds; ties go to the smaller rate."""
        return lrsearch.best_rate({lr: self.selection(opt, lr) for lr in self.grids[opt]})

    def best_runs(self, opt: str) -> list[RunResult]:
        lr = self.best_lr(opt)
        return [self.runs[opt, lr, s] for s in self.seeds]

    def edge(self, opt: str) -> lrsearch.EdgeCheck:
        """The edge check of ``opt`` (computed from its grid when the sweep did not widen)."""
        if opt in self.edges:
            return self.edges[opt]
        own = {lr: self.selection(opt, lr) for lr in self.grids[opt]}
        return lrsearch.EdgeCheck(
            lrsearch.best_rate(own), self.grids[opt], 0, lrsearch.edge_of(own)
        )

    def table(self) -> list[dict[str, Any]]:
        """Rows: optimizer, best lr, final score mean/std/min/max over seeds, diverged runs,
        held-out final loss mean/std (NaN without held-out data), where the best rate sits."""
        rows = []
        for opt in self.optimizers:
            lr = self.best_lr(opt)
            s = self.scores(opt, lr)
            h = np.array([heldout_score(r) for r in self.best_runs(opt)])
            finite = s[np.isfinite(s)]
            rows.append(
                {
                    "optimizer": opt,
                    "label": self.label(opt),
                    "best_lr": lr,
                    "final_mean": float(np.mean(s)) if finite.size == s.size else math.inf,
                    "final_std": float(np.std(s)) if finite.size == s.size else math.inf,
                    "final_min": float(np.min(s)),
                    "final_max": float(np.max(s)),
                    "heldout_mean": mean_or_inf(h) if not np.all(np.isnan(h)) else math.nan,
                    "heldout_std": (
                        float(np.std(h))
                        if np.all(np.isfinite(h))
                        else (math.nan if np.all(np.isnan(h)) else math.inf)
                    ),
                    "diverged_runs_at_best": int(s.size - finite.size),
                    "seeds": len(self.seeds),
                    "grid_edge": self.edge(opt).describe(),
                }
            )
        return rows

    def grid_numbers(self) -> dict[str, dict[str, float]]:
        """Mean score for every (optimizer, lr), for the JSON output."""
        return {
            opt: {f"{lr:g}": self.mean_score(opt, lr) for lr in self.grids[opt]}
            for opt in self.optimizers
        }


def sweep(
    problem: ProblemSpec,
    optimizers: Sequence[str],
    lrs: Sequence[float] | Mapping[str, Sequence[float]],
    seeds: Sequence[int],
    steps: int,
    *,
    jobs: int = 1,
    label: str = "sweep",
    schedule: str = "constant",
    record_every: int = 1,
    score: Callable[[RunResult], float] = final_score,
    select: Callable[[RunResult], float] = late_score,
    max_widenings: int = 0,
    configs: Mapping[str, Callable[[float], OptimizerConfig]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Sweep:
    """Run optimizer × lr × seed (``lrs``: one grid for all, or a grid per optimizer),
    widening each optimizer's grid past an end that holds its best rate up to
    ``max_widenings`` times (:func:`.lrsearch.widen`); return a :class:`Sweep`.

    ``configs`` maps keys that are not roster entries to ``lr -> config`` (an ablation's
    arms), ``labels`` gives their display names."""
    configs = dict(configs or {})
    if isinstance(lrs, Mapping):  # an optimizer without a grid (a user's) gets them all
        every = tuple(sorted({float(x) for g in lrs.values() for x in g}))
        grids = {o: tuple(lrs[o]) if o in lrs else every for o in optimizers}
    else:
        grids = dict.fromkeys(optimizers, tuple(lrs))
    runs: dict[tuple[str, float, int], RunResult] = {}
    rounds = [0]

    def evaluate(cells: list[tuple[str, float]]) -> dict[tuple[str, float], float]:
        keys = [(o, lr, s) for o, lr in cells for s in seeds]
        tasks = [
            Task(
                problem,
                o,
                lr,
                s,
                steps,
                schedule=schedule,
                record_every=record_every,
                config=configs[o](lr) if o in configs else None,
            )
            for o, lr, s in keys
        ]
        tag = label if rounds[0] == 0 else f"{label} (wider grid, round {rounds[0]})"
        rounds[0] += 1
        runs.update(zip(keys, run_grid(tasks, jobs=jobs, label=tag)))
        return {(o, lr): mean_or_inf([select(runs[o, lr, s]) for s in seeds]) for o, lr in cells}

    edges, _ = lrsearch.widen(grids, evaluate, max_widenings)
    return Sweep(
        tuple(optimizers),
        {o: edges[o].grid for o in optimizers},
        tuple(seeds),
        runs,
        score=score,
        select=select,
        edges=edges,
        labels=dict(labels or {}),
    )


def band(curves: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max over seeds of equally long curves (inf where any run diverged)."""
    arr = np.vstack(curves)
    with np.errstate(invalid="ignore"):
        return arr.mean(axis=0), arr.min(axis=0), arr.max(axis=0)
