r"""The exact worst case of Adam's step: :math:`S(t)` and its limit, defined once.

Over all gradient sequences (ε = 0), :math:`|\hat m_t|/\sqrt{\hat v_t} \le S(t)` with

.. math::
    S(t) = \frac{1-\beta_1}{1-\beta_1^t}\sqrt{\frac{1-\beta_2^t}{1-\beta_2}}
           \sqrt{\sum_{i=0}^{t-1} \rho^i},\qquad \rho = \beta_1^2/\beta_2,

attained by :math:`g_i \propto (\beta_2/\beta_1)^i` at every t at once (the sympy proof is
:mod:`adamproofs.derivations._bounds`), and for :math:`\beta_1^2 < \beta_2`

.. math::
    S(\infty) = \frac{1-\beta_1}{\sqrt{1-\beta_2}}\sqrt{\frac{\beta_2}{\beta_2-\beta_1^2}}.

Both are generic in the arithmetic: floats with :func:`math.sqrt`, or mpmath numbers with
``sqrt=mpmath.sqrt``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["worst_case", "worst_case_limit"]


def worst_case(beta1: Any, beta2: Any, t: int, *, sqrt: Callable[[Any], Any] = math.sqrt) -> Any:
    """:math:`S(t)` (see the module docstring); ``inf`` when β2 = 0 < β1."""
    if beta1 == 0:
        return sqrt((1 - beta2**t) / (1 - beta2)) if beta2 != 0 else 1.0
    if beta2 == 0:
        return math.inf
    rho = beta1 * beta1 / beta2
    geo = t if rho == 1 else (1 - rho**t) / (1 - rho)
    return (1 - beta1) / (1 - beta1**t) * sqrt((1 - beta2**t) / (1 - beta2)) * sqrt(geo)


def worst_case_limit(beta1: float, beta2: float) -> float:
    r""":math:`S(\infty)`; ``inf`` when :math:`\beta_1^2 \ge \beta_2` (then S(t) is unbounded)."""
    if beta1 * beta1 >= beta2:
        return math.inf
    return (1 - beta1) / math.sqrt(1 - beta2) * math.sqrt(beta2 / (beta2 - beta1 * beta1))
