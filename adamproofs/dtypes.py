"""Binary floating-point formats: the dtypes the fast Adam supports and their parameters.

A format with ``p`` significand bits (implicit bit included) and minimum normal
exponent ``emin`` has unit roundoff ``u = 2**-p`` and smallest subnormal
``2**(emin - p + 1)``. ``bfloat16`` is available when :mod:`ml_dtypes` is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True)
class FloatFormat:
    """An IEEE-style binary format: ``p`` significand bits, exponents ``emin..emax``."""

    name: str
    p: int
    emin: int
    emax: int

    @property
    def unit_roundoff(self) -> float:
        """u = 2^-p: the relative error bound of one correctly rounded operation."""
        return 2.0**-self.p

    @property
    def smallest_subnormal(self) -> float:
        return 2.0 ** (self.emin - self.p + 1)

    @property
    def smallest_normal(self) -> float:
        return 2.0**self.emin

    @property
    def max(self) -> float:
        return (2.0 - 2.0 ** (1 - self.p)) * 2.0**self.emax

    @property
    def underflow_abs(self) -> float:
        """Absolute error of one rounding in the subnormal range: half the smallest subnormal."""
        return 2.0 ** (self.emin - self.p)


FORMATS: dict[str, FloatFormat] = {
    "float16": FloatFormat("float16", 11, -14, 15),
    "bfloat16": FloatFormat("bfloat16", 8, -126, 127),
    "float32": FloatFormat("float32", 24, -126, 127),
    "float64": FloatFormat("float64", 53, -1022, 1023),
}


@cache
def bfloat16_dtype() -> np.dtype | None:
    """NumPy's bfloat16 dtype from ml_dtypes, or None when it is not installed."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    return np.dtype(ml_dtypes.bfloat16)


def supported_dtypes() -> tuple[np.dtype, ...]:
    """The floating dtypes the fast implementation accepts on this installation."""
    base: list[np.dtype] = [np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)]
    bf16 = bfloat16_dtype()
    if bf16 is not None:
        base.insert(1, bf16)
    return tuple(base)


def as_dtype(dtype: object) -> np.dtype:
    """Normalise ``dtype`` (a name, a NumPy type, an array dtype) and check it is supported."""
    if isinstance(dtype, str) and dtype == "bfloat16":
        bf16 = bfloat16_dtype()
        if bf16 is None:
            raise TypeError("dtype 'bfloat16' needs the ml_dtypes package (pip install ml_dtypes)")
        return bf16
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as err:
        raise TypeError(
            f"dtype={dtype!r} is not a NumPy dtype; allowed: {[d.name for d in supported_dtypes()]}"
        ) from err
    if dt not in supported_dtypes():
        raise TypeError(
            f"dtype={dt.name!r} is not supported; allowed: {[d.name for d in supported_dtypes()]}"
        )
    return dt


def float_format(dtype: object) -> FloatFormat:
    """The :class:`FloatFormat` of a supported dtype, or of a format named in
    :data:`FORMATS` (its numbers need no array type: ``"bfloat16"`` works without
    ml_dtypes)."""
    if isinstance(dtype, str) and dtype in FORMATS:
        return FORMATS[dtype]
    return FORMATS[as_dtype(dtype).name]
