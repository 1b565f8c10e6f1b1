"""The checker's data: a case given to an implementation, what it did, and the verdict."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from .protocol import Hyper, Session

GradFn = Callable[[list[np.ndarray], int], list[Any]]
#: ``rows[k][i]``: the gradient of parameter ``i`` at step ``k+1``, or ``None`` (skipped)
GradRows = list[list[np.ndarray | None]]


@dataclass(frozen=True)
class Setup:
    """A property's own parameters of a case (each property subclasses it, e.g. the step
    at which the checkpoint property saves); plain values only, so a reproducer can
    write them back as source."""


S = TypeVar("S", bound=Setup)


@dataclass
class Case:
    """One input for an implementation: hyperparameters, initial values, gradients.

    ``grads[k][i]`` is the gradient of parameter ``i`` at step ``k+1`` (or ``None``);
    with ``grad_fn`` the gradients are instead computed from the implementation's
    current parameters, ``grad_fn(params, t)``. ``groups`` (optional) splits the
    parameters into consecutive groups ``(hyper, count)`` with their own hyperparameters;
    ``setup`` holds the parameters of the property that drew the case.
    """

    dtype: str
    hyper: Hyper
    params: list[np.ndarray]
    grads: GradRows = field(default_factory=list)
    grad_fn: GradFn | None = None
    steps: int | None = None
    groups: list[tuple[Hyper, int]] | None = None
    setup: Setup | None = None

    @property
    def n_steps(self) -> int:
        return len(self.grads) if self.grad_fn is None else int(self.steps or 0)

    def setup_as(self, kind: type[S]) -> S:
        """:attr:`setup`, which must be a ``kind`` (the property's own parameters)."""
        if not isinstance(self.setup, kind):
            raise TypeError(
                f"this case has setup {self.setup!r}; the property needs a {kind.__name__}"
            )
        return self.setup

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
    """What the implementation did: θ after each step and the gradients it was given.

    ``session`` is the session the run ended with (a checkpoint is saved from it).
    """

    thetas: list[list[np.ndarray]]
    grads: GradRows
    error: str | None = None  # an exception raised by the implementation (formatted)
    error_step: int | None = None
    mutated: str | None = None
    session: Session | None = None

    @property
    def failed(self) -> bool:
        """The implementation raised or wrote into its inputs."""
        return self.error is not None or self.mutated is not None


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
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) and k == "bound" else v)
            for k, v in self.__dict__.items()
        }


@dataclass
class Judgement:
    """The verdict on one case."""

    passed: bool
    worst_excess: float = 0.0
    worst_ulps: float = 0.0
    checked: int = 0
    unchecked: int = 0
    finding: Finding | None = None
    recorded_grads: GradRows | None = None  # what the implementation saw
