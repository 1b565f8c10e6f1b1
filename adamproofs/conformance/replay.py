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

import contextlib
import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..config import Adam
from ..reference import fastpath
from ..reference.arithmetic import MPArithmetic, mp_arithmetic
from ..reference.rounding import round_to_format
from ..reference.rules import initial_state, rule_for
from ..tolerance import error_bound, ulp
from ..variants import UPDATE_AXES, Variant
from .drive import drive, same_bits
from .model import Case, Finding, Judgement, Run
from .protocol import Hyper

#: Working precision of the oracle (decimal digits); far beyond float64's 16.
DPS = 40



def oracle_config(variant: Variant, hyper: Hyper) -> Adam:
    """The oracle's :class:`~adamproofs.config.Adam` for ``hyper`` under ``variant``."""
    return Adam(lr=hyper.lr, beta1=hyper.beta1, beta2=hyper.beta2, eps=hyper.eps,
                weight_decay=hyper.weight_decay, maximize=hyper.maximize,
                **{axis: getattr(variant, axis) for axis in UPDATE_AXES})


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


def oracle_arithmetic() -> Any:
    """The replay's arithmetic: MPFR through gmpy2 when installed (the same rules, bit-identical
    to mpmath at the same precision, several times faster), else mpmath."""
    if fastpath.available():
        return fastpath.gmpy_arithmetic(DPS)
    return MPArithmetic(DPS)


def _judge_param(run: Run, case: Case, variant: Variant, i: int,
                 verdict: Judgement) -> list[np.ndarray]:
    A = oracle_arithmetic()
    scope = A.scope() if isinstance(A, fastpath.GmpyArithmetic) else contextlib.nullcontext()
    with scope:
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
            if not same_bits(before, after):
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
            ex = float(exact)
            if not math.isfinite(x):
                verdict.checked += 1
                if hyper.eps == 0 and zero_den[j][idx] and math.isnan(x):
                    continue  # 0/0 := 0 convention; NaN accepted
                if math.isinf(x) and _rounds_to(exact, case.dtype) == x:
                    continue  # the exact value overflows the dtype: ±inf is its rounding
                verdict.passed = False
                verdict.finding = Finding(
                    f"params[{i}][{_index(shape, idx)}] after step {k + 1}: θ became {x!r} "
                    f"from the finite {float(before_flat[j][idx])!r} with the finite gradient "
                    f"{float(grad_rows[j][idx])!r}; the oracle gives the finite {ex!r}",
                    param=i, step=k + 1, index=idx, impl=x, exact=ex,
                    bound=math.inf, ulps=math.inf)
                verdict.worst_excess = verdict.worst_ulps = math.inf
                return exact_rows
            err = float(abs(A.number(x) - exact))
            b = float(local[idx])
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


def _rounds_to(exact: Any, dtype: str) -> float:
    """The exact value correctly rounded to ``dtype`` (±inf where it overflows)."""
    return round_to_format(fastpath.to_mpmath(exact, mp_arithmetic(DPS))
                           if fastpath.available() and not hasattr(exact, "_mpf_") else exact,
                           dtype)


def _index(shape: tuple[int, ...], flat: int) -> str:
    if not shape:
        return "()"
    return ", ".join(str(int(x)) for x in np.unravel_index(flat, shape))


def check_case(impl: Any, case: Case, variant: Variant) -> tuple[Run, Judgement]:
    """Drive and judge one case."""
    run = drive(impl, case)
    return run, judge(run, case, variant)
