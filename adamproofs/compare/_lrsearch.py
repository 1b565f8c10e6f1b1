r"""Learning-rate grids that contain each optimizer's best rate in their interior.

A best rate at the end of its grid says only that the optimum lies beyond it. The search
below starts from a grid per optimizer, and while an optimizer's best rate (lowest
selection score; ties go to the smaller rate; a diverged rate scores +inf) is the
smallest or the largest of its grid, adds the next half-decade point beyond that end
and evaluates it, at most ``max_widenings`` times per optimizer. What is left on an edge
after that is reported (:attr:`EdgeCheck.edge`), never hidden.

Half-decade points are :math:`\{1, 3\} \times 10^e`; beyond a rate that is not one of
them (e.g. gradient descent's optimal step :math:`2/(L+\mu)` added to a grid) the
next point is the rate times or divided by :math:`\sqrt{10}`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from typing_extensions import assert_never

Edge = Literal["low", "high"]

#: (optimizer, rate) cells -> their selection scores (lower is better, +inf = diverged)
Evaluate = Callable[[list[tuple[str, float]]], Mapping[tuple[str, float], float]]


@dataclass(frozen=True)
class EdgeCheck:
    """Where one optimizer's best rate ended up.

    ``grid``: every rate evaluated, ascending; ``widenings``: points added beyond an end;
    ``edge``: ``"low"``/``"high"`` when the best rate is still the grid's smallest/largest
    (the optimum may lie beyond it), ``None`` when it is interior.
    """

    best: float
    grid: tuple[float, ...]
    widenings: int
    edge: Edge | None

    def describe(self) -> str:
        """A short phrase for tables: ``inside`` or which end it sits on."""
        match self.edge:
            case None:
                return "inside"
            case "low":
                return "at low end"
            case "high":
                return "at high end"
            case _:
                assert_never(self.edge)


def best_rate(scores: Mapping[float, float]) -> float:
    """The rate with the lowest score; ties (including all +inf) go to the smaller rate."""
    if not scores:
        raise ValueError("scores is empty; expected at least one (rate, score) pair")
    return min(scores, key=lambda lr: (scores[lr], lr))


def edge_of(scores: Mapping[float, float]) -> Edge | None:
    """Which end of the grid the best rate is on (``None``: interior).

    A one-point grid has its best rate on both ends; it is reported as ``"high"`` only
    when that point scored finite (a larger rate may be better) and as ``"low"`` when it
    diverged (a smaller one is needed).
    """
    best = best_rate(scores)
    rates = sorted(scores)
    if len(rates) == 1:
        return "high" if math.isfinite(scores[best]) else "low"
    if best == rates[0]:
        return "low"
    if best == rates[-1]:
        return "high"
    return None


def _is_half_decade(x: float) -> tuple[bool, int, int]:
    e = math.floor(math.log10(x))
    for exp in (e - 1, e, e + 1):
        for m in (1, 3):
            if math.isclose(x, m * 10.0**exp, rel_tol=1e-9):
                return True, m, exp
    return False, 0, e


def beyond(rate: float, edge: Edge) -> float:
    """The next half-decade point below (``"low"``) or above (``"high"``) ``rate``."""
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"rate={rate!r} must be a finite positive number")
    on_grid, m, e = _is_half_decade(rate)
    match edge:
        case "low":
            if not on_grid:
                return rate / math.sqrt(10.0)
            return float(f"3e{e - 1}") if m == 1 else float(f"1e{e}")
        case "high":
            if not on_grid:
                return rate * math.sqrt(10.0)
            return float(f"3e{e}") if m == 1 else float(f"1e{e + 1}")
        case _:
            assert_never(edge)


def widen(
    grids: Mapping[str, Sequence[float]], evaluate: Evaluate, max_widenings: int
) -> tuple[dict[str, EdgeCheck], dict[tuple[str, float], float]]:
    """Evaluate every grid, then widen each optimizer's grid past its best rate's end.

    Rounds: all pending cells of all optimizers go to ``evaluate`` together (one batch
    per round, so a parallel evaluator stays busy). Returns the edge check per optimizer
    and every score evaluated. ``grids`` is not modified.
    """
    if max_widenings < 0:
        raise ValueError(f"max_widenings={max_widenings!r} must be >= 0")
    for opt, grid in grids.items():
        if not grid or any(not (math.isfinite(x) and x > 0) for x in grid):
            raise ValueError(
                f"grid of {opt!r} is {tuple(grid)!r}; expected finite positive rates (at least one)"
            )
    scores: dict[tuple[str, float], float] = {}
    rates = {opt: sorted(set(map(float, grid))) for opt, grid in grids.items()}
    widened = dict.fromkeys(grids, 0)
    pending = [(opt, lr) for opt, grid in rates.items() for lr in grid]
    while pending:
        scores.update(evaluate(pending))
        pending = []
        for opt, grid in rates.items():
            edge = edge_of({lr: scores[opt, lr] for lr in grid})
            if edge is None or widened[opt] >= max_widenings:
                continue
            new = beyond(grid[0] if edge == "low" else grid[-1], edge)
            if edge == "low":
                grid.insert(0, new)
            else:
                grid.append(new)
            widened[opt] += 1
            pending.append((opt, new))
    checks = {}
    for opt, grid in rates.items():
        own = {lr: scores[opt, lr] for lr in grid}
        checks[opt] = EdgeCheck(best_rate(own), tuple(grid), widened[opt], edge_of(own))
    return checks, scores
