"""Cross-reference checks that need the whole pack: every id a rule, diagnosis or interval names exists.

These are hard errors at load time (a pack that names an unknown finding cannot run). Softer, teaching
quality lints (rules that can never fire, double-counted evidence, ...) live in the authoring tools.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel

from hemedx.errors import PathPart
from hemedx.rules.conditions import COUNT_CAP, Path, count_alternatives, subject, thresholds, walk
from hemedx.rules.model import PREGNANCY_STATES, AlertRule, Cite, EvidenceRule, Pack
from hemedx.rules.thresholds import Param, RefLimit
from hemedx.rules.vocab import collisions
from hemedx.suggest import did_you_mean

UNKNOWN_ID, UNKNOWN_SOURCE, BAD_REFERENCE, TOO_MANY_ALTERNATIVES = "HX101", "HX102", "HX105", "HX205"


class Problem(NamedTuple):
    """One broken reference: where (section, entry id, path inside the entry), what, and its issue code."""

    section: str
    ident: str
    path: tuple[PathPart, ...]
    message: str
    hint: str | None
    code: str  # the ``rules check`` code (hemedx.authoring.issues.LINTS), chosen where the problem is found


MAX_VARIANTS_PER_RULE = 256  # alternatives one rule may compile into (any/at_least x reference bands)
MAX_RULES = 2000  # the default pack has about 150; compiling 2,000 takes a few seconds


def _unknown(kind: str, value: str, pool: Any) -> tuple[str, str | None, str]:
    """(message, hint, code) for an id that names nothing: a source has its own code (HX102)."""
    code = UNKNOWN_SOURCE if kind == "source" else UNKNOWN_ID
    return f"unknown {kind} '{value}'", did_you_mean(value, pool), code


def expansion_problem(rule: Any, labs: dict[str, Any]) -> Problem | None:
    """The problem of a rule that would compile into more than :data:`MAX_VARIANTS_PER_RULE` alternatives."""
    count = count_alternatives(rule.when, labs)
    if count <= MAX_VARIANTS_PER_RULE:
        return None
    shown = f"more than {COUNT_CAP:,}" if count >= COUNT_CAP else f"{count:,}"
    return Problem(
        "rule",
        rule.id,
        ("when",),
        f"rule '{rule.id}' expands into {shown} alternatives (limit {MAX_VARIANTS_PER_RULE})",
        "split it into simpler rules, or use fewer 'any' / 'at_least' choices",
        TOO_MANY_ALTERNATIVES,
    )


_SCALARS = (str, int, float, type(None))  # hold no Cite: not walked into (a pack has ~20,000 of them)
_FIELDS: dict[type[BaseModel], tuple[tuple[str, str], ...]] = {}  # model class -> (attribute, YAML key)


def walk_cites(obj: Any, path: tuple[PathPart, ...] = ()) -> Iterator[tuple[tuple[PathPart, ...], Cite]]:
    """Yield every :class:`Cite` inside a model, with its path."""
    if isinstance(obj, Cite):
        yield path, obj
    elif isinstance(obj, BaseModel):
        cls = type(obj)
        fields = _FIELDS.get(cls)
        if fields is None:
            named = cls.model_fields.items()
            fields = _FIELDS[cls] = tuple((name, info.alias or name) for name, info in named)
        for name, key in fields:
            value = getattr(obj, name)
            if not isinstance(value, _SCALARS):
                yield from walk_cites(value, (*path, key))
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            if not isinstance(item, _SCALARS):
                yield from walk_cites(item, (*path, i))
    elif isinstance(obj, dict):
        for key, item in obj.items():
            if not isinstance(item, _SCALARS):
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
        yield Problem(
            "diagnosis",
            outsiders[1].id,
            ("kind",),
            "a pack has at most one outside hypothesis",
            None,
            BAD_REFERENCE,
        )

    for lab in vocab.labs:
        yield from _band_overlaps(lab)
    for section, items in (("lab", vocab.labs), ("diagnosis", pack.diagnoses)):
        for item in items:
            for path, cite in walk_cites(item):
                if cite.source not in sources:
                    yield Problem(
                        section, item.id, (*path, "source"), *_unknown("source", cite.source, sources)
                    )
    for name, param in pack.info.parameters.items():
        for path, cite in walk_cites(param):
            if cite.source not in sources:
                yield Problem(
                    "pack",
                    "info",
                    ("parameters", name, *path, "source"),
                    *_unknown("source", cite.source, sources),
                )

    yield from _synonym_problems(pack)
    if all(d.is_outside for d in pack.diagnoses):
        message = "a pack needs at least one diagnosis (diagnoses.yaml lists none)"
        yield Problem("pack", "info", (), message, None, BAD_REFERENCE)
    if len(pack.rules) > MAX_RULES:
        yield Problem(
            "pack",
            "info",
            (),
            f"the pack has {len(pack.rules)} rules (limit {MAX_RULES})",
            "split it into smaller packs",
            BAD_REFERENCE,
        )
        return  # each rule's own checks would only add time

    yield from _investigation_problems(pack, findings, labs, tests)

    for dx in pack.diagnoses:
        for i, fid in enumerate(dx.cardinal):
            if fid not in findings:
                yield Problem("diagnosis", dx.id, ("cardinal", i), *_unknown("finding", fid, findings))

    ids = {"finding": findings, "lab": labs, "test": tests}
    for rule in pack.rules:
        too_big = expansion_problem(rule, labs)
        if too_big is not None:
            yield too_big
        for path, cite in walk_cites(rule):
            if cite.source not in sources:
                yield Problem("rule", rule.id, (*path, "source"), *_unknown("source", cite.source, sources))
        for path, cond in walk(rule.when):
            kind, ident = subject(cond)
            known = ids.get(kind)
            if known is not None and ident not in known:
                yield Problem("rule", rule.id, (*path, kind), *_unknown(kind, ident, known))
            elif kind == "lab":
                yield from _limit_problems(rule.id, path, cond, labs[ident], params)
            elif kind == "test":
                yield from _result_problems(rule.id, path, cond, tests[ident])
            if kind == "finding" and cond.is_ == "known" and not isinstance(rule, EvidenceRule):
                yield Problem(
                    "rule",
                    rule.id,
                    (*path, "is"),
                    "'is: known' is only for evidence rules",
                    "use present or absent",
                    BAD_REFERENCE,
                )
        yield from _example_problems(rule, findings, labs, tests)
        then = rule.then
        if isinstance(rule, EvidenceRule):
            for dx_id in then.evidence:
                if dx_id not in diagnoses:
                    yield Problem(
                        "rule",
                        rule.id,
                        ("then", "evidence", dx_id),
                        *_unknown("diagnosis", dx_id, diagnoses),
                    )
            for i, fid in enumerate(then.replaces):
                if fid not in findings:
                    yield Problem(
                        "rule", rule.id, ("then", "replaces", i), *_unknown("finding", fid, findings)
                    )
            if outside is not None and outside.id not in then.evidence:
                yield Problem(
                    "rule",
                    rule.id,
                    ("then", "evidence", outside.id),
                    f"no P(finding | {outside.id}): the open-world hypothesis needs its own value in every"
                    " evidence rule",
                    f"add '{outside.id}: <p>' (how often the finding occurs in patients whose diagnosis is"
                    " not in this differential)",
                    BAD_REFERENCE,
                )
        elif isinstance(rule, AlertRule):
            pass
        elif hasattr(then, "finding"):
            if then.finding not in findings:
                yield Problem(
                    "rule", rule.id, ("then", "finding"), *_unknown("finding", then.finding, findings)
                )
        else:
            dx = diagnoses.get(then.diagnosis)
            if dx is not None and dx.is_outside:
                yield Problem(
                    "rule",
                    rule.id,
                    ("then", "diagnosis"),
                    f"criteria cannot conclude '{dx.id}': it is not a diagnosis",
                    "write an alert rule (kind: alert) to name a condition outside the differential",
                    BAD_REFERENCE,
                )
            elif dx is None:
                yield Problem(
                    "rule",
                    rule.id,
                    ("then", "diagnosis"),
                    *_unknown("diagnosis", then.diagnosis, diagnoses),
                )
            elif then.subtype is not None and then.subtype not in {s.id for s in dx.subtypes}:
                yield Problem(
                    "rule",
                    rule.id,
                    ("then", "subtype"),
                    f"'{then.subtype}' is not a subtype of '{dx.id}'",
                    did_you_mean(then.subtype, [s.id for s in dx.subtypes])
                    or "add it to the diagnosis's subtypes",
                    UNKNOWN_ID,
                )


def _synonym_problems(pack: Pack) -> Iterator[Problem]:
    """A short label or synonym naming two entries would make "did you mean" and the quiz guess."""
    for entry, name, other in collisions(pack):
        field = "short" if entry.short and entry.short.lower() == name else "synonyms"
        yield Problem(
            entry.kind,
            entry.id,
            (field,),
            f"{entry.kind} '{entry.id}': '{name}' already names {other.kind} '{other.id}'",
            "give each synonym and short label to one entry only",
            BAD_REFERENCE,
        )


def _limit_problems(
    rule_id: str, path: Path, cond: Any, lab: Any, params: Mapping[str, Any]
) -> Iterator[Problem]:
    """A lab condition's reference limits the lab has no interval for, and parameters the pack lacks."""
    for key, limit in thresholds(cond).items():
        if isinstance(limit, RefLimit) and not any(
            getattr(iv, limit.side) is not None for iv in lab.reference
        ):
            yield Problem(
                "rule",
                rule_id,
                (*path, key),
                f"lab '{lab.id}' has no reference interval with a {limit.side} limit",
                "give a number or add a reference interval",
                BAD_REFERENCE,
            )
        if isinstance(limit, Param) and limit.name not in params:
            yield Problem("rule", rule_id, (*path, key), *_unknown("parameter", limit.name, params))


def _result_problems(rule_id: str, path: Path, cond: Any, test: Any) -> Iterator[Problem]:
    """A test condition's values that are not results of the test."""
    for value in cond.allowed():
        if value not in test.values:
            yield Problem(
                "rule",
                rule_id,
                (*path, "is" if cond.is_ else "in"),
                f"'{value}' is not a result of test '{test.id}' (allowed: {', '.join(test.values)})",
                did_you_mean(value, test.values),
                UNKNOWN_ID,
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
                    yield Problem(
                        "rule", rule.id, (*base, "findings", key), *_unknown("finding", key, findings)
                    )
            for key, value in facts.labs.items():
                at = (*base, "labs", key)
                if key not in labs:
                    yield Problem("rule", rule.id, at, *_unknown("lab", key, labs))
                elif not isinstance(value, (int, float, dict)) or isinstance(value, bool):
                    yield Problem(
                        "rule", rule.id, at, f"expected a number, got {value!r}", None, BAD_REFERENCE
                    )
            for key, value in facts.tests.items():
                at = (*base, "tests", key)
                if key not in tests:
                    yield Problem("rule", rule.id, at, *_unknown("test", key, tests))
                elif value not in tests[key].values:
                    hint = did_you_mean(value, tests[key].values)
                    yield Problem(
                        "rule", rule.id, at, f"'{value}' is not a result of {key}", hint, UNKNOWN_ID
                    )
            for key, value in facts.patient.items():
                if (
                    key not in ("age", "sex", "pregnancy")
                    or (key == "sex" and value not in ("female", "male"))
                    or (key == "pregnancy" and value not in PREGNANCY_STATES)
                ):
                    message = (
                        "patient takes age (years), sex (female|male) and pregnancy ("
                        + "|".join(PREGNANCY_STATES)
                        + ")"
                    )
                    yield Problem("rule", rule.id, (*base, "patient", key), message, None, BAD_REFERENCE)


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
            yield Problem(
                "lab",
                lab.id,
                ("reference", j),
                f"reference bands {i} and {j} of '{lab.id}' give one patient two {limits} limits",
                "narrow sex, age_min/age_max or pregnancy so that each patient falls in one band",
                BAD_REFERENCE,
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
                    yield Problem(
                        "investigation", inv.id, ("orders", f"{kind}s", i), *_unknown(kind, name, pool)
                    )
        pairs = [("reveals", (i,), f) for i, f in enumerate(inv.reveals)]
        for key in ("exclusive", "implies"):
            pairs += [
                (key, (i, j), f) for i, pair in enumerate(getattr(inv, key)) for j, f in enumerate(pair)
            ]
        for key, at, name in pairs:
            if name not in findings:
                yield Problem("investigation", inv.id, (key, *at), *_unknown("finding", name, findings))
        for i, other in enumerate(inv.after):
            if other not in ids:
                yield Problem("investigation", inv.id, ("after", i), *_unknown("investigation", other, ids))
