"""The curated case library: answer keys, the rank --json contract, and deterministic output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hemedx import load_pack, rank_case
from hemedx.cases.library import DEMO_CASE, library_files, load_library

PACK = load_pack()
CASES = load_library(PACK)
HEMEDX = str(Path(sys.executable).parent / "hemedx")


def test_library_size_and_coverage():
    assert len(CASES) >= 36
    answers = [c.answer.diagnosis for c in CASES if c.answer]
    for dx in ("aplastic_anemia", "acute_leukemia", "aiha"):
        assert answers.count(dx) >= 8, dx
    assert any(c.answer is None for c in CASES)  # a normal count
    assert DEMO_CASE in {c.id for c in CASES}
    assert [p.stem for p in library_files()] == [c.id for c in CASES]  # file name == case id


@pytest.mark.parametrize("case", [c for c in CASES if c.answer], ids=lambda c: c.id)
def test_answer_key_is_ranked_first(case):
    report = rank_case(case, PACK)
    top = report["differential"][0]
    assert report["supported"] is (case.answer.diagnosis != "outside")  # outside leading is never supported
    assert top["diagnosis"] == case.answer.diagnosis
    if case.answer.subtype:
        assert top["subtype"] == case.answer.subtype


@pytest.mark.parametrize("case", [c for c in CASES if "normal" in c.tags], ids=lambda c: c.id)
def test_normal_counts_are_not_supported(case):
    report = rank_case(case, PACK)
    assert report["supported"] is False
    assert all(not d["criteria_met"] for d in report["differential"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rank_json_contract(case):
    report = rank_case(case, PACK)
    assert list(report)[:5] == ["case", "supported", "differential", "fired_rules", "references"]
    assert report["case"] == case.id and isinstance(report["supported"], bool)
    diff = report["differential"]
    assert sorted(d["diagnosis"] for d in diff) == sorted(d.id for d in PACK.diagnoses)
    probabilities = [d["probability"] for d in diff]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    rule_ids = {r.id for r in PACK.rules}
    assert set(report["fired_rules"]) <= rule_ids
    for d in diff:
        assert set(d) >= {"diagnosis", "label", "probability", "subtype", "criteria_met", "evidence"}
        assert isinstance(d["label"], str) and isinstance(d["criteria_met"], bool)
        assert d["subtype"] is None or isinstance(d["subtype"], str)
        for e in d["evidence"]:
            assert e["rule"] in rule_ids and e["cites"]
    numbers = {r["n"] for r in report["references"]}
    for ref in report["references"]:
        assert set(ref) >= {"id", "citation"} and ref["citation"]
    cited = {c["n"] for d in diff for e in d["evidence"] for c in e["cites"]}
    assert cited <= numbers
    json.dumps(report, allow_nan=False)  # strict JSON: no NaN/inf anywhere


def test_json_is_byte_identical_across_processes():
    case = library_files()[0]
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([HEMEDX, "rank", str(case), "--json"], capture_output=True, env=env, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["case"] == case.stem


def test_library_case_by_id_equals_by_path():
    by_id = subprocess.run([HEMEDX, "rank", DEMO_CASE, "--json"], capture_output=True, check=True).stdout
    path = next(p for p in library_files() if p.stem == DEMO_CASE)
    by_path = subprocess.run([HEMEDX, "rank", str(path), "--json"], capture_output=True, check=True).stdout
    assert by_id == by_path
