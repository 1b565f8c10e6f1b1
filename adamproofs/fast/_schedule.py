r"""Learning-rate schedules: the rate :math:`\alpha_t` of step t, t counted from 1.

The fast optimizer takes a schedule where optax takes ``learning_rate=schedule``:
``Optimizer(config, params, lr=schedule)`` (and ``functional.update(..., lr=schedule)``).
A schedule is either

- a function ``t -> α_t`` (any real number ≥ 0; called once per step and dtype), or
- a 1-D sequence or array of rates ``[α_1, α_2, ...]`` (copied when given; a step past
  its end is an error, raised before anything changes).

With a schedule the config's ``lr`` is not used; without one the rate is the config's
``lr`` at every step. ``t`` is the parameter's own step counter (the one in
:math:`1-\beta^t`), so the rate and the bias correction of a step always agree. optax
counts from 0: its ``schedule(count)`` is ``lambda t: schedule(t - 1)`` here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

#: What ``lr=`` accepts: a function of t or a table of per-step rates (``None``: the config's).
LearningRate = Callable[[int], Any] | Sequence[float] | np.ndarray


class Schedule(Protocol):
    """A learning-rate schedule as the optimizer uses it."""

    def rate(self, t: int) -> float:
        """:math:`\\alpha_t` as a finite float ≥ 0 (an error naming ``t`` otherwise)."""
        ...


class FunctionSchedule:
    """Rates from a function ``t -> α_t``; each value is checked when it is asked for."""

    def __init__(self, fn: Callable[[int], Any]) -> None:
        self.fn = fn

    def rate(self, t: int) -> float:
        value = self.fn(t)
        if isinstance(value, (bool, str, bytes)):
            raise TypeError(
                f"lr schedule returned {value!r} for t={t}; allowed: a real number >= 0"
            )
        try:
            as_float = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"lr schedule returned {value!r} ({type(value).__name__}) for "
                f"t={t}; allowed: a real number >= 0"
            ) from None
        if not (math.isfinite(as_float) and as_float >= 0):
            raise ValueError(
                f"lr schedule returned {value!r} for t={t}; allowed: a finite real number >= 0"
            )
        return as_float

    def __repr__(self) -> str:
        return f"FunctionSchedule({self.fn!r})"


class TableSchedule:
    """Rates from a table ``rates[t - 1]``, validated (and copied) once."""

    def __init__(self, rates: Sequence[float] | np.ndarray) -> None:
        try:
            table = np.array(rates, dtype=np.float64, copy=True)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"lr={_short(rates)} is not a sequence of real numbers: {err}"
            ) from None
        if np.asarray(rates).dtype == np.bool_:
            raise TypeError(f"lr={_short(rates)} holds booleans; allowed: real rates >= 0")
        if table.ndim != 1 or table.size == 0:
            raise ValueError(
                f"lr has shape {table.shape}; allowed: a non-empty 1-D sequence "
                "of per-step rates [α_1, α_2, ...]"
            )
        bad = np.flatnonzero(~(np.isfinite(table) & (table >= 0)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"lr[{i}] (the rate of step t={i + 1}) is {float(table[i])!r}; "
                "allowed: finite rates >= 0"
            )
        table.flags.writeable = False
        self.rates = table

    def rate(self, t: int) -> float:
        if t > self.rates.size:
            raise ValueError(
                f"the lr schedule has {self.rates.size} rates (steps 1.."
                f"{self.rates.size}); step t={t} needs one more"
            )
        return float(self.rates[t - 1])

    def __len__(self) -> int:
        return int(self.rates.size)

    def __repr__(self) -> str:
        return f"TableSchedule({self.rates.size} rates)"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_schedule(lr: LearningRate | Schedule | None) -> Schedule | None:
    """The :class:`Schedule` of an ``lr=`` argument (``None``: use the config's ``lr``)."""
    if lr is None or isinstance(lr, (FunctionSchedule, TableSchedule)):
        return lr
    if callable(lr):
        return FunctionSchedule(lr)
    if isinstance(lr, (str, bytes)) or not isinstance(lr, (Sequence, np.ndarray)):
        raise TypeError(
            f"lr={_short(lr)} is a {type(lr).__name__}; allowed: a function "
            "t -> α_t, a 1-D sequence of per-step rates, or None (the config's "
            "lr; a constant rate belongs there: Adam(lr=...))"
        )
    return TableSchedule(lr)
