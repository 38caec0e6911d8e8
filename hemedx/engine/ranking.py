"""Rank the differential from an evaluation's firings: naive Bayes a learner can redo by hand.

posterior(d) ∝ prior(d) × Π factor(d), where each counted evidence line contributes
factor = p (finding present) or 1 − p (finding absent) and unknown findings contribute nothing.
Priors are normalised over the differential. Each line also shows a likelihood ratio against the rest of
the differential, LR = factor(d) / mean of factor over the other diagnoses, to say "for" or "against".

The world is open: a pack may hold one ``kind: outside`` hypothesis ("something outside this
differential"), ranked in the same arithmetic. ``supported`` is true only when a cardinal finding of a
diagnosis is present and the outside hypothesis does not lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from hemedx.engine.evidence import Contribution, EvidenceModel, evidence_model, normalise
from hemedx.engine.facts import finding_id
from hemedx.engine.trace import Firing
from hemedx.rules.kb import KnowledgeBase
from hemedx.rules.model import AlertRule, CriteriaRule, EvidenceRule, Pack

NEUTRAL_BAND = 1.1  # |LR| within [1/1.1, 1.1] is shown as neutral


@dataclass(frozen=True)
class EvidenceLine:
    """One finding's contribution to one diagnosis."""

    finding: str
    state: str
    rule: str
    p: float
    factor: float
    lr: float
    basis: str  # "published" or "teaching_estimate"
    counted: bool
    replaced_by: str | None
    cites: tuple[tuple[str, str | None], ...]  # (source id, locator)

    @property
    def direction(self) -> str:
        """'for', 'against' or 'neutral', from the likelihood ratio."""
        if not self.counted or 1 / NEUTRAL_BAND <= self.lr <= NEUTRAL_BAND:
            return "neutral"
        return "for" if self.lr > 1 else "against"


@dataclass(frozen=True)
class RankedDiagnosis:
    """A diagnosis with its probability and the reasons for it."""

    id: str
    label: str
    prior: float  # normalised over the differential
    probability: float
    log_score: float
    subtype: str | None
    subtype_rule: str | None
    criteria_met: bool
    criteria_rules: tuple[str, ...]
    in_play: bool
    cardinal_present: tuple[str, ...]
    expected_unknown: tuple[str, ...]
    # What the evidence lines are built from: only a view that shows them pays for building them.
    contributions: tuple[Contribution, ...] = field(default=(), repr=False, compare=False)
    index: int = field(default=0, repr=False, compare=False)  # this hypothesis' place in pack order

    @cached_property
    def evidence(self) -> tuple[EvidenceLine, ...]:
        """One line per applied evidence rule: its factor and its likelihood ratio against the rest."""
        return tuple(evidence_line(c, self.index) for c in self.contributions)


def evidence_line(c: Contribution, k: int) -> EvidenceLine:
    """The evidence line of one contribution for the hypothesis at place ``k`` in pack order."""
    factor, n = c.factors[k], len(c.factors)
    lr = factor / ((c.total - factor) / (n - 1)) if n > 1 else 1.0
    t = c.table
    return EvidenceLine(
        t.finding, c.state, t.rule.id, t.p[k], factor, lr, t.basis[k], c.counted, c.replaced_by, t.cites[k]
    )


@dataclass(frozen=True)
class Alert:
    """A fired alert rule: a condition outside the differential or an emergency, and what settles it."""

    rule: str
    label: str
    urgency: str  # "emergency" | "consider"
    next_test: str
    outside: bool
    because: tuple[tuple[str, str], ...]  # (kind, name) of the facts it matched, in rule order


@dataclass(frozen=True)
class Ranking:
    """The ranked differential for one snapshot of one case."""

    supported: bool
    differential: tuple[RankedDiagnosis, ...]  # highest probability first, ties by id
    findings: dict[str, tuple[str, str]]  # finding -> (state, origin: observed | derived)
    firings: tuple[Firing, ...]
    fired_rules: tuple[str, ...]  # in pack order
    conflicts: tuple[str, ...] = field(default=())
    uniform_priors: bool = False
    alerts: tuple[Alert, ...] = field(default=())  # emergencies first, then in pack order
    outside_id: str | None = None  # id of the open-world hypothesis, when the pack has one

    @property
    def outside(self) -> RankedDiagnosis | None:
        """The open-world hypothesis, when the pack has one."""
        return next((d for d in self.differential if d.id == self.outside_id), None)

    @property
    def diagnoses(self) -> tuple[RankedDiagnosis, ...]:
        """The differential without the open-world hypothesis (what may be named as a diagnosis)."""
        return tuple(d for d in self.differential if d.id != self.outside_id)


def _resolved(
    observed: dict[str, str], derived: dict[str, set[str]]
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Final state of every known finding: observed wins; among derived, present wins over absent."""
    out = {name: (state, "observed") for name, state in observed.items()}
    conflicts = []
    for name in sorted(derived):
        if name in out:
            continue
        states = derived[name]
        if len(states) > 1:
            conflicts.append(name)
        out[name] = ("present" if "present" in states else "absent", "derived")
    return out, conflicts


def rank(
    pack: Pack,
    observed: dict[str, str],
    firings: list[Firing],
    uniform_priors: bool = False,
    age: float | None = None,
) -> Ranking:
    """Turn firings into a ranked, explained differential."""
    kb = pack.kb
    model = evidence_model(pack)
    static = kb.derived("ranking", lambda: _Static(pack, model))
    derived: dict[str, set[str]] = {}
    parts = static.finding_parts
    fired_ids = set()
    for f in firings:
        if f.outcome != "overridden":
            fired_ids.add(f.rule_id)
            if f.derived and f.outcome != "recorded" and (found := parts.get(f.derived)) is not None:
                derived.setdefault(found[0], set()).add(found[1])
    findings, conflicts = _resolved(observed, derived)

    contributions = model.contributions({name: state for name, (state, _) in findings.items()})
    priors = model.priors(age, uniform_priors)
    log_scores = model.log_scores(priors, contributions)
    applied = tuple(contributions)
    probabilities = normalise(log_scores)

    criteria: dict[str, list[str]] = {}
    subtypes: dict[str, dict[str, str]] = {}
    fired_in_order = tuple(sorted(fired_ids, key=kb.rule_order.__getitem__))
    for rule_id in fired_in_order:
        concludes = static.criteria.get(rule_id)
        if concludes is not None:
            dx, counts, subtype = concludes
            if counts:
                criteria.setdefault(dx, []).append(rule_id)
            if subtype:
                subtypes.setdefault(dx, {}).setdefault(subtype, rule_id)

    ranked = []
    none: dict[str, str] = {}
    for k, (dx, label, subtype_ids, cardinals, expects) in enumerate(static.diagnoses):
        found = subtypes.get(dx, none)
        chosen = next((s for s in subtype_ids if s in found), None) if found else None
        cardinal = tuple(c for c in cardinals if findings.get(c, ("",))[0] == "present")
        met = tuple(criteria.get(dx, ()))
        ranked.append(
            _ranked(
                {
                    "id": dx,
                    "label": label,
                    "prior": priors[k],
                    "probability": probabilities[k],
                    "log_score": log_scores[k],
                    "subtype": chosen,
                    "subtype_rule": found.get(chosen) if chosen else None,
                    "criteria_met": bool(met),
                    "criteria_rules": met,
                    "in_play": bool(cardinal),
                    "cardinal_present": cardinal,
                    "expected_unknown": tuple(f for f in expects if f not in findings),
                    "contributions": applied,
                    "index": k,
                }
            )
        )
    ranked.sort(key=lambda r: (-r.probability, r.id))
    outside_id = static.outside_id
    return Ranking(
        supported=any(r.in_play for r in ranked) and ranked[0].id != outside_id,
        differential=tuple(ranked),
        findings=findings,
        firings=tuple(firings),
        fired_rules=fired_in_order,
        conflicts=tuple(conflicts),
        uniform_priors=uniform_priors,
        alerts=_alerts(kb, firings, [r for r in fired_in_order if r in static.alerts]),
        outside_id=outside_id,
    )


_FIELDS = frozenset(f.name for f in fields(RankedDiagnosis))


def _ranked(values: dict[str, Any]) -> RankedDiagnosis:
    """A RankedDiagnosis from every one of its fields, without the frozen ``__init__``'s 14 setattr calls.

    A case builds one per hypothesis, and that ``__init__`` was a fifth of ranking; the instance is the
    same (equal, frozen, hashable) as the constructor's.
    """
    if values.keys() != _FIELDS:
        raise TypeError(f"RankedDiagnosis needs exactly {sorted(_FIELDS)}")
    made = object.__new__(RankedDiagnosis)
    made.__dict__.update(values)
    return made


class _Static:
    """What ranking reads from a pack on every case, looked up once per pack and process."""

    def __init__(self, pack: Pack, model: EvidenceModel) -> None:
        # criteria rule id -> (diagnosis, whether it states criteria, the subtype it names)
        self.criteria = {
            r.id: (r.then.diagnosis, bool(r.then.criteria), r.then.subtype)
            for r in pack.rules
            if isinstance(r, CriteriaRule)
        }
        self.alerts = frozenset(r.id for r in pack.rules if isinstance(r, AlertRule))
        # derived fact id -> (finding, state) for every finding a rule can derive
        self.finding_parts = {
            finding_id(r.then.finding, r.then.state): (r.then.finding, r.then.state)
            for r in pack.rules
            if not isinstance(r, (CriteriaRule, AlertRule, EvidenceRule))
        }
        # per hypothesis: the findings that "expect" it, in the evidence model's order
        expects: dict[str, list[str]] = {d.id: [] for d in pack.diagnoses}
        for finding, wanting in model.expected.items():
            for dx in wanting:
                expects[dx].append(finding)
        self.diagnoses = tuple(
            (d.id, d.label, tuple(s.id for s in d.subtypes), tuple(d.cardinal), tuple(expects[d.id]))
            for d in pack.diagnoses
        )
        self.outside_id = next((d.id for d in pack.diagnoses if d.is_outside), None)


def _alerts(kb: KnowledgeBase, firings: list[Firing], fired: list[str]) -> tuple[Alert, ...]:
    """The fired alert rules ``fired`` (pack order), emergencies first; ``because``: the first match."""
    out = []
    for rule_id in fired:
        rule = kb.rules[rule_id]
        matched = min((f for f in firings if f.rule_id == rule_id), key=lambda f: f.variant).matched
        because = tuple(_fact_ref(fact_id) for _, fact_id in matched if fact_id not in ("patient", "case"))
        then = rule.then
        out.append(Alert(rule.id, then.alert, then.urgency, then.next_test, then.outside, because))
    out.sort(key=lambda a: a.urgency != "emergency")  # stable: pack order within each urgency
    return tuple(out)


def _fact_ref(fact_id: str) -> tuple[str, str]:
    """('finding', 'anemia') from 'f:anemia:present', ('lab', 'wbc') from 'lab:wbc'."""
    kind, _, rest = fact_id.partition(":")
    if kind == "f":
        return ("finding", rest.partition(":")[0])
    return (kind, rest)
