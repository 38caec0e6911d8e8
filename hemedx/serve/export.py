"""A session's results for a gradebook: each student's picks and score per stage, and a class summary.

The JSON is the full record; the CSV has one row per student, case and stage (plus a ``total`` row per
student and case), which spreadsheet and LMS gradebook imports read as plain columns. Diagnoses and
subtypes come twice: ids (stable, for tools) and labels (what the teacher reads), in separate columns
and fields; the label columns come before the last column, the pack.
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
    "case_title", "pick_1_label", "pick_2_label", "pick_3_label", "subtype_label", "pack",
]  # fmt: skip


def _label(material: CaseMaterial, dx: str | None) -> str | None:
    return material.labels.get(dx, dx) if dx else None


def _subtype_label(material: CaseMaterial, dx: str | None, subtype: str | None) -> str | None:
    """The label of the subtype a student chose for their first pick (the id when the pack has none)."""
    return material.subtype_labels.get((dx, subtype), subtype) if dx and subtype else None


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
                picks = list(a.picks) if a else []
                subtype = a.subtype if a else None
                stages.append(
                    {"stage": i, "name": st.name, "picks": picks,
                     "pick_labels": [_label(material, dx) for dx in picks], "subtype": subtype,
                     "subtype_label": _subtype_label(material, picks[0] if picks else None, subtype),
                     "points": score["points"], "max": score["max"]}
                )  # fmt: skip
            cases.append(
                {"case": material.case.id, "title": material.case.title, "stages": stages,
                 "score": case_score(material, mine)}
            )  # fmt: skip
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
                "answer_label": _label(material, material.answer["diagnosis"]),
                "mean_points": round(sum(totals) / len(totals), 2) if totals else None,
                "max": people[0]["cases"][ci]["score"]["max"] if people else None,
                "stages": [
                    {
                        "stage": i,
                        "name": st.name,
                        "engine_top3": st.order[:3],
                        "engine_top3_labels": [_label(material, dx) for dx in st.order[:3]],
                        **class_stats(material, i, here, len(students)),
                        "agreement": agreement(material, i, here),
                    }
                    for i, st in enumerate(material.stages)
                ],
            }
        )
    pack = deck[0].stages[0].report["pack"] if deck and deck[0].stages else None  # one pack per session
    return {
        "session": session.id,
        "cases": [m.case.id for m in deck],
        "students": people,
        "summary": summary,
        "pack": pack,
    }


def _pack_cell(data: dict[str, Any]) -> str:
    """The pack that scored the session, in one CSV cell: id, version and content hash."""
    pack = data.get("pack")
    return f"{pack['id']} {pack['version']} {pack['digest']}" if pack else ""


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
                labels = [*(x or "" for x in st["pick_labels"]), "", "", ""][:3]
                writer.writerow(
                    [data["session"], person["student"], nick, case["case"], st["stage"], st["name"],
                     *picks, st["subtype"] or "", st["points"], st["max"],
                     case["title"], *labels, st["subtype_label"] or "", _pack_cell(data)]
                )  # fmt: skip
            score = case["score"]
            writer.writerow(
                [data["session"], person["student"], nick, case["case"], "total", f"bonus {score['bonus']}",
                 "", "", "", "", score["points"], score["max"], case["title"], *[""] * 4, _pack_cell(data)]
            )  # fmt: skip
    return out.getvalue()


SUMMARY_COLUMNS = [
    "session", "case", "stage", "stage_name", "answered", "students", "top_first_pick",
    "top_first_pick_share", "engine_top", "first_pick_is_engine_top", "engine_top_listed",
    "mean_top3_overlap", "mean_points", "case_title", "top_first_pick_label", "engine_top_label", "pack",
]  # fmt: skip


def to_summary_csv(data: dict[str, Any]) -> str:
    """The class summary of :func:`session_results` as CSV: one row per case and stage."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for ci, case in enumerate(data["summary"]):
        for st in case["stages"]:
            points = [p["cases"][ci]["stages"][st["stage"]]["points"] for p in data["students"]]
            top = st["first_picks"][0] if st["first_picks"] else None
            a = st["agreement"]
            writer.writerow(
                [data["session"], case["case"], st["stage"], st["name"], st["answered"], st["students"],
                 top["diagnosis"] if top else "", top["share"] if top else "", st["engine_top3"][0],
                 a["first_pick_is_engine_top"], a["engine_top_listed"], a["mean_top3_overlap"],
                 round(sum(points) / len(points), 2) if points else "", case["title"],
                 top["label"] if top else "", st["engine_top3_labels"][0], _pack_cell(data)]
            )  # fmt: skip
    return out.getvalue()
