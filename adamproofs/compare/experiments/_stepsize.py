r"""Problem 9: the effective step |Δ_t|/α: the paper's two bound cases and the exact worst case.

Top panel: the (β1, β2) plane with the paper's case split (1-β1) > √(1-β2) (bound
(1-β1)/√(1-β2)) versus otherwise (bound 1), the break-point curve 1-β1 = √(1-β2), and the
curve β1 = √β2 beyond which no bound uniform in t exists (ρ = β1²/β2 ≥ 1).

Panels below: measured max |Δ_t|/α of :class:`adamproofs.fast.Optimizer` (Adam, ε = 0, with
bias correction) over many gradient sequences, against the exact supremum
(``reference/adam-math.md`` §4.3)

.. math::

    S(t) = \frac{1-\beta_1}{1-\beta_1^t}\sqrt{\frac{1-\beta_2^t}{1-\beta_2}}
           \sqrt{\frac{1-\rho^t}{1-\rho}},\qquad \rho = \beta_1^2/\beta_2,

attained by :math:`g_i \propto (\beta_2/\beta_1)^i` at every t at once.

Measuring Δ exactly: θ is set to 0 before every step (the gradients do not depend on θ),
so after the step θ = 0 − Δ̃ is the computed step itself, with no rounding of θ.

Rounding (float64, unit roundoff u; the kernel computes β·m + (1−β)·g with 1−β exact for
β ∈ [½, 1), so the exact β's to compare with are the binary values of float(β)). With
the local error model of :mod:`adamproofs.tolerance` (≤ 4u(|m_{t−1}| + (1−β1)|g_t|) per
step for m, ≤ 5u(v_{t−1} + (1−β2)g_t²) for v) and
:math:`m^{abs}_{t-1} + (1-\beta_1)|g_t| \le (1 + 1/\beta_1)\, m^{abs}_t`, where
:math:`m^{abs}` is the same average of |g| and :math:`m^{abs}_s \le \beta_1^{-(t-s)} m^{abs}_t`:

.. math::

    |\tilde m_t - m_t| \le 4u(1+1/\beta_1)\,t\,m^{abs}_t,\qquad
    |\tilde v_t - v_t| \le 5u(1+1/\beta_2)\,t\,v_t .

Cauchy–Schwarz bounds :math:`\hat m^{abs}_t/\sqrt{\hat v_t}` by S(t) too, so the computed
ratio is at most :math:`S(t)\,(1+e_m)(1+e_{b1})(1+u)^6 / \sqrt{(1-e_v)(1-e_{b2})}` with
:math:`e_m, e_v` the two relative terms above and :math:`e_{b}` the relative error of the
computed 1−β^t, :math:`(t+2)u\beta^t/(1-\beta^t) + u` (six more roundings: √, two
divisions by the corrections, the division m/d, the product by α/(1−β1^t), and |Δ|/α).
:func:`ratio_bound` is that number; the tests assert measured ≤ ratio_bound.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np

from ..._step_size import worst_case, worst_case_limit
from ...config import Adam
from ...fast import Optimizer
from ...tolerance import bias_correction_relative_error
from .. import _figures as figures
from .._report import ProblemReport
from .._runner import seed_for
from . import Context

NAME = "stepsize"
TITLE = "Effective step size: the paper's bound cases and the exact worst case S(t)"
PAIRS = ((0.9, 0.999), (0.9, 0.99), (0.99, 0.999))
STEPS, QUICK_STEPS = 3000, 600
PER_FAMILY = 200
FAMILIES = ("gaussian", "sparse", "cauchy", "noisy geometric", "random-walk scale")
U = 2.0**-53
COLUMNS = [
    "beta1",
    "beta2",
    "case",
    "paper_bound",
    "S_at_T",
    "S_limit",
    "max_measured",
    "max_measured_over_S",
    "first_t_S_exceeds_paper",
    "steps",
]


def S(t: int, beta1: float, beta2: float, dps: int = 30) -> float:
    """S(t) at ``dps`` digits, at the exact binary values of the floats."""
    with mpmath.workdps(dps):
        return float(worst_case(mpmath.mpf(beta1), mpmath.mpf(beta2), t, sqrt=mpmath.sqrt))


S_limit = worst_case_limit


def paper_bound(beta1: float, beta2: float) -> float:
    """Kingma & Ba §2.1: (1-β1)/√(1-β2) if (1-β1) > √(1-β2), else 1."""
    r = (1 - beta1) / math.sqrt(1 - beta2)
    return r if r > 1 else 1.0


def ratio_bound(t: int, beta1: float, beta2: float, u: float = U) -> float:
    """S(t) times the float64 rounding allowance derived in the module docstring."""
    e_m = 0.0 if beta1 == 0 else 4 * u * (1 + 1 / beta1) * t
    e_v = 5 * u * (1 + 1 / beta2) * t

    def e_b(beta: float) -> float:
        return bias_correction_relative_error(beta, t, u)

    return (
        S(t, beta1, beta2)
        * (1 + e_m)
        * (1 + e_b(beta1))
        * (1 + u) ** 6
        / math.sqrt((1 - e_v) * (1 - e_b(beta2)))
    )


def sequences(
    steps: int, beta1: float, beta2: float, seed: int, per_family: int = PER_FAMILY
) -> tuple[np.ndarray, list[str]]:
    """Gradient sequences as columns: the maximiser (β2/β1)^i first, then random families."""
    rng = np.random.default_rng(seed)
    i = np.arange(1, steps + 1)[:, None]
    growth = (beta2 / beta1) ** i
    n = per_family
    cols = [growth[:, :1] * 1.0]
    names = ["maximiser"]
    cols.append(rng.standard_normal((steps, n)))
    cols.append(rng.standard_normal((steps, n)) * (rng.random((steps, n)) < 0.01))
    cols.append(rng.standard_cauchy((steps, n)))
    cols.append(growth * np.abs(1 + 0.5 * rng.standard_normal((steps, n))))
    cols.append(
        rng.standard_normal((steps, n))
        * np.exp(np.cumsum(0.3 * rng.standard_normal((steps, n)), axis=0))
    )
    for fam in FAMILIES:
        names += [fam] * n
    return np.ascontiguousarray(np.hstack(cols)), names


def measure(grads: np.ndarray, beta1: float, beta2: float) -> np.ndarray:
    """|Δ_t|/α for every step and column (α = 1, ε = 0, bias correction on)."""
    steps, n = grads.shape
    theta = np.zeros(n)
    opt = Optimizer(Adam(lr=1.0, beta1=beta1, beta2=beta2, eps=0.0), [theta])
    out = np.empty((steps, n))
    for t in range(steps):
        theta[:] = 0.0
        opt.step([grads[t]])
        np.abs(theta, out=out[t])
    return out


def run(ctx: Context) -> ProblemReport:
    steps = QUICK_STEPS if ctx.quick else STEPS
    plt = figures.plt()
    fig, (region, key, *axes) = plt.subplots(
        5, 1, figsize=(6.0, 17.0), gridspec_kw={"height_ratios": [1.25, 0.4, 1, 1, 1]}
    )
    region_panel(region)
    key.axis("off")  # the region panel's legend, below it
    key.legend(*region.get_legend_handles_labels(), loc="center", fontsize=9)
    rows: list[dict[str, Any]] = []
    numbers: dict[str, Any] = {}
    print(
        f"  {NAME}: {len(PAIRS)} (β1, β2) pairs × {1 + PER_FAMILY * len(FAMILIES)} "
        f"sequences × {steps} steps",
        flush=True,
    )
    ts = np.arange(1, steps + 1)
    for ax, (b1, b2) in zip(axes, PAIRS):
        grads, names = sequences(steps, b1, b2, seed_for(NAME, b1, b2, ctx.seeds))
        ratio = measure(grads, b1, b2)
        s_t = np.array([S(int(t), b1, b2) for t in ts])
        bound = np.array([ratio_bound(int(t), b1, b2) for t in ts])
        random_max = ratio[:, 1:].max(axis=1)
        over = float(np.max(ratio / bound[:, None]))
        pb = paper_bound(b1, b2)
        exceeds = np.nonzero(s_t > pb * (1 + 1e-12))[0]
        rows.append(
            {
                "beta1": b1,
                "beta2": b2,
                "case": "1: (1-β1) > √(1-β2)" if (1 - b1) > math.sqrt(1 - b2) else "2",
                "paper_bound": pb,
                "S_at_T": float(s_t[-1]),
                "S_limit": S_limit(b1, b2),
                "max_measured": float(ratio.max()),
                "max_measured_over_S": float(np.max(ratio / s_t[:, None])),
                "first_t_S_exceeds_paper": int(ts[exceeds[0]]) if exceeds.size else None,
                "steps": steps,
            }
        )
        numbers[f"{b1:g},{b2:g}"] = {
            "max_measured_over_bound": over,
            "family_max_over_S": {
                fam: float(
                    np.max(ratio[:, [k for k, n in enumerate(names) if n == fam]] / s_t[:, None])
                )
                for fam in ("maximiser", *FAMILIES)
            },
        }
        ax.plot(ts, s_t, "k-", lw=1.6, label="exact worst case $S(t)$")
        ax.axhline(pb, color="#1f77b4", ls="--", lw=1.2, label=f"paper's bound ({pb:.3g})")
        ax.plot(
            ts,
            ratio[:, 0],
            color="#d62728",
            ls=":",
            lw=2.2,
            label=r"measured, $g_i \propto (\beta_2/\beta_1)^i$",
        )
        ax.plot(
            ts,
            random_max,
            color="#2ca02c",
            lw=1.0,
            label=f"measured max over {ratio.shape[1] - 1} random sequences",
        )
        ax.set_xscale("log")
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$|\Delta_t|/\alpha$")
        ax.set_title(rf"$\beta_1 = {b1:g}$, $\beta_2 = {b2:g}$")
        ax.legend(loc="upper left")
    figures.save(fig, ctx.figdir(NAME), "stepsize")
    worst = max(v["max_measured_over_bound"] for v in numbers.values())
    findings = [
        f"Measured max |Δ_t|/α never exceeds S(t) beyond rounding: the largest measured/"
        f"bound ratio is {worst:.15f} (≤ 1 means within the float64 allowance).",
        "The paper's bound is not a bound: S(t) exceeds it at "
        + ", ".join(
            f"t = {r['first_t_S_exceeds_paper']} for ({r['beta1']:g}, {r['beta2']:g})"
            for r in rows
            if r["first_t_S_exceeds_paper"]
        )
        + ".",
    ]
    return ProblemReport(
        NAME,
        TITLE,
        "Adam with ε = 0 and bias correction, run by the fast optimizer on the maximising "
        "sequence g_i ∝ (β2/β1)^i and on 1000 random sequences (Gaussian, sparse, Cauchy, "
        "noisy geometric, random-walk scale; 200 each); |Δ_t| is read exactly by resetting "
        "θ to 0 before each step. S(t) is the exact supremum over all gradient sequences "
        "(see the step-size derivation); the paper's §2.1 numbers are exceeded.",
        COLUMNS,
        rows,
        numbers,
        [
            (
                "stepsize",
                "(β1, β2) regions of the paper's two cases, and measured |Δ_t|/α "
                "against the exact worst case S(t)",
            )
        ],
        findings,
        {"steps": steps, "sequences": 1 + PER_FAMILY * len(FAMILIES)},
    )


def region_panel(ax: Any) -> None:
    """x = 1-β2, y = 1-β1 (log-log): case 1 above y = √x, no uniform bound below β1 = √β2.

    The regions and curves carry labels; the caller draws their legend."""
    x = np.logspace(-5, -0.3, 400)
    brk = np.sqrt(x)
    rho1 = 1 - np.sqrt(1 - x)  # 1 - β1 where β1 = √β2
    top = np.full_like(x, 1.0)
    ax.fill_between(
        x,
        brk,
        top,
        color="#ffbb78",
        alpha=0.5,
        label=r"case 1: $1-\beta_1 > \sqrt{1-\beta_2}$, bound $(1-\beta_1)/\sqrt{1-\beta_2}$",
    )
    ax.fill_between(x, rho1, brk, color="#aec7e8", alpha=0.6, label=r"case 2: bound $\alpha$")
    ax.fill_between(
        x,
        1e-6,
        rho1,
        color="#c7c7c7",
        alpha=0.7,
        label=r"$\beta_1 \geq \sqrt{\beta_2}$: $S(t)$ unbounded in $t$",
    )
    ax.plot(x, brk, "k-", lw=1.4, label=r"break point $1-\beta_1 = \sqrt{1-\beta_2}$")
    ax.plot(x, rho1, "k--", lw=1.0, label=r"$\beta_1 = \sqrt{\beta_2}$ ($\rho = 1$)")
    for b1, b2 in ((0.9, 0.999), *PAIRS[1:], (0.5, 0.999)):
        ax.plot(1 - b2, 1 - b1, "o", color="#d62728", ms=5)
        ax.annotate(
            f"({b1:g}, {b2:g})",
            (1 - b2, 1 - b1),
            textcoords="offset points",
            xytext=(4, 3),
            fontsize=9,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-5, 0.5)
    ax.set_ylim(1e-4, 1.0)
    ax.set_xlabel(r"$1-\beta_2$")
    ax.set_ylabel(r"$1-\beta_1$")
    ax.set_title(r"the paper's two cases in the $(\beta_1, \beta_2)$ plane")
