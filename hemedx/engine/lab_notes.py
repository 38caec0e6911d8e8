"""The labs of a snapshot as a learner should read them: measured, censored ("<10") or derived (with sums)."""

from __future__ import annotations

from typing import Any

from hemedx.cases.censored import Censored
from hemedx.cases.model import Snapshot
from hemedx.rules.model import Pack
from hemedx.rules.units import with_unit


def lab_shown(value: float | Censored | None, decimals: int) -> str:
    """A lab value in words: ``6.8``, ``<10`` or ``?`` when not measured."""
    if value is None:
        return "?"
    if isinstance(value, Censored):
        return value.shown(decimals)
    return f"{value:.{decimals}f}"


def lab_entries(pack: Pack, snap: Snapshot) -> list[dict[str, Any]]:
    """Every lab of the snapshot in id order, saying whether it was measured, censored or derived."""
    labs = pack.kb.labs
    out = []
    for name in sorted({*snap.labs, *snap.censored}):
        lab = labs.get(name)
        if lab is None:
            continue
        value = snap.lab(name)
        censored = isinstance(value, Censored)
        out.append(
            {
                "lab": name,
                "label": lab.label,
                "value": value.bound if isinstance(value, Censored) else value,
                "comparator": value.comparator if isinstance(value, Censored) else None,
                "unit": lab.unit,
                "shown": with_unit(lab_shown(value, lab.decimals), lab.unit),
                "origin": "derived" if name in snap.derived else "censored" if censored else "measured",
                "arithmetic": snap.derived.get(name),
            }
        )
    return out
