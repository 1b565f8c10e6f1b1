r"""Replaying a candidate model along the implementation's own trajectory, in float64.

Like the checker's replay, every step starts from the implementation's own
:math:`\theta_{t-1}` (the model's state carries the moments of the gradients it was
given, L2 decay read from the implementation's θ), so one wrong step does not spoil
the steps after it. The model runs :func:`~adamproofs.reference.rules.adam_step` with
the candidate's stages on :class:`VectorArithmetic` (one NumPy float64 vector per
parameter), so a model costs microseconds per step.

Error allowance of a model (documented in ``docs/defects.md``): a defect
changes one line of Algorithm 1, so a correct implementation *of the model* makes
Algorithm 1's rounding errors, with the model's own β, t and step. On the diagnostic
trajectories no moment cancels (one sign per coordinate), so each error is relative to
the value:

.. math::

    |\theta^{impl}_t - \theta^{model}_t| \le 4\,[\gamma_t |\Delta_t| + 3 u_c |\theta_{t-1}|]
        + u_p |\theta^{model}_t| + 4\eta,
    \qquad \gamma_t = u_c (12 + \tfrac{4}{1-\beta_1} + 5 \min(n, \tfrac{1}{1-\beta_2}))
        + \rho_{1,t} + \rho_{2,t}

with :math:`\Delta_t = \theta_{t-1} - \theta^{model}_t`, :math:`n` the updates so far,
:math:`\rho_{i,t}` the relative error of :math:`1-\beta_i^t` in the scalar precision
(:func:`~adamproofs.tolerance.bias_correction_relative_error`), :math:`u_c`, :math:`u_p`
the unit roundoffs of the compute and parameter precisions and η the smallest subnormal.
The moments' error is relative to :math:`4/(1-\beta_1)` and :math:`5\min(n, 1/(1-\beta_2))`
roundings (the first-order accumulation of :mod:`adamproofs.tolerance`); the factor 4 covers
second-order terms and the defects' extra operation. A precision *level* is the same
allowance with another :math:`u_c, u_s` (float32 moments, float32 :math:`\beta^t`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from ...config import Adam
from ...reference._arithmetic import Arithmetic
from ...reference.rules import State, adam_step
from ...tolerance import bias_correction_relative_error
from .._model import Case, Run
from .._replay import scalar_dtype
from ._candidates import Candidate
from ._catalogue import CATALOGUE

#: the allowance's factor over the first-order error
ALLOWANCE = 4.0
#: a model whose error exceeds this many bounds is rejected at once (and counts as a
#: clear miss when it is the runner-up)
CLEAR = 3.0
TINY = 1e-12


class VectorArithmetic(Arithmetic):
    """float64 NumPy vectors: one "coordinate" of the rules is a whole parameter."""

    name = "vector"

    def number(self, value: Any) -> Any:
        return np.float64(value)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x)

    def maximum(self, a: Any, b: Any) -> Any:
        return np.maximum(a, b)

    def absolute(self, x: Any) -> Any:
        return np.abs(x)

    def quotient(self, numerator: Any, denominator: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.where(numerator == 0, 0.0, numerator / denominator)


VECTOR = VectorArithmetic()


def unit_roundoff(dtype: str) -> float:
    """u = 2^-p of a float format (bfloat16: 2^-8)."""
    return {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}[
        dtype
    ]


@dataclass(frozen=True)
class Level:
    """A precision allowance: ``name`` (a catalogue entry, or ``native``) and its dtypes."""

    name: str
    compute: str
    scalars: str


def levels(dtype: str, compute: str | None = None) -> list[Level]:
    """The allowances for parameters of ``dtype``, tightest first; the first, ``native``,
    is the precision the check detected (``compute``, default ``dtype``)."""
    compute_dtype = compute or dtype
    out = [Level("native", compute_dtype, scalar_dtype(compute_dtype))]
    for entry in CATALOGUE.values():
        if entry.precision is None:
            continue
        compute = entry.precision[0] or dtype
        scalars = entry.precision[1] or scalar_dtype(dtype)
        if unit_roundoff(compute) < unit_roundoff(compute_dtype):
            continue
        if (compute, scalars) != (out[-1].compute, out[-1].scalars) and unit_roundoff(
            scalars
        ) >= unit_roundoff(out[-1].scalars):
            out.append(Level(entry.name, compute, scalars))
    return out


@dataclass
class Recorded:
    """One diagnostic trajectory as the implementation ran it (float64 θ rows)."""

    name: str
    case: Case
    thetas: list[list[np.ndarray]]  # θ before step 1 and after each completed step
    grads: list[list[np.ndarray | None]]
    shared: list[list[int]]  # updates of all parameters before (k, i)
    error: str | None = None
    features: frozenset[str] = frozenset()  # what the trajectory can show

    @classmethod
    def of(
        cls, name: str, case: Case, run: Run, features: frozenset[str] = frozenset()
    ) -> Recorded:
        thetas = [[np.asarray(p, dtype=np.float64).ravel() for p in row] for row in run.thetas]
        steps = max(len(thetas) - 1, 0)
        grads = [
            [None if g is None else np.asarray(g, dtype=np.float64).ravel() for g in row]
            for row in run.grads[:steps]
        ]
        shared: list[list[int]] = []
        count = 0
        for row in grads:
            shared.append([])
            for g in row:
                shared[-1].append(count)
                count += g is not None
        return cls(name, case, thetas, grads, shared, run.error or run.mutated, features)


@dataclass
class Departure:
    """Where a model first (or worst) departs: trajectory, step, parameter, coordinate."""

    trajectory: str
    step: int
    param: int
    index: int
    impl: float
    model: float
    ratio: float


@dataclass
class Fit:
    """How well a candidate explains the recorded trajectories, per precision level."""

    candidate: Candidate
    worst: np.ndarray  # worst error / allowance, per level
    judged: int = 0  # parameter-steps judged
    rejected: bool = False  # stopped early: over CLEAR allowances at the loosest level
    first: Departure | None = None  # first departure at the tightest level
    worst_at: list[Departure | None] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)  # the precision levels of ``worst``

    def tightest(self) -> int | None:
        """The index of the tightest level that explains every judged step, or None."""
        if self.rejected or self.judged == 0:
            return None
        for i, w in enumerate(self.worst):
            if w <= 1.0:
                return i
        return None


def _config(candidate: Candidate, hyper: dict[str, float], maximize: bool) -> Adam:
    v = candidate.variant
    return Adam(
        lr=hyper["lr"],
        beta1=hyper["beta1"],
        beta2=hyper["beta2"],
        eps=hyper["eps"],
        weight_decay=hyper["weight_decay"],
        maximize=maximize,
        eps_placement=v.eps_placement,
        bias_correction=v.bias_correction,
        amsgrad=v.amsgrad,
        decay=v.decay,
    )


class _Model:
    """One candidate set up for one trajectory."""

    def __init__(self, candidate: Candidate, case: Case) -> None:
        self.candidate = candidate
        self.hyper = candidate.hyper(case.hyper.as_dict())
        self.cfg = _config(candidate, self.hyper, case.hyper.maximize)
        self.h = SimpleNamespace(**{k: np.float64(v) for k, v in self.hyper.items()})
        self.stages = candidate.stages()
        self.skips = {d.skip for d in candidate.defects if d.skip is not None}
        self.first_step_sgd = any(d.first_step for d in candidate.defects)
        self.amsgrad = candidate.variant.amsgrad is not None

    def initial(self, size: int) -> State:
        zero = np.zeros(size)
        state: State = {"m": [zero], "v": [zero]}
        if self.amsgrad:
            state["vmax"] = [zero]
        return state

    def step(self, t: int, theta: np.ndarray, g: np.ndarray, state: State) -> tuple[Any, State]:
        """The model's θ_t and state from θ_{t-1} = ``theta`` and the gradient ``g``."""
        if "zero_parameter" in self.skips and not np.any(g):
            return theta, state
        with np.errstate(all="ignore"):
            new, new_state = adam_step(
                self.cfg, self.h, t, [theta], [g], state, VECTOR, self.stages
            )
            out = new[0]
            if self.first_step_sgd and t == 1:
                g_eff = self.stages.gradients(self.cfg, self.h, [theta], [g])[0]
                out = theta - self.h.lr * g_eff
            if "tiny_gradients" in self.skips:  # the gradient the moments see (L2 included)
                g_eff = self.stages.gradients(self.cfg, self.h, [theta], [g])[0]
                out = np.where((np.abs(g_eff) < 1e-12) & (g_eff != 0), theta, out)
            if "zero_coordinates" in self.skips:
                keep = g == 0
                out = np.where(keep, theta, out)
                new_state = {k: [np.where(keep, state[k][0], v[0])] for k, v in new_state.items()}
        return out, new_state


def _allowance(
    model: _Model, lv: list[Level], t: int, n: int, dtype: str
) -> tuple[np.ndarray, np.ndarray]:
    """(γ, u_c) per level: the relative allowance of the step and of θ (see module doc)."""
    b1, b2 = float(model.hyper["beta1"]), float(model.hyper["beta2"])
    gam, uc = [], []
    for level in lv:
        u, us = unit_roundoff(level.compute), unit_roundoff(level.scalars)
        acc = 12 + 4 / max(1 - b1, 1e-3) + 5 * min(n, 1 / max(1 - b2, 1e-6))
        rho = 0.0
        for b in (b1, b2):
            if 0 < b < 1 and t >= 1:
                rho += bias_correction_relative_error(b, t, us)
        gam.append(u * acc + rho)
        uc.append(u)
    return np.array(gam)[:, None], np.array(uc)[:, None]


def evaluate(
    candidate: Candidate, records: list[Recorded], dtype: str, compute: str | None = None
) -> Fit:
    """Replay ``candidate`` along every recorded trajectory (stopping once it is clearly
    wrong) and judge each step against the allowance of each precision level."""
    lv = levels(dtype, compute)
    fit = Fit(candidate, np.zeros(len(lv)), worst_at=[None] * len(lv), levels=lv)
    up = unit_roundoff(dtype)
    eta = float(np.finfo(np.dtype(dtype) if dtype != "bfloat16" else np.float32).smallest_subnormal)
    for rec in records:
        model = _Model(candidate, rec.case)
        for i in range(len(rec.case.params)):
            if not _param(model, rec, i, lv, up, eta, fit, dtype):
                fit.rejected = True
                return fit
    return fit


def _param(
    model: _Model,
    rec: Recorded,
    i: int,
    lv: list[Level],
    up: float,
    eta: float,
    fit: Fit,
    dtype: str,
) -> bool:
    """Judge parameter ``i`` of one trajectory; False once the model is clearly wrong."""
    size = rec.thetas[0][i].size
    state = model.initial(size)
    own = 0
    for k, row in enumerate(rec.grads):
        g = row[i]
        if g is None:
            continue
        before, after = rec.thetas[k][i], rec.thetas[k + 1][i]
        if not np.all(np.isfinite(before)):
            break
        t = model.candidate.step_number(own, k + 1, rec.shared[k][i])
        pred, state = model.step(t, before, g, state)
        own += 1
        gam, uc = _allowance(model, lv, t, own, dtype)
        with np.errstate(all="ignore"):
            delta = np.abs(before - pred)
            allow = (
                ALLOWANCE * (gam * delta + 3 * uc * np.abs(before)) + up * np.abs(pred) + 4 * eta
            )
            err = np.abs(after - pred)
            ratio = err / allow
        finite = np.isfinite(pred) & np.isfinite(after)
        same_nonfinite = ~finite & ((np.isnan(pred) & np.isnan(after)) | (pred == after))
        ratio = np.where(finite, ratio, np.where(same_nonfinite, 0.0, np.inf))
        fit.judged += 1
        worst_idx = np.argmax(ratio, axis=1)
        for lvl in range(len(lv)):
            r = float(ratio[lvl, worst_idx[lvl]])
            if r > fit.worst[lvl]:
                fit.worst[lvl] = r
                fit.worst_at[lvl] = _departure(rec, k, i, int(worst_idx[lvl]), after, pred, r)
        if fit.first is None and fit.worst[0] > 1.0:
            fit.first = _departure(rec, k, i, int(worst_idx[0]), after, pred, fit.worst[0])
        if fit.worst[-1] > CLEAR or math.isnan(fit.worst[-1]):
            return False
    return True


def _departure(
    rec: Recorded, k: int, i: int, j: int, after: np.ndarray, pred: Any, ratio: float
) -> Departure:
    return Departure(rec.name, k + 1, i, j, float(after[j]), float(np.asarray(pred)[j]), ratio)
