"""The one evidence model: P(finding | hypothesis), the priors and the naive-Bayes posterior.

Ranking (the shown differential), next-best-test (what a result would do) and why-not all read their
numbers here, so the arithmetic a learner redoes by hand exists once:

    log score(h) = log prior(h) + Σ log factor(h),  factor = p if present, 1 − p if absent,

over the evidence rules whose finding is known in the state the rule asks for, skipping findings that a
present finding ``replaces``. Built once per pack content (its digest) and shared.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from hemedx.rules.kb import KnowledgeBase
from hemedx.rules.model import EvidenceRule, Pack

Cite = tuple[str, str | None]


@dataclass(frozen=True)
class EvidenceTable:
    """An evidence rule precomputed: p, basis and citations for every hypothesis, in pack order."""

    rule: EvidenceRule
    p: tuple[float, ...]
    basis: tuple[str, ...]  # "published" | "teaching_estimate"
    cites: tuple[tuple[Cite, ...], ...]
    q: tuple[float, ...]  # 1 - p: the factors when the finding is absent
    log_p: tuple[float, ...]  # log p and log (1 - p), so a posterior takes no logarithm
    log_q: tuple[float, ...]

    @property
    def finding(self) -> str:
        """The finding the rule weighs."""
        return self.rule.when.finding


@dataclass(frozen=True)
class Contribution:
    """One evidence rule applied to one known finding: its factor for every hypothesis."""

    table: EvidenceTable
    state: str
    factors: tuple[float, ...]
    replaced_by: str | None  # the present finding whose rule replaces this one (then it is not counted)
    log_factors: tuple[float, ...]  # log of each factor

    @cached_property
    def total(self) -> float:
        """The sum of the factors over every hypothesis (the likelihood ratios' reference)."""
        return sum(self.factors)

    @property
    def counted(self) -> bool:
        """Whether the factor enters the posterior."""
        return self.replaced_by is None


class EvidenceModel:
    """The pack's evidence tables and priors, with the posterior as a pure function of finding states."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.ids: tuple[str, ...] = tuple(d.id for d in pack.diagnoses)
        self.tables: tuple[EvidenceTable, ...] = tuple(
            _table(rule, self.ids) for rule in pack.rules if isinstance(rule, EvidenceRule)
        )
        self.by_rule = {t.rule.id: t for t in self.tables}
        # (table, finding, state asked, findings it replaces when present)
        self._asks = tuple((t, t.finding, t.rule.when.is_, tuple(t.rule.then.replaces)) for t in self.tables)
        # finding -> its asks with their place in pack order: a case looks up only the findings it knows
        self._asks_by_finding: dict[str, list[tuple[int, EvidenceTable, str, tuple[str, ...]]]] = {}
        for place, (t, finding, asks, replaces) in enumerate(self._asks):
            self._asks_by_finding.setdefault(finding, []).append((place, t, asks, replaces))
        # contributions are immutable and depend only on these three, so each is made once
        self._made: dict[tuple[str, str, str | None], Contribution] = {}
        by_finding: dict[str, EvidenceTable] = {}
        expected: dict[str, list[str]] = {}
        for t in self.tables:
            by_finding.setdefault(t.finding, t)
            for dx, p in zip(self.ids, t.p, strict=True):
                wanted = expected.setdefault(t.finding, [])
                if p >= pack.info.expected_frequency and dx not in wanted:
                    wanted.append(dx)
        self.by_finding = by_finding  # the first rule on each finding (what a new result would add)
        # finding -> hypotheses that "expect" it (p at least the pack's expected_frequency)
        self.expected = {k: tuple(v) for k, v in expected.items() if v}

    def p(self, rule_id: str, dx: str) -> float:
        """P(finding | dx) of one evidence rule."""
        return self.by_rule[rule_id].p[self.ids.index(dx)]

    def priors(self, age: float | None = None, uniform: bool = False) -> tuple[float, ...]:
        """Priors normalised over the hypotheses (age-banded where the pack says so)."""
        raw = [1.0 if uniform else d.prior.at_age(age) for d in self.pack.diagnoses]
        total = sum(raw)
        return tuple(v / total for v in raw)

    def contributions(self, states: Mapping[str, str]) -> list[Contribution]:
        """The evidence lines that apply to these finding states, in pack order."""
        by_finding = self._asks_by_finding
        placed = [
            (place, t, finding, s, replaces)
            for finding, s in states.items()
            for place, t, asks, replaces in by_finding.get(finding, ())
            if asks == "known" or asks == s
        ]
        placed.sort(key=_first)
        applied = [item[1:] for item in placed]
        replaced_by: dict[str, str] = {}
        for _, finding, state, replaces in applied:
            if state == "present":
                for other in replaces:
                    replaced_by.setdefault(other, finding)
        out = []
        made = self._made
        for t, finding, state, _ in applied:
            by = replaced_by.get(finding)
            key = (t.rule.id, state, by)
            c = made.get(key)
            if c is None:
                present = state == "present"
                c = made[key] = Contribution(
                    t, state, t.p if present else t.q, by, t.log_p if present else t.log_q
                )
            out.append(c)
        return out

    def log_scores(self, priors: tuple[float, ...], contributions: list[Contribution]) -> list[float]:
        """Log prior + the log factors of every counted contribution, per hypothesis."""
        scores = [math.log(p) for p in priors]
        for c in contributions:
            if c.counted:
                scores = list(map(operator.add, scores, c.log_factors))
        return scores

    def posterior(
        self, states: Mapping[str, str], age: float | None = None, uniform: bool = False
    ) -> list[float]:
        """Probabilities over :attr:`ids` given final finding states."""
        return normalise(self.log_scores(self.priors(age, uniform), self.contributions(states)))


_first = operator.itemgetter(0)


def normalise(log_scores: list[float]) -> list[float]:
    """Probabilities from log scores (shifted by the maximum so nothing underflows to 0/0)."""
    top = max(log_scores)
    weights = [math.exp(s - top) for s in log_scores]
    norm = sum(weights)
    return [w / norm for w in weights]


def _table(rule: EvidenceRule, ids: tuple[str, ...]) -> EvidenceTable:
    ps, bases, cites = [], [], []
    for dx in ids:
        p, basis, backing = KnowledgeBase.frequency(rule, dx)
        ps.append(p)
        bases.append(basis)
        cites.append(tuple((c.source, c.locator) for c in backing))
    qs = tuple(1 - p for p in ps)
    return EvidenceTable(
        rule,
        tuple(ps),
        tuple(bases),
        tuple(cites),
        qs,
        tuple(math.log(p) for p in ps),
        tuple(math.log(q) for q in qs),
    )


def evidence_model(pack: Pack) -> EvidenceModel:
    """The process-wide evidence model of ``pack`` (kept under its content digest)."""
    return pack.kb.derived("evidence", lambda: EvidenceModel(pack))
