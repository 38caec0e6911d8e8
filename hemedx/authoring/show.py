"""``hemedx rules show ID``: one entry of a pack (rule, diagnosis, finding, lab, test or source) explained.

A rule author asks "what is this id, where is it defined, what uses it, where does it come from?" The
answer is built once as plain data (:func:`entry_data`, the ``--json`` form, deterministic) and rendered
as Markdown (:func:`entry_markdown`) that the command shows rendered on a terminal. Conditions are put in
words by the same functions as the rule catalogue, so the two never disagree.
"""

from __future__ import annotations

import html
import re
from typing import Any

from hemedx.authoring.docs import (
    _conclusion,
    _Names,
    entry_where,
    rule_markdown,
)
from hemedx.errors import InputError
from hemedx.rules.conditions import describe, describe_leaf, named, subject, walk
from hemedx.rules.model import (
    Cite,
    CriteriaRule,
    EvidenceRule,
    Frequency,
    Interval,
    Pack,
)
from hemedx.safetext import markdown_text as md
from hemedx.suggest import did_you_mean

KINDS = ("rule", "diagnosis", "finding", "lab", "test", "source")
_ESCAPED = re.compile(r"\\(.)")


def _plain(text: str) -> str:
    """Markdown-escaped pack text (from the catalogue helpers) back to plain text for JSON."""
    return html.unescape(_ESCAPED.sub(r"\1", text)).replace("**", "").replace("*", "").replace("`", "")


def _entries(pack: Pack) -> dict[str, dict[str, Any]]:
    vocab = pack.vocabulary
    return {
        "rule": {r.id: r for r in pack.rules},
        "diagnosis": {d.id: d for d in pack.diagnoses},
        "finding": {f.id: f for f in vocab.findings},
        "lab": {lab.id: lab for lab in vocab.labs},
        "test": {t.id: t for t in vocab.tests},
        "source": {s.id: s for s in pack.sources},
    }


def resolve(pack: Pack, ident: str) -> tuple[str, Any, list[str]]:
    """(kind, entry, other kinds with the same id). ``finding:ID`` picks a kind; unknown ids raise."""
    entries = _entries(pack)
    wanted, _, bare = ident.partition(":") if ident.split(":", 1)[0] in KINDS else ("", "", ident)
    kinds = [k for k in KINDS if (not wanted or k == wanted) and bare in entries[k]]
    if not kinds:
        if "." in bare or wanted == "rule":  # only rule ids have dots
            hint = did_you_mean(bare, entries["rule"])
            raise InputError(f"no rule '{bare}' in pack '{pack.info.id}'", hint=hint)
        every = [i for kind in KINDS for i in entries[kind] if not wanted or kind == wanted]
        raise InputError(
            f"no {wanted or 'rule, diagnosis, finding, lab, test or source'} '{bare}' in pack"
            f" '{pack.info.id}'",
            hint=did_you_mean(bare, every) or "every id is in: hemedx rules docs --out DIR",
        )
    return kinds[0], entries[kinds[0]][bare], kinds[1:]


def _cite(pack: Pack, cite: Cite) -> dict[str, Any]:
    source = next((s for s in pack.sources if s.id == cite.source), None)
    return {
        "source": cite.source,
        "locator": cite.locator,
        "title": source.title if source else None,
        "citation": source.citation if source else None,
    }


def _uses_of(pack: Pack, key: str, ident: str, names: _Names) -> list[dict[str, str]]:
    """Every rule with a condition on ``ident`` (``key`` finding, lab or test), the condition in words."""
    out = []
    for rule in pack.rules:
        for _, leaf in walk(rule.when):
            if subject(leaf) == (key, ident):
                use = {"rule": rule.id, "kind": rule.kind, "condition": _plain(describe_leaf(leaf, names))}
                if use not in out:  # the same test in several alternatives of one rule is one use
                    out.append(use)
    return out


_PREGNANCY_TEXT = {
    "none": "not pregnant",
    "trimester_1": "1st trimester",
    "trimester_2": "2nd trimester",
    "trimester_3": "3rd trimester",
    "trimester_unstated": "pregnant, trimester not stated",
}


def _interval_text(interval: Interval, unit: str) -> str:
    who = "anyone" if interval.sex == "any" else interval.sex
    ages = f"age {interval.age_min:g}" + (f" to under {interval.age_max:g}" if interval.age_max else "+")
    if interval.pregnancy is not None:
        ages += ", " + " or ".join(_PREGNANCY_TEXT[p] for p in interval.pregnancy)
    if interval.low is not None and interval.high is not None:
        span = f"{interval.low:g} to {interval.high:g} {unit}"
    elif interval.low is not None:
        span = f"at least {interval.low:g} {unit}"
    else:
        span = f"up to {interval.high:g} {unit}"
    basis = "published" if interval.basis == "published" else "teaching estimate"
    return f"{who}, {ages}: {span} ({basis})"


def _rule_data(pack: Pack, rule: Any, names: _Names) -> dict[str, Any]:
    uses = {f"{kind}s": named(rule.when, kind) for kind in ("finding", "lab", "test")}
    data: dict[str, Any] = {
        "rule_kind": rule.kind,
        "label": rule.title,
        "status": rule.status,
        "description": rule.explanation.strip(),
        "concludes": _plain(_conclusion(rule, names)),
        "conditions": [_plain(line) for line in describe(rule.when, names)],
        "uses": uses,
        "used_by": [],
        "cites": [_cite(pack, c) for c in rule.cites],
    }
    then = rule.then
    if hasattr(then, "finding") and not isinstance(rule, EvidenceRule):
        data["used_by"] = _uses_of(pack, "finding", then.finding, names)
    if isinstance(rule, EvidenceRule):
        data["evidence"] = [
            {
                "diagnosis": dx,
                "p": p.p if isinstance(p, Frequency) else p,
                "basis": "published" if isinstance(p, Frequency) else "teaching_estimate",
            }
            for dx, p in then.evidence.items()
        ]
        data["otherwise"] = then.otherwise
        data["replaces"] = list(then.replaces)
    return data


def _diagnosis_data(pack: Pack, dx: Any, names: _Names) -> dict[str, Any]:
    evidence, criteria = [], []
    for rule in pack.rules:
        if isinstance(rule, EvidenceRule) and dx.id in rule.then.evidence:
            p = rule.then.evidence[dx.id]
            value = p.p if isinstance(p, Frequency) else p
            evidence.append({"rule": rule.id, "finding": rule.when.finding, "p": value})
        elif isinstance(rule, CriteriaRule) and rule.then.diagnosis == dx.id:
            criteria.append({"rule": rule.id, "criteria": rule.then.criteria, "subtype": rule.then.subtype})
    cites = [*dx.prior.cites, *(c for tp in dx.teaching_points for c in tp.cites)]
    return {
        "label": dx.label,
        "description": dx.description.strip(),
        "prior": {"value": dx.prior.value, "basis": dx.prior.basis, "by_age": len(dx.prior.by_age)},
        "cardinal": [{"id": f, "label": names.findings.get(f, f)} for f in dx.cardinal],
        "subtypes": [{"id": s.id, "label": s.label} for s in dx.subtypes],
        "criteria_rules": criteria,
        "evidence_rules": evidence,
        "teaching_points": len(dx.teaching_points),
        "cites": _unique_cites(pack, cites),
    }


def _unique_cites(pack: Pack, cites: list[Cite]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, str | None], Cite] = {}
    for c in cites:
        seen.setdefault((c.source, c.locator), c)
    return [_cite(pack, c) for c in seen.values()]


def _finding_data(pack: Pack, finding: Any, names: _Names) -> dict[str, Any]:
    derived = [
        {"rule": r.id, "state": r.then.state}
        for r in pack.rules
        if not isinstance(r, EvidenceRule) and getattr(r.then, "finding", None) == finding.id
    ]
    return {
        "label": finding.label,
        "category": finding.category,
        "observable": finding.observable,
        "description": finding.description,
        "hpo": finding.hpo,
        "derived_by": derived,
        "used_by": _uses_of(pack, "finding", finding.id, names),
        "cardinal_of": [d.id for d in pack.diagnoses if finding.id in d.cardinal],
        "revealed_by": [i.id for i in pack.investigations if finding.id in i.reveals],
        "cites": [],
    }


def _lab_data(pack: Pack, lab: Any, names: _Names) -> dict[str, Any]:
    return {
        "label": lab.label,
        "category": lab.category,
        "unit": lab.unit,
        "other_units": [u.unit for u in lab.alternative_units],
        "plausible": {"min": lab.plausible.min, "max": lab.plausible.max},
        "reference": [_interval_text(i, lab.unit) for i in lab.reference],
        "description": lab.description,
        "used_by": _uses_of(pack, "lab", lab.id, names),
        "ordered_by": [i.id for i in pack.investigations if lab.id in i.orders.labs],
        "cites": _unique_cites(pack, [c for i in lab.reference for c in i.cites]),
    }


def _test_data(pack: Pack, test: Any, names: _Names) -> dict[str, Any]:
    return {
        "label": test.label,
        "category": test.category,
        "values": [{"id": v, "label": test.value_labels.get(v, v)} for v in test.values],
        "description": test.description,
        "used_by": _uses_of(pack, "test", test.id, names),
        "ordered_by": [i.id for i in pack.investigations if test.id in i.orders.tests],
        "cites": [],
    }


def _source_data(pack: Pack, source: Any, names: _Names) -> dict[str, Any]:
    cited_by: list[dict[str, Any]] = []

    def add(what: str, ident: str, cites: list[Cite]) -> None:
        for c in cites:
            entry = {"kind": what, "id": ident, "locator": c.locator}
            if c.source == source.id and entry not in cited_by:
                cited_by.append(entry)

    for rule in pack.rules:
        add("rule", rule.id, rule.cites)
        if isinstance(rule, EvidenceRule):
            for p in rule.then.evidence.values():
                if isinstance(p, Frequency):
                    add("rule", rule.id, p.cites)
    for dx in pack.diagnoses:
        add("diagnosis", dx.id, [*dx.prior.cites, *(c for tp in dx.teaching_points for c in tp.cites)])
    for lab in pack.vocabulary.labs:
        add("lab", lab.id, [c for i in lab.reference for c in i.cites])
    for name, param in pack.info.parameters.items():
        add("parameter", name, param.cites)
    return {
        "label": source.title or source.citation,
        "source_kind": source.kind,
        "citation": source.citation,
        "description": source.note,
        "cited_by": cited_by,
        "cites": [],
    }


_BUILDERS = {
    "rule": _rule_data,
    "diagnosis": _diagnosis_data,
    "finding": _finding_data,
    "lab": _lab_data,
    "test": _test_data,
    "source": _source_data,
}


def entry_data(pack: Pack, ident: str) -> dict[str, Any]:
    """The ``--json`` form: ``id``, ``kind``, ``where`` first, then what the kind has (fixed key order)."""
    kind, entry, also = resolve(pack, ident)
    data = {"id": entry.id, "kind": kind, "where": entry_where(pack, kind, entry.id), "also": also}
    data.update(_BUILDERS[kind](pack, entry, _Names(pack)))
    return data


def entry_markdown(pack: Pack, ident: str) -> str:
    """The entry as Markdown: rules as in the catalogue (plus what uses their finding), others a block."""
    data = entry_data(pack, ident)
    if data["kind"] == "rule":
        text = rule_markdown(pack, data["id"], level=1, anchor=False)
        extra = _list("Used by", [f"`{u['rule']}`: {md(u['condition'])}" for u in data["used_by"]])
        return text.replace("**References.**", "\n".join([*extra, "**References.**"]), 1)
    out = [f"# `{data['id']}` — {md(data['label'])}", "", _meta(data), ""]
    if data.get("description"):
        out += [md(data["description"]), ""]
    out += _BODIES[data["kind"]](data)
    if data["also"]:
        out += [
            f"Also a {' and a '.join(data['also'])} with this id: `hemedx rules show KIND:{data['id']}`.",
            "",
        ]
    out += _references(data["cites"])
    return "\n".join(out).rstrip() + "\n"


def _references(cites: list[dict[str, Any]]) -> list[str]:
    """One numbered line per source (its title, or its citation), with every locator cited in it."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for c in cites:
        by_source.setdefault(c["source"], []).append(c)
    out = ["**References.**", ""] if by_source else []
    for n, (source, group) in enumerate(by_source.items(), 1):
        first = group[0]
        locators = "; ".join(md(c["locator"]) for c in group if c["locator"])
        out.append(f"{n}. {md(first['title'] or first['citation'] or source)} (`{source}`)")
        if locators:
            out[-1] += f": {locators}"
    return out


def _meta(data: dict[str, Any]) -> str:
    extra = {
        "finding": lambda: f"{data['category']} · {'observable' if data['observable'] else 'derived only'}",
        "lab": lambda: f"{data['category']} · unit {md(data['unit'])}",
        "test": lambda: data["category"],
        "source": lambda: data["source_kind"],
        "diagnosis": lambda: f"prior {data['prior']['value']:g} ({data['prior']['basis'].replace('_', ' ')})",
    }[data["kind"]]()
    where = f" · `{data['where']}`" if data["where"] else ""
    return f"*{data['kind']}* · {extra}{where}"


def _list(title: str, items: list[str], empty: str | None = None) -> list[str]:
    if not items:
        return [f"**{title}.** {empty}", ""] if empty else []
    return [f"**{title}.**", "", *(f"- {i}" for i in items), ""]


def _used_by(data: dict[str, Any]) -> list[str]:
    items = [f"`{u['rule']}` ({u['kind']}): {md(u['condition'])}" for u in data["used_by"]]
    return _list("Used by", items, "no rule uses it")


def _finding_body(data: dict[str, Any]) -> list[str]:
    out = _list("Derived by", [f"`{d['rule']}` ({d['state']})" for d in data["derived_by"]])
    out += _used_by(data)
    out += _list("Cardinal finding of", [f"`{d}`" for d in data["cardinal_of"]])
    out += _list("Settled by the investigations", [f"`{i}`" for i in data["revealed_by"]])
    return out


def _lab_body(data: dict[str, Any]) -> list[str]:
    units = ", ".join(md(u) for u in data["other_units"]) or "none"
    p = data["plausible"]
    out = [
        f"Plausible range {p['min']:g} to {p['max']:g} {md(data['unit'])}; other units accepted: {units}.",
        "",
    ]
    out += _list("Reference intervals", [md(r) for r in data["reference"]], "none (rules use fixed limits)")
    out += _used_by(data)
    out += _list("Ordered by", [f"`{i}`" for i in data["ordered_by"]])
    return out


def _test_body(data: dict[str, Any]) -> list[str]:
    out = _list("Results", [f"`{v['id']}`: {md(v['label'])}" for v in data["values"]])
    return out + _used_by(data) + _list("Ordered by", [f"`{i}`" for i in data["ordered_by"]])


def _diagnosis_body(data: dict[str, Any]) -> list[str]:
    out = _list("Cardinal findings", [f"`{c['id']}`: {md(c['label'])}" for c in data["cardinal"]])
    out += _list("Subtypes", [f"`{s['id']}`: {md(s['label'])}" for s in data["subtypes"]])
    crit = [
        f"`{c['rule']}`: "
        + ("criteria met" if c["criteria"] else "")
        + (f"{' and ' if c['criteria'] else ''}subtype `{c['subtype']}`" if c["subtype"] else "")
        for c in data["criteria_rules"]
    ]
    out += _list("Criteria rules", crit)
    ev = [f"`{e['rule']}` ({e['finding']}): p = {e['p']:g}" for e in data["evidence_rules"]]
    out += _list("Evidence rules naming it", ev, "none (it gets each rule's 'otherwise')")
    out += [f"Teaching points: {data['teaching_points']}.", ""]
    return out


def _source_body(data: dict[str, Any]) -> list[str]:
    items = [
        f"{c['kind']} `{c['id']}`" + (f" — {md(c['locator'])}" if c["locator"] else "")
        for c in data["cited_by"]
    ]
    citation = [f"Citation: {md(data['citation'])}", ""] if data["citation"] != data["label"] else []
    return [*citation, *_list("Cited by", items, "nothing in the pack")]


_BODIES = {
    "finding": _finding_body,
    "lab": _lab_body,
    "test": _test_body,
    "diagnosis": _diagnosis_body,
    "source": _source_body,
}
