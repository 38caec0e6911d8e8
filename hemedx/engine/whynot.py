"""Why not X, for any diagnosis: what speaks against it, what it would need, which test would settle it.

A learner's favourite diagnosis is rarely wrong for no reason. This module lays out, for one diagnosis,
the evidence lines that lower it, the findings it usually has that are still unknown, the criterion sets
it misses (with the nearest alternative of each rule: which conditions fail and which are unknown), and
the investigation that would best answer "is it X or not?". Every line carries its citations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hemedx.cases.censored import Censored, compare
from hemedx.cases.model import Snapshot
from hemedx.engine.compiler import Pattern, Variant, matches
from hemedx.engine.engine import Engine
from hemedx.engine.evidence import evidence_model
from hemedx.engine.facts import snapshot_facts
from hemedx.engine.lab_notes import lab_shown
from hemedx.engine.next_test import entry as next_test_entry
from hemedx.engine.next_test import suggest
from hemedx.engine.ranking import Ranking
from hemedx.engine.shown import probability_shown
from hemedx.rules.model import CriteriaRule, Pack
from hemedx.rules.units import with_unit

Cite = Callable[[Iterable[tuple[str, str | None]]], list[dict[str, Any]]]
_OP_TEXT = {"lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}


def _pct(p: float) -> str:
    return f"{p * 100:.3g}%"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def why_not(
    engine: Engine, snap: Snapshot, ranking: Ranking, dx: str, labels: dict[str, str], cite: Cite
) -> dict[str, Any]:
    """The ``why_not`` section for diagnosis ``dx`` (which must be in the pack)."""
    pack = engine.pack
    dx_labels = pack.kb.diagnosis_labels
    order = [d.id for d in ranking.differential]
    ranked = ranking.differential[order.index(dx)]
    leader = ranking.differential[0]
    position = order.index(dx) + 1
    label = dx_labels[dx]
    if position == 1:
        headline = f"{label} leads the differential at {_pct(ranked.probability)}."
    else:
        headline = (
            f"{label} is ranked {_ordinal(position)} of {len(order)} at {_pct(ranked.probability)};"
            f" {leader.label} leads at {_pct(leader.probability)}."
        )
    against = []
    for line in sorted(
        (e for e in ranked.evidence if e.direction == "against"), key=lambda e: (e.lr, e.finding)
    ):
        name = labels.get(line.finding, line.finding)
        if line.state == "present":
            text = f"{name} is present, but seen in only {_pct(line.p)} of {label}"
        else:
            text = f"{name} is absent, though seen in {_pct(line.p)} of {label}"
        against.append(
            {
                "finding": line.finding,
                "label": name,
                "state": line.state,
                "p": line.p,
                "lr": round(line.lr, 4),
                "rule": line.rule,
                "text": f"{text} (LR {line.lr:.2g} against the rest).",
                "cites": cite(line.cites),
            }
        )
    needs = []
    model = evidence_model(pack)
    k = model.ids.index(dx)
    for finding in ranked.expected_unknown:
        table = model.by_finding[finding]  # the first rule on the finding, as next-best-test reads it
        rule, p, cites = table.rule, table.p[k], list(table.cites[k])
        name = labels.get(finding, finding)
        needs.append(
            {
                "finding": finding,
                "label": name,
                "p": p,
                "rule": rule.id,
                "text": f"{name}: expected in {_pct(p)} of {label}, not yet known.",
                "cites": cite(cites),
            }
        )
    criteria = _criteria(engine, snap, ranking, dx, labels, cite)
    settle = next_test_entry(
        suggest(pack, engine.compiled, snap, ranking, target=dx), labels, dx_labels, cite, target=dx
    )
    return {
        "diagnosis": dx,
        "label": label,
        "probability": probability_shown(ranked.probability),
        "rank": position,
        "of": len(order),
        "headline": headline,
        "against": against,
        "expected_unknown": needs,
        "criteria": criteria,
        "settle": settle,
    }


def _criteria(
    engine: Engine,
    snap: Snapshot,
    ranking: Ranking,
    dx: str,
    labels: dict[str, str],
    cite: Cite,
) -> list[dict[str, Any]]:
    """Each criterion set of ``dx``: met, or the nearest way to meet it and what fails or is unknown."""
    pack = engine.pack
    facts = snapshot_facts(snap)
    observed = set(snap.findings)
    facts += [
        {"kind": "finding", "name": name, "state": state}
        for name, (state, _) in sorted(ranking.findings.items())
        if name not in observed
    ]
    fired = set(ranking.fired_rules)
    by_rule: dict[str, list[Variant]] = {}
    for v in engine.compiled.variants:
        by_rule.setdefault(v.rule_id, []).append(v)
    out = []
    for rule in pack.rules:
        if not (isinstance(rule, CriteriaRule) and rule.then.diagnosis == dx and rule.then.criteria):
            continue
        item: dict[str, Any] = {
            "rule": rule.id,
            "title": rule.title,
            "met": rule.id in fired,
            "cites": cite((c.source, c.locator) for c in rule.cites),
        }
        if not item["met"]:
            best: tuple[tuple[int, int, int], list[dict[str, Any]]] | None = None
            for index, variant in enumerate(by_rule.get(rule.id, [])):
                checks = [_check(p, facts, snap, pack, labels) for p in variant.patterns]
                if any(c["status"] == "unmet" and c["kind"] == "patient" for c in checks):
                    continue  # a reference band for another sex or age
                shown = [c for c in checks if c["kind"] != "patient"]
                key = (
                    sum(c["status"] == "unmet" for c in shown),
                    sum(c["status"] == "unknown" for c in shown),
                    index,
                )
                if best is None or key < best[0]:
                    best = (key, shown)
            item["nearest"] = best[1] if best else []
            missing = [c["text"] for c in item["nearest"] if c["status"] != "met"]
            item["text"] = f"{rule.title}: not met; would need " + "; ".join(missing) + "."
        else:
            item["text"] = f"{rule.title}: met."
        out.append(item)
    return out


def _check(
    pattern: Pattern, facts: list[dict[str, Any]], snap: Snapshot, pack: Pack, labels: dict[str, str]
) -> dict[str, Any]:
    """One condition of a criterion set: met, unmet or unknown, and in words with the current value."""
    status = "met" if any(matches(pattern, f) for f in facts) else "unmet"
    name = labels.get(pattern.name, pattern.name)
    if pattern.kind == "patient":
        return {"kind": "patient", "status": status, "text": "patient"}
    if pattern.kind == "finding":
        state = next((v for p, _, v in pattern.constraints if p == "state"), "known")
        known = {f["state"] for f in facts if f.get("kind") == "finding" and f.get("name") == pattern.name}
        if not known:
            status = "unknown"
        now = "unknown" if not known else "/".join(sorted(known))
        text = f"{name} {state} (now {now})"
    elif pattern.kind == "lab":
        lab = pack.kb.labs[pattern.name]
        limits = " and ".join(
            f"{_OP_TEXT[op]} {with_unit(f'{v:g}', lab.unit)}" for _, op, v in pattern.constraints
        )
        value = snap.lab(pattern.name)
        if value is None:
            status = "unknown"
        elif isinstance(value, Censored) and status == "unmet":
            status = (
                "unknown"
                if any(compare(value, op, v) is None for _, op, v in pattern.constraints)
                else status
            )
        now = (
            "not measured" if value is None else f"now {with_unit(lab_shown(value, lab.decimals), lab.unit)}"
        )
        text = f"{name} {limits} ({now})"
    else:
        test = pack.kb.tests[pattern.name]
        allowed = next(v for p, _, v in pattern.constraints if p == "value")
        allowed = (allowed,) if isinstance(allowed, str) else allowed
        wanted = " or ".join(test.value_labels.get(v, v) for v in allowed)
        value = snap.tests.get(pattern.name)
        if value is None:
            status = "unknown"
        now = "not done" if value is None else f"now {test.value_labels.get(value, value)}"
        text = f"{name}: {wanted} ({now})"
    return {"kind": pattern.kind, "name": pattern.name, "status": status, "text": text}
