"""Rank the differential from an evaluation's firings: naive Bayes a learner can redo by hand.

posterior(d) ∝ prior(d) × Π factor(d), where each counted evidence line contributes
factor = p (finding present) or 1 − p (finding absent) and unknown findings contribute nothing.
Priors are normalised over the differential. Each line also shows a likelihood ratio against the rest of
the differential, LR = factor(d) / mean of factor over the other diagnoses, to say "for" or "against".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hemedx.engine.trace import Firing
from hemedx.rules.model import CriteriaRule, EvidenceRule, Frequency, Pack

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
    evidence: tuple[EvidenceLine, ...]
    expected_unknown: tuple[str, ...]


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


def resolve_findings(
    observed: dict[str, str], firings: list[Firing]
) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Final state of every known finding: observed wins; among derived, present wins over absent."""
    derived: dict[str, set[str]] = {}
    for f in firings:
        if f.derived and f.derived.startswith("f:") and f.outcome in ("new", "again"):
            _, name, state = f.derived.split(":")
            derived.setdefault(name, set()).add(state)
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
    pack: Pack, observed: dict[str, str], firings: list[Firing], uniform_priors: bool = False
) -> Ranking:
    """Turn firings into a ranked, explained differential."""
    findings, conflicts = resolve_findings(observed, firings)
    rules = {r.id: r for r in pack.rules}
    order = {r.id: i for i, r in enumerate(pack.rules)}
    dx_ids = [d.id for d in pack.diagnoses]

    # Evidence lines that apply: the rule fired on the finding's resolved state.
    applied: dict[tuple[str, str], EvidenceRule] = {}
    for f in firings:
        rule = rules[f.rule_id]
        if isinstance(rule, EvidenceRule) and f.state is not None:
            finding = rule.when.finding
            if findings.get(finding, (None,))[0] == f.state:
                applied[(rule.id, finding)] = rule
    lines_in_order = sorted(applied.items(), key=lambda item: order[item[0][0]])
    replaced_by: dict[str, str] = {}
    for (_, finding), rule in lines_in_order:
        if findings[finding][0] == "present":
            for other in rule.then.replaces:
                replaced_by.setdefault(other, finding)

    raw_priors = {d.id: (1.0 if uniform_priors else d.prior.value) for d in pack.diagnoses}
    total_prior = sum(raw_priors.values())
    priors = {k: v / total_prior for k, v in raw_priors.items()}

    factors: dict[tuple[str, str], dict[str, float]] = {}
    for (rule_id, finding), rule in lines_in_order:
        state = findings[finding][0]
        per_dx = {}
        for dx in dx_ids:
            p = _p(rule, dx)
            per_dx[dx] = p if state == "present" else 1 - p
        factors[(rule_id, finding)] = per_dx

    log_scores = {dx: math.log(priors[dx]) for dx in dx_ids}
    evidence: dict[str, list[EvidenceLine]] = {dx: [] for dx in dx_ids}
    for (rule_id, finding), rule in lines_in_order:
        state = findings[finding][0]
        per_dx = factors[(rule_id, finding)]
        counted = finding not in replaced_by
        for dx in dx_ids:
            others = [per_dx[o] for o in dx_ids if o != dx]
            lr = per_dx[dx] / (sum(others) / len(others)) if others else 1.0
            if counted:
                log_scores[dx] += math.log(per_dx[dx])
            freq = rule.then.evidence.get(dx)
            cites = tuple((c.source, c.locator) for c in rule.cites)
            if isinstance(freq, Frequency):
                cites = tuple((c.source, c.locator) for c in freq.cites) + cites
            evidence[dx].append(
                EvidenceLine(
                    finding=finding,
                    state=state,
                    rule=rule_id,
                    p=_p(rule, dx),
                    factor=per_dx[dx],
                    lr=lr,
                    basis="published" if isinstance(freq, Frequency) else "teaching_estimate",
                    counted=counted,
                    replaced_by=replaced_by.get(finding) if not counted else None,
                    cites=cites,
                )
            )

    top = max(log_scores.values())
    weights = {dx: math.exp(log_scores[dx] - top) for dx in dx_ids}
    norm = sum(weights.values())

    criteria: dict[str, list[str]] = {dx: [] for dx in dx_ids}
    subtypes: dict[str, dict[str, str]] = {dx: {} for dx in dx_ids}
    fired_ids = {f.rule_id for f in firings if f.outcome != "overridden"}
    for rule_id in sorted(fired_ids, key=order.__getitem__):
        rule = rules[rule_id]
        if isinstance(rule, CriteriaRule):
            dx = rule.then.diagnosis
            if rule.then.criteria:
                criteria[dx].append(rule_id)
            if rule.then.subtype:
                subtypes[dx].setdefault(rule.then.subtype, rule_id)

    expected: dict[str, list[str]] = {dx: [] for dx in dx_ids}
    for rule in pack.rules:
        if isinstance(rule, EvidenceRule) and rule.when.finding not in findings:
            for dx in dx_ids:
                if _p(rule, dx) >= pack.info.expected_frequency and rule.when.finding not in expected[dx]:
                    expected[dx].append(rule.when.finding)

    ranked = []
    for d in pack.diagnoses:
        chosen = next((s.id for s in d.subtypes if s.id in subtypes[d.id]), None)
        cardinal = tuple(c for c in d.cardinal if findings.get(c, ("",))[0] == "present")
        ranked.append(
            RankedDiagnosis(
                id=d.id,
                label=d.label,
                prior=priors[d.id],
                probability=weights[d.id] / norm,
                log_score=log_scores[d.id],
                subtype=chosen,
                subtype_rule=subtypes[d.id].get(chosen) if chosen else None,
                criteria_met=bool(criteria[d.id]),
                criteria_rules=tuple(criteria[d.id]),
                in_play=bool(cardinal),
                cardinal_present=cardinal,
                evidence=tuple(evidence[d.id]),
                expected_unknown=tuple(expected[d.id]),
            )
        )
    ranked.sort(key=lambda r: (-r.probability, r.id))
    return Ranking(
        supported=any(r.in_play for r in ranked),
        differential=tuple(ranked),
        findings=findings,
        firings=tuple(firings),
        fired_rules=tuple(sorted(fired_ids, key=order.__getitem__)),
        conflicts=tuple(conflicts),
        uniform_priors=uniform_priors,
    )


def _p(rule: EvidenceRule, dx: str) -> float:
    freq = rule.then.evidence.get(dx)
    if freq is None:
        return rule.then.otherwise
    return freq.p if isinstance(freq, Frequency) else float(freq)
