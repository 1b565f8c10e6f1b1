"""Cross-checks against the reference optimizer (the oracle), at 50 digits by default.

Each helper runs :func:`adamproofs.reference.run` on one scalar coordinate with
θ₀ = 0 and exact hyperparameters (decimal strings such as ``"0.9"`` are taken
exactly), and returns the steps Δ_t = θ_{t-1} − θ_t as mpmath numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from .. import reference
from ..config import Adam, OptimizerConfig
from ._core import digits_of_agreement

DPS = 50
#: Digits the oracle must reproduce a closed form to (of the 50 it carries).
REQUIRED_DIGITS = 40


def steps_of(
    config: OptimizerConfig,
    grads: Sequence[Any] | Callable[[int], Any],
    *,
    steps: int | None = None,
    dps: int = DPS,
    hyper: dict | None = None,
) -> list:
    """Δ_1, …, Δ_T of the reference run on a scalar parameter starting at 0.

    ``grads`` is a list of scalars or a function of the 1-based step ``t``.
    """
    if callable(grads):
        fn = grads
        traj = reference.run(
            config,
            [0],
            lambda theta, t: [_exact_input(fn(t), dps)],
            steps=steps,
            dps=dps,
            hyper=hyper,
        )
    else:
        traj = reference.run(
            config, [0], [[_exact_input(x, dps)] for x in grads], steps=steps, dps=dps, hyper=hyper
        )
    th = [row[0] for row in traj.thetas]
    return [th[n - 1] - th[n] for n in range(1, len(th))]


def sympy_run(grads: list, steps: int) -> reference.Trajectory:
    """The reference optimizer on sympy symbols (Adam, θ₀ = 0): α, β₁, β₂, ε symbolic."""
    from ._symbols import alpha, beta1, beta2, eps

    return reference.run(
        Adam(),
        [0],
        [[x] for x in grads[:steps]],
        arithmetic="sympy",
        hyper=dict(beta1=beta1, beta2=beta2, lr=alpha, eps=eps),
    )


def _exact_input(x: Any, dps: int) -> Any:
    """mpf values (of any context) go in as decimal strings with 15 guard digits, so the
    oracle rounds them once to its own precision instead of through a float."""
    if hasattr(x, "_mpf_"):
        return mpmath.libmp.to_str(x._mpf_, dps + 15)
    if isinstance(x, sp.Rational):
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, sp.Basic):
        return str(sp.N(x, dps + 15))
    return x


def compare(
    pairs: list[tuple[str, Any, Any]],
    required: int = REQUIRED_DIGITS,
) -> tuple[bool, str]:
    """Verdict and report for (label, oracle value, closed form value) pairs."""
    worst_label, worst = "", float("inf")
    for label, got, want in pairs:
        d = digits_of_agreement(got, want)
        if d < worst:
            worst_label, worst = label, d
    ok = worst >= required
    shown = "all digits" if worst == float("inf") else f"{worst:.1f} digits"
    return ok, f"worst agreement {shown} ({worst_label}); required {required}"
