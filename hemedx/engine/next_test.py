"""Next-best test: which unknown investigation would most reduce the uncertainty of the differential.

For each orderable investigation (``investigations.yaml`` beside this module) whose result is still
unknown, every joint outcome of the findings it settles is enumerated. The chance of an outcome under a
diagnosis is the product of the evidence rules' P(finding | diagnosis) (the ranking's own naive-Bayes
assumption); the posterior after that outcome is computed exactly as :mod:`hemedx.engine.ranking` would
compute it (same priors, same ``is: present``/``known`` lines, same ``replaces``), after the pack's
finding-only syndrome rules have derived what follows (pancytopenia from the three cytopenias, haemolysis
from its markers). The score is the expected entropy reduction in bits:

    gain = H(now) − Σ_outcome P(outcome) × H(posterior after outcome)

With ``target`` set, the entropy is that of the yes/no question "is it ``target``?" (for "why not X").
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from hemedx.cases.model import Snapshot
from hemedx.engine.compiler import CompiledPack, matches
from hemedx.engine.evidence import evidence_model
from hemedx.engine.facts import patient_fact
from hemedx.engine.ranking import Ranking
from hemedx.rules.model import EvidenceRule, Frequency, Pack, SyndromeRule

MAX_OUTCOME_FINDINGS = 10  # 2**10 joint outcomes at most per investigation
_ASK = {"history": "Ask about", "examination": "Examine for"}


@dataclass(frozen=True)
class Investigation:
    """Something a clinician orders (or asks, or examines for), and the findings its result settles."""

    id: str
    label: str
    kind: str  # investigation | question | examination | observation
    orders: tuple[str, ...]  # labs, tests, observed findings: if any is known, it has been done
    reveals: tuple[str, ...]
    exclusive: tuple[tuple[str, str], ...] = ()
    implies: tuple[tuple[str, str], ...] = ()
    after: tuple[str, ...] = ()  # investigations that must be done first (work-up order)


@dataclass(frozen=True)
class Contrast:
    """The single finding that best separates two diagnoses: the 'why' of a suggestion."""

    finding: str
    rule: str
    a: str
    b: str
    p_a: float
    p_b: float
    cites: tuple[tuple[str, str | None], ...]
    # which of p_a, p_b are teaching estimates (bare numbers in the pack), so the line can say so
    estimated: tuple[bool, bool] = (False, False)


@dataclass(frozen=True)
class Suggestion:
    """One candidate investigation with its expected information gain."""

    investigation: Investigation
    gain: float  # bits
    unknown: tuple[str, ...]  # the findings it would settle now
    contrast: Contrast | None


class Outcomes:
    """What a result would do: the pack's one evidence model plus closure under finding-only syndromes."""

    def __init__(self, pack: Pack, compiled: CompiledPack, uniform_priors: bool = False) -> None:
        self.evidence = evidence_model(pack)
        self.dx = list(self.evidence.ids)
        self.uniform_priors = uniform_priors
        self.by_finding = {f: t.rule for f, t in self.evidence.by_finding.items()}
        self.p = {t.rule.id: list(t.p) for t in self.evidence.tables}
        syndromes = {r.id: r for r in pack.rules if isinstance(r, SyndromeRule)}
        self.syndromes = [
            (v, syndromes[v.rule_id].then.finding, syndromes[v.rule_id].then.state)
            for v in compiled.variants
            if v.rule_id in syndromes and all(p.kind in ("finding", "patient") for p in v.patterns)
        ]

    def posterior(self, states: dict[str, str], age: float | None = None) -> list[float]:
        """Probabilities over ``self.dx`` given final finding states (the ranking's own arithmetic)."""
        return self.evidence.posterior(states, age, self.uniform_priors)

    def derive(self, states: dict[str, str], fixed: set[str], patient: dict[str, Any]) -> dict[str, str]:
        """Close ``states`` under finding-only syndrome rules; ``fixed`` findings are never changed."""
        out = dict(states)
        changed = True
        while changed:
            changed = False
            facts = [patient] + [{"kind": "finding", "name": n, "state": s} for n, s in out.items()]
            for variant, finding, state in self.syndromes:
                if finding in fixed or out.get(finding) in (state, "present"):
                    continue
                if all(any(matches(p, f) for f in facts) for p in variant.patterns):
                    out[finding] = state
                    changed = True
        return out


def _model(pack: Pack, compiled: CompiledPack, uniform_priors: bool) -> Outcomes:
    """One model per pack content and prior setting (built once per process)."""
    name = f"next_test:{'uniform' if uniform_priors else 'priors'}"
    return pack.kb.derived(name, lambda: Outcomes(pack, compiled, uniform_priors))


def investigations(pack: Pack) -> tuple[Investigation, ...]:
    """The orderable investigations for ``pack``, so a custom pack gets sensible suggestions too.

    The pack's ``investigations.yaml`` (an overlay may add or replace entries by id) plus single history
    and examination findings with an evidence rule that no investigation covers.
    """
    vocab = pack.vocabulary
    evidence = {r.when.finding for r in pack.rules if isinstance(r, EvidenceRule)}
    out: list[Investigation] = []
    covered: set[str] = set()
    for spec in pack.investigations:  # ids checked when the pack loads
        covered.update(spec.reveals)
        if not any(f in evidence for f in spec.reveals):
            continue
        out.append(
            Investigation(
                id=spec.id,
                label=spec.label,
                kind="investigation",
                orders=spec.orders.ids(),
                reveals=tuple(spec.reveals),
                exclusive=tuple(spec.exclusive),
                implies=tuple(spec.implies),
                after=tuple(spec.after),
            )
        )
    for f in vocab.findings:
        if f.id in covered or f.id not in evidence or not f.observable or f.category == "derived":
            continue
        verb = _ASK.get(f.category, "Look for")
        kind = {"history": "question", "examination": "examination"}.get(f.category, "observation")
        out.append(Investigation(f.id, f"{verb}: {f.label.lower()}", kind, (f.id,), (f.id,)))
    return tuple(out)


def awaited(pack: Pack, snapshot: Snapshot, ranking: Ranking) -> Investigation | None:
    """The first investigation, in work-up order, that would settle a cardinal finding, when none is known.

    When no cardinal finding of any diagnosis has a state yet (history and examination only), the honest
    verdict is "this waits for the blood count", not "nothing fits"; ``None`` when something is known.
    """
    cardinal = {c for d in pack.diagnoses for c in d.cardinal}
    if any(c in ranking.findings for c in cardinal):
        return None
    return next((inv for inv in orderable(pack, snapshot) if cardinal.intersection(inv.reveals)), None)


def orderable(pack: Pack, snapshot: Snapshot) -> Iterator[Investigation]:
    """Investigations in work-up order that are not done yet and whose prerequisites (``after``) are."""
    done = set(snapshot.labs) | set(snapshot.censored) | set(snapshot.tests) | set(snapshot.findings)
    table = investigations(pack)
    performed = {inv.id for inv in table if any(x in done for x in inv.orders)}
    present = {inv.id for inv in table}
    for inv in table:
        if inv.id in performed or any(first in present and first not in performed for first in inv.after):
            continue
        yield inv


def entropy(probs: list[float]) -> float:
    """Shannon entropy in bits."""
    return -sum(p * math.log2(p) for p in probs if p > 0)


def _uncertainty(probs: list[float], target: int | None) -> float:
    if target is None:
        return entropy(probs)
    return entropy([probs[target], 1 - probs[target]])


def suggest(
    pack: Pack,
    compiled: CompiledPack,
    snapshot: Snapshot,
    ranking: Ranking,
    target: str | None = None,
    limit: int = 4,
) -> list[Suggestion]:
    """Rank the investigations not yet done by expected information gain (best first, ties by id)."""
    model = _model(pack, compiled, ranking.uniform_priors)
    states = {name: state for name, (state, _) in ranking.findings.items()}
    patient = patient_fact(snapshot)
    now = [next(d.probability for d in ranking.differential if d.id == dx) for dx in model.dx]
    t_index = model.dx.index(target) if target is not None else None
    h_now = _uncertainty(now, t_index)
    out: list[Suggestion] = []
    for inv in orderable(pack, snapshot):
        unknown = tuple(f for f in inv.reveals if f not in states and f in model.by_finding)
        if not unknown:
            continue
        unknown = unknown[:MAX_OUTCOME_FINDINGS]
        expected = 0.0
        for outcome, p_given_dx in _outcomes(model, inv, unknown):
            p_outcome = sum(w * p for w, p in zip(now, p_given_dx, strict=True))
            if p_outcome <= 0:
                continue
            after = model.derive({**states, **outcome}, set(states) | set(outcome), patient)
            expected += p_outcome * _uncertainty(model.posterior(after, snapshot.age), t_index)
        gain = max(0.0, h_now - expected)
        out.append(Suggestion(inv, gain, unknown, _contrast(model, unknown, now, t_index)))
    out.sort(key=lambda s: (-round(s.gain, 9), s.investigation.id))
    return out[:limit]


def _outcomes(
    model: Outcomes, inv: Investigation, unknown: tuple[str, ...]
) -> list[tuple[dict[str, str], list[float]]]:
    """Every coherent joint outcome with P(outcome | dx), renormalised over the coherent ones."""
    n_dx = len(model.dx)
    rows: list[tuple[dict[str, str], list[float]]] = []
    for states in itertools.product(("present", "absent"), repeat=len(unknown)):
        outcome = dict(zip(unknown, states, strict=True))
        if any(outcome.get(a) == "present" and outcome.get(b) == "present" for a, b in inv.exclusive):
            continue
        if any(outcome.get(a) == "present" and outcome.get(b) == "absent" for a, b in inv.implies):
            continue
        probs = [1.0] * n_dx
        for finding, state in outcome.items():
            ps = model.p[model.by_finding[finding].id]
            for i in range(n_dx):
                probs[i] *= ps[i] if state == "present" else 1 - ps[i]
        rows.append((outcome, probs))
    totals = [sum(r[1][i] for r in rows) for i in range(n_dx)]
    return [(o, [p / t if t > 0 else 0.0 for p, t in zip(probs, totals, strict=True)]) for o, probs in rows]


def _contrast(
    model: Outcomes, unknown: tuple[str, ...], now: list[float], target: int | None
) -> Contrast | None:
    """The finding and pair of diagnoses the result would separate best (weighted by how likely both are)."""
    order = sorted(range(len(now)), key=lambda i: (-now[i], model.dx[i]))
    if target is None:
        pairs = list(itertools.combinations(order[:3], 2))
    else:
        pairs = [(target, next(i for i in order if i != target))]
    best: tuple[float, Contrast] | None = None
    for finding in unknown:
        rule = model.by_finding[finding]
        ps = model.p[rule.id]
        for a, b in pairs:
            weight = (now[a] * now[b]) if target is None else 1.0
            score = weight * abs(math.log(ps[a] / ps[b]))
            if score > 1e-9 and (best is None or score > best[0] + 1e-12):
                cites: list[tuple[str, str | None]] = []
                estimated = []
                for i in (a, b):
                    freq = rule.then.evidence.get(model.dx[i])
                    estimated.append(not isinstance(freq, Frequency))
                    if isinstance(freq, Frequency):
                        cites.extend((c.source, c.locator) for c in freq.cites)
                cites.extend((c.source, c.locator) for c in rule.cites)
                contrast = Contrast(
                    finding, rule.id, model.dx[a], model.dx[b], ps[a], ps[b], tuple(cites), (*estimated,)
                )
                best = (score, contrast)
    return best[1] if best else None


MIN_GAIN = 0.01  # bits; below this nothing unknown would move the ranking enough to be worth suggesting

Cite = Callable[[Iterable[tuple[str, str | None]]], list[dict[str, Any]]]


def _pct(p: float) -> str:
    return f"{p * 100:.3g}%"


def why(s: Suggestion, labels: dict[str, str], dx_labels: dict[str, str], target: str | None = None) -> str:
    """One line a learner can check against the evidence table: what the result would separate."""
    gain = f"expected gain {s.gain:.2f} bits"
    c = s.contrast
    if c is None:
        return f"{s.investigation.label}: {gain}."
    a, b = dx_labels[c.a], dx_labels[c.b]
    finding = labels.get(c.finding, c.finding)
    if finding[1:2].islower():  # "Hypocellular marrow" -> "hypocellular marrow"; keep "DAT", "PNH"
        finding = finding[0].lower() + finding[1:]
    lead = f"would settle {a} best" if target else f"would best separate {a} from {b}"
    versus = f"{b} (the strongest alternative)" if target else b
    return (
        f"{s.investigation.label} {lead}: {finding} in {_pct(c.p_a)} of {a} vs {_pct(c.p_b)} of"
        f" {versus} ({_estimates(c.estimated)}{gain})."
    )


def _estimates(estimated: tuple[bool, bool]) -> str:
    """Say which of the two frequencies were set for teaching, so a cite mark is not read as their source."""
    if all(estimated):
        return "both teaching estimates; "
    if estimated[0]:
        return "the first a teaching estimate; "
    if estimated[1]:
        return "the second a teaching estimate; "
    return ""


def entry(
    suggestions: list[Suggestion],
    labels: dict[str, str],
    dx_labels: dict[str, str],
    cite: Cite,
    target: str | None = None,
) -> dict[str, Any]:
    """The ``next_test`` JSON object: the best investigation, why, and the runners-up."""
    useful = [s for s in suggestions if s.gain >= MIN_GAIN]

    def one(s: Suggestion) -> dict[str, Any]:
        c = s.contrast
        return {
            "investigation": s.investigation.id,
            "label": s.investigation.label,
            "kind": s.investigation.kind,
            "expected_gain_bits": round(s.gain, 4),
            "reveals": [{"finding": f, "label": labels.get(f, f)} for f in s.unknown],
            "why": why(s, labels, dx_labels, target),
            "contrast": None
            if c is None
            else {
                "finding": c.finding,
                "label": labels.get(c.finding, c.finding),
                "rule": c.rule,
                "a": {"diagnosis": c.a, "label": dx_labels[c.a], "p": c.p_a},
                "b": {"diagnosis": c.b, "label": dx_labels[c.b], "p": c.p_b},
            },
            "cites": cite(c.cites) if c else [],
        }

    if not useful:
        what = f"whether it is {dx_labels[target]}" if target else "the ranking"
        return {
            "investigation": None,
            "label": None,
            "kind": None,
            "expected_gain_bits": round(suggestions[0].gain, 4) if suggestions else 0.0,
            "reveals": [],
            "why": f"Nothing still unknown would change {what} by {MIN_GAIN} bits or more.",
            "contrast": None,
            "cites": [],
            "alternatives": [],
        }
    best = one(useful[0])
    best["alternatives"] = [one(s) for s in useful[1:]]
    return best
