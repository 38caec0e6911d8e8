"""Quiz: read a learner's ranked differential and score it against the engine and the answer key.

Scoring (hand-computable, shown to the learner after every stage):

* At each stage you list up to 3 diagnoses, best first. Your pick in position i (1, 2, 3) that the engine
  ranks at position j (1 … 9) earns ``max(0, 3 − |i − j|)`` points: 3 for the same place, 2 one place off,
  1 two places off, 0 further away. Listing the engine's top three in its order earns the stage maximum,
  3 + 3 + 3 = 9.
* After the last stage, the answer key adds 3 points if your first pick is the key's diagnosis, or 1 if
  the key's diagnosis is elsewhere in your list.
* Total = the sum over stages + the answer bonus; maximum = 9 × stages + 3.

Example: the engine ranks AA, AML, MDS; you answer MDS, AA. MDS: your 1st, engine 3rd → 3 − 2 = 1; AA:
your 2nd, engine 1st → 3 − 1 = 2; stage score 3 of 9.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from hemedx.rules.model import Pack

PICKS = 3
STAGE_MAX = 9
ANSWER_FIRST = 3
ANSWER_LISTED = 1


_ALIASES = {  # common classroom shorthand; used only when the pack has the diagnosis
    "aml": "acute_leukemia",
    "all": "acute_leukemia",
    "leukemia": "acute_leukemia",
    "leukaemia": "acute_leukemia",
    "saa": "aplastic_anemia",
    "waiha": "aiha",
    "cad": "aiha",
    "b12": "megaloblastic_anemia",
    "evans": "evans_syndrome",
}


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
    if _ALIASES.get(low) in ids:
        return Match(_ALIASES[low], "abbreviation", text)
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


def score_stage(picks: list[str], engine_order: list[str]) -> dict[str, Any]:
    """Points per pick, ``max(0, 3 − |your place − engine's place|)``, and the stage total (max 9)."""
    rows = []
    for i, dx in enumerate(picks[:PICKS], 1):
        j = engine_order.index(dx) + 1
        rows.append({"diagnosis": dx, "yours": i, "engine": j, "points": max(0, 3 - abs(i - j))})
    return {"picks": rows, "points": sum(r["points"] for r in rows), "max": STAGE_MAX}


def answer_bonus(picks: list[str], answer: str | None) -> int:
    """3 if your first pick is the answer key's diagnosis, 1 if it is elsewhere in your list, else 0."""
    if answer is None or answer not in picks:
        return 0
    return ANSWER_FIRST if picks[0] == answer else ANSWER_LISTED


def total(stage_points: list[int], bonus: int, has_answer: bool) -> dict[str, Any]:
    """The final score: sum of stages plus the answer bonus, out of 9 × stages (+ 3 with an answer key)."""
    maximum = STAGE_MAX * len(stage_points) + (ANSWER_FIRST if has_answer else 0)
    points = sum(stage_points) + bonus
    return {"points": points, "max": maximum, "percent": round(100 * points / maximum, 1) if maximum else 0}
