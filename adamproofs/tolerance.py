r"""The floating-point error model: how far may a correct implementation be from the oracle?

This module turns the error analysis of ``docs/error-analysis.md`` into numbers.
Given the *exact* trajectory (from :func:`adamproofs.reference.run`) and the
precision an implementation computes in, it returns, for every step and
coordinate, an upper bound on ``|θ_impl - θ_exact|`` (and on the moments) that
any implementation doing the same mathematics with correctly rounded operations
satisfies. It is a *running* error analysis (Wilkinson): first-order bounds
evaluated along the actual trajectory, so they scale with the problem's own
magnitudes instead of a hand-tuned ``rtol``.

Model (``u``: unit roundoff of the compute dtype, ``u_s``: of the precision in
which the per-step scalars :math:`1-\beta^t` are computed, ``η``: half the
smallest subnormal):

- every hyperparameter coefficient (:math:`\beta`, :math:`1-\beta`, α, ε, λ) is
  the exact value correctly rounded to the compute dtype (relative error ≤ u);
- every array operation is correctly rounded (+, −, ×, ÷, √), in *any* of the
  usual orders: :math:`\beta m + (1-\beta) g`, the lerp form
  :math:`m + (1-\beta)(g-m)`, :math:`\sqrt{v}/\sqrt{1-\beta_2^t}` or
  :math:`\sqrt{v/(1-\beta_2^t)}`;
- :math:`\beta^t` is computed from a rounded β by ``pow`` or by repeated
  multiplication in precision ``u_s``: relative error ≤ :math:`(t+1)u_s`;
- parameters may be stored in a lower precision ``u_p`` than the state
  (one rounding of θ per step).

The per-step local error bounds (derived in the docs) are:

.. math::

    |\delta m_t| &\le 4u\,(|m_{t-1}| + (1-\beta_1)|g_t|) + \beta_1|\delta m_{t-1}|
                     + (1-\beta_1)|\delta g_t| \\
    |\delta v_t| &\le 5u\,(v_{t-1} + (1-\beta_2)g_t^2) + \beta_2|\delta v_{t-1}|
                     + 2(1-\beta_2)|g_t||\delta g_t| \\
    \rho_{bc,t} &= \frac{(t+2)\,u_s\,\beta^t}{1-\beta^t} + u_s \quad
                   \text{(relative error of } 1-\beta^t)

and then the step :math:`\Delta_t = s\,m/D` is bounded through the perturbation
of the denominator :math:`D` (with :math:`\min(E/2\sqrt{x}, \sqrt{E})` for the
square root, which stays valid when :math:`v` underflows), and
:math:`|\delta\theta_t| \le |\delta\theta_{t-1}| + |\delta\Delta_t| + (2u + u_p)|\theta_t|`.
The final bound is multiplied by :data:`SAFETY` = 2 to absorb second-order
terms; it is declared invalid (``inf``) where a first-order term exceeds
:data:`MAX_RELATIVE` or an exact value overflows the dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import SGD, AdaGrad, Adam, AdaMax, Momentum, Nesterov, OptimizerConfig, RMSProp
from .dtypes import FloatFormat, float_format

#: Multiplier on the first-order bound (second-order terms; see the docs).
SAFETY = 2.0
#: A first-order relative term above this makes the bound invalid (inf).
MAX_RELATIVE = 0.05
#: Operations per step that may each add an absolute underflow error η.
UNDERFLOW_OPS = 12


@dataclass(frozen=True)
class ErrorBound:
    """Absolute error bounds, arrays of shape ``(T+1, *shape)`` (row 0: the initial state)."""

    theta: np.ndarray
    state: dict[str, np.ndarray]
    unit_roundoff: float

    def excess(self, actual: np.ndarray, exact: np.ndarray) -> np.ndarray:
        """``|actual − exact| / bound`` per entry of the θ trajectory (> 1 violates the model).

        ``actual`` and ``exact`` have the shape of :attr:`theta`; NaN in ``actual`` gives inf.
        """
        err = np.abs(np.asarray(actual, dtype=np.float64) - np.asarray(exact, dtype=np.float64))
        err = np.where(np.isnan(err), np.inf, err)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(err == 0, 0.0, err / self.theta)
        return ratio


def _fmt(dtype: Any) -> FloatFormat:
    return float_format(dtype)


def bias_correction_relative_error(beta: float, t: int, us: float) -> float:
    """Relative error bound of 1 − β^t computed in precision ``us``: (t+2)·us·β^t/(1−β^t) + us."""
    bt = beta**t
    if bt == 0.0:
        return us
    return (t + 2) * us * bt / (1.0 - bt) + us


def _sqrt_err(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Bound on |√(x+δ) - √x| for |δ| <= e, x >= 0 (valid also when x ~ 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lin = np.where(x > 0, e / (2.0 * np.sqrt(np.maximum(x, 0.0))), np.inf)
    return np.minimum(lin, np.sqrt(e))


def _quotient_err(num: np.ndarray, e_num: np.ndarray, den: np.ndarray,
                  e_den: np.ndarray) -> np.ndarray:
    """Bound on |n'/d' - n/d| given |n'-n| <= e_num, |d'-d| <= e_den.

    Zero when the numerator is exactly zero with no error (0/d = 0, and 0/0 := 0);
    ``inf`` when the perturbed denominator may reach zero.
    """
    safe_den = np.where(den > 0, den, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = np.abs(num) / safe_den
        out = np.where(den > e_den, (e_num + q * e_den) / (den - e_den), np.inf)
    return np.where((num == 0) & (e_num == 0), 0.0, out)


def error_bound(config: OptimizerConfig, exact: dict[str, np.ndarray], *,
                compute_dtype: Any = "float64", param_dtype: Any = None,
                scalar_dtype: Any = None) -> ErrorBound:
    """Per-step bounds on ``|θ_impl − θ_exact|`` for arithmetic in ``compute_dtype``.

    Args:
      config: the optimizer (any :mod:`adamproofs.config` class).
      exact: the exact trajectory as float64 arrays, ``Trajectory.to_numpy("float64")``
        (keys ``theta`` (T+1, ...), ``grad`` (T, ...), state names).
      compute_dtype: dtype of the implementation's arithmetic and state.
      param_dtype: dtype θ is stored in (default: ``compute_dtype``).
      scalar_dtype: precision of the per-step scalars 1 − β^t (default:
        ``compute_dtype``, the least precise legitimate choice).
    """
    fmt = _fmt(compute_dtype)
    u = fmt.unit_roundoff
    up = _fmt(param_dtype).unit_roundoff if param_dtype is not None else 0.0
    eta_p = _fmt(param_dtype).underflow_abs if param_dtype is not None else 0.0
    if param_dtype is not None and _fmt(param_dtype).p >= fmt.p:
        up = eta_p = 0.0
    us = _fmt(scalar_dtype).unit_roundoff if scalar_dtype is not None else u
    eta = fmt.underflow_abs * UNDERFLOW_OPS
    eta_th = eta + eta_p  # θ is also rounded once into its storage dtype
    theta = np.asarray(exact["theta"], dtype=np.float64)
    grads = np.asarray(exact["grad"], dtype=np.float64)
    steps = grads.shape[0]
    shape = theta.shape[1:]
    flat = theta.reshape(steps + 1, -1)
    gflat = grads.reshape(steps, -1)
    n = flat.shape[1]
    bound = np.zeros((steps + 1, n))
    state_bounds: dict[str, np.ndarray] = {}
    lr = float(config.lr)
    sign = -1.0 if config.maximize else 1.0

    if isinstance(config, Adam):
        b1, b2 = float(config.beta1), float(config.beta2)
        c1, c2 = 1.0 - b1, 1.0 - b2
        eps, lam = float(config.eps), float(config.weight_decay)
        l2 = config.has_decay and config.decay == "l2"
        m = np.zeros(n)
        v = np.zeros(n)
        vmax = np.zeros(n)
        e_m = np.zeros(n)
        e_v = np.zeros(n)
        e_vmax = np.zeros(n)
        e_th = np.zeros(n)
        bm = np.zeros((steps + 1, n))
        bv = np.zeros((steps + 1, n))
        for k in range(steps):
            t = k + 1
            th_prev = flat[k]
            g = sign * gflat[k]
            e_g = np.zeros(n)
            if l2:
                e_g = lam * e_th + 3 * u * (np.abs(g) + lam * np.abs(th_prev))
                g = g + lam * th_prev
            # moments
            e_m = (4 * u * (np.abs(m) + c1 * np.abs(g)) + b1 * e_m + c1 * e_g + eta)
            e_v = (5 * u * (v + c2 * g * g) + b2 * e_v + 2 * c2 * np.abs(g) * e_g
                   + c2 * e_g * e_g + eta)
            m = b1 * m + c1 * g
            v = b2 * v + c2 * g * g
            if config.bias_correction:
                bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
                r1 = bias_correction_relative_error(b1, t, us)
                r2 = bias_correction_relative_error(b2, t, us)
            else:
                bc1 = bc2 = 1.0
                r1 = r2 = 0.0
            # second moment in the denominator, corrected space: vc with bound E_vc
            form = config.amsgrad
            if form is None:
                vc = v / bc2
                E_vc = e_v / bc2 + vc * (r2 + 2 * u)
            elif form == "max_raw":
                vmax = np.maximum(vmax, v)
                e_vmax = np.maximum(e_vmax, e_v)
                vc = vmax / bc2
                E_vc = e_vmax / bc2 + vc * (r2 + 2 * u)
            elif form == "max_corrected":
                cur = v / bc2
                e_cur = e_v / bc2 + cur * (r2 + 2 * u)
                vmax = np.maximum(vmax, cur)
                e_vmax = np.maximum(e_vmax, e_cur)
                vc, E_vc = vmax, e_vmax
            else:
                vmax = np.maximum(vmax, v)
                e_vmax = np.maximum(e_vmax, e_v)
                vc, E_vc = vmax, e_vmax
            # denominator D and step size s (relative error rho_s)
            if config.eps_placement == "root":
                inner = vc + eps
                E_in = E_vc + u * eps + u * inner
                D = np.sqrt(inner)
                E_D = _sqrt_err(inner, E_in) + u * D
                s, rho_s = lr / bc1, r1 + 3 * u
            elif config.eps_placement == "paper":
                root = np.sqrt(vc)
                D = root + eps
                E_D = _sqrt_err(vc, E_vc) + 3 * u * root + 2 * u * eps
                s, rho_s = lr / bc1, r1 + 3 * u
            else:  # hat: α_t m / (√v_raw + ε̂); as the paper form with ε_t = ε/√bc2
                root = np.sqrt(vc)
                eps_t = eps / np.sqrt(bc2)
                D = root + eps_t
                E_D = _sqrt_err(vc, E_vc) + 3 * u * root + eps_t * (r2 / 2 + 3 * u)
                s, rho_s = lr / bc1, r1 + r2 / 2 + 4 * u
            step = s * np.where(m == 0, 0.0, np.abs(m) / np.where(D > 0, D, 1.0))
            step = np.where((m != 0) & (D == 0), np.inf, step)
            E_step = s * _quotient_err(m, e_m, D, E_D) + step * (rho_s + 2 * u) + eta
            # parameter update
            th = flat[k + 1]
            decay_err = 0.0
            shrink = 1.0
            if config.has_decay and config.decay != "l2":
                shrink = 1.0 - lr * lam
                decay_err = 3 * u * np.abs(th_prev) * abs(shrink) + 2 * u * lr * lam * np.abs(
                    th_prev)
            e_th = (abs(shrink) * e_th + E_step + decay_err
                    + (2 * u + up) * np.abs(th) + eta_th)
            relative_terms = max(r1, r2, rho_s)
            invalid = (relative_terms > MAX_RELATIVE) | ~np.isfinite(E_step) | (
                np.maximum(v, np.maximum(g * g, vc)) > fmt.max)
            e_th = np.where(invalid, np.inf, e_th)
            bound[k + 1] = e_th
            bm[k + 1] = e_m
            bv[k + 1] = e_v
        state_bounds = {"m": bm, "v": bv}
    elif isinstance(config, AdaMax):
        b1, b2 = float(config.beta1), float(config.beta2)
        c1, eps = 1.0 - b1, float(config.eps)
        m = np.zeros(n)
        uu = np.zeros(n)
        e_m = np.zeros(n)
        e_u = np.zeros(n)
        e_th = np.zeros(n)
        for k in range(steps):
            t = k + 1
            g = sign * gflat[k]
            e_m = 4 * u * (np.abs(m) + c1 * np.abs(g)) + b1 * e_m + eta
            m = b1 * m + c1 * g
            e_u = np.maximum(b2 * e_u + 2 * u * b2 * uu, 0.0) + eta
            uu = np.maximum(b2 * uu, np.abs(g))
            D = uu + eps
            E_D = e_u + u * D + u * eps
            r1 = bias_correction_relative_error(b1, t, us)
            s = lr / (1.0 - b1**t)
            step = s * np.where(m == 0, 0.0, np.abs(m) / np.where(D > 0, D, 1.0))
            E_step = s * _quotient_err(m, e_m, D, E_D) + step * (r1 + 5 * u) + eta
            e_th = e_th + E_step + (2 * u + up) * np.abs(flat[k + 1]) + eta_th
            if r1 > MAX_RELATIVE:
                e_th = np.full(n, np.inf)
            bound[k + 1] = e_th
    elif isinstance(config, (SGD, Momentum, Nesterov)):
        mu = float(getattr(config, "momentum", 0.0))
        b = np.zeros(n)
        e_b = np.zeros(n)
        e_th = np.zeros(n)
        for k in range(steps):
            g = gflat[k]
            e_b = mu * e_b + 2 * u * (mu * np.abs(b) + np.abs(g)) + eta
            b = mu * b + g
            if isinstance(config, SGD):
                direction, e_dir = np.abs(g), np.zeros(n)
            elif isinstance(config, Nesterov):
                direction = np.abs(g + mu * b)
                e_dir = mu * e_b + 3 * u * (np.abs(g) + mu * np.abs(b))
            else:
                direction, e_dir = np.abs(b), e_b
            e_th = e_th + lr * e_dir + 2 * u * lr * direction + (2 * u + up) * np.abs(
                flat[k + 1]) + eta_th
            bound[k + 1] = e_th
    elif isinstance(config, (AdaGrad, RMSProp)):
        rho = 1.0 if isinstance(config, AdaGrad) else float(config.rho)
        c = 1.0 if isinstance(config, AdaGrad) else 1.0 - rho
        eps = float(config.eps)
        s_acc = np.full(n, float(getattr(config, "initial_accumulator", 0.0)))
        e_s = np.zeros(n)
        e_th = np.zeros(n)
        for k in range(steps):
            g = gflat[k]
            e_s = rho * e_s + 5 * u * (s_acc + c * g * g) + eta
            s_acc = rho * s_acc + c * g * g
            root = np.sqrt(s_acc)
            D = root + eps
            E_D = _sqrt_err(s_acc, e_s) + 2 * u * root + 2 * u * eps
            step = lr * np.where(g == 0, 0.0, np.abs(g) / np.where(D > 0, D, 1.0))
            E_step = lr * _quotient_err(g, np.zeros(n), D, E_D) + step * 4 * u + eta
            e_th = e_th + E_step + (2 * u + up) * np.abs(flat[k + 1]) + eta_th
            bound[k + 1] = e_th
    else:
        raise TypeError(f"no error model for {type(config).__name__}")

    def shaped(arr: np.ndarray) -> np.ndarray:
        return (SAFETY * arr).reshape((steps + 1, *shape))

    return ErrorBound(theta=shaped(bound),
                      state={name: shaped(arr) for name, arr in state_bounds.items()},
                      unit_roundoff=u)


def ulp(x: np.ndarray, dtype: Any) -> np.ndarray:
    """Spacing of ``dtype`` at ``|x|`` (as float64): 2^(e-p+1), floored at subnormals."""
    fmt = _fmt(dtype)
    x = np.abs(np.asarray(x, dtype=np.float64))
    with np.errstate(divide="ignore"):
        e = np.floor(np.log2(np.where(x > 0, x, 1.0)))
    e = np.maximum(e, fmt.emin)
    return np.ldexp(1.0, (e - fmt.p + 1).astype(int))


def error_in_ulps(actual: np.ndarray, exact: np.ndarray, dtype: Any) -> np.ndarray:
    """|actual − exact| in units of the last place of ``dtype`` at the exact value."""
    actual = np.asarray(actual, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.abs(actual - exact) / ulp(exact, dtype)

