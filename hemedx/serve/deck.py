"""A deck of cases turned into what a class session shows: per stage the findings and the engine's view.

Computed once per case from the pack (``rank_case`` at every stage), so it is recomputable after a
restart and identical to ``hemedx rank --json``. No I/O and no web code here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hemedx.cases.model import Case
from hemedx.engine.report import rank_case
from hemedx.engine.shown import percent
from hemedx.engine.walkthrough import answer as answer_key
from hemedx.engine.walkthrough import revealed
from hemedx.engine.whatif import Change, apply
from hemedx.present.alerts import alert_line
from hemedx.present.units import as_written, units_as_written
from hemedx.rules.model import Pack

OUTSIDE = "outside"
OUTSIDE_LABEL = "Something outside this differential"

# Steps within one case: 0 = the presentation, then three per stage (findings open for answers, class
# answers revealed, engine revealed), then the answer key. Self-study skips the class step.
OPEN, CLASS, ENGINE = 0, 1, 2


@dataclass(frozen=True)
class Position:
    """Where a session is inside one case: the stage (-1 before the first) and the phase."""

    stage: int
    phase: str  # intro | open | class | engine | answer


def position(step: int, stages: int) -> Position:
    """The stage and phase of a step number."""
    if step <= 0:
        return Position(-1, "intro")
    if step > 3 * stages:
        return Position(stages - 1, "answer")
    stage, kind = divmod(step - 1, 3)
    return Position(stage, ("open", "class", "engine")[kind])


def last_step(stages: int) -> int:
    """The answer step of a case with this many stages."""
    return 3 * stages + 1


def pct(p: float) -> str:
    """A probability as a learner reads it (never a bare 0.0 % for something possible)."""
    return percent(p)


@dataclass(frozen=True)
class StageMaterial:
    """One stage: what it reveals, and the engine's full report up to it."""

    name: str
    note: str | None
    revealed: list[str]
    report: dict[str, Any]

    @property
    def order(self) -> list[str]:
        """The engine's ranking as diagnosis ids (scoring compares picks with it)."""
        return [d["diagnosis"] for d in self.report["differential"]]


@dataclass(frozen=True)
class CaseMaterial:
    """A case ready for class: its stages, the answer key and the pack's diagnoses for type-ahead."""

    case: Case
    stages: list[StageMaterial]
    answer: dict[str, Any]
    references: list[dict[str, Any]]
    labels: dict[str, str] = field(default_factory=dict)  # diagnosis id -> label, as the class reads it
    subtype_labels: dict[tuple[str, str], str] = field(default_factory=dict)  # (diagnosis, subtype) -> label


def build_case(case: Case, pack: Pack, uniform_priors: bool = False) -> CaseMaterial:
    """Rank the case at every stage (with the next best test) and attach the cited answer key."""
    stages = []
    for index, stage in enumerate(case.stages):
        report = rank_case(case, pack, upto=index, uniform_priors=uniform_priors, next_test=True)
        shown = [as_written(r["display"]) for r in revealed(stage, pack)]
        stages.append(StageMaterial(stage.name, stage.note, shown, report))
    last = dict(stages[-1].report)
    key = units_as_written(answer_key(case, pack, last))
    labels = {d.id: OUTSIDE_LABEL if d.id == OUTSIDE else d.label for d in pack.diagnoses}
    subtypes = {(d.id, t.id): t.label for d in pack.diagnoses for t in d.subtypes}
    return CaseMaterial(case, stages, key, last["references"], labels, subtypes)


def diagnosis_label(entry: dict[str, Any]) -> str:
    """A differential entry's label; the catch-all entry is never presented as a diagnosis."""
    return OUTSIDE_LABEL if entry["diagnosis"] == OUTSIDE else entry["label"]


def engine_view(material: StageMaterial) -> dict[str, Any]:
    """The engine's side for the projector: alerts, differential, next test, cited explanation (×10⁹/L)."""
    report = material.report
    alerts = [
        {"text": alert_line(a), "cites": a.get("cites", []) if isinstance(a, dict) else []}
        for a in report.get("alerts") or []
    ]
    differential = [
        {
            "diagnosis": d["diagnosis"],
            "label": diagnosis_label(d),
            "subtype_label": d.get("subtype_label"),
            "probability": d["probability"],
            "shown": pct(d["probability"]),
            "criteria_met": bool(d.get("criteria_met")),
        }
        for d in report["differential"]
    ]
    explanation = []
    for d in report["differential"][:3]:
        lines = [{"text": f"Criteria met: {c['title']}", "cites": c["cites"]} for c in d.get("criteria", [])]
        evidence = sorted(
            (e for e in d.get("evidence", []) if e["direction"] != "neutral"),
            key=lambda e: -abs(e["log10_lr"]),
        )
        for e in evidence[:6]:
            sign = "+" if e["direction"] == "for" else "−"
            estimate = ", teaching estimate" if e["basis"] == "teaching_estimate" else ""
            lines.append(
                {"text": f"{sign} {e['label']} {e['state']}: ×{e['factor']:.3g} (LR {e['lr']:.2g}{estimate})",
                 "cites": e["cites"]}
            )  # fmt: skip
        explanation.append({"label": diagnosis_label(d), "shown": pct(d["probability"]), "lines": lines})
    nt = report.get("next_test") or {}
    return units_as_written(
        {
            "alerts": alerts,
            "summary": report["summary"],
            "differential": differential,
            "next_test": {"label": nt.get("label"), "why": nt.get("why", ""), "cites": nt.get("cites", [])},
            "explanation": explanation,
            "references": [{"n": r["n"], "citation": r["citation"]} for r in report["references"]],
        }
    )


FINDING_STATES = ("present", "absent", "unknown")


def what_if(
    material: CaseMaterial, pack: Pack, stage: int, finding: str, state: str, uniform_priors: bool = False
) -> dict[str, Any]:
    """Re-rank a stage with one clinical finding set (or made unknown): the top five, before and after."""
    case = material.case
    change = Change("finding", finding, None if state == "unknown" else state, state, None)
    after = rank_case(
        case, pack, upto=stage, uniform_priors=uniform_priors, snapshot=apply(case.snapshot(stage), [change])
    )
    before = {d["diagnosis"]: d["probability"] for d in material.stages[stage].report["differential"]}
    rows = [
        {
            "diagnosis": d["diagnosis"],
            "label": diagnosis_label(d),
            "before": pct(before.get(d["diagnosis"], 0.0)),
            "after": pct(d["probability"]),
            "delta_pp": round((d["probability"] - before.get(d["diagnosis"], 0.0)) * 100, 1),
        }
        for d in after["differential"][:5]
    ]
    return {"stage": stage, "finding": finding, "state": state, "summary": after["summary"], "top": rows}
