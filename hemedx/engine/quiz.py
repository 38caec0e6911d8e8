"""Quiz: read a learner's ranked differential (ids, labels, numbers, abbreviations, typos).

Abbreviations come from the pack (a diagnosis's ``short`` and ``synonyms``), so an overlay's own
diagnosis is recognised too.

The scoring rule lives in :mod:`hemedx.engine.quizscore`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from hemedx.rules.model import Pack
from hemedx.rules.vocab import diagnosis_aliases

PICKS = 3


@dataclass(frozen=True)
class Match:
    """How a learner's word was read: the diagnosis id (or None) and how it was matched."""

    diagnosis: str | None
    how: str  # id | number | label | abbreviation | nearest | none
    text: str


def _abbreviation(label: str) -> str:
    words = re.findall(r"[A-Za-z]+", label.split("(")[0])
    return "".join(w[0] for w in words if w.lower() not in {"of", "and", "or", "the"}).lower()


def match_diagnosis(text: str, pack: Pack, shown: list[str] | None = None) -> Match:
    """Read a diagnosis from an id, a label, a number in ``shown`` (1-based), an abbreviation or a typo."""
    word = text.strip()
    low = word.lower()
    ids = [d.id for d in pack.diagnoses]
    if not low:
        return Match(None, "none", text)
    if low in ids:
        return Match(low, "id", text)
    abbreviations = diagnosis_aliases(pack)  # the pack's short labels and synonyms (AML, TTP, SAA)
    if abbreviations.get(low) in ids:
        return Match(abbreviations[low], "abbreviation", text)
    if shown and low.isdigit() and 1 <= int(low) <= len(shown):
        return Match(shown[int(low) - 1], "number", text)
    for d in pack.diagnoses:
        if low == d.label.lower() or low == d.label.split("(")[0].strip().lower():
            return Match(d.id, "label", text)
    for d in pack.diagnoses:
        if low == _abbreviation(d.label) or low == d.id.replace("_", " "):
            return Match(d.id, "abbreviation", text)
    pool: dict[str, str] = {}
    for d in pack.diagnoses:
        pool[d.id] = d.id
        pool[d.id.replace("_", " ")] = d.id
        pool[d.label.lower()] = d.id
        pool[d.label.split("(")[0].strip().lower()] = d.id
    close = difflib.get_close_matches(low, sorted(pool), n=1, cutoff=0.6)
    if close:
        return Match(pool[close[0]], "nearest", text)
    starts = sorted({v for k, v in pool.items() if k.startswith(low)}) if len(low) >= 3 else []
    if len(starts) == 1:
        return Match(starts[0], "nearest", text)
    return Match(None, "none", text)


def parse_answer(text: str, pack: Pack, shown: list[str]) -> tuple[list[str], list[Match]]:
    """Split an answer on commas, semicolons or '>' into up to 3 diagnoses; duplicates are dropped.

    Returns the picks and every match (so the caller can say how typos were read, and what was not).
    """
    parts = [p for p in re.split(r"[,;>]", text) if p.strip()]
    matches = [match_diagnosis(p, pack, shown) for p in parts]
    picks: list[str] = []
    for m in matches:
        if m.diagnosis and m.diagnosis not in picks and len(picks) < PICKS:
            picks.append(m.diagnosis)
    return picks, matches
