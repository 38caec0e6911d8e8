"""Walk through a case stage by stage: what was revealed, what it implied, how the differential moved.

One plain-data object per stage (the ``walkthrough --json`` contract); the terminal walkthrough, the
projected demo and the HTML presenter all render these same objects, so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

from hemedx.cases.model import Case, Stage
from hemedx.engine.report import Citations, rank_case
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
    out: list[dict[str, Any]] = []
    previous: dict[str, tuple[int, float]] | None = None
    seen_derived: set[tuple[str, str]] = set()
    for index, stage in enumerate(case.stages[: None if upto is None else upto + 1]):
        report = rank_case(case, pack, upto=index, uniform_priors=uniform_priors, next_test=True)
        derived = [
            f
            for f in report["findings"]
            if f["origin"] == "derived" and (f["finding"], f["state"]) not in seen_derived
        ]
        seen_derived = {(f["finding"], f["state"]) for f in report["findings"] if f["origin"] == "derived"}
        shift = []
        for rank, d in enumerate(report["differential"], 1):
            before = previous.get(d["diagnosis"]) if previous else None
            shift.append(
                {
                    "diagnosis": d["diagnosis"],
                    "label": d["label"],
                    "rank": rank,
                    "probability": d["probability"],
                    "previous_rank": before[0] if before else None,
                    "previous": before[1] if before else None,
                    "delta": round(d["probability"] - before[1], 6) if before else None,
                }
            )
        previous = {d["diagnosis"]: (i, d["probability"]) for i, d in enumerate(report["differential"], 1)}
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
    everything = renumber(out)
    out[-1]["answer"] = answer(case, pack, out[-1], everything)
    return out


def renumber(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One reference numbering for the whole case: a source keeps its number from stage to stage.

    Each stage's report numbers its sources from 1; here they are numbered in order of first use across
    the stages, and every citation mark and reference list is rewritten to match. Returns the case's
    whole reference list.
    """
    numbers: dict[str, int] = {}
    whole: dict[str, dict[str, Any]] = {}
    for stage in stages:
        local = {ref["n"]: ref["id"] for ref in stage["references"]}
        for n in sorted(local):
            numbers.setdefault(local[n], len(numbers) + 1)
        for ref in stage["references"]:
            whole.setdefault(ref["id"], {**ref, "n": numbers[ref["id"]]})
        _rewrite(stage, lambda n, local=local: numbers[local[n]], set())
    return sorted(whole.values(), key=lambda ref: ref["n"])


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
    case: Case, pack: Pack, last: dict[str, Any], everything: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The answer key against the engine's final ranking, with the case's cited teaching points.

    Teaching points are numbered continuing the case's whole numbering (``everything``, by default
    ``last["references"]``); the sources they cite are added to ``last["references"]`` in place.
    """
    cites = Citations.continuing(pack, everything if everything is not None else last["references"])
    points = [
        {"text": " ".join(p.text.split()), "cites": cites.cite((c.source, c.locator) for c in p.cites)}
        for p in case.teaching_points
    ]
    wanted = {ref["n"] for ref in last["references"]} | {c["n"] for p in points for c in p["cites"]}
    last["references"] = [ref for ref in cites.references() if ref["n"] in wanted]
    top = last["differential"][0]
    key = case.answer
    subtype_label = pack.kb.subtype_label(key.diagnosis, key.subtype) if key else None
    return {
        "diagnosis": key.diagnosis if key else None,
        "label": pack.kb.diagnoses[key.diagnosis].label if key else None,
        "subtype": key.subtype if key else None,
        "subtype_label": subtype_label,
        "engine_top": top["diagnosis"],
        "engine_agrees": bool(key) and top["diagnosis"] == key.diagnosis,
        "teaching_points": points,
    }
