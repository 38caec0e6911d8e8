"""``hemedx rules diff OLD NEW``: what a pack change does to the case library (the review view).

Like a corpus diff for a linter change: every case is ranked under both packs, and only the cases whose
top-three ranking, probabilities (beyond a threshold), subtypes, criteria met or support changed are
shown, together with the rules added, removed or modified between the packs and the rules that started or
stopped firing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hemedx.authoring.runner import case_files
from hemedx.cases.loader import load_case
from hemedx.engine.report import rank_case
from hemedx.errors import InputError
from hemedx.rules.model import Pack

TOP = 3


def _changes(old: list[Any], new: list[Any]) -> dict[str, list[str]]:
    """Ids added, removed and modified between two lists of pack entries."""
    before = {item.id: item for item in old}
    after = {item.id: item for item in new}
    return {
        "added": [i for i in after if i not in before],
        "removed": [i for i in before if i not in after],
        "modified": [
            i
            for i in after
            if i in before and after[i].model_dump(mode="json") != before[i].model_dump(mode="json")
        ],
    }


def diff_packs(
    old: Pack, new: Pack, threshold: float = 0.005, cases_folder: Path | None = None
) -> dict[str, Any]:
    """Compare two packs over a case folder; ``threshold`` is a probability (0.005 = half a point)."""
    out: dict[str, Any] = {
        "old": {"pack": old.info.id, "version": old.info.version},
        "new": {"pack": new.info.id, "version": new.info.version},
        "threshold": threshold,
        "rules": _changes(old.rules, new.rules),
        "diagnoses": _changes(old.diagnoses, new.diagnoses),
        # a reference band, a unit or a source's note changes what a learner reads as much as a rule does
        "findings": _changes(old.vocabulary.findings, new.vocabulary.findings),
        "labs": _changes(old.vocabulary.labs, new.vocabulary.labs),
        "tests": _changes(old.vocabulary.tests, new.vocabulary.tests),
        "sources": _changes(old.sources, new.sources),
        "investigations": _changes(old.investigations, new.investigations),
        "parameters": [
            k
            for k in sorted({*old.info.parameters, *new.info.parameters})
            if old.info.parameters.get(k) != new.info.parameters.get(k)
        ],
        "cases": [],
        "cases_compared": 0,
        "explanations_changed": [],  # cases ranked alike whose explanation (citations, wording) differs
    }
    for file in case_files(cases_folder):
        out["cases_compared"] += 1
        before, after = _rank(file, old), _rank(file, new)
        change = _case_change(file, before, after, threshold)
        if change is not None:
            out["cases"].append(change)
        elif _explained(before) != _explained(after):
            out["explanations_changed"].append(file.stem)
    return out


def _explained(report: dict[str, Any] | str) -> dict[str, Any] | str:
    """A report without what names the pack itself (its digest changes with any edit)."""
    if isinstance(report, str):
        return report
    return {k: v for k, v in report.items() if k not in ("pack", "hemedx_version")}


def _rank(file: Path, pack: Pack) -> dict[str, Any] | str:
    try:
        return rank_case(load_case(file, pack), pack)
    except InputError as exc:
        return f"does not load: {exc}"


def _case_change(
    file: Path, old: dict[str, Any] | str, new: dict[str, Any] | str, threshold: float
) -> dict[str, Any] | None:
    if isinstance(old, str) or isinstance(new, str):
        if old == new:
            return None
        return {
            "case": file.stem,
            "error": {
                "old": old if isinstance(old, str) else None,
                "new": new if isinstance(new, str) else None,
            },
        }
    before = {d["diagnosis"]: d for d in old["differential"]}
    after = {d["diagnosis"]: d for d in new["differential"]}
    change: dict[str, Any] = {"case": file.stem}
    top_old = [d["diagnosis"] for d in old["differential"][:TOP]]
    top_new = [d["diagnosis"] for d in new["differential"][:TOP]]
    if top_old != top_new:
        change["ranking"] = {"old": top_old, "new": top_new}
    if old["supported"] != new["supported"]:
        change["supported"] = {"old": old["supported"], "new": new["supported"]}
    probabilities = []
    subtypes = []
    criteria: list[dict[str, Any]] = []
    for dx in after:
        p_old = before[dx]["probability"] if dx in before else 0.0
        p_new = after[dx]["probability"]
        if abs(p_new - p_old) > threshold:
            probabilities.append({"diagnosis": dx, "old": p_old, "new": p_new})
        s_old = before[dx]["subtype"] if dx in before else None
        if s_old != after[dx]["subtype"]:
            subtypes.append({"diagnosis": dx, "old": s_old, "new": after[dx]["subtype"]})
        c_old = before[dx]["criteria_met"] if dx in before else False
        if c_old != after[dx]["criteria_met"]:  # "criteria met" is what a learner reads as a diagnosis made
            criteria.append({"diagnosis": dx, "old": c_old, "new": after[dx]["criteria_met"]})
    if probabilities:
        change["probabilities"] = sorted(probabilities, key=lambda p: -abs(p["new"] - p["old"]))
    if subtypes:
        change["subtypes"] = subtypes
    if criteria:
        change["criteria"] = criteria
    if len(change) == 1:
        return None
    fired_old, fired_new = set(old["fired_rules"]), set(new["fired_rules"])
    change["rules_now_firing"] = [r for r in new["fired_rules"] if r not in fired_old]
    change["rules_no_longer_firing"] = [r for r in old["fired_rules"] if r not in fired_new]
    return change
