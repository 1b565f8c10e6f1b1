"""The catalogue of known Adam defects, rendered from the code (``gen: defects``).

Every entry of :data:`adamproofs.conformance.diagnosis.CATALOGUE` becomes one row: its name,
the changed formula, what Algorithm 1 does instead, the line of code it corresponds to and
what the change replaces; so the page cannot drift from what the diagnosis searches.
"""

from __future__ import annotations

from adamproofs.conformance.diagnosis import CATALOGUE, Defect
from adamproofs.conformance.diagnosis._trajectories import diagnostic_trajectories

from .directives import Context, generator
from .markdown import table


def changes(defect: Defect) -> str:
    """What the defect replaces, in words."""
    if defect.same_as is not None:
        return f"same as the variant `{defect.same_as}`"
    if defect.precision is not None:
        return "precision (allowance)"
    if defect.stage is not None:
        extra = ", ".join(f"{a}={v}" for a, v in defect.implies)
        return f"stage `{defect.stage}`" + (f" (with {extra})" if extra else "")
    if defect.hyper is not None:
        return "hyperparameters"
    if defect.counter is not None:
        return "step counter t"
    if defect.skip is not None:
        return "coordinates updated"
    return "first step"


@generator("defects")
def defects(ctx: Context) -> str:
    """One table row per catalogued defect."""
    rows = [
        [f"`{d.name}`", d.maths, d.algorithm, f"`{d.code}`", changes(d)] for d in CATALOGUE.values()
    ]
    return table(["defect", "your update", "Algorithm 1", "a line that does it", "changes"], rows)


@generator("diagnostic-trajectories")
def trajectories(ctx: Context) -> str:
    """The diagnostic trajectories and their hyperparameters."""
    rows = []
    for traj in diagnostic_trajectories(frozenset({"skip", "weight_decay", "maximize"}), "float64"):
        h = traj.case.hyper
        rows.append(
            [
                f"`{traj.name}`",
                str(traj.case.n_steps),
                str(len(traj.case.params)),
                f"{h.lr:g}",
                f"{h.beta1:g}",
                f"{h.beta2:g}",
                f"{h.eps:g}",
                f"{h.weight_decay:g}",
                "yes" if h.maximize else "no",
                ", ".join(sorted(traj.features)),
            ]
        )
    return table(
        ["trajectory", "steps", "params", "α", "β1", "β2", "ε", "λ", "maximize", "shows"], rows
    )
