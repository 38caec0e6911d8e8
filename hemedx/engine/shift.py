"""How the differential moved from one ranking to the next: the walkthrough's shift, the what-if's deltas.

One computation on the typed rankings; each view writes it in its own JSON shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from hemedx.engine.ranking import Ranking
from hemedx.engine.shown import probability_shown, rounded


@dataclass(frozen=True)
class Move:
    """One diagnosis: its place and probability now, and before (``None`` when there was no before)."""

    diagnosis: str
    label: str
    rank: int
    probability: float  # as the JSON views write it, so a delta is the difference of what is shown
    previous_rank: int | None
    previous: float | None

    @property
    def delta(self) -> float | None:
        """The change in probability since before (rounded as the views write it)."""
        return None if self.previous is None else rounded(self.probability - self.previous)


def moves(after: Ranking, before: Ranking | None = None) -> list[Move]:
    """Per diagnosis of ``after``, in its order: rank and probability now and in ``before``."""
    old = {}
    if before is not None:
        old = {d.id: (i, probability_shown(d.probability)) for i, d in enumerate(before.differential, 1)}
    out = []
    for rank, d in enumerate(after.differential, 1):
        previous_rank, previous = old.get(d.id, (None, None))
        out.append(Move(d.id, d.label, rank, probability_shown(d.probability), previous_rank, previous))
    return out
