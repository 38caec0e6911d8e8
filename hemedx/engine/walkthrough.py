"""Walk through a case stage by stage: what was revealed, what it implied, how the differential moved.

One plain-data object per stage (the ``walkthrough --json`` contract); the terminal walkthrough, the
projected demo and the HTML presenter all render these same objects, so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

from hemedx.cases.model import Case, Stage
from hemedx.engine.ranking import Ranking
from hemedx.engine.report import Citations, ranked_report
from hemedx.engine.shift import moves
from hemedx.rules.model import Pack
from hemedx.rules.units import as_written, with_unit


def revealed(stage: Stage, pack: Pack) -> list[dict[str, Any]]:
    """The findings, labs and tests a stage reveals, with labels, canonical values and units."""
    findings, labs, tests = pack.kb.findings, pack.kb.labs, pack.kb.tests
    out: list[dict[str, Any]] = []
    for name, state in stage.findings.items():
        label = findings[name].label
        out.append(
            {
                "kind": "finding",
                "id": name,
                "label": label,
                "value": state,
                "unit": None,
                "display": f"{label}: {state}",
            }
        )
    for name in stage.unknown:
        label = findings[name].label
        out.append(
            {
                "kind": "finding",
                "id": name,
                "label": label,
                "value": "unknown",
                "unit": None,
                "display": f"{label}: withdrawn (unknown)",
            }
        )
    for name, value in stage.labs.items():
        lab = labs[name]
        shown = with_unit(f"{value:.{lab.decimals}f}", lab.unit)
        out.append(
            {
                "kind": "lab",
                "id": name,
                "label": lab.label,
                "value": value,
                "unit": lab.unit,
                "display": f"{lab.label}: {as_written(lab, shown, stage.as_given(name))}",
            }
        )
    for name, bound in stage.censored.items():
        lab = labs[name]
        shown = with_unit(bound.shown(lab.decimals), lab.unit)
        given = stage.as_given(name)
        out.append(
            {
                "kind": "lab",
                "id": name,
                "label": lab.label,
                "value": bound.bound,
                "comparator": bound.comparator,
                "unit": lab.unit,
                "display": f"{lab.label}: {as_written(lab, shown, given, bound.comparator)}",
            }
        )
    for name, value in stage.tests.items():
        test = tests[name]
        shown = test.value_labels.get(value, value)
        out.append(
            {
                "kind": "test",
                "id": name,
                "label": test.label,
                "value": value,
                "unit": None,
                "display": f"{test.label}: {shown}",
            }
        )
    return out


def walkthrough(
    case: Case, pack: Pack, uniform_priors: bool = False, upto: int | None = None
) -> list[dict[str, Any]]:
    """One object per stage (up to stage index ``upto``): revealed, new derived findings, shift, next test.

    The last object also carries ``answer``: the answer key, whether the engine agrees, and the case's
    teaching points (cited in that stage's reference list).
    """
    return [stage for _, stage in ranked_walkthrough(case, pack, uniform_priors, upto)]


def ranked_walkthrough(
    case: Case, pack: Pack, uniform_priors: bool = False, upto: int | None = None
) -> list[tuple[Ranking, dict[str, Any]]]:
    """:func:`walkthrough`'s stages, each with the typed :class:`Ranking` it shows (to decide on)."""
    out: list[dict[str, Any]] = []
    rankings: list[Ranking] = []
    previous: Ranking | None = None
    seen_derived: set[tuple[str, str]] = set()
    for index, stage in enumerate(case.stages[: None if upto is None else upto + 1]):
        ranking, report = ranked_report(
            case, pack, case.snapshot(index), index, uniform_priors, next_test=True
        )
        derived = [
            f
            for f in report["findings"]
            if f["origin"] == "derived" and (f["finding"], f["state"]) not in seen_derived
        ]
        seen_derived = {(f["finding"], f["state"]) for f in report["findings"] if f["origin"] == "derived"}
        shift = [
            {
                "diagnosis": m.diagnosis,
                "label": m.label,
                "rank": m.rank,
                "probability": m.probability,
                "previous_rank": m.previous_rank,
                "previous": m.previous,
                "delta": m.delta,
            }
            for m in moves(ranking, previous)
        ]
        previous = ranking
        item = {
            "stage": stage.name,
            "index": index,
            "of": len(case.stages),
            "note": stage.note,
            "revealed": revealed(stage, pack),
            "derived": derived,
            "differential": report["differential"],
            "shift": shift,
            "summary": report["summary"],
            "supported": report["supported"],
            "alerts": report["alerts"],
            "outside_differential": report["outside_differential"],
            "next_test": report["next_test"],
            "references": report["references"],
            "pack": report["pack"],  # which rules ranked it: every export names its pack
        }
        out.append(item)
        rankings.append(ranking)
    whole = renumber(out, pack)
    out[-1]["answer"] = answer(case, pack, out[-1], rankings[-1].differential[0].id, whole)
    return list(zip(rankings, out, strict=True))


def renumber(stages: list[dict[str, Any]], pack: Pack, whole: Citations | None = None) -> Citations:
    """One reference numbering for the whole case: a source keeps its number from stage to stage.

    Each stage's report numbers its sources from 1; here one :class:`Citations` numbers them in order of
    first use across the stages (continuing ``whole`` when given, e.g. a walkthrough already shown), and
    every citation mark and reference list is rewritten to match. Returns that numbering (the answer's
    teaching points continue it).
    """
    whole = whole if whole is not None else Citations(pack)
    for stage in stages:
        local = {ref["n"]: ref["id"] for ref in stage["references"]}
        order = [local[n] for n in sorted(local)]
        marks = whole.cite((sid, None) for sid in order)
        numbers = {sid: m["n"] for sid, m in zip(order, marks, strict=True)}
        _rewrite(stage, lambda n, local=local, numbers=numbers: numbers[local[n]], set())
    return whole


def _rewrite(node: Any, new_number: Any, done: set[int]) -> None:
    """Renumber every citation mark ({n, source, locator}) and reference ({n, id, citation}) under node.

    ``done`` holds the objects already rewritten, so a mark shared by two parts of a report moves once.
    """
    if id(node) in done:
        return
    done.add(id(node))
    if isinstance(node, list):
        for item in node:
            _rewrite(item, new_number, done)
        if node and all(isinstance(r, dict) and {"n", "id", "citation"} <= set(r) for r in node):
            node.sort(key=lambda r: r["n"])
    elif isinstance(node, dict):
        if "n" in node and ("source" in node or "citation" in node) and isinstance(node["n"], int):
            node["n"] = new_number(node["n"])
        for value in node.values():
            if isinstance(value, dict | list):
                _rewrite(value, new_number, done)


def answer(
    case: Case, pack: Pack, last: dict[str, Any], leader: str, whole: Citations | None = None
) -> dict[str, Any]:
    """The answer key against the engine's final leader (a diagnosis id), with the cited teaching points.

    Teaching points are numbered continuing the case's whole numbering (``whole``, by default that of
    ``last["references"]``); the sources they cite are added to ``last["references"]`` in place.
    """
    cites = whole if whole is not None else Citations.continuing(pack, last["references"])
    points = [
        {"text": " ".join(p.text.split()), "cites": cites.cite((c.source, c.locator) for c in p.cites)}
        for p in case.teaching_points
    ]
    wanted = {ref["n"] for ref in last["references"]} | {c["n"] for p in points for c in p["cites"]}
    last["references"] = [ref for ref in cites.references() if ref["n"] in wanted]
    key = case.answer
    subtype_label = pack.kb.subtype_label(key.diagnosis, key.subtype) if key else None
    return {
        "diagnosis": key.diagnosis if key else None,
        "label": pack.kb.diagnoses[key.diagnosis].label if key else None,
        "subtype": key.subtype if key else None,
        "subtype_label": subtype_label,
        "engine_top": leader,
        "engine_agrees": bool(key) and leader == key.diagnosis,
        "teaching_points": points,
    }
