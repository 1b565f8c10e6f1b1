"""The reference's arithmetics by name."""

from __future__ import annotations

from ._arithmetic import (
    Arithmetic,
    SympyArithmetic,
    check_dps,
    interval_arithmetic,
    mp_arithmetic,
)
from ._mpfr import available, gmpy_arithmetic

#: The names :func:`get_arithmetic` accepts.
ARITHMETICS = ("mp", "mpmath", "iv", "sympy")


def get_arithmetic(mode: str | Arithmetic, dps: int = 50) -> Arithmetic:
    """The arithmetic named ``mode`` at ``dps`` decimal digits (an instance is returned as is).

    - ``"mp"``: binary floating point with mpmath's numbers and rounding; computed on
      MPFR (:class:`~adamproofs.reference._mpfr.GmpyArithmetic`) when gmpy2 is
      installed, bit for bit the same, else on mpmath;
    - ``"mpmath"``: the same numbers, always computed by mpmath;
    - ``"iv"``: mpmath intervals (guaranteed enclosures);
    - ``"sympy"``: exact sympy expressions (``dps`` unused).

    ``dps`` must lie in ``[MIN_DPS, MAX_DPS]`` (see :mod:`adamproofs.reference._arithmetic`).
    """
    if isinstance(mode, Arithmetic):
        return mode
    match mode:
        case "sympy":
            return SympyArithmetic()
        case "iv":
            return interval_arithmetic(check_dps(dps))
        case "mp" if available():
            return gmpy_arithmetic(check_dps(dps))
        case "mp" | "mpmath":
            return mp_arithmetic(check_dps(dps))
        case _:
            raise ValueError(
                f"arithmetic={mode!r} is not one of {', '.join(map(repr, ARITHMETICS))}"
            )
