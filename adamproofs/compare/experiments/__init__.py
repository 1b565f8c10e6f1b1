"""One module per problem; each exposes ``NAME``, ``TITLE`` and ``run(ctx) -> ProblemReport``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: problem name -> module (in the order the CLI runs them)
PROBLEMS: dict[str, str] = {
    "quadratic": "adamproofs.compare.experiments._quadratic",
    "rosenbrock": "adamproofs.compare.experiments._rosenbrock",
    "logistic": "adamproofs.compare.experiments._logistic",
    "sparse": "adamproofs.compare.experiments._sparse",
    "mlp": "adamproofs.compare.experiments._mlp",
    "cnn": "adamproofs.compare.experiments._cnn",
    "nonstationary": "adamproofs.compare.experiments._nonstationary",
    "reddi": "adamproofs.compare.experiments._reddi",
    "bias_correction": "adamproofs.compare.experiments._bias_correction",
    "stepsize": "adamproofs.compare.experiments._stepsize",
    "newton": "adamproofs.compare.experiments._newton",
}


@dataclass(frozen=True)
class Context:
    """Run settings shared by every problem.

    ``plugins``: roster keys of users' optimizers (``plugin:module:attr``), added to every
    learning-rate sweep; ``max_widenings``: how many points a sweep may add beyond the end
    of an optimizer's grid that holds its best rate (:mod:`..lrsearch`).
    """

    out: Path
    seeds: int = 5
    quick: bool = False
    jobs: int = 1
    plugins: tuple[str, ...] = ()
    max_widenings: int = 3

    @property
    def seed_list(self) -> tuple[int, ...]:
        return tuple(range(self.seeds))

    def with_plugins(self, optimizers: tuple[str, ...]) -> tuple[str, ...]:
        """``optimizers`` followed by the users' optimizers."""
        return optimizers + tuple(p for p in self.plugins if p not in optimizers)

    def figdir(self, name: str) -> Path:
        return self.out / name


def module(name: str):  # -> the experiment module
    import importlib

    if name not in PROBLEMS:
        raise KeyError(f"problem {name!r} is not one of {tuple(PROBLEMS)!r}")
    return importlib.import_module(PROBLEMS[name])
