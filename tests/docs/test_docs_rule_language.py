"""docs/writing-rules.md documents every construct of the rule language, each with an example that parses.

The constructs are read from the pack model itself, so a field added to a rule model without a line in
the guide's "The rule language, construct by construct" section fails here.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from hemedx.rules import model as m
from hemedx.safeyaml import parse_yaml

from support.helpers import ROOT

PAGE = ROOT / "docs" / "writing-rules.md"
TITLE = "## The rule language, construct by construct"

# Every model that makes up a rule (and the pack parameters that ``param:NAME`` names).
RULE_MODELS: tuple[type[BaseModel], ...] = (
    m.RuleBase,
    m.InterpretationRule,
    m.SyndromeRule,
    m.CriteriaRule,
    m.EvidenceRule,
    m.AlertRule,
    m.Cite,
    m.FindingCondition,
    m.LabCondition,
    m.TestCondition,
    m.PatientCondition,
    m.AllOf,
    m.AnyOf,
    m.CountOf,
    m.ThenFinding,
    m.ThenDiagnosis,
    m.ThenEvidence,
    m.Frequency,
    m.ThenAlert,
    m.Examples,
    m.ExampleFacts,
    m.Parameter,
)

_BASE = {"title": "T", "explanation": "E", "cites": [{"source": "s"}]}
BASE_RULES: dict[str, dict[str, Any]] = {
    "interpretation": {"when": {"lab": "hemoglobin", "below": 8}, "then": {"finding": "anemia"}},
    "syndrome": {"when": {"finding": "anemia"}, "then": {"finding": "pancytopenia"}},
    "criteria": {"when": {"finding": "anemia"}, "then": {"diagnosis": "aa", "criteria": True}},
    "evidence": {"when": {"finding": "anemia"}, "then": {"evidence": {"aa": 0.5}, "otherwise": 0.1}},
    "alert": {"when": {"finding": "anemia"}, "then": {"alert": "A", "urgency": "consider", "next_test": "N"}},
}
RULE = TypeAdapter(m.Rule)
CONDITION = TypeAdapter(m.Condition)


def section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(TITLE)
    end = text.find("\n#", start + len(TITLE))
    return text[start : end if end != -1 else len(text)]


def examples() -> list[str]:
    """The first code span of every list item in the section: the item's one-line example."""
    items = re.findall(r"^- `([^`]+)`", section(), flags=re.MULTILINE)
    assert len(items) >= 30
    return items


def _parses(fragment: dict[str, Any]) -> bool:
    """A fragment is a rule's fields, or its ``then``'s, or a pack.yaml section, or a diagnosis prior."""
    candidates = []
    for kind, base in BASE_RULES.items():
        rule = {"id": f"{kind[:4]}.x", "kind": kind, **_BASE, **base}
        candidates.append(lambda r=rule: RULE.validate_python({**r, **fragment}))
        candidates.append(lambda r=rule: RULE.validate_python({**r, "then": {**r["then"], **fragment}}))
    candidates.append(
        lambda: m.PackInfo.model_validate({"id": "p", "title": "P", "version": "1", **fragment})
    )
    if set(fragment) == {"prior"}:
        candidates.append(lambda: m.Prior.model_validate(fragment["prior"]))
    for candidate in candidates:
        try:
            candidate()
        except ValidationError:
            continue
        return True
    return False


@pytest.mark.parametrize("example", examples())
def test_every_one_line_example_parses_with_the_pack_model(example: str) -> None:
    data = parse_yaml(example, "docs/writing-rules.md").data
    assert isinstance(data, dict), example
    if "when" in data:
        CONDITION.validate_python(data["when"])
    assert _parses(data), f"docs/writing-rules.md example does not parse as any rule fragment: {example}"


def _literals(annotation: Any) -> set[str]:
    """Every string in the Literal types inside an annotation."""
    out: set[str] = set()
    if typing.get_origin(annotation) is typing.Literal:
        out |= {a for a in typing.get_args(annotation) if isinstance(a, str)}
    for arg in typing.get_args(annotation):
        out |= _literals(arg)
    return out


def test_every_field_and_value_of_the_rule_language_is_documented() -> None:
    code = " ".join(re.findall(r"`([^`]+)`", section()))
    missing = []
    for model in RULE_MODELS:
        for name, info in model.model_fields.items():
            key = info.alias or name
            if not re.search(rf"(^|[{{\s,\[]){key}:", code):
                missing.append(f"{model.__name__}.{key}")
            for value in sorted(_literals(info.annotation)):
                if not re.search(rf"\b{value}\b", code):
                    missing.append(f"{model.__name__}.{key} value {value}")
    for threshold in ("lower_limit", "upper_limit", "param:"):
        if threshold not in code:
            missing.append(f"threshold {threshold}")
    assert missing == [], f"not in the rule-language section of docs/writing-rules.md: {missing}"
