"""Build the explained result of one evaluation as plain data: the ``rank --json`` contract.

Everything a renderer shows comes from this structure, so the text, JSON and HTML views cannot disagree.
Sources are numbered in order of first use; every line that states something carries its numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from hemedx import __version__
from hemedx.cases.model import Case, Snapshot
from hemedx.engine.compiler import Pattern, Variant
from hemedx.engine.engine import Engine, get_engine
from hemedx.engine.evidence import Contribution
from hemedx.engine.lab_notes import lab_entries, lab_shown
from hemedx.engine.next_test import Investigation, awaited, suggest
from hemedx.engine.next_test import entry as next_test_entry
from hemedx.engine.ranking import EvidenceLine, Ranking, evidence_line
from hemedx.engine.shown import LR_DIGITS, percent
from hemedx.engine.shown import rounded as _r
from hemedx.engine.undetermined import undetermined
from hemedx.engine.whynot import why_not as explain_why_not
from hemedx.rules.model import Pack
from hemedx.rules.units import with_unit

DISCLAIMER = "hemedx is a teaching aid for synthetic cases only. It is not for clinical use."
RECORD_DISCLAIMER = (
    "This case came from a real patient record (de-identified) and is shown for teaching only."
    " hemedx is a teaching aid; it is not for clinical use."
)


def pack_stamp(pack: Pack) -> dict[str, str]:
    """Which pack an output came from: id, version and content hash (the same pack always gives the same)."""
    return {"id": pack.info.id, "version": pack.info.version, "digest": pack.digest}


def pack_line(stamp: dict[str, str]) -> str:
    """The one-line form of :func:`pack_stamp` shown under every text and HTML header."""
    return f"Rule pack {stamp['id']} {stamp['version']} (content {stamp['digest']})"


def disclaimer_for(case: Case) -> str:
    """The notice every view of ``case`` shows: synthetic, or from a record (with its provenance)."""
    if case.synthetic:
        return DISCLAIMER
    return f"{RECORD_DISCLAIMER} Provenance: {case.provenance}" if case.provenance else RECORD_DISCLAIMER


_OP_TEXT = {"lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}
Cites = tuple[tuple[str, str | None], ...]  # distinct (source, locator) pairs


class Citations:
    """Numbers sources in order of first use and remembers them for the reference list."""

    def __init__(self, pack: Pack) -> None:
        self._sources = pack.kb.sources
        self._numbers: dict[str, int] = {}
        self._lists: dict[Cites, list[dict[str, Any]]] = {}

    def cite(self, cites: Iterable[tuple[str, str | None]]) -> list[dict[str, Any]]:
        """Number each (source, locator) pair; duplicates within one line are dropped."""
        numbers = self._numbers
        return [
            {"n": numbers.setdefault(source, len(numbers) + 1), "source": source, "locator": locator}
            for source, locator in dict.fromkeys(cites)
        ]

    def cite_shared(self, cites: Cites) -> list[dict[str, Any]]:
        """:meth:`cite` of distinct pairs, one list for every line of this report that cites the same.

        A report's lines already share marks (``outside_differential`` repeats evidence cites), so its
        consumers treat it as read-only or, like the walkthrough's renumbering, rewrite each mark once.
        """
        found = self._lists.get(cites)
        if found is None:
            found = self._lists[cites] = self.cite(cites)
        return found

    @classmethod
    def continuing(cls, pack: Pack, references: list[dict[str, Any]]) -> Citations:
        """Numbering that continues a report's reference list (to cite extra lines beside a report)."""
        out = cls(pack)
        out._numbers = {ref["id"]: ref["n"] for ref in references}
        return out

    def references(self) -> list[dict[str, Any]]:
        """The reference list, in number order."""
        return [
            {"n": n, "id": sid, "citation": self._sources[sid].citation, "kind": self._sources[sid].kind}
            for sid, n in sorted(self._numbers.items(), key=lambda item: item[1])
        ]


class _Repeated:
    """What every report of one pack repeats, made once per pack and process (entries on first use).

    An evidence entry depends only on its rule, the finding's state, the hypothesis and what replaces it,
    so each is built once from its :class:`EvidenceLine` and copied; only its citation numbers (which
    follow first use in each report) are made per report.
    """

    def __init__(self, engine: Engine) -> None:
        self.labels = engine.pack.kb.labels
        self.rules = engine.pack.kb.rules
        self.variants = {v.name: v for v in engine.compiled.variants}
        self._rule_cites: dict[str, tuple[tuple[str, str | None], ...]] = {}
        self._evidence: dict[tuple[str, str, str | None], list[tuple[dict[str, Any], Cites]]] = {}

    def rule_cites(self, rule_id: str) -> tuple[tuple[str, str | None], ...]:
        """A rule's distinct (source, locator) pairs, in the order it cites them."""
        found = self._rule_cites.get(rule_id)
        if found is None:
            rule = self.rules[rule_id]
            pairs = dict.fromkeys((c.source, c.locator) for c in rule.cites)
            found = self._rule_cites[rule_id] = tuple(pairs)
        return found

    def evidence(self, c: Contribution) -> list[tuple[dict[str, Any], Cites]]:
        """Per hypothesis in pack order: the entry of contribution ``c`` without its cites, and those."""
        key = (c.table.rule.id, c.state, c.replaced_by)
        found = self._evidence.get(key)
        if found is None:
            found = []
            for k in range(len(c.factors)):
                line = evidence_line(c, k)
                found.append((_evidence(line, self.labels), tuple(dict.fromkeys(line.cites))))
            self._evidence[key] = found
        return found


def _repeated(engine: Engine) -> _Repeated:
    return engine.pack.kb.derived("report", lambda: _Repeated(engine))


def rank_case(
    case: Case,
    pack: Pack,
    upto: int | None = None,
    uniform_priors: bool = False,
    snapshot: Snapshot | None = None,
    next_test: bool = False,
    why_not: str | None = None,
) -> dict[str, Any]:
    """Evaluate a case (all stages, or those up to ``upto``) and return the explained result.

    ``next_test`` adds the most informative investigation still unknown; ``why_not`` (a diagnosis id)
    adds what speaks against that diagnosis and what would settle it. Both are opt-in extra keys, so the
    plain ``rank --json`` contract is unchanged.
    """
    snap = snapshot if snapshot is not None else case.snapshot(upto)
    return ranked_report(case, pack, snap, upto, uniform_priors, next_test=next_test, why_not=why_not)[1]


def ranked_report(
    case: Case, pack: Pack, snap: Snapshot, upto: int | None, uniform_priors: bool, **extra: Any
) -> tuple[Ranking, dict[str, Any]]:
    """:func:`rank_case` of ``snap`` with the typed :class:`Ranking` it shows, for code that decides on it.

    ``extra`` are :func:`build_report`'s options (``next_test``, ``why_not``).
    """
    engine = get_engine(pack)
    ranking = engine.rank(snap, uniform_priors=uniform_priors)
    return ranking, build_report(engine, case, snap, ranking, upto, **extra)


def build_report(
    engine: Engine,
    case: Case,
    snap: Snapshot,
    ranking: Ranking,
    upto: int | None = None,
    *,
    next_test: bool = False,
    why_not: str | None = None,
) -> dict[str, Any]:
    """Assemble the JSON-ready result. Key order is fixed, so serialising it is deterministic."""
    pack = engine.pack
    cites = Citations(pack)
    repeated = _repeated(engine)
    labels = pack.kb.labels
    dx_by_id = pack.kb.diagnoses
    rules = pack.kb.rules
    cite_rule = repeated.rule_cites
    alerts = _alerts(ranking, snap, pack, labels, cites, cite_rule)  # cited first: alerts are shown first

    differential = []
    rows_of: dict[int, list[list[tuple[dict[str, Any], Cites]]]] = {}
    for ranked in ranking.differential:
        dx = dx_by_id[ranked.id]
        subtype_label = pack.kb.subtype_label(ranked.id, ranked.subtype)
        criteria = [
            {"rule": rid, "title": rules[rid].title, "cites": cites.cite_shared(cite_rule(rid))}
            for rid in ranked.criteria_rules
        ]
        subtype_rule = None
        if ranked.subtype_rule:
            rule = rules[ranked.subtype_rule]
            subtype_rule = {
                "rule": rule.id,
                "title": rule.title,
                "cites": cites.cite_shared(cite_rule(rule.id)),
            }
        rows = rows_of.get(id(ranked.contributions))  # every hypothesis shares one tuple of them
        if rows is None:
            rows = rows_of[id(ranked.contributions)] = [repeated.evidence(c) for c in ranked.contributions]
        k = ranked.index
        evidence = [{**row[k][0], "cites": cites.cite_shared(row[k][1])} for row in rows]
        differential.append(
            {
                "diagnosis": ranked.id,
                "label": ranked.label,
                "hypothesis": dx.kind,
                "probability": _r(ranked.probability),
                "subtype": ranked.subtype,
                "subtype_label": subtype_label,
                "criteria_met": ranked.criteria_met,
                "evidence": evidence,
                "prior": _r(ranked.prior),
                "prior_basis": "uniform" if ranking.uniform_priors else dx.prior.basis,
                "prior_cites": []
                if ranking.uniform_priors
                else cites.cite((c.source, c.locator) for c in dx.prior.cites),
                "log_score": _r(ranked.log_score),
                "in_play": ranked.in_play,
                "cardinal_present": list(ranked.cardinal_present),
                "criteria": criteria,
                "subtype_rule": subtype_rule,
                "expected_unknown": [
                    {"finding": f, "label": labels.get(f, f)} for f in ranked.expected_unknown
                ],
            }
        )

    findings = _findings(repeated, engine, snap, ranking, labels, cites)
    extra: dict[str, Any] = {}
    if next_test:
        dx_labels = pack.kb.diagnosis_labels
        suggestions = suggest(pack, engine.compiled, snap, ranking)
        extra["next_test"] = next_test_entry(suggestions, labels, dx_labels, cites.cite)
    if why_not is not None:
        extra["why_not"] = explain_why_not(engine, snap, ranking, why_not, labels, cites.cite)
    for note in undetermined(pack, engine.compiled, snap, set(ranking.fired_rules)):
        note["cites"] = cites.cite_shared(cite_rule(note["rule"]))
        extra.setdefault("undetermined", []).append(note)
    if not case.synthetic:
        extra["provenance"] = case.provenance
    if snap.censored or snap.derived or snap.lab_conflicts:
        extra["labs"] = lab_entries(pack, snap)
        extra["lab_conflicts"] = list(snap.lab_conflicts)
    stage = None
    if upto is not None:
        stage = {"index": upto, "name": case.stages[upto].name, "of": len(case.stages)}
    outside = _outside(ranking, differential, alerts)
    return {
        "case": case.id,
        "supported": ranking.supported,
        "differential": differential,
        "fired_rules": list(ranking.fired_rules),
        "references": cites.references(),
        "alerts": alerts,
        "outside_differential": outside,
        "title": case.title,
        "stage": stage,
        "summary": _summary(ranking, dx_by_id, None if ranking.supported else awaited(pack, snap, ranking)),
        "findings": findings,
        "conflicts": list(ranking.conflicts),
        "priors": "uniform" if ranking.uniform_priors else "pack",
        "pack": pack_stamp(pack),
        "hemedx_version": __version__,
        "disclaimer": disclaimer_for(case),
        **extra,
    }


def _summary(ranking: Ranking, diagnoses: dict[str, Any], waiting: Investigation | None = None) -> str:
    """The verdict, read before any table: it never names the outside hypothesis as a diagnosis.

    ``waiting`` is the investigation the differential waits for when no cardinal finding is known yet:
    "nothing fits" would then read as "not a blood disease" before the count has even been taken.
    """
    top = ranking.differential[0]
    if ranking.outside_id is not None and top.id == ranking.outside_id:
        return (
            f"The findings point outside this differential ({top.label.lower()}: "
            f"{percent(top.probability)}). No listed diagnosis explains them well; "
            "look at the alerts and the findings that point elsewhere."
        )
    if not ranking.supported and waiting is not None:
        what = waiting.label
        if what[1:2].islower():  # "Full blood count" -> "full blood count"; keep "PNH flow cytometry"
            what = what[0].lower() + what[1:]
        return (
            "Too early to judge: none of this differential's cardinal findings is known yet, so it "
            f"waits for the {what}. The probabilities below rest "
            "on the history and examination alone and only compare the hypotheses with each other."
        )
    if not ranking.supported:
        return (
            "Nothing in this differential fits the findings so far: "
            "none of its cardinal findings is present. "
            "The probabilities below only compare the hypotheses with each other."
        )
    label = next((s.label for s in diagnoses[top.id].subtypes if s.id == top.subtype), None)
    if label and not label[:2].isupper():  # "Severe" -> "severe", but "APL ..." stays
        label = label[0].lower() + label[1:]
    sub = f" ({label})" if label else ""
    return f"Most probable: {top.label}{sub}, {percent(top.probability)}."


def _alerts(
    ranking: Ranking,
    snap: Snapshot,
    pack: Pack,
    labels: dict[str, str],
    cites: Citations,
    cite_rule: Callable[[str], Cites],
) -> list[dict[str, Any]]:
    """Fired alerts as the ``rank --json`` contract has them, emergencies first."""
    rules = pack.kb.rules
    out = []
    for alert in ranking.alerts:
        rule = rules[alert.rule]
        out.append(
            {
                "rule": alert.rule,
                "label": alert.label,
                "urgency": alert.urgency,
                "because": [
                    _fact_text(kind, name, snap, ranking, pack, labels) for kind, name in alert.because
                ],
                "next_test": alert.next_test,
                "outside": alert.outside,
                "title": rule.title,
                "explanation": rule.explanation.strip(),
                "cites": cites.cite_shared(cite_rule(rule.id)),
            }
        )
    return out


def _fact_text(
    kind: str, name: str, snap: Snapshot, ranking: Ranking, pack: Pack, labels: dict[str, str]
) -> str:
    """'Thrombocytopenia present', 'White cell count 240 10^9/L', 'Direct antiglobulin test: negative'."""
    label = labels.get(name, name)
    if kind == "finding":
        return f"{label} {ranking.findings.get(name, ('unknown',))[0]}"
    if kind == "test":
        return f"{label}: {_test_value(pack, name, snap.tests.get(name))}"
    lab = pack.kb.labs[name]
    value = snap.labs.get(name)
    return f"{label} {with_unit(f'{value:.{lab.decimals}f}', lab.unit)}" if value is not None else label


def _outside(
    ranking: Ranking, differential: list[dict[str, Any]], alerts: list[dict[str, Any]]
) -> dict[str, Any]:
    """How much points outside the differential, which findings do, and the alerts that name what."""
    entry = next((d for d in differential if d["diagnosis"] == ranking.outside_id), None)
    reasons = []
    if entry is not None:
        reasons = [
            {k: e[k] for k in ("finding", "label", "state", "rule", "lr", "cites")}
            for e in sorted(entry["evidence"], key=lambda e: -e["log10_lr"])
            if e["direction"] == "for"
        ]
    return {
        "probability": entry["probability"] if entry is not None else None,
        "leads": entry is not None and differential[0] is entry,
        "reasons": reasons,
        "alerts": [a["rule"] for a in alerts if a["outside"]],
    }


def _evidence(line: EvidenceLine, labels: dict[str, str]) -> dict[str, Any]:
    """The ``rank --json`` entry of one evidence line; ``cites`` (numbered per report) is filled in later."""
    return {
        "finding": line.finding,
        "label": labels.get(line.finding, line.finding),
        "state": line.state,
        "rule": line.rule,
        "p": _r(line.p),
        "factor": _r(line.factor),
        "lr": _r(line.lr, LR_DIGITS),
        "log10_lr": _r(math.log10(line.lr), LR_DIGITS),
        "direction": line.direction,
        "basis": line.basis,
        "counted": line.counted,
        "replaced_by": line.replaced_by,
        "cites": None,
    }


def _findings(
    repeated: _Repeated,
    engine: Engine,
    snap: Snapshot,
    ranking: Ranking,
    labels: dict[str, str],
    cites: Citations,
) -> list[dict[str, Any]]:
    """Every known finding with its origin; derived ones say which rule derived them from what."""
    pack = engine.pack
    rules = pack.kb.rules
    variants = repeated.variants
    first_new: dict[str, Any] = {}
    for firing in ranking.firings:
        if firing.derived and firing.derived.startswith("f:") and firing.outcome == "new":
            first_new.setdefault(firing.derived, firing)
    out = []
    for name, (state, origin) in sorted(ranking.findings.items()):
        entry: dict[str, Any] = {
            "finding": name,
            "label": labels.get(name, name),
            "state": state,
            "origin": origin,
        }
        firing = first_new.get(f"f:{name}:{state}")
        if origin == "derived" and firing is not None:
            rule = rules[firing.rule_id]
            entry["rule"] = rule.id
            variant = variants[firing.variant]
            entry["because"] = [_describe(p, snap, pack, labels, variant.estimated) for p in variant.patterns]
            entry["cites"] = cites.cite_shared(_derivation_cites(variant, repeated.rule_cites(rule.id)))
        out.append(entry)
    return out


def _derivation_cites(variant: Variant, rule_cites: Cites) -> Cites:
    """The reference band's sources first (their locator is the precise one), then the rule's others.

    A rule source that gives only another band of the same lab (an adult table for a child) is left out:
    beside this limit it would read as its source.
    """
    if not variant.band_cites and not variant.other_band_sources:
        return rule_cites
    skip = variant.other_band_sources | {source for source, _ in variant.band_cites}
    return (*variant.band_cites, *(pair for pair in rule_cites if pair[0] not in skip))


def _test_value(pack: Pack, test: str, value: str | None) -> str | None:
    """A test result as the learner reads it ('IgG and C3d'), not its id ('igg_c3d')."""
    return pack.kb.tests[test].value_labels.get(value, value) if value is not None else None


def _describe(
    pattern: Pattern,
    snap: Snapshot,
    pack: Pack,
    labels: dict[str, str],
    estimated: frozenset[str] = frozenset(),
) -> str:
    """Say in words which fact satisfied a pattern, with the value and the threshold.

    A threshold from a reference band the pack labels a teaching estimate says so, as every number must.
    """
    if pattern.kind == "patient":
        parts = []
        for prop, op, value in pattern.constraints:
            if prop == "sex":
                parts.append(f"sex {value}")
            elif prop == "pregnancy":
                parts.append(f"pregnancy {snap.pregnancy.replace('_', ' ')}")
            else:
                parts.append(f"age {snap.age:g} {_OP_TEXT[op]} {value:g}")
        return "patient: " + ", ".join(parts)
    label = labels.get(pattern.name, pattern.name)
    if pattern.kind == "finding":
        state = snap.findings.get(pattern.name)
        return (
            f"{label}: {state or 'derived'}"
            if not pattern.constraints
            else f"{label} {pattern.constraints[0][2]}"
        )
    if pattern.kind == "test":
        return f"{label}: {_test_value(pack, pattern.name, snap.tests.get(pattern.name))}"
    lab = pack.kb.labs[pattern.name]
    value = snap.lab(pattern.name)
    limits = " and ".join(f"{_OP_TEXT[op]} {v:g}" for _, op, v in pattern.constraints)
    shown = lab_shown(value, lab.decimals)
    derived = " (derived)" if pattern.name in snap.derived else ""
    estimate = ", teaching estimate" if pattern.name in estimated else ""
    return f"{label} {with_unit(shown, lab.unit)}{derived} ({limits}{estimate})"
