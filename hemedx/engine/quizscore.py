"""The quiz's scoring rule: reward clinical judgement, and let a learner redo every point by hand.

Per stage (10 points), you list up to 3 diagnoses, best first:

* Your first pick is the target (the engine's leading diagnosis; at the last stage, the answer key's
  diagnosis when the case has a key): full marks, 10. What else you list does not matter.
* Otherwise your picks earn 1 point per full 10 % of the engine's probability they carry together, at
  most 7. Each pick counts with the percentage the quiz shows (one decimal); a pick under 5 % carries
  nothing, and listing fewer never costs anything.
* After the last stage, where the answer key names a subtype or severity, one more question: 5 points
  for the key's subtype.

Example: the engine ranks AA 61.2 %, MDS 24.0 %, AML 9.1 %; you answer MDS, AML, ITP (0.3 %):
24.0 + 9.1 = 33.1 % (ITP is under 5 %) → 3 points of 10. Answering AA first scores 10.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hemedx.engine.quiz import PICKS
from hemedx.engine.ranking import EvidenceLine, RankedDiagnosis, Ranking
from hemedx.engine.shown import LR_DIGITS, percent_shown, rounded

STAGE_MAX = 10
DIFFERENTIAL_CAP = 7
POINT_PER_PERCENT = 10  # one point per full 10 % the picks carry
CREDIT_FLOOR = 5.0  # percent: a pick below this carries nothing
SUBTYPE_MAX = 5

CiteMarks = Callable[[Iterable[tuple[str, str | None]]], list[dict[str, Any]]]


def score_stage(picks: list[str], ranking: Ranking, key: str | None = None) -> dict[str, Any]:
    """Score one stage's picks against the engine's ranking (``key``: the answer key, last stage).

    Returns the target, one row per pick (its shown percentage and whether it counts), the credited
    percentage, which rule applied (``lead`` or ``differential``), the points and the maximum.
    """
    target = key if key is not None else ranking.differential[0].id
    probability = {d.id: d.probability for d in ranking.differential}
    rows = []
    for place, dx in enumerate(picks[:PICKS], 1):
        percent = percent_shown(probability[dx])  # as the learner was shown it
        rows.append(
            {"diagnosis": dx, "place": place, "percent": percent, "credited": percent >= CREDIT_FLOOR}
        )
    tenths = sum(round(r["percent"] * 10) for r in rows if r["credited"])  # integer tenths: no float drift
    lead = bool(rows) and rows[0]["diagnosis"] == target
    points = STAGE_MAX if lead else min(DIFFERENTIAL_CAP, tenths // (POINT_PER_PERCENT * 10))
    return {
        "target": target,
        "target_is": "answer_key" if key is not None else "engine_leader",
        "picks": rows,
        "credited_percent": tenths / 10,
        "rule": "lead" if lead else "differential",
        "points": points,
        "max": STAGE_MAX,
    }


def score_subtype(chosen: str | None, key_subtype: str) -> dict[str, Any]:
    """The last question: full points for the answer key's subtype or severity, nothing otherwise."""
    points = SUBTYPE_MAX if chosen == key_subtype else 0
    return {"chosen": chosen, "key": key_subtype, "points": points, "max": SUBTYPE_MAX}


def total(stage_points: list[int], subtype_points: int, subtype_asked: bool) -> dict[str, Any]:
    """The score of the stages scored so far plus the subtype question: points, maximum and percent."""
    maximum = STAGE_MAX * len(stage_points) + (SUBTYPE_MAX if subtype_asked else 0)
    points = sum(stage_points) + subtype_points
    return {"points": points, "max": maximum, "percent": round(100 * points / maximum, 1) if maximum else 0}


def hint(
    ranking: Ranking, target: str, first_pick: str | None, labels: Mapping[str, str], cite: CiteMarks
) -> dict[str, Any] | None:
    """After a wrong stage: the known finding that most favours the target over your first pick.

    Read from the evidence lines the engine shows (``factor`` per diagnosis, as in ``explain``, with the
    shown rounding, so the learner can redo the ratio): the largest ratio factor(target) / factor(your
    pick) over the same evidence rule. Without a first pick (or when no finding favours the target over
    it), the finding with the largest likelihood ratio for the target. ``None`` when your first pick is
    the target or no finding speaks for it. ``labels`` names findings; ``cite`` numbers the citations
    as the view around the hint numbers them.
    """
    if first_pick == target:
        return None
    by_id = {d.id: d for d in ranking.differential}
    mine = by_id[target]
    if first_pick is not None:
        theirs = by_id[first_pick]
        pairs = [
            (e, rounded(e.factor), rounded(o.factor))
            for e, o in zip(mine.evidence, theirs.evidence, strict=True)  # one line per rule, same order
            if e.counted
        ]
        better = [(e, f, g) for e, f, g in pairs if 0 < g < f]
        if better:
            e, f, g = max(better, key=lambda row: (row[1] / row[2], row[0].finding))
            return _hint(e, mine, theirs, g, f / g, labels, cite)
    helping = [e for e in mine.evidence if e.counted and e.direction == "for"]
    if not helping:
        return None
    e = max(helping, key=lambda line: (rounded(line.lr, LR_DIGITS), line.finding))
    return _hint(e, mine, None, None, rounded(e.lr, LR_DIGITS), labels, cite)


def _hint(
    line: EvidenceLine,
    target: RankedDiagnosis,
    other: RankedDiagnosis | None,
    other_factor: float | None,
    ratio: float,
    labels: Mapping[str, str],
    cite: CiteMarks,
) -> dict[str, Any]:
    """The hint as data: the finding, whom it favours over whom, and by what factor (as shown)."""
    return {
        "finding": line.finding,
        "label": labels.get(line.finding, line.finding),
        "state": line.state,
        "favours": target.id,
        "favours_label": target.label,
        "over": other.id if other else None,
        "over_label": other.label if other else None,
        "factor": rounded(line.factor),
        "over_factor": other_factor,
        "ratio": round(ratio, 2),
        "cites": cite(line.cites),
    }
