r"""The floating-point error model: how far may a correct implementation be from the oracle?

This package turns the error analysis of ``docs/error-analysis.md`` into numbers.
Given the *exact* trajectory (from :func:`adamproofs.reference.run`: θ, the gradients
and the state, read and never recomputed) and the precision an implementation computes
in, it returns, for every step and coordinate, an upper bound on ``|θ_impl - θ_exact|``
(and on the state) that any implementation doing the same mathematics with correctly
rounded operations satisfies. It is a *running* error analysis (Wilkinson): first-order bounds
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
The bound is declared invalid (``inf``) where a first-order term exceeds
:data:`MAX_RELATIVE` or an exact value overflows the dtype. The running bound of
:func:`error_bound` is multiplied by :data:`SAFETY` = 2 for the neglected second-order
terms (an unproved factor); :func:`local_error_bound` has no factor.

Where the first-order model does not apply, or to decide a step it would fail,
:mod:`adamproofs.tolerance._enclosure` gives a guaranteed enclosure of every result the
model allows: interval arithmetic rounded outward to the implementation's format over
the allowed operation orders. The checker's replay judges every step with the two.

Modules: :mod:`~adamproofs.tolerance._first_order` (the per-step models, one per optimizer),
:mod:`~adamproofs.tolerance._bounds` (running and local bounds along a trajectory),
:mod:`~adamproofs.tolerance._enclosure` (the enclosure), :mod:`~adamproofs.tolerance._units`
(ulps).
"""

from ._bounds import ErrorBound, error_bound, local_error_bound, state_names
from ._first_order import (
    MAX_RELATIVE,
    MODELS,
    SAFETY,
    UNDERFLOW_OPS,
    bias_correction_relative_error,
    model_for,
)
from ._units import error_in_ulps, ulp

__all__ = [
    "MAX_RELATIVE",
    "MODELS",
    "SAFETY",
    "UNDERFLOW_OPS",
    "ErrorBound",
    "bias_correction_relative_error",
    "error_bound",
    "error_in_ulps",
    "local_error_bound",
    "model_for",
    "state_names",
    "ulp",
]
