"""A session's results for a gradebook: each student's picks and score per stage, and a class summary.

The JSON is the full record; the CSV has one row per student, case and stage (plus a ``total`` row per
student and case), which spreadsheet and LMS gradebook imports read as plain columns.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from hemedx.serve.deck import CaseMaterial
from hemedx.serve.store import Answer, Session, Store
from hemedx.serve.views import agreement, case_score, class_stats, stage_score

CSV_COLUMNS = [
    "session", "student", "nickname", "case", "stage", "stage_name",
    "pick_1", "pick_2", "pick_3", "subtype", "points", "max",
]  # fmt: skip


def session_results(session: Session, deck: list[CaseMaterial], store: Store) -> dict[str, Any]:
    """Everything recorded in a session, scored with the quiz's rule; deterministic key order."""
    students = store.students(session.id)
    answers = store.answers(session.id)
    by: dict[tuple[str, int], dict[int, Answer]] = {}
    for a in answers:
        by.setdefault((a.student, a.case_index), {})[a.stage] = a
    people = []
    for s in students:
        cases = []
        for ci, material in enumerate(deck):
            mine = by.get((s.id, ci), {})
            stages = []
            for i, st in enumerate(material.stages):
                a = mine.get(i)
                score = stage_score(material, i, a.picks if a else ())
                stages.append(
                    {"stage": i, "name": st.name, "picks": list(a.picks) if a else [],
                     "subtype": a.subtype if a else None, "points": score["points"], "max": score["max"]}
                )  # fmt: skip
            cases.append({"case": material.case.id, "stages": stages, "score": case_score(material, mine)})
        people.append({"student": s.id, "nickname": s.nickname, "cases": cases})
    summary = []
    for ci, material in enumerate(deck):
        here = [a for a in answers if a.case_index == ci]
        totals = [p["cases"][ci]["score"]["points"] for p in people]
        summary.append(
            {
                "case": material.case.id,
                "title": material.case.title,
                "answer": material.answer["diagnosis"],
                "mean_points": round(sum(totals) / len(totals), 2) if totals else None,
                "max": people[0]["cases"][ci]["score"]["max"] if people else None,
                "stages": [
                    {
                        "stage": i,
                        "name": st.name,
                        "engine_top3": st.order[:3],
                        **class_stats(material, i, here, len(students)),
                        "agreement": agreement(material, i, here),
                    }
                    for i, st in enumerate(material.stages)
                ],
            }
        )
    return {"session": session.id, "cases": [m.case.id for m in deck], "students": people, "summary": summary}


def to_csv(data: dict[str, Any]) -> str:
    """The per-stage rows of :func:`session_results` as CSV (text fields quoted as needed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for person in data["students"]:
        # a leading = + - @ would be read as a formula by a spreadsheet: quote it with an apostrophe
        nick = "'" + person["nickname"] if person["nickname"][:1] in "=+-@" else person["nickname"]
        for case in person["cases"]:
            for st in case["stages"]:
                picks = [*st["picks"], "", "", ""][:3]
                writer.writerow(
                    [data["session"], person["student"], nick, case["case"], st["stage"], st["name"],
                     *picks, st["subtype"] or "", st["points"], st["max"]]
                )  # fmt: skip
            score = case["score"]
            writer.writerow(
                [data["session"], person["student"], nick, case["case"], "total", f"bonus {score['bonus']}",
                 "", "", "", "", score["points"], score["max"]]
            )  # fmt: skip
    return out.getvalue()
