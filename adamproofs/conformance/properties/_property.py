"""What a property is, and the pieces its checks share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from ...variants import Guarantee, Variant, guarantees
from .._cases import Context
from .._model import Case, Judgement
from .._replay import check_case
from ..protocol import Implementation

#: A property's check: ``(implementation, case, variant) -> verdict``.
Check = Callable[[Implementation, Case, Variant], Judgement]


def agrees_with_oracle(impl: Implementation, case: Case, variant: Variant) -> Judgement:
    """The default check: every step within the error bound of the oracle (:mod:`..replay`)."""
    return check_case(impl, case, variant)[1]


@dataclass(frozen=True)
class Property:
    """A named property: cases to draw, how to check one, what it needs.

    ``rank`` orders the properties in reports (cheap, telling ones first); ``needs`` are
    features the implementation must declare (:data:`..protocol.FEATURES`); ``requires``
    are the guarantees of the variant's definition the check relies on.
    """

    name: str
    doc: str
    rank: int
    strategy: Callable[[Context], st.SearchStrategy[Case]]
    check: Check = agrees_with_oracle
    needs: frozenset[str] = frozenset()
    requires: frozenset[Guarantee] = frozenset()

    def applies(self, variant: Variant) -> bool:
        """Whether ``variant``'s definition gives every guarantee this property relies on."""
        return self.requires <= guarantees(variant)


def combine(*judgements: Judgement) -> Judgement:
    """One verdict for several runs: the worst figures, the first failure."""
    out = Judgement(True)
    for j in judgements:
        out.worst_excess = max(out.worst_excess, j.worst_excess)
        out.worst_ulps = max(out.worst_ulps, j.worst_ulps)
        out.checked += j.checked
        out.unchecked += j.unchecked
        if not j.passed and out.passed:
            out.passed = False
            out.finding = j.finding
    return out
