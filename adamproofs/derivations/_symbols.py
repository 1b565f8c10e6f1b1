r"""The symbols and closed forms shared by the derivations.

Notation follows Kingma & Ba: :math:`\alpha` step size, :math:`\beta_1, \beta_2`
decay rates, :math:`\epsilon`, the step number :math:`t \ge 1`, a summation index
:math:`i`, and gradients :math:`g_i` (an ``IndexedBase``).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

alpha = sp.Symbol("alpha", positive=True)
beta = sp.Symbol("beta", positive=True)
beta1 = sp.Symbol("beta_1", positive=True)
beta2 = sp.Symbol("beta_2", positive=True)
eps = sp.Symbol("epsilon", positive=True)
eps_hat = sp.Symbol("epsilonhat", positive=True)
rho = sp.Symbol("rho", positive=True)
t = sp.Symbol("t", integer=True, positive=True)
i = sp.Symbol("i", integer=True, positive=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
g = sp.IndexedBase("g", real=True)
gs = sp.Symbol("g", real=True)  # a single (scalar) gradient
c = sp.Symbol("c", real=True, nonzero=True)  # a gradient scale factor
mu = sp.Symbol("mu", real=True)  # E[g]
s2 = sp.Symbol("s", positive=True)  # E[g^2]

m_t = sp.Symbol("m_t", real=True)
v_t = sp.Symbol("v_t", positive=True)
mhat = sp.Symbol("mhat_t", real=True)
vhat = sp.Symbol("vhat_t", positive=True)
Delta = sp.Function("Delta")
m = sp.Function("m")
v = sp.Function("v")
r = sp.Function("r")
S = sp.Function("S")


def r_closed(b1: Any = beta1, b2: Any = beta2, n: Any = t) -> Any:
    r"""Severe sparsity: :math:`r(t) = \frac{1-\beta_1}{1-\beta_1^t}\sqrt{\frac{1-\beta_2^t}
    {1-\beta_2}}`, the ratio :math:`|\hat m_t|/\sqrt{\hat v_t}` when only :math:`g_t \ne 0`."""
    return (1 - b1) / (1 - b1**n) * sp.sqrt((1 - b2**n) / (1 - b2))


def rho_of(b1: Any = beta1, b2: Any = beta2) -> Any:
    r""":math:`\rho = \beta_1^2/\beta_2`."""
    return b1**2 / b2


def geometric_factor(q: Any, n: Any) -> Any:
    r""":math:`\sum_{k=0}^{n-1} q^k`: :math:`(1-q^n)/(1-q)`, or :math:`n` when :math:`q = 1`."""
    if q == 1:
        return n
    return (1 - q**n) / (1 - q)


def S_closed(b1: Any = beta1, b2: Any = beta2, n: Any = t) -> Any:
    r"""The exact worst case :math:`S(t) = \sup_g |\hat m_t|/\sqrt{\hat v_t}
    = r(t)\sqrt{(1-\rho^t)/(1-\rho)}`, :math:`\rho = \beta_1^2/\beta_2`."""
    return r_closed(b1, b2, n) * sp.sqrt(geometric_factor(rho_of(b1, b2), n))


def S_limit(b1: Any = beta1, b2: Any = beta2) -> Any:
    r""":math:`S(\infty) = \frac{1-\beta_1}{\sqrt{1-\beta_2}} \frac{1}{\sqrt{1-\beta_1^2/\beta_2}}`
    (for :math:`\beta_1 < \sqrt{\beta_2}`)."""
    return (1 - b1) / sp.sqrt(1 - b2) / sp.sqrt(1 - rho_of(b1, b2))


def adamax_sup(b1: Any = beta1, b2: Any = beta2, n: Any = t) -> Any:
    r"""AdaMax: :math:`\sup |\Delta_t|/\alpha = \frac{1-\beta_1}{1-\beta_1^t}
    \frac{1-(\beta_1/\beta_2)^t}{1-\beta_1/\beta_2}`."""
    return (1 - b1) / (1 - b1**n) * geometric_factor(b1 / b2, n)


def unrolled(b: Any, terms: Any, n: Any = t) -> Any:
    r""":math:`(1-\beta)\sum_{i=1}^{n} \beta^{n-i} x_i` for ``terms`` a function of ``i``."""
    return (1 - b) * sp.Sum(b ** (n - i) * terms(i), (i, 1, n))


class Shown(sp.Symbol):
    """An opaque symbol that prints as a given formula (e.g. a supremum over sequences).

    ``Shown("sup_g |m̂_t|/√v̂_t", r"\\sup_g \\frac{|\\hat m_t|}{\\sqrt{\\hat v_t}}")`` prints
    as the first string in text and as the second in LaTeX."""

    _latex_forms: dict[str, str] = {}  # noqa: RUF012 - a registry shared by all instances

    def __new__(cls, text: str, latex: str) -> Shown:
        obj = super().__new__(cls, text)
        cls._latex_forms[text] = latex
        return obj

    def __getnewargs_ex__(self) -> tuple[tuple[str, str], dict]:
        return (self.name, self._latex_forms[self.name]), {}

    def _latex(self, printer: Any) -> str:
        return self._latex_forms[self.name]

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(self.name)

    def _sympystr(self, printer: Any) -> str:
        return self.name
