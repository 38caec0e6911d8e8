"""Red-flag alerts for conditions outside the differential: which fire on the library cases, in what
order, with which facts, and that they never move a probability.

Each library case below is a condition the nine diagnoses do not rank (or, for the aplastic crisis, a
complication of one that they do). The alert must fire on the case's full work-up, and for an outside
condition no in-pack diagnosis may lead with probability 0.5 or more. TEACHING AID ONLY.
"""

from __future__ import annotations

import hashlib

import pytest

from hemedx import get_engine, load_pack
from hemedx.cases.library import resolve_case
from hemedx.cases.model import Snapshot

PACK = load_pack()
ENGINE = get_engine(PACK)

# case id -> (alert rule, urgency, outside?, a fact the alert must name in `because`)
LIBRARY_ALERTS = {
    "outside-hypersplenism-cirrhosis": ("alert.hypersplenism", "consider", True, "liver_disease"),
    "outside-hairy-cell-leukaemia": ("alert.hairy_cell_leukemia", "consider", True, "monocytopenia"),
    "outside-g6pd-fava-beans": ("alert.oxidative_hemolysis", "consider", True, "dat_negative_hemolysis"),
    "outside-agranulocytosis-carbimazole": (
        "alert.drug_agranulocytosis",
        "emergency",
        True,
        "agranulocytosis_drug",
    ),
    "hs-parvovirus-aplastic-crisis": ("alert.aplastic_crisis", "emergency", False, "reticulocytes_near_zero"),
    "outside-pseudothrombocytopenia": ("alert.pseudothrombocytopenia", "consider", True, "platelet_clumping"),
    "outside-pure-red-cell-aplasia-transplant": (
        "alert.pure_red_cell_aplasia",
        "consider",
        True,
        "reticulocytes_near_zero",
    ),
    "outside-copper-deficiency-bariatric": ("alert.copper_deficiency", "consider", True, "myelopathy"),
    "outside-duffy-null-neutrophil-count": (
        "alert.duffy_null_neutropenia",
        "consider",
        True,
        "duffy_null_ancestry",
    ),
}


def _final(case_id: str):
    case = resolve_case(case_id, PACK)
    return case, ENGINE.rank(case.snapshot())


@pytest.mark.parametrize("case_id", sorted(LIBRARY_ALERTS))
def test_the_right_alert_fires_on_the_full_work_up(case_id):
    rule, urgency, outside, fact = LIBRARY_ALERTS[case_id]
    _, ranking = _final(case_id)
    alert = next((a for a in ranking.alerts if a.rule == rule), None)
    assert alert is not None, [a.rule for a in ranking.alerts]
    assert (alert.urgency, alert.outside) == (urgency, outside)
    assert alert.label and alert.next_test
    assert ("finding", fact) in alert.because


@pytest.mark.parametrize("case_id", sorted(c for c, v in LIBRARY_ALERTS.items() if v[2]))
def test_no_in_pack_diagnosis_leads_an_outside_condition(case_id):
    case, ranking = _final(case_id)
    assert case.answer is not None and case.answer.diagnosis == "outside"
    assert ranking.differential[0].id == "outside"
    assert ranking.supported is False
    assert max(d.probability for d in ranking.diagnoses) < 0.5


def test_an_aplastic_crisis_keeps_the_in_pack_diagnosis():
    _, ranking = _final("hs-parvovirus-aplastic-crisis")
    assert ranking.differential[0].id == "hereditary_spherocytosis" and ranking.supported
    assert ranking.alerts[0].rule == "alert.aplastic_crisis"  # the emergency is shown first


def test_hairy_cell_alert_fires_before_the_marrow():
    """The blood count alone already names hairy cell leukaemia; the marrow then moves the ranking."""
    case = resolve_case("outside-hairy-cell-leukaemia", PACK)
    blood = ENGINE.rank(case.snapshot(1))
    assert "alert.hairy_cell_leukemia" in [a.rule for a in blood.alerts]
    assert "alert.marrow_infiltration" not in [a.rule for a in blood.alerts]
    final = ENGINE.rank(case.snapshot())
    assert "alert.marrow_infiltration" in [a.rule for a in final.alerts]  # the dry tap


def test_agranulocytosis_with_fever_raises_both_emergencies():
    _, ranking = _final("outside-agranulocytosis-carbimazole")
    assert [a.rule for a in ranking.alerts] == ["alert.neutropenic_fever", "alert.drug_agranulocytosis"]


def test_emergencies_come_before_considerations_whatever_the_pack_order():
    # marrow_infiltration (consider) precedes aplastic_crisis (emergency) in alerts.yaml
    snap = Snapshot(
        16,
        "female",
        {"spherocytes": "present", "leukoerythroblastic_film": "present"},
        {"hemoglobin": 5.2, "reticulocytes": 2},
        {},
    )
    rules = [a.rule for a in ENGINE.rank(snap).alerts]
    assert rules == ["alert.aplastic_crisis", "alert.marrow_infiltration"]


def test_isolated_mild_neutropenia_with_duffy_null_ancestry():
    well = {"duffy_null_ancestry": "present", "recurrent_infections": "absent"}
    counts = {"hemoglobin": 14.8, "wbc": 3.6, "anc": 1.1, "platelets": 240, "lymphocytes": 2.0}
    ranking = ENGINE.rank(Snapshot(30, "male", well, counts, {}))
    assert [a.rule for a in ranking.alerts] == ["alert.duffy_null_neutropenia"]
    assert ranking.differential[0].id == "outside"
    severe = ENGINE.rank(Snapshot(30, "male", well, {**counts, "anc": 0.4}, {}))
    assert "alert.duffy_null_neutropenia" not in [a.rule for a in severe.alerts]


def test_copper_deficiency_after_gastric_surgery_is_not_called_megaloblastic():
    findings = {"gastric_surgery": "present", "myelopathy": "present", "neuropathy": "present"}
    labs = {"hemoglobin": 8.6, "anc": 0.8, "platelets": 190, "mcv": 99, "b12": 480, "folate": 9.0}
    ranking = ENGINE.rank(Snapshot(52, "female", findings, labs, {}))
    assert "alert.copper_deficiency" in [a.rule for a in ranking.alerts]
    assert max(d.probability for d in ranking.diagnoses) < 0.5


def _without_alerts(pack):
    rules = [r for r in pack.rules if r.kind != "alert"]
    digest = hashlib.sha256((pack.digest + ":no-alerts").encode()).hexdigest()[: len(pack.digest)]
    return pack.model_copy(update={"rules": rules, "digest": digest})


@pytest.mark.parametrize("case_id", sorted(LIBRARY_ALERTS))
def test_alerts_never_change_probabilities(case_id):
    bare = get_engine(_without_alerts(PACK))
    case = resolve_case(case_id, PACK)
    for stage in range(len(case.stages)):
        with_alerts = ENGINE.rank(case.snapshot(stage))
        without = bare.rank(case.snapshot(stage))
        assert without.alerts == ()
        assert [(d.id, d.probability) for d in with_alerts.differential] == [
            (d.id, d.probability) for d in without.differential
        ]
        assert with_alerts.supported == without.supported
    assert with_alerts.alerts  # the comparison is not vacuous: the full work-up raises an alert


def test_every_alert_is_raised_by_at_least_one_library_case():
    from hemedx.cases.library import load_library

    raised: set[str] = set()
    for case in load_library(PACK):
        for stage in range(len(case.stages)):
            raised |= {a.rule for a in ENGINE.rank(case.snapshot(stage)).alerts}
    assert {r.id for r in PACK.rules if r.kind == "alert"} <= raised
