"""A new case file's scaffold: every section, with comments saying what goes where and which ids exist."""

from __future__ import annotations

import textwrap

from hemedx.cases.derive import DERIVATIONS
from hemedx.rules.model import Pack


def _ids(prefix: str, items: list[str]) -> list[str]:
    """A comment block listing ids, wrapped to the project's line length."""
    hash_at = prefix.index("#") + 1
    indent = prefix[:hash_at] + " " * (len(prefix) - hash_at)
    return textwrap.wrap(", ".join(items), width=108, initial_indent=prefix, subsequent_indent=indent)


def case_scaffold(case_id: str, pack: Pack) -> str:
    """A valid case file for ``case_id`` with empty sections and the pack's vocabulary in comments."""
    vocab = pack.vocabulary
    by_category: dict[str, list[str]] = {}
    for finding in vocab.findings:
        by_category.setdefault(finding.category, []).append(finding.id)
    labs = [f"{lab.id} ({lab.unit})" for lab in vocab.labs]
    tests = [f"{t.id}: {' | '.join(t.values)}" for t in vocab.tests]
    diagnoses = [
        d.id + (f" ({' | '.join(s.id for s in d.subtypes)})" if d.subtypes else "") for d in pack.diagnoses
    ]
    derived = [f"{d.lab} from {' and '.join(d.needs)}" for d in DERIVATIONS]

    def findings_comment(categories: tuple[str, ...]) -> list[str]:
        lines: list[str] = []
        for category in categories:
            lines += _ids(f"    #   {category}: ", by_category.get(category, []))
        return lines

    lines = [
        "# A hemedx teaching case. TEACHING AID ONLY - not for clinical use.",
        f"# Check it: hemedx cases check {case_id}.yaml    Rank it: hemedx rank {case_id}.yaml",
        f"id: {case_id}  # slug: lowercase letters, digits and hyphens",
        "title: 'TODO: the one line a learner sees first'",
        "synthetic: true  # false only for a case from a real record, with provenance: 'where it came from'",
        "patient: {age: 40, sex: female}  # age in years; sex female or male (it picks reference intervals)",
        "#   pregnant? add pregnant: true, trimester: 2 (1 | 2 | 3; or gestation_weeks: 20): it moves the",
        "#   haemoglobin limit below which anaemia is called (the pack's reference bands say where)",
        "presentation: >",
        "  TODO: what the learner is told at the start.",
        "stages:  # revealed in order in a walkthrough; rank and explain use all of them",
        "  - name: History and examination",
        "    findings: {}  # finding: present | absent | unknown (unknown withdraws an earlier value)",
        *findings_comment(("history", "examination")),
        "  - name: Blood count and film",
        "    labs: {}  # lab: a number in the unit below, {value: 68, unit: g/L}, '<10' or",
        "    #           {value: 10, comparator: '<'}",
        *_ids("    #   labs: ", labs),
        *_ids("    #   derived when not measured: ", derived),
        "    findings: {}",
        *findings_comment(("smear",)),
        "  - name: Chemistry, immunology and marrow",
        "    labs: {}",
        "    tests: {}  # test: one of its results",
        *_ids("    #   tests: ", tests),
        *findings_comment(("marrow",)),
        *_ids("    #   rarely stated (the rules derive them): ", by_category.get("derived", [])),
        "# answer: {diagnosis: ID, subtype: ID}  # the key, optional",
        *_ids("#   diagnoses: ", diagnoses),
        "# difficulty: introductory  # introductory | intermediate | advanced",
        "# tags: [adult]",
        "# teaching_points:",
        "#   - text: what the learner should take away",
        "#     cites: [{source: SOURCE_ID, locator: 'page, table or section'}]",
    ]
    return "\n".join(lines) + "\n"
