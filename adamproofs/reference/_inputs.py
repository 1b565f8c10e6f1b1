"""Conversion of a run's inputs (parameters, gradients, hyperparameters, state) to an arithmetic.

Every conversion is :meth:`Arithmetic.number <adamproofs.reference.Arithmetic.number>`:
exact for floats of any width and for mpmath numbers, correctly rounded for
decimal strings. Nothing the caller passes is mutated.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from ..config import OptimizerConfig
from ._arithmetic import Arithmetic
from .rules import State, initial_state


def object_array(values: list, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` (flat) as an object array of ``shape``, the elements themselves (no copies)."""
    return np.array(values + [None], dtype=object)[:-1].reshape(shape)


def to_objects(values: Any, A: Arithmetic, what: str) -> np.ndarray:
    """An array-like of real numbers as an object array of ``A``'s numbers (same shape).

    Booleans and ``None`` are refused (a ``TypeError`` naming ``what``).
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        if values.dtype.kind == "f" and values.dtype.itemsize <= 8:
            flat = [A.number(float(x)) for x in values.ravel()]
        else:
            flat = [A.number(x.item()) for x in values.ravel()]
        return object_array(flat, values.shape)
    arr = np.array(values, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    for idx, x in np.ndenumerate(arr):
        if isinstance(x, (bool, np.bool_)) or x is None:
            raise TypeError(f"{what} contains {x!r}; expected real numbers")
        if isinstance(x, np.generic):
            x = float(x) if isinstance(x, np.floating) else x.item()
        out[idx] = A.number(x)
    return out


def hyperparameters(
    cfg: OptimizerConfig, A: Arithmetic, overrides: dict[str, Any] | None
) -> SimpleNamespace:
    """``cfg``'s hyperparameters as ``A``'s numbers, some replaced by ``overrides``.

    Overrides (numbers, or sympy symbols for :class:`SympyArithmetic`) are
    converted by ``A`` too, so a number of another context or precision cannot
    change the precision of the operations it enters.
    """
    values = {name: A.number(value) for name, value in cfg.hyperparameters().items()}
    for name, value in (overrides or {}).items():
        if name not in values:
            raise ValueError(
                f"hyper override {name!r} is not a hyperparameter of "
                f"{type(cfg).__name__}; allowed: {sorted(values)}"
            )
        values[name] = A.number(value)
    return SimpleNamespace(**values)


def start_state(
    cfg: OptimizerConfig, size: int, A: Arithmetic, state0: dict[str, Any] | None
) -> State:
    """The state before the first update: ``state0`` converted (flattened), or the initial one.

    ``state0`` must hold exactly the arrays ``cfg`` needs (a ``"t"`` entry is
    ignored), each with ``size`` elements.
    """
    expected = initial_state(cfg, size, A)
    if state0 is None:
        return expected
    state = {
        name: [A.number(x) for x in np.asarray(values, dtype=object).ravel()]
        for name, values in state0.items()
        if name != "t"
    }
    if set(state) != set(expected):
        raise ValueError(
            f"state0 has arrays {sorted(state)}; {type(cfg).__name__} "
            f"with these flags needs {sorted(expected)}"
        )
    for name, values in state.items():
        if len(values) != size:
            raise ValueError(f"state0[{name!r}] has {len(values)} elements, theta0 has {size}")
    return state
