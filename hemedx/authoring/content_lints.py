"""Lints of a pack's content rather than its logic: placeholders, drafts, unused and normal findings.

``hemedx rules new`` scaffolds rules full of ``TODO``; learners must never read one (HX106). A
``status: draft`` rule is run by the engine like a teaching rule (only ``retired`` is dropped), so
``rules check`` lists the drafts (HX304). A finding nothing uses is dead vocabulary, usually a typo'd
or forgotten rule (HX305). A cardinal finding puts a diagnosis "in play"; it must be abnormal, so a normal
blood count puts nothing in play (HX306). durable_rules has limits no schema shows (its matcher overflows
when one fact matches too many conditions at once), so a few probe cases run through the engine (HX108).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from hemedx.authoring.issues import Issue
from hemedx.engine.examples import DEFAULT_AGE, DEFAULT_SEX, example_snapshot
from hemedx.errors import EngineError, InputError, PathPart, format_path
from hemedx.rules.conditions import named
from hemedx.rules.model import EvidenceRule, ExampleFacts, Lab
from hemedx.rules.reader import RULE_ADAPTER

if TYPE_CHECKING:
    from hemedx.authoring.lints import Context

_TODO = re.compile(r"\bTODO\b")


def _strings(value: Any, path: tuple[PathPart, ...] = ()) -> Iterator[tuple[tuple[PathPart, ...], str]]:
    """Every string inside a dumped model, with its path (YAML keys, list indexes)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, sub in value.items():
            yield from _strings(sub, (*path, key))
    elif isinstance(value, (list, tuple)):
        for i, sub in enumerate(value):
            yield from _strings(sub, (*path, i))


def _entries(ctx: Context) -> Iterator[tuple[str, str, BaseModel | dict[str, Any], tuple[PathPart, ...]]]:
    """(section, id, entry, path prefix) of everything an author writes text in."""
    raw = ctx.raw
    for rule in raw.rules:
        yield "rule", rule.id, rule, ()
    for dx in raw.diagnoses:
        yield "diagnosis", dx.id, dx, ()
    for source in raw.sources:
        yield "source", source.id, source, ()
    if raw.vocabulary is not None:
        for section, items in (
            ("finding", raw.vocabulary.findings),
            ("lab", raw.vocabulary.labs),
            ("test", raw.vocabulary.tests),
        ):
            for item in items:
                yield section, item.id, item, ()
    for inv in raw.investigations:
        yield "investigation", inv.id, inv, ()
    if raw.info is not None:
        for name, param in raw.info.parameters.items():
            yield "pack", "info", param, ("parameters", name)


def _dumped(section: str, entry: BaseModel | dict[str, Any]) -> Any:
    """``entry.model_dump(by_alias=True, exclude_defaults=True)``, a rule's through the reader's adapter.

    The adapter validated every rule, so its serializer exists already; a rule class's own is built only
    on its first ``model_dump`` (about 4 ms for each of the five kinds), and both dump the same data.
    """
    if not isinstance(entry, BaseModel):
        return entry
    if section == "rule":
        return RULE_ADAPTER.dump_python(entry, by_alias=True, exclude_defaults=True)
    return entry.model_dump(by_alias=True, exclude_defaults=True)


def placeholder(ctx: Context) -> Iterator[Issue]:
    """HX106: a ``TODO`` left in any text, label or citation locator."""
    for section, ident, entry, prefix in _entries(ctx):
        data = _dumped(section, entry)
        for path, text in _strings(data, prefix):
            if not _TODO.search(text):
                continue
            what = f"parameter '{prefix[1]}'" if section == "pack" else f"{section} '{ident}'"
            field = format_path(list(path[len(prefix) :]))
            yield Issue(
                "HX106",
                f"{what}: {field} is a TODO placeholder ({' '.join(text.split())[:60]!r})",
                suggestion="write the real text (and a verified citation) before learners see it",
                rule=ident if section == "rule" else None,
                **ctx.raw.locate(section, ident, path),
            )


def draft_rule(ctx: Context) -> Iterator[Issue]:
    """HX304: a draft rule, which the engine runs like a teaching rule."""
    for rule in ctx.raw.rules:
        if rule.status == "draft":
            yield ctx.issue(
                "HX304",
                rule.id,
                ("status",),
                f"rule '{rule.id}' is a draft: the engine runs it like a teaching rule (only 'retired' is"
                " dropped)",
                "review it, then set status: reviewed (or teaching); status: retired removes it",
            )


def unused_finding(ctx: Context) -> Iterator[Issue]:
    """HX305: a finding that no rule's condition names and no diagnosis has as cardinal."""
    used = {d for dx in ctx.pack.diagnoses for d in dx.cardinal}
    for rule in ctx.pack.rules:
        used |= set(named(rule.when, "finding"))
        if isinstance(rule, EvidenceRule):
            used |= set(rule.then.replaces)
    for finding in ctx.pack.vocabulary.findings:
        if finding.context_only and finding.id in used:
            yield Issue(
                "HX305",
                f"finding '{finding.id}' says context_only: true, but a rule or a diagnosis uses it",
                suggestion="remove context_only from the finding",
                **ctx.raw.locate("finding", finding.id, ("context_only",)),
            )
        elif not finding.context_only and finding.id not in used:
            yield Issue(
                "HX305",
                f"finding '{finding.id}' is used by no rule and is no diagnosis's cardinal finding: giving"
                " it in a case changes nothing",
                suggestion=f"add an evidence rule on '{finding.id}' (hemedx rules new ev.{finding.id}),"
                " remove the finding, or mark it context_only: true",
                **ctx.raw.locate("finding", finding.id, ("id",)),
            )


def _normal_value(lab: Lab) -> float | None:
    """A value inside the lab's adult reference interval for the default example patient, or None."""
    for interval in lab.reference:
        if not interval.applies_to(DEFAULT_SEX, DEFAULT_AGE):
            continue
        low, high = interval.low, interval.high
        if low is not None and high is not None:
            return (low + high) / 2
        if high is not None:
            return max(lab.plausible.min, high / 2)
        if low is not None:
            return min(lab.plausible.max, low * 1.25)
    return None


def _normal_labs(pack: Any) -> dict[str, float]:
    """A value inside the reference interval for every lab that has one (the default patient's)."""
    return {lab.id: value for lab in pack.vocabulary.labs if (value := _normal_value(lab)) is not None}


def normal_cardinal(ctx: Context) -> Iterator[Issue]:
    """HX306: a cardinal finding that a normal result makes present (it puts a diagnosis in play)."""
    engine = ctx.engine if ctx.clean else None
    if engine is None:
        return
    try:
        ranking = engine.rank(
            example_snapshot(engine.pack, ExampleFacts(name="normal", labs=_normal_labs(ctx.pack)))
        )
    except (InputError, EngineError):
        return  # a pack the engine cannot evaluate: HX108 says why
    for ranked in ranking.differential:
        for finding in ranked.cardinal_present:
            yield Issue(
                "HX306",
                f"cardinal finding '{finding}' of diagnosis '{ranked.id}' is present with every lab inside"
                " its reference interval: a normal count would put the diagnosis in play",
                suggestion="a cardinal finding must be abnormal: name an abnormal finding, or fix the rule"
                " that derives it on normal values",
                **ctx.raw.locate(
                    "diagnosis", ranked.id, ("cardinal", ctx.diagnoses[ranked.id].cardinal.index(finding))
                ),
            )


def _probes(pack: Any, normal: dict[str, float]) -> Iterator[ExampleFacts]:
    """Fact sets that put every test value, finding state and extreme lab in front of the matcher."""
    labs = pack.vocabulary.labs
    findings = [f.id for f in pack.vocabulary.findings if f.category != "derived"]
    widest = max((len(t.values) for t in pack.vocabulary.tests), default=1)
    extremes = {
        "normal": normal,
        "low": {lab.id: lab.plausible.min for lab in labs},
        "high": {lab.id: lab.plausible.max for lab in labs},
    }
    # each result alone: a fact with no company reaches the most conditions at once
    for test in pack.vocabulary.tests:
        for value in test.values:
            yield ExampleFacts(name=f"probe {test.id} {value} alone", tests={test.id: value})
    for lab in labs:
        for bound in ("min", "max"):
            value = getattr(lab.plausible, bound)
            yield ExampleFacts(name=f"probe {lab.id} {bound} alone", labs={lab.id: value})
    for k in range(widest):
        tests = {t.id: t.values[k % len(t.values)] for t in pack.vocabulary.tests}
        state = "present" if k % 2 == 0 else "absent"
        for name, values in extremes.items():
            yield ExampleFacts(
                name=f"probe {k} {name}",
                labs=dict(values),
                tests=tests,
                findings=dict.fromkeys(findings, state),
            )


def engine_limits(ctx: Context) -> Iterator[Issue]:
    """HX108: a pack the engine cannot evaluate (durable_rules' own limits), found by probe cases."""
    engine = ctx.engine if ctx.clean else None
    if engine is None:
        return
    pack = engine.pack
    for facts in _probes(pack, _normal_labs(pack)):
        try:
            engine.infer(example_snapshot(pack, facts))
        except (InputError, EngineError) as exc:
            yield Issue(
                "HX108",
                f"durable_rules cannot evaluate this pack ({facts.name}: "
                f"{exc.message if isinstance(exc, InputError) else exc})",
                suggestion="durable_rules overflows when one fact matches too many distinct conditions at"
                " once (for example one test or lab compared in many alternatives): write the shared"
                " condition once as a derived finding and use that finding in the rules",
                **ctx.raw.locate("pack", "info"),
            )
            return


CONTENT_LINTS = (placeholder, draft_rule, unused_finding, normal_cardinal, engine_limits)
