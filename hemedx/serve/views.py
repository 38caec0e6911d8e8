"""What a teacher and a student may see at the session's current step: the server withholds here.

A student's view never holds the engine's ranking, explanation or answer key before the teacher's step
reveals them, and never anything of another student; the class histogram exists only from the "class"
step on. Scores use the quiz's rule (:mod:`hemedx.engine.quizscore`), so they match ``hemedx quiz``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hemedx.cases.library import case_code
from hemedx.engine.quiz import PICKS
from hemedx.engine.quizscore import score_stage, score_subtype, total
from hemedx.engine.report import disclaimer_for
from hemedx.engine.shown import probability_shown
from hemedx.rules.model import Pack
from hemedx.serve.deck import (
    OUTSIDE,
    OUTSIDE_LABEL,
    CaseMaterial,
    Position,
    engine_view,
    last_step,
    pct,
    position,
)
from hemedx.serve.store import Answer, Session, Student

PHASE_RANK = {"intro": 0, "open": 1, "class": 2, "engine": 3, "answer": 4}


def diagnoses(pack: Pack) -> list[dict[str, Any]]:
    """The pack's diagnoses for type-ahead, with their subtypes; 'something outside' is offered last."""
    ordered = sorted(pack.diagnoses, key=lambda d: d.id == OUTSIDE)
    return [
        {
            "id": d.id,
            "label": OUTSIDE_LABEL if d.id == OUTSIDE else d.label,
            "subtypes": [{"id": s.id, "label": s.label} for s in d.subtypes],
        }
        for d in ordered
    ]


def stage_revealed(pos: Position) -> bool:
    """Whether the engine's view of the current stage is out (its engine step, or the answer)."""
    return PHASE_RANK[pos.phase] >= PHASE_RANK["engine"]


def engine_shown_through(pos: Position) -> int:
    """Index of the last stage whose engine view has been revealed (-1 if none)."""
    return pos.stage if stage_revealed(pos) else pos.stage - 1


def findings_so_far(material: CaseMaterial, pos: Position) -> list[dict[str, Any]]:
    """Every stage revealed so far, newest last: name, note and findings (no engine output)."""
    return [
        {"index": i, "name": s.name, "note": s.note, "revealed": s.revealed}
        for i, s in enumerate(material.stages[: pos.stage + 1])
    ]


def _case_head(material: CaseMaterial, session: Session, pos: Position, deck: list[CaseMaterial]) -> dict:
    case = material.case
    return {
        "session": session.id,
        "mode": session.mode,
        "code": session.code if session.mode == "class" else None,
        "case_index": session.case_index,
        "cases": len(deck),
        "case": case_code(case.id),  # the id names the answer (cases list: codes)
        "title": case.title,
        "disclaimer": disclaimer_for(case),
        "patient": f"{case.age:g}-year-old {case.sex}"
        + (f", pregnant ({case.pregnancy.replace('_', ' ')})" if case.pregnancy != "none" else ""),
        "presentation": " ".join(case.presentation.split()) if case.presentation else None,
        "stage": pos.stage,
        "stages": len(material.stages),
        "phase": pos.phase,
        "step": session.step,
        "last_step": last_step(len(material.stages)),
        "subtype_asked": bool(material.case.answer and material.case.answer.subtype),
        "findings": findings_so_far(material, pos),
    }


def stage_score(material: CaseMaterial, stage: int, picks: tuple[str, ...]) -> dict[str, Any]:
    """The quiz's score of picks against the engine at that stage (the answer key at the last), labelled."""
    last = stage == len(material.stages) - 1
    ranking = material.stages[stage].ranking
    result = score_stage(list(picks), ranking, material.answer["diagnosis"] if last else None)
    for row in result["picks"]:
        row["label"] = material.labels[row["diagnosis"]]
    return result


def case_score(material: CaseMaterial, answers: dict[int, Answer]) -> dict[str, Any]:
    """Per-stage points, the subtype question's points (``bonus``) on the last answer, and the total."""
    points = [stage_score(material, i, answers[i].picks)["points"] if i in answers else 0
              for i in range(len(material.stages))]  # fmt: skip
    final = answers.get(len(material.stages) - 1)
    key = material.case.answer
    asked = bool(key and key.subtype)
    chosen = final.subtype if final and final.picks and final.picks[0] == (key and key.diagnosis) else None
    bonus = score_subtype(chosen, key.subtype)["points"] if key and key.subtype else 0
    return {"stages": points, "bonus": bonus, **total(points, bonus, asked)}


def class_stats(material: CaseMaterial, stage: int, answers: list[Answer], students: int) -> dict[str, Any]:
    """Histogram of first picks and how often each diagnosis is among a student's three (no engine)."""
    here = [a for a in answers if a.stage == stage and a.picks]
    labels = material.labels
    first = Counter(a.picks[0] for a in here)
    listed = Counter(dx for a in here for dx in a.picks[:PICKS])
    n = len(here)
    return {
        "answered": n,
        "students": students,
        "first_picks": [
            {"diagnosis": dx, "label": labels.get(dx, dx), "count": c, "share": round(c / n, 4)}
            for dx, c in sorted(first.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "top3": [
            {"diagnosis": dx, "label": labels.get(dx, dx), "count": c, "share": round(c / n, 4)}
            for dx, c in sorted(listed.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        ],
    }


def agreement(material: CaseMaterial, stage: int, answers: list[Answer]) -> dict[str, Any]:
    """How the class compares with the engine at a revealed stage: top pick and top-3 overlap."""
    here = [a for a in answers if a.stage == stage and a.picks]
    order = material.stages[stage].order
    top3 = set(order[:3])
    n = len(here)
    same_top = sum(1 for a in here if a.picks[0] == order[0])
    listed_top = sum(1 for a in here if order[0] in a.picks)
    overlap = sum(len(top3 & set(a.picks)) for a in here)
    return {
        "answered": n,
        "first_pick_is_engine_top": round(same_top / n, 4) if n else None,
        "engine_top_listed": round(listed_top / n, 4) if n else None,
        "mean_top3_overlap": round(overlap / n, 4) if n else None,
    }


def teacher_view(
    session: Session, deck: list[CaseMaterial], answers: list[Answer], students: list[Student]
) -> dict[str, Any]:
    """Everything the projector shows at the current step; later steps' material is not included."""
    material = deck[session.case_index]
    pos = position(session.step, len(material.stages))
    view = _case_head(material, session, pos, deck)
    here = [a for a in answers if a.case_index == session.case_index]
    view["joined"] = len(students)
    view["nicknames"] = [s.nickname for s in students]
    if pos.stage >= 0:
        view["answered"] = sum(1 for a in here if a.stage == pos.stage and a.picks)
    if PHASE_RANK[pos.phase] >= PHASE_RANK["class"] and pos.stage >= 0:
        view["class"] = class_stats(material, pos.stage, here, len(students))
    if stage_revealed(pos):
        view["engine"] = engine_view(material.stages[pos.stage])
        view["agreement"] = agreement(material, pos.stage, here)
    if pos.phase == "answer":
        view["answer"] = answer_view(material)
        by_student: dict[str, dict[int, Answer]] = {}
        for a in here:
            by_student.setdefault(a.student, {})[a.stage] = a
        scores = [
            {"nickname": s.nickname, **case_score(material, by_student.get(s.id, {}))} for s in students
        ]
        view["scores"] = sorted(scores, key=lambda r: (-r["points"], r["nickname"]))
    return view


def answer_view(material: CaseMaterial) -> dict[str, Any]:
    """The answer key, the engine's verdict and the cited teaching points."""
    a = material.answer
    final = material.stages[-1].ranking.differential[0]
    return {
        "diagnosis": a["diagnosis"],
        "label": a["label"],
        "subtype": a["subtype"],
        "subtype_label": a["subtype_label"],
        "engine_top": material.labels[final.id],
        "engine_agrees": a["engine_agrees"],
        "teaching_points": a["teaching_points"],
        "references": [{"n": r["n"], "citation": r["citation"]} for r in material.references],
    }


def student_view(
    session: Session, deck: list[CaseMaterial], student: Student, mine: list[Answer]
) -> dict[str, Any]:
    """What one student's phone shows: findings, their own answers, and only what has been revealed."""
    material = deck[session.case_index]
    pos = position(session.step, len(material.stages))
    view = _case_head(material, session, pos, deck)
    view["nickname"] = student.nickname
    view["student"] = student.id
    own = {a.stage: a for a in mine if a.case_index == session.case_index}
    view["can_answer"] = pos.phase == "open"
    current = own.get(pos.stage)
    view["my_answer"] = {"picks": list(current.picks), "subtype": current.subtype} if current else None
    shown_through = engine_shown_through(pos)
    view["results"] = []
    for i in range(shown_through + 1):
        ranking = material.stages[i].ranking
        top = [
            {"label": material.labels[d.id], "shown": pct(probability_shown(d.probability))}
            for d in ranking.differential[:3]
        ]
        picks = own[i].picks if i in own else ()
        score = stage_score(material, i, picks)
        view["results"].append(
            {"stage": i, "name": material.stages[i].name, "engine_top": top, "score": score}
        )
    if pos.phase == "answer":
        view["answer"] = answer_view(material)
        view["total"] = case_score(material, own)
    if session.mode == "self" and shown_through >= 0:
        view["what_if_findings"] = what_if_findings(material, shown_through)
    return view


def what_if_findings(material: CaseMaterial, stage: int) -> list[dict[str, str]]:
    """The observed clinical findings up to a revealed stage: what a self-study student may toggle."""
    return [
        {"id": f["finding"], "label": f["label"], "state": f["state"]}
        for f in material.stages[stage].report["findings"]
        if f["origin"] == "observed"
    ]
