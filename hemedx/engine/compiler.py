"""Compile pack rules into flat conjunctions ("variants") that any matcher can run.

Each rule's ``when`` is expanded into disjunctive normal form: ``any`` and ``at_least N of`` become
several variants, ``lower_limit``/``upper_limit`` become one variant per reference-interval band (with
the band's sex, age and pregnancy as a patient constraint), and ``param:NAME`` becomes its number.
Leaves on the same fact are merged into one pattern, because durable_rules never binds one fact to two
patterns of a rule.
The output is plain data with no durable_rules in it, so the compiled form can be inspected and tested.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

from hemedx.cases.censored import compare
from hemedx.engine.facts import lab_fact_value
from hemedx.errors import InputError
from hemedx.rules.checks import expansion_problem
from hemedx.rules.conditions import dnf, needs_band, resolve, thresholds
from hemedx.rules.model import (
    FindingCondition,
    Interval,
    LabCondition,
    Pack,
    PatientCondition,
    TestCondition,
)

# durable_rules links at most 256 rule nodes to one condition node (BETA_LIST_LENGTH; beyond it ruleset
# creation fails with error 108), so no more than that many alternatives may share one exact pattern.
MAX_RULES_PER_PATTERN = 256

# A constraint on one fact property: (property, operator, value). Operators: eq, in, lt, lte, gt, gte.
Constraint = tuple[str, str, Any]
_OPS = {"below": "lt", "above": "gt", "at_least": "gte", "at_most": "lte"}


@dataclass(frozen=True)
class Pattern:
    """Conditions on one fact: a finding, a lab, a test or the patient."""

    kind: str  # finding | lab | test | patient
    name: str  # finding/lab/test id, or "patient"
    constraints: tuple[Constraint, ...]

    @property
    def alias(self) -> str:
        """The name the fact is bound to in a match (stable, readable in traces)."""
        return "patient" if self.kind == "patient" else f"{self.kind}_{self.name}"


@dataclass(frozen=True)
class Variant:
    """One conjunction of patterns; when all match, the rule fires."""

    name: str  # unique, e.g. "crit.aa.severe#2"
    rule_id: str
    patterns: tuple[Pattern, ...]
    # Labs whose limit here is a reference band labelled a teaching estimate: explanations must say so.
    estimated: frozenset[str] = frozenset()
    # The (source, locator) of each published reference band this variant compares with: a derivation
    # cites the band it used (a child's interval from a paediatric study, an adult's from an adult table).
    band_cites: tuple[tuple[str, str | None], ...] = ()
    # Sources that give only *other* bands of those labs (an adult table beside a child's band): a rule
    # citing them for its limit must not have them shown for this variant's limit.
    other_band_sources: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CompiledPack:
    """All variants of a pack, in pack order (interpretation, syndrome, criteria, evidence as authored)."""

    variants: tuple[Variant, ...]
    unsatisfiable: tuple[str, ...]  # rule ids whose every conjunction contradicts itself


def compile_pack(pack: Pack) -> CompiledPack:
    """Expand every rule of ``pack``; raise :class:`InputError` for a rule that expands too far."""
    labs = {lab.id: lab for lab in pack.vocabulary.labs}
    params = {k: p.value for k, p in pack.info.parameters.items()}
    variants: list[Variant] = []
    unsatisfiable: list[str] = []
    for rule in pack.rules:
        try:
            found = compile_rule(rule, labs, params)
        except InputError as exc:
            raise InputError(exc.message, file=pack.origin.get(f"rule:{rule.id}"), hint=exc.hint) from None
        if not found:
            unsatisfiable.append(rule.id)
        variants += found
    shared = shared_pattern_problem(variants)
    if shared is not None:
        rule_id, message, hint = shared
        raise InputError(message, file=pack.origin.get(f"rule:{rule_id}"), hint=hint)
    return CompiledPack(tuple(variants), tuple(unsatisfiable))


def compile_rule(rule: Any, labs: dict[str, Any], params: dict[str, float]) -> list[Variant]:
    """The variants of one rule (none when every conjunction contradicts itself).

    Raises :class:`InputError` (without a file) when the rule expands too far. ``rules check`` compiles
    rule by rule with this, so it reports each rule's problem and gets exactly :func:`compile_pack`'s
    variants.
    """
    too_big = expansion_problem(rule, labs)  # counted, never built: a hostile rule costs nothing
    if too_big is not None:
        _, _, _, message, hint = too_big
        raise InputError(message, hint=hint)
    found: dict[tuple[Pattern, ...], _BandUse] = {}  # insertion-ordered: variant numbers stay stable
    for leaves in dnf(rule.when):
        for banded in _expand_bands(leaves, labs, params):
            merged = _merge(banded)
            if merged is not None:
                found.setdefault(merged, _BandUse()).add(banded, labs)
    return [
        Variant(
            f"{rule.id}#{i}",
            rule.id,
            patterns,
            frozenset(use.estimated),
            tuple(use.cites),
            frozenset(use.all_sources - {source for source, _ in use.cites}),
        )
        for i, (patterns, use) in enumerate(found.items())
    ]


def shared_pattern_problem(variants: list[Variant]) -> tuple[str, str, str] | None:
    """(rule id, message, hint) when more alternatives share one condition than durable_rules can link."""
    users: dict[Pattern, list[str]] = {}
    for variant in variants:
        for pattern in variant.patterns:
            users.setdefault(pattern, []).append(variant.rule_id)
    for pattern, rule_ids in users.items():
        if len(rule_ids) > MAX_RULES_PER_PATTERN:
            over = rule_ids[MAX_RULES_PER_PATTERN]
            message = (
                f"{len(rule_ids)} rule alternatives test the same {pattern.kind} condition"
                f" on '{pattern.name}' (limit {MAX_RULES_PER_PATTERN});"
                f" the first over the limit is rule '{over}'"
            )
            return over, message, "merge rules that share this condition"
    return None


@dataclass
class _BandUse:
    """What one variant's reference bands contribute to its explanation."""

    estimated: set[str] = field(default_factory=set)  # labs compared with a teaching-estimate band
    cites: dict[tuple[str, str | None], None] = field(default_factory=dict)  # the used bands' cites
    all_sources: set[str] = field(default_factory=set)  # sources of every band of those labs

    def add(self, banded: list[tuple[tuple[Any, Any], Interval | None]], labs: dict[str, Any]) -> None:
        for (leaf, _), band in banded:
            if band is None:
                continue
            if band.basis == "teaching_estimate":
                self.estimated.add(leaf.lab)
            self.cites.update(dict.fromkeys((c.source, c.locator) for c in band.cites))
            self.all_sources.update(c.source for b in labs[leaf.lab].reference for c in b.cites)


def _expand_bands(leaves: list[Any], labs: dict[str, Any], params: dict[str, float]) -> list[list[Any]]:
    """Resolve thresholds: numbers stay, params become numbers, reference limits fan out per band."""
    options: list[list[tuple[Any, Interval | None]]] = []
    for leaf in leaves:
        limits = thresholds(leaf)
        if limits:
            bands: list[Interval | None] = list(labs[leaf.lab].reference) if needs_band(leaf) else [None]
            choices = []
            for band in bands:
                resolved: dict[str, float] = {}
                for key, limit in limits.items():
                    value = resolve(limit, params, band)
                    if value is None:
                        break
                    resolved[key] = value
                else:
                    choices.append(((leaf, resolved), band))
            options.append(choices)
        else:
            options.append([((leaf, None), None)])
    return [list(combo) for combo in itertools.product(*options)]


def _merge(items: list[tuple[tuple[Any, Any], Interval | None]]) -> tuple[Pattern, ...] | None:
    """Merge leaves into one pattern per fact; ``None`` when they contradict each other."""
    by_fact: dict[tuple[str, str], list[Constraint]] = {}
    order: list[tuple[str, str]] = []

    def add(key: tuple[str, str], constraints: list[Constraint]) -> None:
        if key not in by_fact:
            by_fact[key] = []
            order.append(key)
        by_fact[key].extend(constraints)

    for (leaf, resolved), band in items:
        add(*_constraints(leaf, resolved))
        if band is not None:
            band_constraints: list[Constraint] = []
            if band.sex != "any":
                band_constraints.append(("sex", "eq", band.sex))
            if band.age_min > 0:
                band_constraints.append(("age", "gte", float(band.age_min)))
            if band.age_max is not None:
                band_constraints.append(("age", "lt", float(band.age_max)))
            if band.pregnancy is not None:
                band_constraints.append(("pregnancy", "in", tuple(band.pregnancy)))
            if band_constraints:
                add(("patient", "patient"), band_constraints)
    patterns = []
    for key in order:
        simplified = _simplify(by_fact[key])
        if simplified is None:
            return None
        patterns.append(Pattern(key[0], key[1], simplified))
    # Patient first, then facts in authored order: a stable, readable layout.
    patterns.sort(key=lambda p: p.kind != "patient")
    return tuple(patterns)


@singledispatch
def _constraints(leaf: Any, resolved: dict[str, float] | None) -> tuple[tuple[str, str], list[Constraint]]:
    """(the fact a leaf tests, its constraints on that fact); ``resolved`` holds its numeric thresholds."""
    raise TypeError(f"not a leaf condition: {type(leaf).__name__}")


@_constraints.register
def _(leaf: FindingCondition, resolved: None) -> tuple[tuple[str, str], list[Constraint]]:
    return ("finding", leaf.finding), [] if leaf.is_ == "known" else [("state", "eq", leaf.is_)]


@_constraints.register
def _(leaf: LabCondition, resolved: dict[str, float]) -> tuple[tuple[str, str], list[Constraint]]:
    return ("lab", leaf.lab), [("value", _OPS[k], v) for k, v in resolved.items()]


@_constraints.register
def _(leaf: TestCondition, resolved: None) -> tuple[tuple[str, str], list[Constraint]]:
    return ("test", leaf.test), [("value", "in", tuple(leaf.allowed()))]


@_constraints.register
def _(leaf: PatientCondition, resolved: dict[str, float]) -> tuple[tuple[str, str], list[Constraint]]:
    if leaf.patient == "sex":
        return ("patient", "patient"), [("sex", "eq", leaf.is_)]
    return ("patient", "patient"), [("age", _OPS[k], v) for k, v in resolved.items()]


def _simplify(constraints: list[Constraint]) -> tuple[Constraint, ...] | None:
    """Drop duplicates, intersect equalities/sets, and detect contradictions (``None``)."""
    eq: dict[str, set[Any]] = {}
    numeric: list[Constraint] = []
    for prop, op, value in constraints:
        if op in ("eq", "in"):
            values = {value} if op == "eq" else set(value)
            eq[prop] = eq[prop] & values if prop in eq else values
            if not eq[prop]:
                return None
        elif (prop, op, value) not in numeric:
            numeric.append((prop, op, value))
    out: list[Constraint] = []
    for prop in sorted(eq):
        values = sorted(eq[prop])
        out.append((prop, "eq", values[0]) if len(values) == 1 else (prop, "in", tuple(values)))
    for prop in sorted({p for p, _, _ in numeric}):
        lo, lo_strict, hi, hi_strict = float("-inf"), False, float("inf"), False
        for p, op, v in numeric:
            if p != prop:
                continue
            if op in ("gt", "gte") and (v > lo or (v == lo and op == "gt")):
                lo, lo_strict = v, op == "gt"
            if op in ("lt", "lte") and (v < hi or (v == hi and op == "lt")):
                hi, hi_strict = v, op == "lt"
        if lo > hi or (lo == hi and (lo_strict or hi_strict)):
            return None
        if lo != float("-inf"):
            out.append((prop, "gt" if lo_strict else "gte", lo))
        if hi != float("inf"):
            out.append((prop, "lt" if hi_strict else "lte", hi))
    return tuple(out)


def matches(pattern: Pattern, fact: dict[str, Any]) -> bool:
    """Plain-Python evaluation of one pattern against one fact (used for examples and explanations)."""
    if fact.get("kind") != pattern.kind or (pattern.kind != "patient" and fact.get("name") != pattern.name):
        return False
    for prop, op, value in pattern.constraints:
        if pattern.kind == "lab" and prop == "value" and op in ("lt", "lte", "gt", "gte"):
            lab_value = lab_fact_value(fact)  # exact or censored: only a certain comparison matches
            if lab_value is None or compare(lab_value, op, value) is not True:
                return False
            continue
        actual = fact.get(prop)
        if actual is None:
            return False
        if op == "eq" and actual != value:
            return False
        if op == "in" and actual not in value:
            return False
        if op == "lt" and not actual < value:
            return False
        if op == "lte" and not actual <= value:
            return False
        if op == "gt" and not actual > value:
            return False
        if op == "gte" and not actual >= value:
            return False
    return True
