"""The cells of an ecosystem run.

Per implementation and dtype: one *fingerprint* cell (the variant detected in that dtype,
judged against the claimed one), and one *property* cell per property and seed. A property
cell is judged against the variant its fingerprint cell found, so it depends on that cell:
the fingerprint runs once per (implementation, dtype), never once per property.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .config import Config, Entry


@dataclass(frozen=True)
class Cell:
    """One unit of work; ``prop`` is None for the fingerprint cell."""

    entry: str
    dtype: str
    prop: str | None = None
    seed: int | None = None

    @property
    def key(self) -> str:
        """A name unique within a run (also the sort key of the results)."""
        if self.prop is None:
            return f"fingerprint/{self.entry}/{self.dtype}"
        return f"property/{self.entry}/{self.dtype}/{self.prop}/{self.seed}"

    @property
    def fingerprint(self) -> Cell:
        """The fingerprint cell this cell depends on (itself, for a fingerprint cell)."""
        return Cell(self.entry, self.dtype)


def expand(config: Config, entries: Sequence[Entry] | None = None) -> list[Cell]:
    """Every cell of ``entries`` (default: all of the configuration's): fingerprints first,
    then entry × dtype × property × seed, in configuration order."""
    chosen = config.entries if entries is None else tuple(entries)
    fingerprints = [Cell(e.id, d) for e in chosen for d in config.entry_dtypes(e)]
    properties = [
        Cell(c.entry, c.dtype, prop, seed)
        for c in fingerprints
        for prop in config.properties
        for seed in config.seeds
    ]
    return fingerprints + properties
