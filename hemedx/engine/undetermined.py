"""Say which lab comparisons a censored value leaves open, so a learner sees why no rule used it."""

from __future__ import annotations

from typing import Any

from hemedx.cases.censored import Censored, compare
from hemedx.cases.model import Snapshot
from hemedx.engine.compiler import CompiledPack, matches
from hemedx.engine.facts import snapshot_facts
from hemedx.rules.model import Pack
from hemedx.rules.units import with_unit

_OP_WORDS = {"lt": "below", "lte": "at most", "gt": "above", "gte": "at least"}


def undetermined(pack: Pack, compiled: CompiledPack, snap: Snapshot, fired: set[str]) -> list[dict[str, Any]]:
    """One note per (rule, lab, cut-off) a censored value can neither meet nor fail, for rules not fired."""
    if not snap.censored:
        return []
    labs = pack.kb.labs
    patient = next(f for f in snapshot_facts(snap) if f["kind"] == "patient")
    seen: set[tuple[str, str, str, float]] = set()
    out: list[dict[str, Any]] = []
    for variant in compiled.variants:
        if variant.rule_id in fired:
            continue
        if any(p.kind == "patient" and not matches(p, patient) for p in variant.patterns):
            continue  # a reference band for another sex or age: not this patient's cut-off
        for pattern in variant.patterns:
            value = snap.censored.get(pattern.name) if pattern.kind == "lab" else None
            if value is None:
                continue
            for prop, op, threshold in pattern.constraints:
                key = (variant.rule_id, pattern.name, op, threshold)
                if prop != "value" or key in seen or compare(value, op, threshold) is not None:
                    continue
                seen.add(key)
                lab = labs[pattern.name]
                out.append(_note(variant.rule_id, lab, value, op, threshold))
    out.sort(key=lambda n: (n["lab"], n["threshold"], n["rule"]))
    return out


def _note(rule_id: str, lab: Any, value: Censored, op: str, threshold: float) -> dict[str, Any]:
    shown = with_unit(value.shown(lab.decimals), lab.unit)
    return {
        "lab": lab.id,
        "label": lab.label,
        "value": shown,
        "rule": rule_id,
        "op": op,
        "threshold": threshold,
        "text": (
            f"{lab.label} {shown}: undetermined whether {_OP_WORDS[op]} {threshold:g} {lab.unit},"
            f" so {rule_id} neither fires nor is ruled out"
        ),
    }
