"""Small sympy tactics the derivations share (each returns a sympy result, never a guess)."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.simplify.simplify import sum_simplify

from ._core import is_zero, pull_out_of_sums


def generic_branch(expr: Any) -> Any:
    r"""Replace every ``Piecewise`` by its *otherwise* branch.

    ``summation`` answers :math:`\sum_{i=1}^t \beta^{t-i}` with a ``Piecewise``
    whose first branch is the special case :math:`\beta = 1`; the derivations state
    that case separately, so the generic branch is the one to compare.
    """
    expr = sp.piecewise_fold(expr)
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1].expr)


def sum_equals(lhs: Any, rhs: Any) -> bool:
    """``lhs == rhs`` where both may contain sums: evaluate with ``summation``, take the
    generic branch (no base equal to 1), then prove the difference is 0."""
    diff = generic_branch(sp.sympify(lhs - rhs).doit())
    return is_zero(diff)


def peel_last(total: sp.Sum) -> tuple[Any, bool]:
    r"""Split off the last term, :math:`\sum_{i=a}^{n+1} f_i = \sum_{i=a}^{n} f_i + f_{n+1}`.

    Returns the split form and whether sympy confirmed it (sums over adjacent
    ranges combine back into the original sum)."""
    (idx, low, high), body = total.limits[0], total.function
    head = sp.Sum(body, (idx, low, high - 1))
    last = sp.Sum(body, (idx, high, high))
    confirmed = sum_simplify(head + last - total) == 0 and is_zero(
        last.doit() - body.subs(idx, high)
    )
    return head + body.subs(idx, high), confirmed


def induction_step_holds(
    closed: Any,
    recursion_rhs: Any,
    n: sp.Symbol,
    index: sp.Symbol,
) -> bool:
    r"""Given a closed form ``closed(n)`` that is a constant times one ``Sum`` over
    ``index`` up to ``n``, check ``closed(n+1) == recursion_rhs(closed(n))``.

    ``recursion_rhs`` maps the value at ``n`` to the value at ``n + 1``. The last
    term of the sum at ``n + 1`` is split off (confirmed by sympy), constants are
    pulled out of the sums, and the difference must simplify to 0."""
    at_next = closed.subs(n, n + 1)
    sums = list(at_next.atoms(sp.Sum))
    if len(sums) != 1:
        raise ValueError("expected exactly one Sum in the closed form")
    split, confirmed = peel_last(sums[0])
    if not confirmed:
        return False
    lhs = at_next.xreplace({sums[0]: split})
    diff = sp.expand(lhs - recursion_rhs(closed))
    diff = pull_out_of_sums(diff, index)
    return is_zero(diff)
