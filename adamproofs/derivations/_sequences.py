"""Fast high-precision evaluation of a closed form of (β1, β2, t) for t = 1, 2, …, T.

The closed form is the sympy expression the derivation proved; it is compiled once
(``lambdify`` onto a private mpmath context) with the powers β1^t, β2^t and
(β1²/β2)^t passed in as numbers that are updated by one multiplication per step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sympy as sp

from ._core import private_context
from ._symbols import beta1, beta2, rho_of, t

_X, _Y, _Z, _W = sp.symbols("X Y Z W", nonnegative=True)


def powers_as_symbols(expr: Any) -> Any:
    """``expr`` with β1^t, β2^t, (β1²/β2)^t, (β1/β2)^t replaced by the symbols X, Y, Z, W."""
    return (
        sp.sympify(expr)
        .subs({rho_of() ** t: _Z, (beta1 / beta2) ** t: _W})
        .subs({beta1**t: _X, beta2**t: _Y})
    )


def along_t(expr: Any, b1: str, b2: str, last: int, ctx: Any) -> Iterator[tuple[int, Any]]:
    """Yield ``(t, expr(b1, b2, t))`` for t = 1..last as mpf numbers of the mpmath context
    ``ctx``; ``b1`` and ``b2`` are decimal strings (rounded once to the context)."""
    body = powers_as_symbols(expr)
    if t in body.free_symbols:
        raise ValueError(f"{expr} depends on t other than through powers of the betas")
    fn = sp.lambdify((beta1, beta2, _X, _Y, _Z, _W), body, modules=[{"sqrt": ctx.sqrt}])
    x1, x2 = ctx.mpf(b1), ctx.mpf(b2)
    rho, ratio = x1 * x1 / x2, x1 / x2
    X, Y, Z, W = x1, x2, rho, ratio
    for n in range(1, last + 1):
        yield n, fn(x1, x2, X, Y, Z, W)
        X, Y, Z, W = X * x1, Y * x2, Z * rho, W * ratio


def first_exceeding(
    expr: Any, bound: Any, b1: str, b2: str, last: int, dps: int = 40
) -> int | None:
    """The first t <= last with expr(t) > bound (``bound`` a sympy number), else None."""
    ctx = private_context(dps)
    level = ctx.mpf(str(sp.N(bound, dps + 5)))
    for n, value in along_t(expr, b1, b2, last, ctx):
        if value > level:
            return n
    return None
