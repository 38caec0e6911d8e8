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

from typing import Any

from hemedx.engine.quiz import PICKS

STAGE_MAX = 10
DIFFERENTIAL_CAP = 7
POINT_PER_PERCENT = 10  # one point per full 10 % the picks carry
CREDIT_FLOOR = 5.0  # percent: a pick below this carries nothing
SUBTYPE_MAX = 5


def shown_percent(probability: float) -> float:
    """A probability as the quiz shows it, a percentage with one decimal: what the learner adds up."""
    return float(f"{probability * 100:.1f}")


def score_stage(
    picks: list[str], differential: list[dict[str, Any]], key: str | None = None
) -> dict[str, Any]:
    """Score one stage's picks against the engine's differential (``key``: the answer key, last stage).

    Returns the target, one row per pick (its shown percentage and whether it counts), the credited
    percentage, which rule applied (``lead`` or ``differential``), the points and the maximum.
    """
    target = key if key is not None else differential[0]["diagnosis"]
    probability = {d["diagnosis"]: d["probability"] for d in differential}
    rows = []
    for place, dx in enumerate(picks[:PICKS], 1):
        percent = shown_percent(probability[dx])
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


def hint(differential: list[dict[str, Any]], target: str, first_pick: str | None) -> dict[str, Any] | None:
    """After a wrong stage: the known finding that most favours the target over your first pick.

    Read from the evidence lines the engine already shows (``factor`` per diagnosis, as in ``explain``):
    the largest ratio factor(target) / factor(your pick). Without a first pick (or when no finding
    favours the target over it), the finding with the largest likelihood ratio for the target. ``None``
    when your first pick is the target or no finding speaks for it.
    """
    if first_pick == target:
        return None
    by_id = {d["diagnosis"]: d for d in differential}
    lines = [e for e in by_id[target]["evidence"] if e["counted"]]
    if first_pick is not None:
        theirs = {(e["finding"], e["state"]): e for e in by_id[first_pick]["evidence"] if e["counted"]}
        pairs = [(e, theirs.get((e["finding"], e["state"]))) for e in lines]
        better = [(e, o) for e, o in pairs if o is not None and 0 < o["factor"] < e["factor"]]
        if better:
            e, o = max(better, key=lambda pair: (pair[0]["factor"] / pair[1]["factor"], pair[0]["finding"]))
            return _hint(e, by_id[target], by_id[first_pick], o["factor"], e["factor"] / o["factor"])
    helping = [e for e in lines if e["direction"] == "for"]
    if not helping:
        return None
    e = max(helping, key=lambda line: (line["lr"], line["finding"]))
    return _hint(e, by_id[target], None, None, e["lr"])


def _hint(
    line: dict[str, Any],
    target: dict[str, Any],
    other: dict[str, Any] | None,
    other_factor: float | None,
    ratio: float,
) -> dict[str, Any]:
    """The hint as data: the finding, whom it favours over whom, and by what factor (as shown)."""
    return {
        "finding": line["finding"],
        "label": line["label"],
        "state": line["state"],
        "favours": target["diagnosis"],
        "favours_label": target["label"],
        "over": other["diagnosis"] if other else None,
        "over_label": other["label"] if other else None,
        "factor": line["factor"],
        "over_factor": other_factor,
        "ratio": round(ratio, 2),
        "cites": line["cites"],
    }
