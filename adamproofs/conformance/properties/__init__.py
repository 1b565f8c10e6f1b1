r"""The conformance properties, one module each: a hypothesis strategy of cases plus a check.

Each module of this package defines ``PROPERTY``, a :class:`Property` with
``strategy(ctx)`` (a strategy of :class:`~adamproofs.conformance._model.Case`, from
:mod:`..strategies`) and ``check(impl, case, variant)`` returning a
:class:`~adamproofs.conformance._model.Judgement`; :data:`PROPERTIES` is collected from
the modules. Unless a property says otherwise its check is the per-step replay of
:mod:`..replay` (agreement with
the oracle within the bound of :mod:`adamproofs.tolerance`), so every property
also checks agreement, on inputs chosen to stress one aspect:

=========================  ====================================================================
``first_step``             one step: Δ1 = α g/(|g|+ε) for Algorithm 1
``agreement``              random hyperparameters, shapes and gradient sequences
``step_bound``             |Δ_t| ≤ α S(t) on the maximising sequence g_i ∝ (β2/β1)^i (the exact
                           worst case of the reference notes, not the paper's approximation)
``scale_invariance``       ε = 0 and gradients times 2^k: θ trajectories equal (up to the bounds)
``sparsity``               mostly-zero gradients; a coordinate whose gradients are all exactly 0
                           never moves (ε > 0, no decay)
``nonstationary``          gradients from the implementation's own θ (moving quadratic), then
                           the oracle on the recorded gradients
``long_horizon``           1-2 coordinates, hundreds of steps, β2 close to 1
``tiny_gradients``         magnitudes down to where g² still is a normal number
``huge_gradients``         magnitudes up to where g² still does not overflow
``eps_zero``               ε = 0
``beta1_zero``             β1 = 0
``many_params``            3-6 arrays, equal and different shapes, 0-d and empty arrays
``late_first_gradient``    parameters whose gradient is ``None`` for a while (skipped; the
                           step counter per the variant's scope)
``groups``                 two parameter groups with different hyperparameters
``checkpoint``             save after k steps, restore into a fresh session, continue: the
                           trajectory equals the uninterrupted one bit for bit
``inputs_unmutated``       gradients and initial values are never written (every case checks
                           this; this property reports it on its own)
``hyperparameters``        α, β1, β2, ε, λ each changed alone: the result changes as the
                           oracle says
``nonfinite``              a NaN or ±inf gradient in one coordinate: that coordinate becomes
                           non-finite (IEEE propagation) or the whole step is skipped; every
                           other coordinate is bit-for-bit unaffected
=========================  ====================================================================
"""

from __future__ import annotations

import importlib
import pkgutil

from ...variants import Variant
from .._model import Case, Judgement
from ..protocol import Implementation
from ._property import Property, combine

__all__ = ["PROPERTIES", "Property", "check_property", "combine"]


def _collect() -> dict[str, Property]:
    """``PROPERTY`` of every module of this package, by name, in rank order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            found.append(importlib.import_module(f"{__name__}.{info.name}").PROPERTY)
    return {p.name: p for p in sorted(found, key=lambda p: p.rank)}


#: Every property, by name, in report order.
PROPERTIES: dict[str, Property] = _collect()


def check_property(name: str, impl: Implementation, case: Case, variant: Variant) -> Judgement:
    """Check one case of property ``name`` (what a reproducer calls)."""
    if name not in PROPERTIES:
        raise KeyError(f"property {name!r} is not one of {', '.join(PROPERTIES)}")
    return PROPERTIES[name].check(impl, case, variant)
