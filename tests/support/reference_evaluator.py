"""A plain-Python reference evaluator: small and obviously correct, for differential testing.

It reads the pack's rule conditions directly (no compiler, no durable_rules), forward-chains to a
fixpoint over a set of (finding, state) facts, and ranks with its own naive Bayes. The engine must agree
with it on fired rules, finding states, probabilities and subtypes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hemedx.cases.model import Snapshot
from hemedx.rules.model import (
    AllOf,
    AnyOf,
    CountOf,
    EvidenceRule,
    FindingCondition,
    LabCondition,
    Pack,
    PatientCondition,
    TestCondition,
)


@dataclass
class Result:
    fired: set[str]
    findings: dict[str, str]
    probabilities: dict[str, float]
    subtypes: dict[str, str | None]
    criteria: dict[str, bool]
    supported: bool
    alerts: list[str]


class Reference:
    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.labs = {lab.id: lab for lab in pack.vocabulary.labs}
        self.params = {k: p.value for k, p in pack.info.parameters.items()}

    # --- conditions -------------------------------------------------------------------------------------

    def holds(self, cond, snap: Snapshot, facts: set[tuple[str, str]]) -> bool:
        if isinstance(cond, AllOf):
            return all(self.holds(c, snap, facts) for c in cond.all)
        if isinstance(cond, AnyOf):
            return any(self.holds(c, snap, facts) for c in cond.any)
        if isinstance(cond, CountOf):
            return sum(self.holds(c, snap, facts) for c in cond.of) >= cond.at_least
        if isinstance(cond, FindingCondition):
            if cond.is_ == "known":
                return (cond.finding, "present") in facts or (cond.finding, "absent") in facts
            return (cond.finding, cond.is_) in facts
        if isinstance(cond, TestCondition):
            return snap.tests.get(cond.test) in cond.allowed()
        if isinstance(cond, PatientCondition):
            if cond.patient == "sex":
                return snap.sex == cond.is_
            return self.compare(snap.age, cond.bounds(), None)
        if isinstance(cond, LabCondition):
            if cond.lab in snap.censored:
                bound = snap.censored[cond.lab]
                return self.compare_interval(
                    self.interval(bound.comparator, bound.bound), cond.bounds(), self.band(cond.lab, snap)
                )
            if cond.lab not in snap.labs:
                return False
            return self.compare(snap.labs[cond.lab], cond.bounds(), self.band(cond.lab, snap))
        raise TypeError(cond)

    def band(self, lab_id: str, snap: Snapshot):
        for interval in self.labs[lab_id].reference:
            sex_ok = interval.sex in ("any", snap.sex)
            age_ok = interval.age_min <= snap.age and (
                interval.age_max is None or snap.age < interval.age_max
            )
            pregnancy_ok = interval.pregnancy is None or snap.pregnancy in interval.pregnancy
            if sex_ok and age_ok and pregnancy_ok:
                return interval
        return None

    @staticmethod
    def interval(comparator: str, bound: float) -> tuple[float, bool, float, bool]:
        """The values a censored result allows: (low, low included, high, high included)."""
        inf = math.inf
        return {
            "<": (-inf, False, bound, False),
            "<=": (-inf, False, bound, True),
            ">": (bound, False, inf, False),
            ">=": (bound, True, inf, False),
        }[comparator]

    def compare_interval(self, interval, bounds: dict, band) -> bool:
        """True only when every value in the interval passes every bound (certainty, not possibility)."""
        low, low_in, high, high_in = interval
        for key, threshold in bounds.items():
            threshold = self.resolve(threshold, band)
            if threshold is None:
                return False
            ok = {
                "below": high < threshold or (high == threshold and not high_in),
                "at_most": high <= threshold,
                "above": low > threshold or (low == threshold and not low_in),
                "at_least": low >= threshold,
            }[key]
            if not ok:
                return False
        return True

    def resolve(self, threshold, band):
        if threshold == "lower_limit":
            return band.low if band else None
        if threshold == "upper_limit":
            return band.high if band else None
        if isinstance(threshold, str):
            return self.params[threshold.removeprefix("param:")]
        return threshold

    def compare(self, value: float, bounds: dict, band) -> bool:
        for key, threshold in bounds.items():
            if threshold == "lower_limit":
                threshold = band.low if band else None
            elif threshold == "upper_limit":
                threshold = band.high if band else None
            elif isinstance(threshold, str):
                threshold = self.params[threshold.removeprefix("param:")]
            if threshold is None:
                return False
            ok = {
                "below": value < threshold,
                "above": value > threshold,
                "at_least": value >= threshold,
                "at_most": value <= threshold,
            }[key]
            if not ok:
                return False
        return True

    # --- inference and ranking -------------------------------------------------------------------------

    def evaluate(self, snap: Snapshot, uniform_priors: bool = False) -> Result:
        observed = dict(snap.findings)
        facts = set(observed.items())
        fired: set[str] = set()
        changed = True
        while changed:
            changed = False
            for rule in self.pack.rules:
                if rule.kind in ("evidence", "criteria", "alert") or not self.holds(rule.when, snap, facts):
                    continue
                name, state = rule.then.finding, rule.then.state
                if observed.get(name, state) != state:
                    continue  # an observed finding is never contradicted by a derivation
                fired.add(rule.id)
                if (name, state) not in facts:
                    facts.add((name, state))
                    changed = True
        findings = dict(observed)
        for name, state in sorted(facts):
            if name not in observed:
                findings[name] = "present" if (name, "present") in facts else state
        criteria = {d.id: False for d in self.pack.diagnoses}
        concluded: dict[str, set[str]] = {d.id: set() for d in self.pack.diagnoses}
        for rule in self.pack.rules:
            if rule.kind == "criteria" and self.holds(rule.when, snap, facts):
                fired.add(rule.id)
                criteria[rule.then.diagnosis] |= rule.then.criteria
                if rule.then.subtype:
                    concluded[rule.then.diagnosis].add(rule.then.subtype)
        matched = [r for r in self.pack.rules if r.kind == "alert" and self.holds(r.when, snap, facts)]
        # emergencies first, then pack order (the contract of Ranking.alerts)
        alerts = [r.id for r in sorted(matched, key=lambda r: r.then.urgency != "emergency")]
        fired.update(alerts)
        subtypes = {
            d.id: next((s.id for s in d.subtypes if s.id in concluded[d.id]), None)
            for d in self.pack.diagnoses
        }

        evidence = [r for r in self.pack.rules if isinstance(r, EvidenceRule)]
        applying = []
        for rule in evidence:
            if self.holds(rule.when, snap, facts):
                fired.add(rule.id)
            state = findings.get(rule.when.finding)
            if state is not None and rule.when.is_ in ("known", state):
                applying.append((rule, state))
        replaced = {other for rule, state in applying if state == "present" for other in rule.then.replaces}
        logs = {}
        for d in self.pack.diagnoses:
            # Age-banded priors: the first band whose max_age (whole years) the patient has not passed.
            bands = [b.value for b in d.prior.by_age if snap.age < b.max_age + 1]
            prior = 1.0 if uniform_priors else (bands[0] if bands else d.prior.value)
            total = math.log(prior)
            for rule, state in applying:
                if rule.when.finding in replaced:
                    continue
                freq = rule.then.evidence.get(d.id, rule.then.otherwise)
                p = freq if isinstance(freq, float) else freq.p
                total += math.log(p if state == "present" else 1 - p)
            logs[d.id] = total
        top = max(logs.values())
        norm = sum(math.exp(v - top) for v in logs.values())
        probabilities = {k: math.exp(v - top) / norm for k, v in logs.items()}
        in_play = any(findings.get(c) == "present" for d in self.pack.diagnoses for c in d.cardinal)
        leader = min(probabilities, key=lambda k: (-probabilities[k], k))
        supported = in_play and not any(d.id == leader and d.kind == "outside" for d in self.pack.diagnoses)
        return Result(fired, findings, probabilities, subtypes, criteria, supported, alerts)
