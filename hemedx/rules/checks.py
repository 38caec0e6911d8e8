"""Cross-reference checks that need the whole pack: every id a rule, diagnosis or interval names exists.

These are hard errors at load time (a pack that names an unknown finding cannot run). Softer, teaching
quality lints (rules that can never fire, double-counted evidence, ...) live in the authoring tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from hemedx.errors import PathPart
from hemedx.rules.conditions import COUNT_CAP, count_alternatives, walk
from hemedx.rules.model import (
    PREGNANCY_STATES,
    AlertRule,
    Cite,
    EvidenceRule,
    FindingCondition,
    LabCondition,
    Pack,
    TestCondition,
)
from hemedx.rules.thresholds import Param, RefLimit
from hemedx.rules.vocab import collisions
from hemedx.suggest import did_you_mean

# (section, id of the entry, path inside the entry, message, hint)
Problem = tuple[str, str, tuple[PathPart, ...], str, str | None]

MAX_VARIANTS_PER_RULE = 256  # alternatives one rule may compile into (any/at_least x reference bands)
MAX_RULES = 2000  # the default pack has about 150; compiling 2,000 takes a few seconds


def expansion_problem(rule: Any, labs: dict[str, Any]) -> Problem | None:
    """The problem of a rule that would compile into more than :data:`MAX_VARIANTS_PER_RULE` alternatives."""
    count = count_alternatives(rule.when, labs)
    if count <= MAX_VARIANTS_PER_RULE:
        return None
    shown = f"more than {COUNT_CAP:,}" if count >= COUNT_CAP else f"{count:,}"
    return (
        "rule",
        rule.id,
        ("when",),
        f"rule '{rule.id}' expands into {shown} alternatives (limit {MAX_VARIANTS_PER_RULE})",
        "split it into simpler rules, or use fewer 'any' / 'at_least' choices",
    )


def walk_cites(obj: Any, path: tuple[PathPart, ...] = ()) -> Iterator[tuple[tuple[PathPart, ...], Cite]]:
    """Yield every :class:`Cite` inside a model, with its path."""
    if isinstance(obj, Cite):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name, info in type(obj).model_fields.items():
            yield from walk_cites(getattr(obj, name), (*path, info.alias or name))
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from walk_cites(item, (*path, i))
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from walk_cites(item, (*path, key))


def iter_problems(pack: Pack) -> Iterator[Problem]:
    """Every broken reference in ``pack``, in pack order (``hemedx rules check`` reports them all)."""
    return _problems(pack)


def _problems(pack: Pack) -> Iterator[Problem]:
    vocab = pack.vocabulary
    findings = {f.id for f in vocab.findings}
    labs = {lab.id: lab for lab in vocab.labs}
    tests = {t.id: t for t in vocab.tests}
    diagnoses = {d.id: d for d in pack.diagnoses}
    sources = {s.id for s in pack.sources}
    params = set(pack.info.parameters)
    outsiders = [d for d in pack.diagnoses if d.is_outside]
    outside = outsiders[0] if outsiders else None
    if len(outsiders) > 1:
        yield ("diagnosis", outsiders[1].id, ("kind",), "a pack has at most one outside hypothesis", None)

    def unknown(kind: str, value: str, pool: Any) -> tuple[str, str | None]:
        return f"unknown {kind} '{value}'", did_you_mean(value, pool)

    for lab in vocab.labs:
        yield from _band_overlaps(lab)
    for section, items in (("lab", vocab.labs), ("diagnosis", pack.diagnoses)):
        for item in items:
            for path, cite in walk_cites(item):
                if cite.source not in sources:
                    yield (section, item.id, (*path, "source"), *unknown("source", cite.source, sources))
    for name, param in pack.info.parameters.items():
        for path, cite in walk_cites(param):
            if cite.source not in sources:
                yield (
                    "pack",
                    "info",
                    ("parameters", name, *path, "source"),
                    *unknown("source", cite.source, sources),
                )

    yield from _synonym_problems(pack)
    if all(d.is_outside for d in pack.diagnoses):
        yield ("pack", "info", (), "a pack needs at least one diagnosis (diagnoses.yaml lists none)", None)
    if len(pack.rules) > MAX_RULES:
        yield (
            "pack",
            "info",
            (),
            f"the pack has {len(pack.rules)} rules (limit {MAX_RULES})",
            "split it into smaller packs",
        )
        return  # each rule's own checks would only add time

    yield from _investigation_problems(pack, findings, labs, tests)

    for dx in pack.diagnoses:
        for i, fid in enumerate(dx.cardinal):
            if fid not in findings:
                yield ("diagnosis", dx.id, ("cardinal", i), *unknown("finding", fid, findings))

    for rule in pack.rules:
        too_big = expansion_problem(rule, labs)
        if too_big is not None:
            yield too_big
        for path, cite in walk_cites(rule):
            if cite.source not in sources:
                yield ("rule", rule.id, (*path, "source"), *unknown("source", cite.source, sources))
        for path, cond in walk(rule.when):
            if isinstance(cond, FindingCondition):
                if cond.finding not in findings:
                    yield ("rule", rule.id, (*path, "finding"), *unknown("finding", cond.finding, findings))
                if cond.is_ == "known" and not isinstance(rule, EvidenceRule):
                    yield (
                        "rule",
                        rule.id,
                        (*path, "is"),
                        "'is: known' is only for evidence rules",
                        "use present or absent",
                    )
            elif isinstance(cond, LabCondition):
                lab = labs.get(cond.lab)
                if lab is None:
                    yield ("rule", rule.id, (*path, "lab"), *unknown("lab", cond.lab, labs))
                    continue
                for key, limit in cond.limits().items():
                    if isinstance(limit, RefLimit) and not any(
                        getattr(iv, limit.side) is not None for iv in lab.reference
                    ):
                        yield (
                            "rule",
                            rule.id,
                            (*path, key),
                            f"lab '{lab.id}' has no reference interval with a {limit.side} limit",
                            "give a number or add a reference interval",
                        )
                    if isinstance(limit, Param) and limit.name not in params:
                        yield ("rule", rule.id, (*path, key), *unknown("parameter", limit.name, params))
            elif isinstance(cond, TestCondition):
                test = tests.get(cond.test)
                if test is None:
                    yield ("rule", rule.id, (*path, "test"), *unknown("test", cond.test, tests))
                    continue
                for value in cond.allowed():
                    if value not in test.values:
                        yield (
                            "rule",
                            rule.id,
                            (*path, "is" if cond.is_ else "in"),
                            f"'{value}' is not a result of test '{test.id}'"
                            f" (allowed: {', '.join(test.values)})",
                            did_you_mean(value, test.values),
                        )
        yield from _example_problems(rule, findings, labs, tests)
        then = rule.then
        if isinstance(rule, EvidenceRule):
            for dx_id in then.evidence:
                if dx_id not in diagnoses:
                    yield (
                        "rule",
                        rule.id,
                        ("then", "evidence", dx_id),
                        *unknown("diagnosis", dx_id, diagnoses),
                    )
            for i, fid in enumerate(then.replaces):
                if fid not in findings:
                    yield ("rule", rule.id, ("then", "replaces", i), *unknown("finding", fid, findings))
            if outside is not None and outside.id not in then.evidence:
                yield (
                    "rule",
                    rule.id,
                    ("then", "evidence", outside.id),
                    f"no P(finding | {outside.id}): the open-world hypothesis needs its own value in every"
                    " evidence rule",
                    f"add '{outside.id}: <p>' (how often the finding occurs in patients whose diagnosis is"
                    " not in this differential)",
                )
        elif isinstance(rule, AlertRule):
            pass
        elif hasattr(then, "finding"):
            if then.finding not in findings:
                yield ("rule", rule.id, ("then", "finding"), *unknown("finding", then.finding, findings))
        else:
            dx = diagnoses.get(then.diagnosis)
            if dx is not None and dx.is_outside:
                yield (
                    "rule",
                    rule.id,
                    ("then", "diagnosis"),
                    f"criteria cannot conclude '{dx.id}': it is not a diagnosis",
                    "write an alert rule (kind: alert) to name a condition outside the differential",
                )
            elif dx is None:
                yield (
                    "rule",
                    rule.id,
                    ("then", "diagnosis"),
                    *unknown("diagnosis", then.diagnosis, diagnoses),
                )
            elif then.subtype is not None and then.subtype not in {s.id for s in dx.subtypes}:
                yield (
                    "rule",
                    rule.id,
                    ("then", "subtype"),
                    f"'{then.subtype}' is not a subtype of '{dx.id}'",
                    did_you_mean(then.subtype, [s.id for s in dx.subtypes])
                    or "add it to the diagnosis's subtypes",
                )


def _synonym_problems(pack: Pack) -> Iterator[Problem]:
    """A short label or synonym naming two entries would make "did you mean" and the quiz guess."""
    for entry, name, other in collisions(pack):
        field = "short" if entry.short and entry.short.lower() == name else "synonyms"
        yield (
            entry.kind,
            entry.id,
            (field,),
            f"{entry.kind} '{entry.id}': '{name}' already names {other.kind} '{other.id}'",
            "give each synonym and short label to one entry only",
        )


def _example_problems(
    rule: Any, findings: set[str], labs: dict[str, Any], tests: dict[str, Any]
) -> Iterator[Problem]:
    """Examples must name known ids and valid values, or they test nothing."""
    if rule.examples is None:
        return
    for kind in ("fires", "does_not_fire"):
        for i, facts in enumerate(getattr(rule.examples, kind)):
            base = ("examples", kind, i)
            for key in facts.findings:
                if key not in findings:
                    yield (
                        "rule",
                        rule.id,
                        (*base, "findings", key),
                        f"unknown finding '{key}'",
                        did_you_mean(key, findings),
                    )
            for key, value in facts.labs.items():
                if key not in labs:
                    yield (
                        "rule",
                        rule.id,
                        (*base, "labs", key),
                        f"unknown lab '{key}'",
                        did_you_mean(key, labs),
                    )
                elif not isinstance(value, (int, float, dict)) or isinstance(value, bool):
                    yield ("rule", rule.id, (*base, "labs", key), f"expected a number, got {value!r}", None)
            for key, value in facts.tests.items():
                if key not in tests:
                    yield (
                        "rule",
                        rule.id,
                        (*base, "tests", key),
                        f"unknown test '{key}'",
                        did_you_mean(key, tests),
                    )
                elif value not in tests[key].values:
                    yield (
                        "rule",
                        rule.id,
                        (*base, "tests", key),
                        f"'{value}' is not a result of {key}",
                        did_you_mean(value, tests[key].values),
                    )
            for key, value in facts.patient.items():
                if (
                    key not in ("age", "sex", "pregnancy")
                    or (key == "sex" and value not in ("female", "male"))
                    or (key == "pregnancy" and value not in PREGNANCY_STATES)
                ):
                    yield (
                        "rule",
                        rule.id,
                        (*base, "patient", key),
                        "patient takes age (years), sex (female|male) and pregnancy ("
                        + "|".join(PREGNANCY_STATES)
                        + ")",
                        None,
                    )


def _band_overlaps(lab: Any) -> Iterator[Problem]:
    """Two bands giving the same limit to one patient: the compiler would apply both at once."""
    every = set(PREGNANCY_STATES)
    for j, later in enumerate(lab.reference):
        for i, earlier in enumerate(lab.reference[:j]):
            if not _sides(earlier, later):
                continue  # one band gives the low limit, the other the high one
            sexes = {earlier.sex, later.sex}
            if len(sexes - {"any"}) > 1:
                continue
            top = min(x.age_max if x.age_max is not None else float("inf") for x in (earlier, later))
            if max(earlier.age_min, later.age_min) >= top:
                continue
            shared = set(earlier.pregnancy or every) & set(later.pregnancy or every)
            if not shared:
                continue
            limits = "/".join(_sides(earlier, later))
            yield (
                "lab",
                lab.id,
                ("reference", j),
                f"reference bands {i} and {j} of '{lab.id}' give one patient two {limits} limits",
                "narrow sex, age_min/age_max or pregnancy so that each patient falls in one band",
            )


def _sides(a: Any, b: Any) -> list[str]:
    return [side for side in ("low", "high") if getattr(a, side) is not None and getattr(b, side) is not None]


def _investigation_problems(
    pack: Pack, findings: set[str], labs: dict[str, Any], tests: dict[str, Any]
) -> Iterator[Problem]:
    """Every id an investigation names must exist: an unknown one is an error, never silently dropped."""
    ids = {inv.id for inv in pack.investigations}
    for inv in pack.investigations:
        for kind, pool, names in (
            ("lab", labs, inv.orders.labs),
            ("test", tests, inv.orders.tests),
            ("finding", findings, inv.orders.findings),
        ):
            for i, name in enumerate(names):
                if name not in pool:
                    yield (
                        "investigation",
                        inv.id,
                        ("orders", f"{kind}s", i),
                        f"unknown {kind} '{name}'",
                        did_you_mean(name, pool),
                    )
        pairs = [("reveals", (i,), f) for i, f in enumerate(inv.reveals)]
        for key in ("exclusive", "implies"):
            pairs += [
                (key, (i, j), f) for i, pair in enumerate(getattr(inv, key)) for j, f in enumerate(pair)
            ]
        for key, at, name in pairs:
            if name not in findings:
                yield (
                    "investigation",
                    inv.id,
                    (key, *at),
                    f"unknown finding '{name}'",
                    did_you_mean(name, findings),
                )
        for i, other in enumerate(inv.after):
            if other not in ids:
                yield (
                    "investigation",
                    inv.id,
                    ("after", i),
                    f"unknown investigation '{other}'",
                    did_you_mean(other, ids),
                )
