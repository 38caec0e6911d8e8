"""``hemedx rules docs`` and ``hemedx rules show``: a Markdown catalogue generated from the pack.

Per rule: what it detects, why it matters, its conditions in plain words, its examples and references,
so a clinician-educator can review a pack without reading YAML. The output is deterministic (no dates,
no absolute paths), so a regenerated catalogue diffs cleanly in review. Every piece of pack text goes
through :func:`~hemedx.safetext.markdown_text`, so a ``<script>`` in a title stays text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hemedx.authoring.issues import LINTS
from hemedx.engine.report import Citations
from hemedx.errors import InputError
from hemedx.outfiles import write_files
from hemedx.rules.conditions import Labels, describe
from hemedx.rules.model import (
    RULE_KINDS,
    AlertRule,
    EvidenceRule,
    ExampleFacts,
    Frequency,
    Pack,
)
from hemedx.safetext import markdown_code
from hemedx.safetext import markdown_text as md
from hemedx.suggest import did_you_mean

DISCLAIMER = "Teaching aid for synthetic cases only. Not for clinical use."
KIND_TITLES = {
    "interpretation": "Interpretation rules: a lab or test value becomes a finding",
    "syndrome": "Syndrome rules: findings combine into a derived finding",
    "criteria": "Criteria rules: a formal criterion set, subtype or severity is met",
    "evidence": "Evidence rules: how a finding bears on each diagnosis",
    "alert": "Alert rules: a condition outside the differential or an emergency, and what settles it",
}


class _Names(Labels):
    """Labels of everything a rule can name, for plain-language text."""

    def __init__(self, pack: Pack) -> None:
        super().__init__(pack)
        self.diagnoses = {d.id: d for d in pack.diagnoses}


def _conclusion(rule: Any, names: _Names) -> str:
    then = rule.then
    if isinstance(rule, EvidenceRule):
        when = {"present": "when present", "absent": "when absent", "known": "whether present or absent"}
        return (
            f"Weighs **{names.finding(rule.when.finding)}** on the differential"
            f" ({when[rule.when.is_]}): present multiplies each diagnosis by *p*, absent by 1 − *p*."
        )
    if isinstance(rule, AlertRule):
        kind = "an **emergency**" if then.urgency == "emergency" else "a condition to **consider**"
        where = "outside this differential" if then.outside else "within this differential"
        return f"Raises {kind} ({where}): **{then.alert}**. Settle it with: {then.next_test}."
    if hasattr(then, "finding"):
        return f"Concludes that **{names.finding(then.finding)}** is {then.state}."
    dx = names.diagnoses.get(then.diagnosis)
    label = md(dx.label) if dx else then.diagnosis
    parts = []
    if then.criteria:
        parts.append(f"the criteria for **{label}** are met")
    if then.subtype:
        sub = (
            next((md(s.label) for s in dx.subtypes if s.id == then.subtype), then.subtype)
            if dx
            else then.subtype
        )
        parts.append(f"the subtype or severity is **{sub}**" + ("" if then.criteria else f" ({label})"))
    return "Concludes that " + " and ".join(parts) + "."


def _facts_text(facts: ExampleFacts, names: _Names) -> str:
    bits = []
    if facts.patient:
        bits.append(", ".join(md(f"{k} {v}") for k, v in facts.patient.items()))
    if facts.findings:
        bits.append("; ".join(f"{names.finding(k)} {md(str(v))}" for k, v in facts.findings.items()))
    for key, value in facts.labs.items():
        lab = names.labs.get(key)
        label = md(lab.label if lab else key)
        if isinstance(value, dict):
            amount = md(f"{value.get('value')} {value.get('unit', '')}")
            bits.append(f"{label} {amount}".strip())
        else:
            bits.append(f"{label} {value:g} {md(lab.unit) if lab else ''}".strip())
    for key, value in facts.tests.items():
        test = names.tests.get(key)
        bits.append(f"{md(test.label if test else key)} {names.test_value(key, value)}")
    text = "; ".join(bits) or "nothing known (a 40-year-old woman by default)"
    return f"*{md(facts.name)}*: {text}" if facts.name else text


def entry_where(pack: Pack, section: str, ident: str) -> str | None:
    """``rules/evidence.yaml:12`` for an entry (relative to the pack, never a machine path)."""
    origin = pack.origin.get(f"{section}:{ident}")
    if not origin:
        return None
    file, _, line = origin.rpartition(":")
    path = Path(file)
    shown = f"rules/{path.name}" if path.parent.name == "rules" else path.name
    return f"{shown}:{line}"


def _where(pack: Pack, rule_id: str) -> str | None:
    where = entry_where(pack, "rule", rule_id)
    return markdown_code(where) if where else None


def rule_markdown(pack: Pack, rule_id: str, level: int = 2, anchor: bool = True) -> str:
    """One rule as a Markdown section. Raises InputError (with the nearest id) for an unknown id."""
    rules = {r.id: r for r in pack.rules}
    rule = rules.get(rule_id)
    if rule is None:
        raise InputError(f"no rule '{rule_id}' in pack '{pack.info.id}'", hint=did_you_mean(rule_id, rules))
    names = _Names(pack)
    h = "#" * level
    where = _where(pack, rule.id)
    meta = f"*{rule.kind} rule* · status: {rule.status}" + (f" · `{where}`" if where else "")
    out = [f'<a id="{rule.id}"></a>'] if anchor else []  # link target for the catalogue's index
    out += [f"{h} `{rule.id}` — {md(rule.title)}", "", meta, ""]
    out += [f"**What it detects.** {_conclusion(rule, names)}", ""]
    out += [f"**Why it matters.** {md(rule.explanation)}", ""]
    out += ["**Conditions.**", "", *describe(rule.when, names), ""]
    citations = Citations(pack)  # numbered as every other view numbers them: in order of first use

    def mark(cites: list[Any]) -> str:
        marks = []
        for c in cites:  # one at a time: a rule citing a pair twice shows both marks, as written
            (m,) = citations.cite([(c.source, c.locator)])
            marks.append(f"[{m['n']}{': ' + md(m['locator']) if m['locator'] else ''}]")
        return "".join(marks)

    rule_marks = mark(rule.cites)
    if isinstance(rule, EvidenceRule):
        then = rule.then
        out += ["**Evidence.** P(finding | diagnosis):", "", "| Diagnosis | p | Basis |", "|---|---|---|"]
        for dx_id, p in then.evidence.items():
            dx = names.diagnoses.get(dx_id)
            label = md(dx.label) if dx else dx_id
            if isinstance(p, Frequency):
                out.append(f"| {label} | {p.p:g} | published {mark(p.cites)} |")
            else:
                out.append(f"| {label} | {p:g} | teaching estimate |")
        out.append(f"| every other diagnosis | {then.otherwise:g} | teaching estimate |")
        out.append("")
        if then.replaces:
            replaced = ", ".join(names.finding(f) for f in then.replaces)
            out += [f"While present it replaces (is not counted again with): {replaced}.", ""]
    if rule.examples and (rule.examples.fires or rule.examples.does_not_fire):
        out += ["**Examples.**", ""]
        out += [f"- Fires: {_facts_text(f, names)}" for f in rule.examples.fires]
        out += [f"- Does not fire: {_facts_text(f, names)}" for f in rule.examples.does_not_fire]
        out.append("")
    out += [f"**References.** {rule_marks}", ""]
    for ref in citations.references():
        out.append(f"{ref['n']}. {md(ref['citation'])}")
    return "\n".join(out).rstrip() + "\n"


def lints_markdown() -> str:
    """The lint codes of ``hemedx rules check``, for the catalogue."""
    out = [
        "# Lint codes of `hemedx rules check`",
        "",
        "| Code | Name | Severity | What it flags |",
        "|---|---|---|---|",
    ]
    out += [f"| {i.code} | {i.name} | {i.severity} | {i.summary} |" for i in LINTS.values()]
    out.append("")
    for info in LINTS.values():
        out += [f"## {info.code} {info.name}", "", info.summary, "", info.why, ""]
    return "\n".join(out).rstrip() + "\n"


def catalogue(pack: Pack) -> dict[str, str]:
    """File name -> Markdown text: ``index.md``, one page per rule kind, and ``lints.md``."""
    files: dict[str, str] = {}
    index = [
        f"# Rule catalogue: {md(pack.info.title)}",
        "",
        f"Pack `{pack.info.id}` version {md(pack.info.version)}: {len(pack.rules)} rules,"
        f" {len(pack.diagnoses)} diagnoses. {DISCLAIMER}",
        "",
        "Generated by `hemedx rules docs` from the pack's YAML; do not edit by hand.",
        "",
        "| Rule | Kind | Title |",
        "|---|---|---|",
    ]
    for rule in pack.rules:
        index.append(f"| [`{rule.id}`]({rule.kind}.md#{rule.id}) | {rule.kind} | {md(rule.title)} |")
    index += [
        "",
        "Lint codes of `hemedx rules check`: [lints.md](lints.md). The evidence as one finding × diagnosis"
        " table for review: [evidence-matrix.md](evidence-matrix.md).",
        "",
    ]
    files["index.md"] = "\n".join(index)
    for kind in RULE_KINDS:
        rules = [r for r in pack.rules if r.kind == kind]
        if not rules:
            continue
        page = [f"# {KIND_TITLES[kind]}", "", DISCLAIMER, ""]
        for rule in rules:
            page += [rule_markdown(pack, rule.id), ""]
        files[f"{kind}.md"] = "\n".join(page).rstrip() + "\n"
    files["lints.md"] = lints_markdown()
    files["evidence-matrix.md"] = evidence_matrix(pack)
    return files


def evidence_matrix(pack: Pack) -> str:
    """Every evidence rule as a row and every hypothesis as a column: the table a haematologist reviews.

    A cell is P(finding | diagnosis). ``0.95*`` is published (cited on the rule's page); a bare number is a
    teaching estimate; ``(0.05)`` in brackets is the rule's implicit ``otherwise`` value — nobody chose it for
    that diagnosis, so it is the first thing to review when a diagnosis is added.
    """
    dxs = pack.diagnoses
    head = " | ".join(md(d.label) for d in dxs)
    out = [
        f"# Evidence matrix: {md(pack.info.title)}",
        "",
        DISCLAIMER,
        "",
        "P(finding | diagnosis) for every evidence rule. `0.95*` published (the rule's page cites it);"
        " `0.95` teaching estimate; `(0.05)` the rule's implicit `otherwise`, given to no diagnosis by"
        " name. When present, a row's finding multiplies each column by p; when absent, by 1 − p.",
        "",
        f"| Rule | Finding | When | {head} |",
        "|---|---|---|" + "---|" * len(dxs),
    ]
    labels = {f.id: f.label for f in pack.vocabulary.findings}
    for rule in pack.rules:
        if not isinstance(rule, EvidenceRule):
            continue
        cells = []
        for d in dxs:
            freq = rule.then.evidence.get(d.id)
            if freq is None:
                cells.append(f"({rule.then.otherwise:g})")
            elif isinstance(freq, Frequency):
                cells.append(f"{freq.p:g}*")
            else:
                cells.append(f"{freq:g}")
        finding = md(labels.get(rule.when.finding, rule.when.finding))
        out.append(
            f"| [`{rule.id}`](evidence.md#{rule.id}) | {finding} | {rule.when.is_} | {' | '.join(cells)} |"
        )
    implicit = sum(
        1 for r in pack.rules if isinstance(r, EvidenceRule) for d in dxs if d.id not in r.then.evidence
    )
    out += ["", f"Implicit `otherwise` cells: {implicit}.", ""]
    return "\n".join(out)


def write_catalogue(pack: Pack, out: Path, force: bool = False) -> list[Path]:
    """Write the catalogue into ``out`` (created if needed); return the files written.

    A page that exists with other content is replaced only with ``force``.
    """
    return write_files(out, catalogue(pack), force=force)
