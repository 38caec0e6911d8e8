"""A derivation whose threshold is a reference band the pack labels a teaching estimate says so.

Every number a learner reads is cited or labelled a teaching estimate; a derived finding's "because" line
shows the limit it was compared with, so that limit carries the label too.
"""

from __future__ import annotations

from hemedx import load_pack, rank_case
from hemedx.cases.library import load_library

PACK = load_pack()
CASES = {case.id: case for case in load_library(PACK)}


def _because(case_id: str, finding: str) -> str:
    report = rank_case(CASES[case_id], PACK)
    entry = next(f for f in report["findings"] if f["finding"] == finding and f["origin"] == "derived")
    return " ".join(entry["because"])


def test_a_teaching_estimate_limit_is_labelled_where_the_derivation_shows_it():
    lymphocytes = next(lab for lab in PACK.vocabulary.labs if lab.id == "lymphocytes")
    adult = next(band for band in lymphocytes.reference if band.age_min == 18)
    assert adult.basis == "teaching_estimate"  # what the pack says of the adult lymphocyte range
    assert f"(≤ {adult.high:g}, teaching estimate)" in _because("aa-severe-young-woman", "lymphocytosis")


def test_a_published_limit_is_not_labelled_a_teaching_estimate():
    hemoglobin = next(lab for lab in PACK.vocabulary.labs if lab.id == "hemoglobin")
    assert all(band.basis == "published" for band in hemoglobin.reference if band.sex == "female")
    because = _because("aa-severe-young-woman", "anemia")
    assert "Haemoglobin" in because and "teaching estimate" not in because
