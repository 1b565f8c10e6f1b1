"""Features of a case (0-d parameters, β1 = 0, weight decay, ...): what ``--without`` leaves
out of the generated cases, and what the checker blames when most failures share one.

Each feature is a predicate on a :class:`~.model.Case`; some also hide a feature of the
implementation (:data:`~.protocol.FEATURES`), so the strategies stop drawing it and the
properties that need it are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ._model import Case
from .protocol import Hyper, UsageError


def _hypers(case: Case) -> list[Hyper]:
    return [case.hyper, *(h for h, _ in case.groups or [])]


def _grads(case: Case) -> list[np.ndarray | None]:
    return [g for row in case.grads for g in row]


@dataclass(frozen=True)
class Feature:
    """A feature a case may have: ``what`` it is in a sentence, whether ``case`` has it, the
    implementation features it hides."""

    what: str
    present: Callable[[Case], bool]
    hides: frozenset[str] = frozenset()


#: name -> feature, as ``--without`` takes them
FEATURES: dict[str, Feature] = {
    "weight_decay": Feature(
        "weight decay (λ > 0)",
        lambda c: any(h.weight_decay > 0 for h in _hypers(c)),
        frozenset({"weight_decay"}),
    ),
    "maximize": Feature(
        "maximize=True", lambda c: any(h.maximize for h in _hypers(c)), frozenset({"maximize"})
    ),
    "scalar_params": Feature("0-d parameters", lambda c: any(p.ndim == 0 for p in c.params)),
    "empty_params": Feature("empty parameters", lambda c: any(p.size == 0 for p in c.params)),
    "beta1_zero": Feature("β1 = 0", lambda c: any(h.beta1 == 0 for h in _hypers(c))),
    "eps_zero": Feature("ε = 0", lambda c: any(h.eps == 0 for h in _hypers(c))),
    "none_grads": Feature(
        "None gradients (skipped parameters)",
        lambda c: any(g is None for g in _grads(c)),
        frozenset({"skip"}),
    ),
    "nonfinite_grads": Feature(
        "NaN or infinite gradients",
        lambda c: any(g is not None and not np.all(np.isfinite(g)) for g in _grads(c)),
    ),
    "groups": Feature("parameter groups", lambda c: bool(c.groups), frozenset({"groups"})),
    "checkpoint": Feature(
        "checkpoints (save and restore)", lambda c: False, frozenset({"checkpoint"})
    ),
}


def parse_without(value: str | Iterable[str] | None) -> frozenset[str]:
    """``"weight_decay,maximize"`` (or a list of names) -> the names, each checked."""
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [str(x).strip() for x in items if str(x).strip()]
    for name in names:
        if name not in FEATURES:
            raise UsageError(f"--without {name!r} is not a feature; allowed: {', '.join(FEATURES)}")
    return frozenset(names)


def case_features(case: Case) -> frozenset[str]:
    """The names of the features ``case`` has."""
    return frozenset(name for name, f in FEATURES.items() if f.present(case))


def hidden(without: frozenset[str]) -> frozenset[str]:
    """The implementation features that leaving out ``without`` hides."""
    return frozenset(x for name in without for x in FEATURES[name].hides)
