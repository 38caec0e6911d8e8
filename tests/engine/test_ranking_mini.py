"""Ranking arithmetic, three-state findings, units, criteria and `supported`, on the tiny fixture pack.

The fixture pack has round numbers so every expected probability below is a hand computation
written out from its rule files (tests/fixtures/packs/mini).
"""

from __future__ import annotations

import math

import pytest

from hemedx import load_case, load_pack, rank_case

from support.helpers import MINI_PACK, write_case


@pytest.fixture(scope="module")
def pack():
    return load_pack(MINI_PACK)


def rank_stages(pack, tmp_path, stages, **kw):
    return rank_case(load_case(write_case(tmp_path, stages, **kw), pack), pack)


def probs(report):
    return {d["diagnosis"]: d["probability"] for d in report["differential"]}


SEVERE_AA = [
    {"findings": {"petechiae": "present", "splenomegaly": "absent"}},
    {
        "labs": {
            "hemoglobin": 6.8,
            "platelets": {"value": 11000, "unit": "/uL"},
            "anc": 0.3,
            "reticulocytes": 15,
        }
    },
    {"labs": {"marrow_blasts": 2}, "tests": {"dat": "negative"}},
]


def test_posterior_matches_hand_computation(pack, tmp_path):
    report = rank_stages(pack, tmp_path, SEVERE_AA)
    # priors 0.5 / 0.25 / 0.25; pancytopenia present (thrombocytopenia replaced), autoantibody absent,
    # petechiae present, excess blasts absent.
    aa = 0.5 * 0.9 * (1 - 0.1) * 0.6 * (1 - 0.01)
    al = 0.25 * 0.5 * (1 - 0.1) * 0.5 * (1 - 0.95)
    aiha = 0.25 * 0.1 * (1 - 0.9) * 0.2 * (1 - 0.01)
    total = aa + al + aiha
    got = probs(report)
    assert got["aplastic_anemia"] == pytest.approx(aa / total, abs=1e-6)
    assert got["acute_leukemia"] == pytest.approx(al / total, abs=1e-6)
    assert got["aiha"] == pytest.approx(aiha / total, abs=1e-6)
    assert [d["diagnosis"] for d in report["differential"]] == ["aplastic_anemia", "acute_leukemia", "aiha"]


def test_each_evidence_line_shows_its_factor_and_ratio(pack, tmp_path):
    report = rank_stages(pack, tmp_path, SEVERE_AA)
    aa = report["differential"][0]
    lines = {e["finding"]: e for e in aa["evidence"]}
    assert lines["pancytopenia"]["factor"] == 0.9
    assert lines["pancytopenia"]["lr"] == pytest.approx(0.9 / ((0.5 + 0.1) / 2), abs=1e-4)
    assert lines["pancytopenia"]["direction"] == "for"
    assert lines["autoantibody"]["state"] == "absent" and lines["autoantibody"]["factor"] == 0.9
    # Thrombocytopenia is shown but not counted again: pancytopenia replaces it.
    assert lines["thrombocytopenia"]["counted"] is False
    assert lines["thrombocytopenia"]["replaced_by"] == "pancytopenia"
    # A frequency with its own citation is "published"; a bare number is a teaching estimate.
    al = next(d for d in report["differential"] if d["diagnosis"] == "acute_leukemia")
    al_pancyto = next(e for e in al["evidence"] if e["finding"] == "pancytopenia")
    assert al_pancyto["basis"] == "published"
    assert lines["pancytopenia"]["basis"] == "teaching_estimate"
    assert {c["source"] for c in al_pancyto["cites"]} == {"src-a", "src-b"}
    # Every number the learner sees is the product of its lines (log score = log prior + sum of logs).
    counted = [e["factor"] for e in aa["evidence"] if e["counted"]]
    assert aa["log_score"] == pytest.approx(math.log(aa["prior"]) + sum(map(math.log, counted)), abs=1e-6)


def test_unknown_findings_change_nothing(pack, tmp_path):
    only_petechiae = rank_stages(pack, tmp_path, [{"findings": {"petechiae": "present"}}])
    aa, al, aiha = 0.5 * 0.6, 0.25 * 0.5, 0.25 * 0.2
    assert probs(only_petechiae)["aplastic_anemia"] == pytest.approx(aa / (aa + al + aiha), abs=1e-6)
    # An explicit "unknown" is the same as not mentioning the finding.
    with_unknown = rank_stages(
        pack, tmp_path, [{"findings": {"petechiae": "present"}}, {"findings": {"splenomegaly": "unknown"}}]
    )
    assert probs(with_unknown) == probs(only_petechiae)


def test_unknown_is_never_absent(pack, tmp_path):
    no_marrow = rank_stages(pack, tmp_path, SEVERE_AA[:2])
    aa = no_marrow["differential"][0]
    assert "excess_blasts" not in {e["finding"] for e in aa["evidence"]}
    # P(excess blasts | AA) = 0.01 is below the pack's expected_frequency (0.5): not "expected" for AA.
    assert "excess_blasts" not in {e["finding"] for e in aa["expected_unknown"]}
    al = next(d for d in no_marrow["differential"] if d["diagnosis"] == "acute_leukemia")
    assert "excess_blasts" in {e["finding"] for e in al["expected_unknown"]}


def test_later_stage_can_withdraw_a_finding(pack, tmp_path):
    report = rank_stages(
        pack, tmp_path, [{"findings": {"petechiae": "present"}}, {"findings": {"petechiae": "unknown"}}]
    )
    assert probs(report) == pytest.approx({"aplastic_anemia": 0.5, "acute_leukemia": 0.25, "aiha": 0.25})


def test_absence_is_evidence_and_normal_count_is_unsupported(pack, tmp_path):
    report = rank_stages(pack, tmp_path, [{"labs": {"hemoglobin": 14.0, "platelets": 250, "anc": 4.0}}])
    assert report["supported"] is False
    assert "Nothing in this differential fits" in report["summary"]
    findings = {f["finding"]: f["state"] for f in report["findings"]}
    assert findings == {
        "anemia": "absent",
        "thrombocytopenia": "absent",
        "neutropenia": "absent",
        "pancytopenia": "absent",
    }
    aa = next(d for d in report["differential"] if d["diagnosis"] == "aplastic_anemia")
    pancyto = next(e for e in aa["evidence"] if e["finding"] == "pancytopenia")
    assert pancyto["state"] == "absent" and pancyto["factor"] == pytest.approx(0.1)
    # Absent pancytopenia replaces nothing: thrombocytopenia (absent) counts on its own.
    thrombo = next(e for e in aa["evidence"] if e["finding"] == "thrombocytopenia")
    assert thrombo["counted"] is True and thrombo["factor"] == pytest.approx(0.1)


def test_pancytopenia_is_supported(pack, tmp_path):
    report = rank_stages(pack, tmp_path, SEVERE_AA[1:2])
    assert report["supported"] is True
    assert report["differential"][0]["cardinal_present"] == ["pancytopenia", "thrombocytopenia"]


@pytest.mark.parametrize(
    ("sex", "age", "hb", "anemia"),
    [
        ("female", 30, 11.9, "present"),
        ("female", 30, 12.5, "absent"),
        ("male", 30, 12.5, "present"),
        ("male", 30, 13.0, "absent"),
        ("female", 10, 11.8, "absent"),
        ("male", 10, 11.4, "present"),
    ],
)
def test_reference_interval_by_sex_and_age(pack, tmp_path, sex, age, hb, anemia):
    report = rank_stages(pack, tmp_path, [{"labs": {"hemoglobin": hb}}], sex=sex, age=age)
    assert {f["finding"]: f["state"] for f in report["findings"]}["anemia"] == anemia


def test_alternative_units_are_converted(pack, tmp_path):
    in_g_l = rank_stages(
        pack, tmp_path, [{"labs": {"hemoglobin": {"value": 68, "unit": "g/L"}, "platelets": 11}}]
    )
    in_g_dl = rank_stages(
        pack, tmp_path, [{"labs": {"hemoglobin": 6.8, "platelets": {"value": 11000, "unit": "/µL"}}}]
    )
    assert probs(in_g_l) == probs(in_g_dl)
    case = load_case(write_case(tmp_path, [{"labs": {"hemoglobin": {"value": 68, "unit": "g/L"}}}]), pack)
    assert case.snapshot().labs["hemoglobin"] == 6.8


def test_criteria_two_of_three_and_subtype_precedence(pack, tmp_path):
    counts = {"hemoglobin": 6.8, "anc": 0.3, "platelets": 100, "reticulocytes": 80}
    one_of_three = rank_stages(pack, tmp_path, [{"labs": counts}])
    aa = next(d for d in one_of_three["differential"] if d["diagnosis"] == "aplastic_anemia")
    assert aa["criteria_met"] is False and aa["subtype"] is None
    two_of_three = rank_stages(
        pack, tmp_path, [{"labs": {**counts, "reticulocytes": 59}}]
    )  # param retic_cutoff=60
    aa = next(d for d in two_of_three["differential"] if d["diagnosis"] == "aplastic_anemia")
    assert aa["criteria_met"] is True and aa["subtype"] == "severe"
    assert aa["criteria"][0]["rule"] == "crit.aa.severe"
    very = rank_stages(pack, tmp_path, [{"labs": {**counts, "anc": 0.1, "platelets": 10}}])
    aa = next(d for d in very["differential"] if d["diagnosis"] == "aplastic_anemia")
    assert aa["subtype"] == "very_severe" and aa["subtype_rule"]["rule"] == "crit.aa.very_severe"
    assert {"crit.aa.severe", "crit.aa.very_severe"} <= set(very["fired_rules"])


def test_observed_finding_overrides_a_derived_one(pack, tmp_path):
    report = rank_stages(
        pack,
        tmp_path,
        [{"findings": {"anemia": "absent"}, "labs": {"hemoglobin": 6.8, "anc": 0.3, "platelets": 11}}],
    )
    findings = {f["finding"]: (f["state"], f["origin"]) for f in report["findings"]}
    assert findings["anemia"] == ("absent", "observed")
    assert findings["pancytopenia"] == ("absent", "derived")  # via the observed normal line


@pytest.mark.parametrize(
    ("labs", "tests", "fires", "silent"),
    [
        ({"hemoglobin": 9}, {}, "interp.anemia", "interp.no_anemia"),  # interpretation
        (
            {"hemoglobin": 9, "anc": 1, "platelets": 50},
            {},
            "syn.pancytopenia",
            "syn.no_pancytopenia",
        ),  # syndrome
        ({"hemoglobin": 9, "ldh": 500}, {"dat": "igg"}, "crit.aiha.warm", "crit.aa.severe"),  # criteria
        ({"marrow_blasts": 45}, {}, "ev.excess_blasts", "ev.autoantibody"),  # evidence
    ],
)
def test_each_rule_kind_fires_and_does_not_fire(pack, tmp_path, labs, tests, fires, silent):
    report = rank_stages(pack, tmp_path, [{"labs": labs, "tests": tests}])
    assert fires in report["fired_rules"]
    assert silent not in report["fired_rules"]


def test_fired_rules_follow_pack_order(pack, tmp_path):
    report = rank_stages(pack, tmp_path, SEVERE_AA)
    kinds = [rid.split(".")[0] for rid in report["fired_rules"]]
    order = {"interp": 0, "syn": 1, "crit": 2, "ev": 3}
    assert kinds == sorted(kinds, key=order.__getitem__)


def test_citations_are_numbered_and_resolve(pack, tmp_path):
    report = rank_stages(pack, tmp_path, SEVERE_AA)
    numbers = [r["n"] for r in report["references"]]
    assert numbers == list(range(1, len(numbers) + 1))
    listed = {r["n"] for r in report["references"]}
    for d in report["differential"]:
        for e in d["evidence"]:
            assert e["cites"], e
            assert {c["n"] for c in e["cites"]} <= listed
    for f in report["findings"]:
        if f["origin"] == "derived":
            assert f["cites"] and {c["n"] for c in f["cites"]} <= listed


def test_uniform_priors(pack, tmp_path):
    path = write_case(tmp_path, [{"findings": {"petechiae": "present"}}])
    report = rank_case(load_case(path, pack), pack, uniform_priors=True)
    aa, al, aiha = 0.6, 0.5, 0.2
    assert probs(report)["aplastic_anemia"] == pytest.approx(aa / (aa + al + aiha), abs=1e-6)
    assert report["priors"] == "uniform"
