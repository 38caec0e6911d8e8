"""A derivation whose threshold is a reference band the pack labels a teaching estimate says so.

Every number a learner reads is cited or labelled a teaching estimate; a derived finding's "because" line
shows the limit it was compared with, so that limit carries the label too.
"""

from __future__ import annotations

from hemedx import load_pack, rank_case
from hemedx.cases.library import load_library

PACK = load_pack()
CASES = {case.id: case for case in load_library(PACK)}


def _derived(case_id: str, finding: str) -> dict:
    report = rank_case(CASES[case_id], PACK)
    entry = next(f for f in report["findings"] if f["finding"] == finding and f["origin"] == "derived")
    refs = {ref["n"]: ref["id"] for ref in report["references"]}
    return {"because": " ".join(entry["because"]), "sources": [refs[c["n"]] for c in entry["cites"]]}


def _band(lab_id: str, age: float):
    lab = next(lab for lab in PACK.vocabulary.labs if lab.id == lab_id)
    return next(b for b in lab.reference if b.age_min <= age and (b.age_max is None or age < b.age_max))


def test_a_teaching_estimate_limit_is_labelled_where_the_derivation_shows_it():
    child = _band("lymphocytes", 5)
    assert child.basis == "teaching_estimate"  # what the pack says of the under-6 lymphocyte range
    shown = _derived("itp-child-post-viral", "lymphocytosis")
    assert f"(≤ {child.high:g}, teaching estimate)" in shown["because"]
    # the adult table is the interval rule's source but not this child's limit's: it must not pose as one
    assert "merck-cbc" not in shown["sources"]


def test_a_published_limit_is_not_labelled_a_teaching_estimate():
    hemoglobin = next(lab for lab in PACK.vocabulary.labs if lab.id == "hemoglobin")
    assert all(band.basis == "published" for band in hemoglobin.reference if band.sex == "female")
    because = _derived("aa-severe-young-woman", "anemia")["because"]
    assert "Haemoglobin" in because and "teaching estimate" not in because


def test_the_adult_lymphocyte_limit_cites_the_adult_table_not_a_cll_review():
    adult = _band("lymphocytes", 40)
    assert adult.basis == "published" and [c.source for c in adult.cites] == ["merck-cbc"]
    shown = _derived("aa-severe-young-woman", "lymphocytosis")
    assert f"(≤ {adult.high:g})" in shown["because"]
    assert shown["sources"] == ["merck-cbc"]


def test_a_derivation_cites_the_reference_band_it_used():
    # a 5-year-old's white count is compared with the preschool study's band, an adult's with the adult table
    child = _derived("itp-child-post-viral", "leukopenia")
    assert "(≥ 4.7)" in child["because"] and child["sources"] == ["wang-2016-preschool-cbc"]
    adult = _derived("aa-severe-young-woman", "leukopenia")
    assert "(< 4.5)" in adult["because"] and adult["sources"] == ["merck-cbc"]
