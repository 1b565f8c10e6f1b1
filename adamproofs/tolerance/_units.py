"""Errors in units of the last place of a binary format."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..dtypes import float_format


def ulp(x: np.ndarray, dtype: Any) -> np.ndarray:
    """Spacing of ``dtype`` at ``|x|`` (as float64): 2^(e-p+1), floored at subnormals."""
    fmt = float_format(dtype)
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
