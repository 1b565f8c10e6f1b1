r"""Run an implementation on a case, then judge every step against the oracle.

The judgement is *per step* (a "replay"): for each parameter array and each step
:math:`t` at which it received a gradient, the oracle (:mod:`adamproofs.reference`,
mpmath at :data:`DPS` digits) performs one exact update starting from the
implementation's own :math:`\theta_{t-1}` (a float, taken exactly) and the exact
optimizer state (the exact moments of the gradients the implementation saw, with
L2 decay computed from the implementation's own θ history). The difference

.. math::  e_t = |\theta^{impl}_t - \theta^{exact}_t(\theta^{impl}_{t-1})|

is the error committed in step :math:`t` alone. It is compared with the local
part of the running error bound of :func:`adamproofs.tolerance.error_bound`
(evaluated along the implementation's trajectory):
:math:`b_t = B_t - |1-\alpha\lambda|\,B_{t-1}` for decoupled decay, else
:math:`B_t - B_{t-1}`. That local part contains the accumulated error of the
moments (a correct implementation's m and v carry rounding errors from all past
steps) but not the accumulated error of θ, so an error of a few ulps per step
cannot hide behind the allowance of earlier steps. A step passes when
:math:`e_t \le b_t`; its *excess* is :math:`e_t / b_t` and its error in ulps is
:math:`e_t/\mathrm{ulp}(\max(|\theta^{exact}_t|, |\theta^{impl}_{t-1}|))` in the dtype
under test (the larger operand, so that cancellation does not inflate it). A step where
the bound is infinite (the model does not apply, e.g. overflow) is *unchecked*.

Conventions: with ε = 0 a coordinate whose gradients were all zero has the
exact step 0/0 := 0; a NaN or an unchanged value is accepted there. A parameter
whose gradient is ``None`` must not change at all.
"""

from __future__ import annotations

import math
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..config import Adam
from ..dtypes import as_dtype
from ..reference import Arithmetic, get_arithmetic
from ..reference.rules import initial_state, rule_for
from ..tolerance import error_bound, ulp
from ..variants import UPDATE_AXES, Variant
from .protocol import Hyper, InputMutated, supports

#: Working precision of the oracle (decimal digits); far beyond float64's 16.
DPS = 40

GradFn = Callable[[list[np.ndarray], int], list[Any]]


def oracle_config(variant: Variant, hyper: Hyper) -> Adam:
    """The oracle's :class:`~adamproofs.config.Adam` for ``hyper`` under ``variant``."""
    return Adam(lr=hyper.lr, beta1=hyper.beta1, beta2=hyper.beta2, eps=hyper.eps,
                weight_decay=hyper.weight_decay, maximize=hyper.maximize,
                **{axis: getattr(variant, axis) for axis in UPDATE_AXES})


@dataclass
class Case:
    """One input for an implementation: hyperparameters, initial values, gradients.

    ``grads[k][i]`` is the gradient of parameter ``i`` at step ``k+1`` (or ``None``);
    with ``grad_fn`` the gradients are instead computed from the implementation's
    current parameters, ``grad_fn(params, t)``. ``groups`` (optional) splits the
    parameters into consecutive groups ``(hyper, count)`` with their own hyperparameters.
    """

    dtype: str
    hyper: Hyper
    params: list[np.ndarray]
    grads: list[list[np.ndarray | None]] = field(default_factory=list)
    grad_fn: GradFn | None = None
    steps: int | None = None
    groups: list[tuple[Hyper, int]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return len(self.grads) if self.grad_fn is None else int(self.steps or 0)

    def hyper_of(self, i: int) -> Hyper:
        """The hyperparameters of parameter ``i``."""
        if not self.groups:
            return self.hyper
        start = 0
        for hyper, count in self.groups:
            if i < start + count:
                return hyper
            start += count
        raise IndexError(i)


@dataclass
class Run:
    """What the implementation did: θ after each step and the gradients it was given."""

    thetas: list[list[np.ndarray]]
    grads: list[list[np.ndarray | None]]
    error: str | None = None  # an exception raised by the implementation (formatted)
    error_step: int | None = None
    mutated: str | None = None


@dataclass
class Finding:
    """Why a case failed: where, the implementation's number and the oracle's."""

    message: str
    param: int | None = None
    step: int | None = None
    index: int | None = None
    impl: float | None = None
    exact: float | None = None
    bound: float | None = None
    ulps: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) and k == "bound"
                    else v) for k, v in self.__dict__.items()}


@dataclass
class Judgement:
    """The verdict on one case."""

    passed: bool
    worst_excess: float = 0.0
    worst_ulps: float = 0.0
    checked: int = 0
    unchecked: int = 0
    finding: Finding | None = None
    exact_thetas: list[list[np.ndarray]] | None = None  # oracle θ per present step (float64)
    recorded_grads: list[list[np.ndarray | None]] | None = None  # what the implementation saw


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise-equal values (NaN equal to NaN)."""
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.all(
        (a == b) | (np.isnan(a.astype(np.float64)) & np.isnan(b.astype(np.float64)))))


def _format_exception(err: BaseException) -> str:
    tb = traceback.format_exception(type(err), err, err.__traceback__)
    return "".join(tb[-6:]).strip()


def drive(impl: Any, case: Case, *, session: Any = None, start: int = 0,
          stop: int | None = None) -> Run:
    """Run ``impl`` on ``case``; record θ after every step. Never raises for the
    implementation's own errors: they are stored in :attr:`Run.error`."""
    dtype = as_dtype(case.dtype)
    params0 = [p.copy() for p in case.params]
    thetas: list[list[np.ndarray]] = []
    grads: list[list[np.ndarray | None]] = []
    run = Run(thetas=thetas, grads=grads)
    step_no = start
    try:
        if session is None:
            if case.groups:
                groups, k = [], 0
                for hyper, count in case.groups:
                    groups.append((hyper, [p.copy() for p in case.params[k:k + count]]))
                    k += count
                session = impl.create_groups(groups, dtype)
            else:
                session = impl.create(case.hyper, [p.copy() for p in case.params], dtype)
        thetas.append(_checked_params(session.params(), case))
        end = case.n_steps if stop is None else stop
        for k in range(start, end):
            step_no = k + 1
            if case.grad_fn is not None:
                g = case.grad_fn([p.copy() for p in thetas[-1]], k + 1)
            else:
                g = case.grads[k]
            g = [None if x is None else np.asarray(x, dtype=dtype) for x in g]
            given = [None if x is None else x.copy() for x in g]
            with warnings.catch_warnings():  # NaN/inf warnings of the implementation's own
                warnings.simplefilter("ignore", RuntimeWarning)
                session.step(list(given))
            for i, (x, y) in enumerate(zip(g, given, strict=True)):
                if x is not None and not _same(x, y):
                    raise InputMutated(f"step() wrote into the gradient array of params[{i}]")
            grads.append(g)
            thetas.append(_checked_params(session.params(), case))
    except InputMutated as err:
        run.mutated = str(err)
        run.error_step = step_no
    except Exception as err:  # the implementation's own failure, reported, never raised
        run.error = _format_exception(err)
        run.error_step = step_no
    for i, (p, q) in enumerate(zip(case.params, params0, strict=True)):
        if not _same(p, q):
            run.mutated = f"the initial value of params[{i}] given to create() was modified"
    run.session = session  # type: ignore[attr-defined]
    return run


def _checked_params(values: Any, case: Case) -> list[np.ndarray]:
    dtype = as_dtype(case.dtype)
    out = []
    values = list(values)
    if len(values) != len(case.params):
        raise ValueError(f"params() returned {len(values)} arrays for {len(case.params)} "
                         "parameters")
    for i, (v, p) in enumerate(zip(values, case.params, strict=True)):
        arr = np.asarray(v)
        if arr.shape != p.shape:
            raise ValueError(f"params()[{i}] has shape {arr.shape}; expected {p.shape}")
        if arr.dtype != dtype:
            raise ValueError(f"params()[{i}] has dtype {arr.dtype}; expected {dtype} "
                             "(the implementation changed the parameter's dtype)")
        out.append(arr.copy())
    return out


def judge(run: Run, case: Case, variant: Variant) -> Judgement:
    """Compare every step of ``run`` with the oracle under ``variant`` (see module doc)."""
    if run.error is not None:
        return Judgement(False, math.inf, math.inf, recorded_grads=run.grads, finding=Finding(
            f"the implementation raised at step {run.error_step}:\n{run.error}",
            step=run.error_step))
    if run.mutated is not None:
        return Judgement(False, math.inf, math.inf, recorded_grads=run.grads, finding=Finding(
            f"inputs mutated: {run.mutated} (step {run.error_step})", step=run.error_step))
    verdict = Judgement(True, recorded_grads=run.grads)
    exact_all: list[list[np.ndarray]] = []
    for i in range(len(case.params)):
        exact_rows = _judge_param(run, case, variant, i, verdict)
        exact_all.append(exact_rows)
        if not verdict.passed:
            break
    verdict.exact_thetas = exact_all
    return verdict


def oracle_arithmetic() -> Arithmetic:
    """The replay's arithmetic: ``"mp"`` at :data:`DPS` digits (MPFR through gmpy2 when
    installed: the same rules, bit-identical to mpmath at the same precision, several times
    faster; else mpmath)."""
    return get_arithmetic("mp", DPS)


def _judge_param(run: Run, case: Case, variant: Variant, i: int,
                 verdict: Judgement) -> list[np.ndarray]:
    A = oracle_arithmetic()
    with A.scope():
        return _judge_param_in(A, run, case, variant, i, verdict)


def _judge_param_in(A: Any, run: Run, case: Case, variant: Variant, i: int,
                    verdict: Judgement) -> list[np.ndarray]:
    hyper = case.hyper_of(i)
    cfg = oracle_config(variant, hyper)
    h = SimpleNamespace(**{k: A.number(v) for k, v in cfg.hyperparameters().items()})
    rule = rule_for(cfg)
    shape = case.params[i].shape
    n = int(np.prod(shape, dtype=np.int64))
    state = initial_state(cfg, n, A)
    t = 0
    present_steps: list[int] = []
    theta_rows = [run.thetas[0][i].astype(np.float64).ravel()]
    grad_rows: list[np.ndarray] = []
    exact_new: list[list] = []
    exact_rows: list[np.ndarray] = []
    zero_den: list[np.ndarray] = []
    for k in range(len(run.grads)):
        g = run.grads[k][i]
        before, after = run.thetas[k][i], run.thetas[k + 1][i]
        if g is None:
            if not _same(before, after):
                j = int(np.argmax(~((before == after) | np.isnan(before))))
                verdict.passed = False
                verdict.finding = Finding(
                    f"params[{i}] changed at step {k + 1} although its gradient was None "
                    "(it must be skipped)", param=i, step=k + 1, index=j,
                    impl=float(after.ravel()[j]), exact=float(before.ravel()[j]))
                return exact_rows
            continue
        if not np.all(np.isfinite(before)) or not np.all(np.isfinite(g)):
            break  # non-finite territory: judged by the non-finite property, not here
        t = t + 1 if variant.step_scope == "param" else k + 1
        th = [A.number(float(x)) for x in before.ravel()]
        gg = [A.number(float(x)) for x in g.ravel()]
        new_th, state = rule(cfg, h, t, th, gg, state, A)
        present_steps.append(k)
        exact_new.append(new_th)
        exact_rows.append(np.array([float(x) for x in new_th]).reshape(shape))
        zero_den.append(np.array([A.is_zero(x) for x in state["v"]]))
        theta_rows.append(after.astype(np.float64).ravel())
        grad_rows.append(g.astype(np.float64).ravel())
    if not present_steps:
        return exact_rows
    with np.errstate(all="ignore"):
        bounds = error_bound(cfg, {"theta": np.array(theta_rows), "grad": np.array(grad_rows)},
                             compute_dtype=case.dtype, scalar_dtype=scalar_dtype(case.dtype)
                             ).theta.reshape(len(theta_rows), -1)
    shrink = 1.0
    if cfg.has_decay and cfg.decay != "l2":
        shrink = abs(1.0 - hyper.lr * hyper.weight_decay)
    before_flat = [run.thetas[k][i].astype(np.float64).ravel() for k in present_steps]
    for j, k in enumerate(present_steps):
        after = run.thetas[k + 1][i].ravel()
        with np.errstate(invalid="ignore"):
            local = bounds[j + 1] - shrink * bounds[j]
        for idx in range(n):
            x = float(after[idx])
            exact = exact_new[j][idx]
            if not math.isfinite(x):
                if hyper.eps == 0 and zero_den[j][idx] and math.isnan(x):
                    verdict.checked += 1
                    continue  # 0/0 := 0 convention; NaN accepted
                err = math.inf
            else:
                err = float(abs(A.number(x) - exact))
            b = float(local[idx])
            ex = float(exact)
            if not math.isfinite(b) or math.isnan(b):
                verdict.unchecked += 1
                continue
            verdict.checked += 1
            excess = 0.0 if err == 0 else (err / b if b > 0 else math.inf)
            scale = max(abs(ex), abs(float(before_flat[j][idx])))
            ulps = 0.0 if err == 0 else float(err / ulp(np.array(scale), case.dtype))
            if excess > verdict.worst_excess or (excess == verdict.worst_excess
                                                 and ulps > verdict.worst_ulps):
                verdict.worst_excess = excess
            verdict.worst_ulps = max(verdict.worst_ulps, ulps)
            if excess > 1.0:
                verdict.passed = False
                verdict.finding = Finding(
                    f"params[{i}][{_index(shape, idx)}] after step {k + 1}: the implementation "
                    f"gives {x!r}, the oracle {ex!r} (from the same θ before the step); "
                    f"error {err:.3g} = {ulps:.3g} ulps exceeds the bound {b:.3g}",
                    param=i, step=k + 1, index=idx, impl=x, exact=ex, bound=b, ulps=ulps)
                return exact_rows
    return exact_rows


def scalar_dtype(dtype: str) -> str:
    """Precision assumed for the per-step scalars 1 - β^t: the dtype itself, but at
    least float32 (with 16-bit scalars 1 - 0.999^t has no correct digit at small t, so
    the error model would not apply at all; PyTorch, optax and apex use ≥ float32)."""
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def _index(shape: tuple[int, ...], flat: int) -> str:
    if not shape:
        return "()"
    return ", ".join(str(int(x)) for x in np.unravel_index(flat, shape))


def check_case(impl: Any, case: Case, variant: Variant) -> tuple[Run, Judgement]:
    """Drive and judge one case."""
    run = drive(impl, case)
    return run, judge(run, case, variant)


def features_needed(case: Case) -> set[str]:
    """The implementation features a case exercises."""
    need = {str(as_dtype(case.dtype).name)}
    hypers = [case.hyper] + [h for h, _ in (case.groups or [])]
    if any(h.weight_decay for h in hypers):
        need.add("weight_decay")
    if any(h.maximize for h in hypers):
        need.add("maximize")
    if case.groups:
        need.add("groups")
    if any(g is None for row in case.grads for g in row):
        need.add("skip")
    return need


def can_run(impl: Any, case: Case) -> bool:
    return all(supports(impl, f) for f in features_needed(case))
