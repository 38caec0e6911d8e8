"""Every citation of a seed reference text names a paragraph, list item or point that exists in it.

The seed texts are not in the repository; their structure (counted from the texts) is the fixture
``fixtures/seed_texts.yaml``, so this test stands alone.
"""

from __future__ import annotations

import re

import pytest
import yaml

from hemedx import load_pack
from hemedx.cases.library import load_library
from hemedx.rules.checks import walk_cites

from support.helpers import FIXTURES

PACK = load_pack()
FIXTURE = yaml.safe_load((FIXTURES / "seed_texts.yaml").read_text())
SUPPORTS = FIXTURE.pop("supports")
STRUCTURE = FIXTURE
PARA = re.compile(r"^para (\d+)(?: items? (\d+)(?:(?:-| and )(\d+))?)?$")
POINT = re.compile(r"^point (\d+)$")


def _seed_cites():
    pack_parts = [*PACK.rules, *PACK.diagnoses, *PACK.vocabulary.labs, PACK.info]
    for obj in pack_parts:
        for _, cite in walk_cites(obj):
            yield getattr(obj, "id", "pack"), cite
    for case in load_library(PACK):
        for _, cite in walk_cites(list(case.teaching_points)):
            yield case.id, cite


def problem(source: str, locator: str | None) -> str | None:
    """Why ``locator`` does not name a part of seed ``source`` (None when it does)."""
    shape = STRUCTURE[source]
    if locator is None:
        return "no locator"
    if "points" in shape:
        m = POINT.match(locator)
        if not m:
            return f"'{locator}' is not 'point N'"
        return None if 1 <= int(m[1]) <= shape["points"] else f"point {m[1]} of {shape['points']}"
    m = PARA.match(locator)
    if not m:
        return f"'{locator}' is not 'para N' / 'para N item M'"
    para = int(m[1])
    if not 1 <= para <= shape["paragraphs"]:
        return f"para {para} of {shape['paragraphs']}"
    items = [int(x) for x in m.groups()[1:] if x]
    if items:
        count = shape.get("items", {}).get(para)
        if count is None:
            return f"para {para} has no numbered items"
        if not all(1 <= i <= count for i in items):
            return f"item out of 1-{count} in para {para}"
    return None


def test_the_fixture_covers_every_registered_seed_text():
    assert {s.id for s in PACK.sources if s.kind == "reference_text"} == set(STRUCTURE)


def test_every_seed_locator_names_an_existing_paragraph_or_point():
    cites = [(owner, c) for owner, c in _seed_cites() if c.source in STRUCTURE]
    assert len(cites) > 50  # the seeds are cited throughout the pack and library
    bad = [
        f"{owner}: {c.source} {problem(c.source, c.locator)}"
        for owner, c in cites
        if problem(c.source, c.locator)
    ]
    assert not bad, bad


def test_evidence_rules_cite_a_seed_part_only_for_what_it_says():
    """An evidence line citing a seed paragraph or point weighs a finding that part actually discusses."""
    bad = []
    for rule in PACK.rules:
        if rule.kind != "evidence":
            continue
        for cite in rule.cites:
            if cite.source in STRUCTURE:
                said = SUPPORTS.get(cite.source, {}).get(cite.locator, [])
                if rule.when.finding not in said:
                    bad.append(f"{rule.id} cites {cite.source} {cite.locator} for {rule.when.finding}")
    assert not bad, bad


@pytest.mark.parametrize(
    ("source", "locator", "ok"),
    [
        ("seed-aa-pathophysiology", "para 8", True),
        ("seed-aa-pathophysiology", "para 9", False),
        ("seed-aiha-causes", "para 3 items 1-4", True),
        ("seed-aiha-causes", "para 3 item 6", False),
        ("seed-aiha-causes", "para 2 item 1", False),
        ("seed-leukaemia-marrow", "point 5", True),
        ("seed-leukaemia-marrow", "point 6", False),
        ("seed-leukaemia-marrow", "para 1", False),
        ("seed-hsct-autoimmune", "introduction", False),
    ],
)
def test_the_locator_check_itself(source, locator, ok):
    assert (problem(source, locator) is None) is ok
