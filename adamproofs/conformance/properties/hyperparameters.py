"""The hyperparameters property: α, β1, β2, ε, λ each changed alone change the result as
the oracle says (an implementation that ignores one fails)."""

from __future__ import annotations

from collections.abc import Callable

from ...variants import Variant
from .._cases import representable
from .._model import Case, Judgement
from .._replay import check_case
from .._strategies import CHANGEABLE, HyperparameterSetup, hyperparameters
from ..protocol import Hyper, Implementation
from ._property import Property, combine

#: hyperparameter -> its changed value (representable in the dtype)
CHANGES: dict[str, Callable[[Hyper, str], float]] = {
    "lr": lambda h, dt: representable(h.lr * 3.0 if h.lr < 0.3 else h.lr / 3.0, dt),
    "beta1": lambda h, dt: representable(0.5 if h.beta1 != 0.5 else 0.9, dt, below_one=True),
    "beta2": lambda h, dt: representable(0.9 if h.beta2 > 0.95 else 0.999, dt, below_one=True),
    "eps": lambda h, dt: representable(h.eps * 30.0 if h.eps else 1e-3, dt),
    "weight_decay": lambda h, dt: representable(0.5 if h.weight_decay != 0.5 else 0.1, dt),
}
assert tuple(CHANGES) == CHANGEABLE


def check(impl: Implementation, case: Case, variant: Variant) -> Judgement:
    which = case.setup_as(HyperparameterSetup).changed
    _, j1 = check_case(impl, case, variant)
    new = CHANGES[which](case.hyper, case.dtype)
    other = Case(
        case.dtype, case.hyper.replace(**{which: new}), [p.copy() for p in case.params], case.grads
    )
    _, j2 = check_case(impl, other, variant)
    j = combine(j1, j2)
    if not j.passed and j.finding is not None:
        j.finding.message = (
            f"with {which} changed from {getattr(case.hyper, which)!r} to "
            f"{new!r}: " + j.finding.message
        )
    return j


PROPERTY = Property("hyperparameters", "α, β1, β2, ε, λ each honoured", 17, hyperparameters, check)
