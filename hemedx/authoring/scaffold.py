"""``hemedx rules new ID``: a rule skeleton with every section present and a comment saying what goes in.

The skeleton is valid against the schema, but its placeholder ids (``todo_...``) are deliberately
unknown: ``hemedx rules check`` then points at each one until the author has filled it in, so a half
written rule can never pass as finished.
"""

from __future__ import annotations

import re
from pathlib import Path

from hemedx.errors import InputError
from hemedx.outfiles import write_file
from hemedx.rules.model import RULE_ID_PATTERN, RULE_KINDS, Pack
from hemedx.safeyaml import parse_yaml, read_text
from hemedx.suggest import did_you_mean

_PREFIX_KIND = {
    "interp": "interpretation",
    "syn": "syndrome",
    "crit": "criteria",
    "ev": "evidence",
    "alert": "alert",
}

_WHEN = {
    "interpretation": """\
    # One lab or test against a limit: below | above | at_least | at_most a number (in the lab's unit),
    # lower_limit / upper_limit (the reference interval for the patient's sex, age and pregnancy),
    # or param:NAME.
    when: {lab: todo_lab, below: lower_limit}
    then: {finding: todo_finding}          # add `state: absent` for a rule that rules a finding out""",
    "syndrome": """\
    # Findings (and labs or tests) combined with all / any / at_least N of.
    when:
      all:
        - {finding: todo_finding}
        - {finding: todo_other_finding, is: absent}
    then: {finding: todo_derived_finding}  # a finding with category: derived""",
    "criteria": """\
    # A published criterion set; `at_least: 2, of: [...]` expresses "two of three".
    when:
      all:
        - {finding: todo_finding}
        - at_least: 2
          of:
            - {lab: todo_lab, below: 1.0}
            - {lab: todo_other_lab, below: 20}
    then: {diagnosis: todo_diagnosis, criteria: true}   # and/or `subtype: SUBTYPE_ID`""",
    "evidence": """\
    # How often the finding occurs in each diagnosis. A bare number is a teaching estimate;
    # {p: 0.9, cites: [{source: ..., locator: ...}]} is a published figure.
    when: {finding: todo_finding, is: known}   # known: present counts p, absent counts 1 - p
    then:
      evidence:
        todo_diagnosis: 0.5
      otherwise: 0.1                         # p for every diagnosis not listed
      replaces: []                           # component findings not to count again while present""",
    "alert": """\
    # A pattern that must not be missed: shown before any differential, in every view.
    when:
      all:
        - {finding: todo_finding}
        - {lab: todo_lab, below: 20}
    then:
      alert: TODO what to think of (a condition outside the differential, or an emergency)
      urgency: consider                      # emergency | consider
      next_test: TODO the investigation that settles it
      outside: true                          # false when it warns about a diagnosis in the differential""",
}

_TEMPLATE = """\
  - id: {rule_id}
    kind: {kind}
    status: draft                            # draft -> reviewed -> teaching (retired hides it)
    title: TODO one line a learner reads in the explanation
    explanation: >
      TODO why this matters clinically, in your own words (paraphrase; cite below).
{when}
    cites:
      - {{source: todo-source, locator: "TODO section, table or paragraph"}}
    examples:                                # run by `hemedx rules test`
      fires:
        - name: TODO a typical case
          patient: {{age: 40, sex: female}}
          findings: {{}}
          labs: {{}}
          tests: {{}}
      does_not_fire:
        - name: TODO a near miss that teaches where the rule stops
          patient: {{age: 40, sex: female}}
          findings: {{}}
          labs: {{}}
          tests: {{}}
"""


def kind_for(rule_id: str, kind: str | None) -> str:
    """The kind asked for, or the one the id's prefix suggests (``syn.`` -> syndrome)."""
    if kind is not None:
        return kind
    return _PREFIX_KIND.get(rule_id.split(".", 1)[0], "syndrome")


def new_rule(rule_id: str, kind: str | None = None, pack: Pack | None = None) -> str:
    """YAML text of one rule entry (indented for a ``rules:`` list)."""
    if not re.match(RULE_ID_PATTERN, rule_id) or len(rule_id) > 96:
        raise InputError(
            f"'{rule_id}' is not a valid rule id",
            field="ID",
            hint="lowercase words joined by dots, e.g. syn.pancytopenia or crit.aa.severe",
        )
    chosen = kind_for(rule_id, kind)
    if chosen not in RULE_KINDS:
        raise InputError(
            f"unknown rule kind '{chosen}'", field="--kind", hint=did_you_mean(chosen, RULE_KINDS)
        )
    if pack is not None and rule_id in {r.id for r in pack.rules}:
        raise InputError(
            f"rule '{rule_id}' already exists in pack '{pack.info.id}'",
            field="ID",
            hint="rule ids are stable: pick a new one (see 'hemedx rules show')",
        )
    return _TEMPLATE.format(rule_id=rule_id, kind=chosen, when=_WHEN[chosen])


def write_rule(text: str, out: Path) -> None:
    """Append the rule to a rules file (created with a ``rules:`` header when missing)."""
    if out.exists():
        current = read_text(out, "rules")
        data = parse_yaml(current, str(out)).data if current.strip() else None
        if current.strip() and (not isinstance(data, dict) or "rules" not in data):
            raise InputError("not a rules file (no top-level 'rules:' list)", file=str(out))
        rule_id = parse_yaml("rules:\n" + text, "<new rule>").data["rules"][0]["id"]
        if isinstance(data, dict) and any(
            isinstance(r, dict) and r.get("id") == rule_id for r in data.get("rules") or []
        ):
            raise InputError(f"rule '{rule_id}' is already in this file", file=str(out))
        prefix = "" if current.endswith("\n") or not current else "\n"
        # Appending is what was asked for: the file keeps every line it had, written atomically.
        write_file(out, current + prefix + ("" if current.strip() else "rules:\n") + "\n" + text, force=True)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the folder: {exc.strerror}", file=str(out.parent)) from None
        write_file(out, "rules:\n" + text)
