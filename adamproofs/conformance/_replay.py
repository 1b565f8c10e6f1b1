r"""Run an implementation on a case, then judge every step against the oracle.

The judgement is *per step* (a "replay"): for each parameter array and each step
:math:`t` at which it received a gradient, the oracle (:mod:`adamproofs.reference`,
mpmath at :data:`DPS` digits) performs one exact update starting from the
implementation's own :math:`\theta_{t-1}` (a float, taken exactly) and the exact
optimizer state (the exact moments of the gradients the implementation saw, with
L2 decay computed from the implementation's own θ history). The difference

.. math::  e_t = |\theta^{impl}_t - \theta^{exact}_t(\theta^{impl}_{t-1})|

is the error committed in step :math:`t` alone. It is judged in two stages:

1. the first-order *local* bound :math:`b_t` of
   :func:`adamproofs.tolerance.local_error_bound`, read along the replay (the
   implementation's θ, the oracle's state and step). It contains the accumulated error
   of the moments (a correct implementation's m and v carry rounding errors from all
   past steps) but not that of θ, so an error of a few ulps per step cannot hide behind
   the allowance of earlier steps. A step with :math:`e_t \le 2 b_t` passes here
   (:data:`~adamproofs.tolerance.SAFETY`; excess :math:`e_t/(2b_t)`);
2. every other step (the first-order model invalid, or the error above it) is decided
   by the guaranteed enclosure of :mod:`adamproofs.tolerance._enclosure`: it passes iff
   θ_t lies in the interval that contains every result the model allows (excess: the
   error over the distance from the exact value to the interval's end on that side).
   No step fails on the first-order bound alone.

The error in ulps is
:math:`e_t/\mathrm{ulp}(\max(|\theta^{exact}_t|, |\theta^{impl}_{t-1}|))` in the dtype
under test (the larger operand, so that cancellation does not inflate it). A non-finite
θ_t where the exact value is finite fails. A step is *unchecked* only where the
enclosure is unbounded on the side of the error (the format may divide by zero there:
ε = 0 or ε below the format's range with v underflowing; only finiteness is judged) or
where gmpy2, which the enclosure needs, is not installed. The model's compute dtype is
the variant's ``precision`` (``native``: the parameters' dtype).

Conventions: with ε = 0 a coordinate whose gradients were all zero has the
exact step 0/0 := 0; a NaN or an unchanged value is accepted there. A parameter
whose gradient is ``None`` must not change at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..config import Adam
from ..reference import Arithmetic, get_arithmetic
from ..reference._rounding import round_to_format
from ..reference.rules import initial_state, rule_for
from ..tolerance import SAFETY, local_error_bound, ulp
from ..tolerance import _intervals as intervals
from ..tolerance._enclosure import Enclosure
from ..variants import UPDATE_AXES, StepScope, Variant, assert_never
from ._drive import drive, same_bits
from ._model import Case, Finding, Judgement, Run
from .protocol import Hyper

#: Working precision of the oracle (decimal digits); far beyond float64's 16.
DPS = 40


def oracle_config(variant: Variant, hyper: Hyper) -> Adam:
    """The oracle's :class:`~adamproofs.config.Adam` for ``hyper`` under ``variant``."""
    return Adam(
        lr=hyper.lr,
        beta1=hyper.beta1,
        beta2=hyper.beta2,
        eps=hyper.eps,
        weight_decay=hyper.weight_decay,
        maximize=hyper.maximize,
        **{axis: getattr(variant, axis) for axis in UPDATE_AXES},
    )


def judge(run: Run, case: Case, variant: Variant) -> Judgement:
    """Compare every step of ``run`` with the oracle under ``variant`` (see module doc)."""
    if run.error is not None:
        return Judgement(
            False,
            math.inf,
            math.inf,
            recorded_grads=run.grads,
            finding=Finding(
                f"the implementation raised at step {run.error_step}:\n{run.error}",
                step=run.error_step,
            ),
        )
    if run.mutated is not None:
        return Judgement(
            False,
            math.inf,
            math.inf,
            recorded_grads=run.grads,
            finding=Finding(
                f"inputs mutated: {run.mutated} (step {run.error_step})", step=run.error_step
            ),
        )
    verdict = Judgement(True, recorded_grads=run.grads)
    exact_all: list[list[np.ndarray]] = []
    for i in range(len(case.params)):
        exact_rows = _judge_param(run, case, variant, i, verdict)
        exact_all.append(exact_rows)
        if not verdict.passed:
            break
    return verdict


def oracle_arithmetic() -> Arithmetic:
    """The replay's arithmetic: ``"mp"`` at :data:`DPS` digits (MPFR through gmpy2 when
    installed: the same rules, bit-identical to mpmath at the same precision, several times
    faster; else mpmath)."""
    return get_arithmetic("mp", DPS)


def _judge_param(
    run: Run, case: Case, variant: Variant, i: int, verdict: Judgement
) -> list[np.ndarray]:
    A = oracle_arithmetic()
    with A.scope():
        return _judge_param_in(A, run, case, variant, i, verdict)


@dataclass
class _Replayed:
    """The oracle's replay of one parameter: one row per step that had a gradient."""

    shape: tuple[int, ...]
    steps: list[int] = field(default_factory=list)  # index k of the run's step
    ts: list[int] = field(default_factory=list)  # the step counter t of that step
    before: list[np.ndarray] = field(default_factory=list)  # implementation's θ_{t-1}
    after: list[np.ndarray] = field(default_factory=list)  # implementation's θ_t
    grads: list[np.ndarray] = field(default_factory=list)
    exact: list[list[Any]] = field(default_factory=list)  # oracle θ_t from θ_{t-1}
    states: list[dict[str, np.ndarray]] = field(default_factory=list)  # exact, from step 0
    zero_den: list[np.ndarray] = field(default_factory=list)

    def exact_rows(self) -> list[np.ndarray]:
        return [np.array([float(x) for x in row]).reshape(self.shape) for row in self.exact]

    def trajectory(self) -> dict[str, Any]:
        """The replayed steps as the error model reads a trajectory (float64)."""
        exact = np.array([[float(x) for x in row] for row in self.exact])
        out: dict[str, Any] = {
            "theta": np.vstack([self.before[0][None], exact]),
            "theta_before": np.array(self.before),
            "grad": np.array(self.grads),
            "t": np.array(self.ts),
        }
        for name in self.states[0]:
            out[name] = np.array([st[name] for st in self.states])
        return out


def _replay(
    A: Any, cfg: Adam, run: Run, case: Case, variant: Variant, i: int, verdict: Judgement
) -> _Replayed | None:
    """One exact oracle step from each of the implementation's θ_{t-1} (None: a skipped
    parameter moved, recorded in ``verdict``)."""
    h = SimpleNamespace(**{k: A.number(v) for k, v in cfg.hyperparameters().items()})
    rule = rule_for(cfg)
    shape = case.params[i].shape
    state = initial_state(cfg, int(np.prod(shape, dtype=np.int64)), A)
    out = _Replayed(shape, states=[_floats(state)])
    t = 0
    for k in range(len(run.grads)):
        g = run.grads[k][i]
        before, after = run.thetas[k][i], run.thetas[k + 1][i]
        if g is None:
            if not same_bits(before, after):
                _moved_without_gradient(verdict, i, k, before, after)
                return None
            continue
        if not np.all(np.isfinite(before)) or not np.all(np.isfinite(g)):
            break  # non-finite territory: judged by the non-finite property, not here
        t = step_number(variant.step_scope, t, k)
        th = [A.number(float(x)) for x in before.ravel()]
        new_th, state = rule(cfg, h, t, th, [A.number(float(x)) for x in g.ravel()], state, A)
        out.steps.append(k)
        out.ts.append(t)
        out.before.append(before.astype(np.float64).ravel())
        out.after.append(after.ravel())
        out.grads.append(g.astype(np.float64).ravel())
        out.exact.append(new_th)
        out.states.append(_floats(state))
        out.zero_den.append(np.array([A.is_zero(x) for x in state["v"]]))
    return out


def _floats(state: dict[str, list]) -> dict[str, np.ndarray]:
    return {name: np.array([float(x) for x in xs]) for name, xs in state.items()}


def _moved_without_gradient(
    verdict: Judgement, i: int, k: int, before: np.ndarray, after: np.ndarray
) -> None:
    j = int(np.argmax(~((before == after) | np.isnan(before))))
    verdict.passed = False
    verdict.finding = Finding(
        f"params[{i}] changed at step {k + 1} although its gradient was None (it must be skipped)",
        param=i,
        step=k + 1,
        index=j,
        impl=float(after.ravel()[j]),
        exact=float(before.ravel()[j]),
    )


@dataclass
class _Bounds:
    """The first-order local bound of every replayed step, and the enclosure on demand."""

    cfg: Adam
    replayed: _Replayed
    compute: str
    param: str
    local: np.ndarray
    _enclosure: Enclosure | None = None

    @classmethod
    def of(cls, cfg: Adam, replayed: _Replayed, case: Case, variant: Variant) -> _Bounds:
        compute = variant.precision.compute_dtype(case.dtype)
        with np.errstate(all="ignore"):
            local = local_error_bound(
                cfg,
                replayed.trajectory(),
                compute_dtype=compute,
                param_dtype=case.dtype,
                scalar_dtype=scalar_dtype(compute),
            )
        return cls(cfg, replayed, compute, case.dtype, local.reshape(len(replayed.steps), -1))

    def enclosure(self) -> Enclosure | None:
        """The enclosure of every step, computed on demand (None without gmpy2)."""
        if self._enclosure is None and intervals.available():
            r = self.replayed
            self._enclosure = Enclosure(
                self.cfg,
                np.array(r.before),
                np.array(r.grads),
                r.ts,
                compute_dtype=self.compute,
                scalar_dtype=scalar_dtype(self.compute),
                param_dtype=self.param,
            )
        return self._enclosure


def _judge_param_in(
    A: Any, run: Run, case: Case, variant: Variant, i: int, verdict: Judgement
) -> list[np.ndarray]:
    cfg = oracle_config(variant, case.hyper_of(i))
    replayed = _replay(A, cfg, run, case, variant, i, verdict)
    if replayed is None or not replayed.steps:
        return [] if replayed is None else replayed.exact_rows()
    bounds = _Bounds.of(cfg, replayed, case, variant)
    for j in range(len(replayed.steps)):
        for idx in range(bounds.local.shape[1]):
            if not _judge_value(A, bounds, case, i, j, idx, verdict):
                return replayed.exact_rows()
    return replayed.exact_rows()


def _judge_value(
    A: Any, bounds: _Bounds, case: Case, i: int, j: int, idx: int, verdict: Judgement
) -> bool:
    """Judge one coordinate of one step; False once the verdict has failed."""
    r = bounds.replayed
    x = float(r.after[j][idx])
    exact = r.exact[j][idx]
    if not math.isfinite(x):
        return _judge_nonfinite(A, x, exact, bounds, case, i, j, idx, verdict)
    err = float(abs(A.number(x) - exact))
    b = SAFETY * float(bounds.local[j, idx])
    if err <= b < math.inf:  # the first-order model grants it (valid, error within)
        verdict.checked += 1
        _record(verdict, 0.0 if err == 0 else err / b, err, case, r, j, idx)
        return True
    enclosure = bounds.enclosure()
    if enclosure is None:
        verdict.unchecked += 1
        return True
    lo, hi = enclosure.at(j, idx)
    ex = float(exact)
    side = hi - ex if x > ex else ex - lo
    if not math.isfinite(side):  # the format may divide by 0 here: only finiteness judged
        verdict.unchecked += 1
        return True
    verdict.checked += 1
    excess = 0.0 if err == 0 else (err / side if side > 0 else math.inf)
    ulps = _record(verdict, excess, err, case, r, j, idx)
    if lo <= x <= hi:
        return True
    verdict.passed = False
    verdict.finding = Finding(
        f"params[{i}][{_index(r.shape, idx)}] after step {r.steps[j] + 1}: the implementation "
        f"gives {x!r}, the oracle {ex!r} (from the same θ before the step); error "
        f"{err:.3g} = {ulps:.3g} ulps exceeds the bound {side:.3g} (every correct result "
        f"lies in [{lo!r}, {hi!r}])",
        param=i,
        step=r.steps[j] + 1,
        index=idx,
        impl=x,
        exact=ex,
        bound=side,
        ulps=ulps,
    )
    return False


def _record(
    verdict: Judgement, excess: float, err: float, case: Case, r: _Replayed, j: int, idx: int
) -> float:
    """Update the worst excess and ulps; the error in ulps of the larger operand."""
    scale = max(abs(float(r.exact[j][idx])), abs(float(r.before[j][idx])))
    ulps = 0.0 if err == 0 else float(err / ulp(np.array(scale), case.dtype))
    verdict.worst_excess = max(verdict.worst_excess, excess)
    verdict.worst_ulps = max(verdict.worst_ulps, ulps)
    return ulps


def _judge_nonfinite(
    A: Arithmetic,
    x: float,
    exact: Any,
    bounds: _Bounds,
    case: Case,
    i: int,
    j: int,
    idx: int,
    verdict: Judgement,
) -> bool:
    """A non-finite θ passes only as NaN under 0/0 := 0 or as the exact value's overflow."""
    r = bounds.replayed
    verdict.checked += 1
    if bounds.cfg.eps == 0 and r.zero_den[j][idx] and math.isnan(x):
        return True  # 0/0 := 0 convention; NaN accepted
    if math.isinf(x) and _rounds_to(A, exact, case.dtype) == x:
        return True  # the exact value overflows the dtype: ±inf is its rounding
    ex = float(exact)
    verdict.passed = False
    verdict.finding = Finding(
        f"params[{i}][{_index(r.shape, idx)}] after step {r.steps[j] + 1}: θ became {x!r} "
        f"from the finite {float(r.before[j][idx])!r} with the finite gradient "
        f"{float(r.grads[j][idx])!r}; the oracle gives the finite {ex!r}",
        param=i,
        step=r.steps[j] + 1,
        index=idx,
        impl=x,
        exact=ex,
        bound=math.inf,
        ulps=math.inf,
    )
    verdict.worst_excess = verdict.worst_ulps = math.inf
    return False


def step_number(scope: StepScope, own_updates: int, k: int) -> int:
    """The ``t`` of the update at call ``k + 1``: the parameter's own count of updates plus
    this one (``param``), or the number of ``step()`` calls so far (``optimizer``)."""
    match scope:
        case StepScope.PARAM:
            return own_updates + 1
        case StepScope.OPTIMIZER:
            return k + 1
        case _:
            assert_never(scope)


def scalar_dtype(dtype: str) -> str:
    """Precision assumed for the per-step scalars 1 - β^t: the dtype itself, but at
    least float32 (with 16-bit scalars 1 - 0.999^t has no correct digit at small t, so
    the error model would not apply at all; PyTorch, optax and apex use ≥ float32)."""
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def _rounds_to(A: Arithmetic, exact: Any, dtype: str) -> float:
    """The exact value correctly rounded to ``dtype`` (±inf where it overflows)."""
    return round_to_format(A.result(exact), dtype)


def _index(shape: tuple[int, ...], flat: int) -> str:
    if not shape:
        return "()"
    return ", ".join(str(int(x)) for x in np.unravel_index(flat, shape))


def check_case(impl: Any, case: Case, variant: Variant) -> tuple[Run, Judgement]:
    """Drive and judge one case."""
    run = drive(impl, case)
    return run, judge(run, case, variant)
