"""Candidate models: a variant of Adam with at most a few catalogued defects on top.

A :class:`Candidate` is Algorithm 1 under a :class:`~adamproofs.variants.Variant` (its
update axes and step scope) with some :class:`~.catalogue.Defect` changes applied:
its stages are :data:`~adamproofs.reference.rules.DEFAULT_STAGES` with the defects'
stages replaced, its hyperparameters and step counter changed as the defects say.
:func:`single_changes` lists every one-change model around a base variant, and
:func:`pairs` combines two changes of different slots.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from ...reference.rules import DEFAULT_STAGES, AdamStages
from ...variants import AXES, UPDATE_AXES, StepScope, Variant, spell
from ._catalogue import CATALOGUE, Defect

#: The axes the search changes (precision is a tolerance, see :mod:`.replay`).
SEARCHED_AXES: tuple[str, ...] = (*UPDATE_AXES, "step_scope")

#: the trajectory feature that makes an axis observable (None: always)
_AXIS_NEEDS: dict[str, str | None] = {
    "eps_placement": None,
    "bias_correction": None,
    "amsgrad": None,
    "decay": "weight_decay",
    "step_scope": "late_parameter",
}


@dataclass(frozen=True)
class AxisChange:
    """One variant axis set to a value other than the base's."""

    axis: str
    value: Any

    @property
    def name(self) -> str:
        return f"{self.axis}={spell(self.value)}"

    @property
    def slot(self) -> str:
        return self.axis


Change = AxisChange | Defect


@dataclass(frozen=True)
class Candidate:
    """A model of the update: ``variant`` with ``defects`` applied."""

    variant: Variant
    changes: tuple[Change, ...] = ()

    @property
    def defects(self) -> tuple[Defect, ...]:
        return tuple(c for c in self.changes if isinstance(c, Defect))

    @property
    def names(self) -> tuple[str, ...]:
        """The changes from the base, by name (axis changes as ``axis=value``)."""
        return tuple(c.name for c in self.changes)

    def stages(self) -> AdamStages:
        """Algorithm 1's stages with each defect's stage replaced."""
        stages = DEFAULT_STAGES
        for d in self.defects:
            if d.stage is not None and d.patch is not None:
                stages = stages.replace(**{d.stage: d.patch(getattr(stages, d.stage))})
        return stages

    def hyper(self, hyper: dict[str, float]) -> dict[str, float]:
        """The hyperparameters the update sees."""
        for d in self.defects:
            if d.hyper is not None:
                hyper = d.hyper(hyper)
        return hyper

    def step_number(self, own: int, calls: int, shared: int) -> int:
        """``t`` of an update: ``own`` earlier updates of the parameter, ``calls`` the
        number of ``step()`` calls so far (this one included), ``shared`` the updates of
        all parameters before this one."""
        for d in self.defects:
            if d.counter is not None:
                return d.counter(own, calls, shared)
        match self.variant.step_scope:
            case StepScope.PARAM:
                return own + 1
            case StepScope.OPTIMIZER:
                return calls
            case _:  # pragma: no cover - exhaustive over StepScope
                raise AssertionError(self.variant.step_scope)


def _with_changes(base: Variant, changes: tuple[Change, ...]) -> Candidate | None:
    """``base`` with ``changes`` applied; None when two of them change the same slot."""
    slots = [c.slot for c in changes]
    if len(set(slots)) < len(slots):
        return None
    variant = base
    for c in changes:
        if isinstance(c, AxisChange):
            variant = variant.replace(**{c.axis: c.value})
        else:
            for axis, value in c.implies:
                variant = variant.replace(**{axis: value})
    return Candidate(variant, changes)


def observable(change: Change, features: frozenset[str]) -> bool:
    """Whether the trajectories with ``features`` can show ``change`` at all."""
    if isinstance(change, AxisChange):
        need = _AXIS_NEEDS[change.axis]
        return need is None or need in features
    return change.simulated and change.needs <= features


def single_changes(base: Variant, features: frozenset[str]) -> list[Change]:
    """Every axis value other than the base's and every replayed defect, each observable."""
    out: list[Change] = []
    for axis in SEARCHED_AXES:
        for value in AXES[axis].values:
            if value != getattr(base, axis):
                out.append(AxisChange(axis, value))
    out.extend(CATALOGUE.values())
    return [c for c in out if observable(c, features)]


def singles(base: Variant, changes: list[Change]) -> Iterator[Candidate]:
    for c in changes:
        cand = _with_changes(base, (c,))
        if cand is not None:
            yield cand


def pairs(base: Variant, changes: list[Change]) -> Iterator[Candidate]:
    """Every two changes of different slots."""
    for a, b in combinations(changes, 2):
        cand = _with_changes(base, (a, b))
        if cand is not None:
            yield cand
