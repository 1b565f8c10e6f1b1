"""The checker's data: a case given to an implementation, what it did, and the verdict."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .protocol import Hyper

GradFn = Callable[[list[np.ndarray], int], list[Any]]


@dataclass
class Case:
    """One input for an implementation: hyperparameters, initial values, gradients.

    ``grads[k][i]`` is the gradient of parameter ``i`` at step ``k+1`` (or ``None``);
    with ``grad_fn`` the gradients are instead computed from the implementation's
    current parameters, ``grad_fn(params, t)``. ``groups`` (optional) splits the
    parameters into consecutive groups ``(hyper, count)`` with their own hyperparameters.
    """

    dtype: str
    hyper: Hyper
    params: list[np.ndarray]
    grads: list[list[np.ndarray | None]] = field(default_factory=list)
    grad_fn: GradFn | None = None
    steps: int | None = None
    groups: list[tuple[Hyper, int]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return len(self.grads) if self.grad_fn is None else int(self.steps or 0)

    def hyper_of(self, i: int) -> Hyper:
        """The hyperparameters of parameter ``i``."""
        if not self.groups:
            return self.hyper
        start = 0
        for hyper, count in self.groups:
            if i < start + count:
                return hyper
            start += count
        raise IndexError(i)


@dataclass
class Run:
    """What the implementation did: θ after each step and the gradients it was given."""

    thetas: list[list[np.ndarray]]
    grads: list[list[np.ndarray | None]]
    error: str | None = None  # an exception raised by the implementation (formatted)
    error_step: int | None = None
    mutated: str | None = None


@dataclass
class Finding:
    """Why a case failed: where, the implementation's number and the oracle's."""

    message: str
    param: int | None = None
    step: int | None = None
    index: int | None = None
    impl: float | None = None
    exact: float | None = None
    bound: float | None = None
    ulps: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) and k == "bound"
                    else v) for k, v in self.__dict__.items()}


@dataclass
class Judgement:
    """The verdict on one case."""

    passed: bool
    worst_excess: float = 0.0
    worst_ulps: float = 0.0
    checked: int = 0
    unchecked: int = 0
    finding: Finding | None = None
    exact_thetas: list[list[np.ndarray]] | None = None  # oracle θ per present step (float64)
    recorded_grads: list[list[np.ndarray | None]] | None = None  # what the implementation saw
