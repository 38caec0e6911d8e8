r"""The HTML presenter: one self-contained file a teacher can open from a USB stick (no network at all).

The case data is embedded as JSON in a ``<script type="application/json">`` element with ``<``, ``>`` and
``&`` escaped as ``\u003c`` etc., so nothing in a case (a ``<script>`` in a title) can end the element;
the page's script builds every element with ``textContent``, never ``innerHTML``. Citations are
renumbered across stages so one reference list serves the whole presentation.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from hemedx.cases.library import case_code
from hemedx.cases.model import Case
from hemedx.engine.report import disclaimer_for, pack_line
from hemedx.engine.shown import percent
from hemedx.present.alerts import alert_line
from hemedx.present.units import units_as_written

PLACEHOLDER = "__HEMEDX_DATA__"
OUTSIDE = "outside"  # the engine's catch-all entry: never presented as a diagnosis
OUTSIDE_LABEL = "Something outside this differential"


def _label(entry: dict[str, Any]) -> str:
    return OUTSIDE_LABEL if entry["diagnosis"] == OUTSIDE else entry["label"]


class _Refs:
    """Global citation numbers by source id, in order of first use across the presentation."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.citations: dict[str, str] = {}

    def map(self, cites: list[dict[str, Any]], references: list[dict[str, Any]]) -> list[dict[str, Any]]:
        by_n = {r["n"]: r for r in references}
        out = []
        for c in cites:
            ref = by_n[c["n"]]
            n = self.numbers.setdefault(ref["id"], len(self.numbers) + 1)
            self.citations[ref["id"]] = ref["citation"]
            out.append({"n": n, "locator": c.get("locator")})
        return out

    def listing(self) -> list[dict[str, Any]]:
        return [
            {"n": n, "citation": self.citations[sid]}
            for sid, n in sorted(self.numbers.items(), key=lambda item: item[1])
        ]


def _pct(p: float) -> str:
    return percent(p)


def presentation_data(case: Case, stages: list[dict[str, Any]]) -> dict[str, Any]:
    """The plain data the page shows: stages, bars, next tests, explanation, answer, references.

    Units read as written (``×10⁹/L``): every string passes through :func:`units_as_written`.
    """
    refs = _Refs()
    out_stages = []
    for stage in stages:
        refs_list = stage["references"]
        nt = stage["next_test"]
        out_stages.append(
            {
                "name": stage["stage"],
                "note": stage["note"],
                "revealed": [r["display"] for r in stage["revealed"]],
                "alerts": [
                    {"text": alert_line(a), "cites": refs.map(a.get("cites", []), refs_list)}
                    for a in stage.get("alerts") or []
                ],
                "derived": [
                    {
                        "text": f"{f['label']} {f['state']} ← {'; '.join(f.get('because', []))}",
                        "cites": refs.map(f.get("cites", []), refs_list),
                    }
                    for f in stage["derived"]
                ],
                "bars": [
                    {
                        "diagnosis": s["diagnosis"],
                        "label": _label(s),
                        "probability": s["probability"],
                        "shown": _pct(s["probability"]),
                        "delta": s["delta"],
                    }
                    for s in stage["shift"]
                ],
                "summary": stage["summary"],
                "next_test": {
                    "label": nt["label"],
                    "why": nt["why"],
                    "cites": refs.map(nt["cites"], refs_list),
                },
            }
        )
    last = stages[-1]
    explanation = []
    for d in last["differential"][:3]:
        lines = []
        for e in sorted(
            (e for e in d["evidence"] if e["direction"] != "neutral"), key=lambda e: -abs(e["log10_lr"])
        ):
            sign = "+" if e["direction"] == "for" else "−"
            estimate = ", teaching estimate" if e["basis"] == "teaching_estimate" else ""
            lines.append(
                {
                    "text": f"{sign} {e['label']} {e['state']}: ×{e['factor']:.3g} (LR {e['lr']:.2g},"
                    f" p={e['p']:g}{estimate})",
                    "cites": refs.map(e["cites"], last["references"]),
                }
            )
        for c in d["criteria"]:
            lines.insert(
                0, {"text": f"Criteria met: {c['title']}", "cites": refs.map(c["cites"], last["references"])}
            )
        explanation.append({"label": _label(d), "shown": _pct(d["probability"]), "lines": lines})
    a = last["answer"]
    answer = {
        "label": a["label"],
        "subtype_label": a["subtype_label"],
        "engine_agrees": a["engine_agrees"],
        "engine_top": _label(last["differential"][0]),
        "teaching_points": [
            {"text": p["text"], "cites": refs.map(p["cites"], last["references"])}
            for p in a["teaching_points"]
        ],
    }
    return units_as_written(
        {
            "case": case_code(case.id),  # the neutral code: an id names the answer before the reveal
            "title": case.title,
            "presentation": " ".join(case.presentation.split()) if case.presentation else None,
            "disclaimer": disclaimer_for(case),
            "pack": stages[-1]["pack"],
            "pack_line": pack_line(stages[-1]["pack"]),
            "stages": out_stages,
            "explanation": explanation,
            "answer": answer,
            "references": refs.listing(),
        }
    )


def embed_json(data: Any) -> str:
    r"""JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` become ``\u003c`` etc."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def render_html(case: Case, stages: list[dict[str, Any]]) -> str:
    """The complete HTML page (template plus embedded data); deterministic for the same input."""
    template = (resources.files("hemedx.present") / "template.html").read_text(encoding="utf-8")
    return template.replace(PLACEHOLDER, embed_json(presentation_data(case, stages)), 1)
