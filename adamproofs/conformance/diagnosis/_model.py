"""The diagnosis a report carries: the model that explains the observed steps, or why none does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["explained", "unexplained"]


@dataclass(frozen=True)
class Diagnosis:
    """What explains a failing implementation's trajectory in one dtype.

    ``status`` is ``"explained"`` only when one model (a catalogued defect or a legitimate
    variant, alone or in a pair) fits every judged step within the error bound and the
    runner-up does not; else ``"unexplained"``, and ``summary`` names the first quantity
    that departs and the step where it departs.
    """

    status: Status
    dtype: str
    summary: str
    details: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    #: the models that fit equally (or nearly) when the diagnosis cannot choose between them
    candidates: tuple[tuple[str, ...], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "dtype": self.dtype,
            "summary": self.summary,
            "details": list(self.details),
            "model": list(self.model),
        }
