"""Alerts for the confuser diagnoses (TMA, DIC, APL, HLH, CML/MPN, iron deficiency) fire where they must.

The issue's done-when check is here: a DAT-negative haemolytic anaemia with platelets 12 raises the TMA
emergency and neither ITP nor Evans syndrome leads. TEACHING AID ONLY - not for clinical use.
"""

from __future__ import annotations

import pytest

from hemedx import get_engine, load_pack
from hemedx.cases.model import Snapshot
from hemedx.rules.model import AlertRule

PACK = load_pack()
ENGINE = get_engine(PACK)
HEMOLYSIS = {"ldh": 640, "haptoglobin": 5, "bilirubin_indirect": 2.8, "reticulocytes": 180}


def _rank(age: float, sex: str, labs=None, findings=None, tests=None):
    return ENGINE.rank(Snapshot(age, sex, dict(findings or {}), dict(labs or {}), dict(tests or {})))


def test_dat_negative_haemolysis_with_platelets_12_raises_the_tma_emergency_and_itp_does_not_lead():
    ranking = _rank(
        38, "female", {"hemoglobin": 8.4, "anc": 4.1, "platelets": 12, **HEMOLYSIS}, None, {"dat": "negative"}
    )
    first = ranking.alerts[0]
    assert (first.rule, first.urgency, first.outside) == ("alert.tma", "emergency", False)
    assert "ADAMTS13" in first.next_test and "schistocytes" in first.next_test
    assert ("finding", "dat_negative_hemolysis") in first.because
    assert ranking.differential[0].id == "tma" and ranking.supported
    assert ranking.differential[0].id not in ("itp", "evans_syndrome")


def test_schistocytes_with_low_platelets_raise_tma_before_any_haemolysis_screen():
    ranking = _rank(38, "female", {"platelets": 25}, {"schistocytes": "present"})
    assert [a.rule for a in ranking.alerts] == ["alert.tma"]
    assert ranking.alerts[0].because == (("finding", "schistocytes"), ("finding", "thrombocytopenia"))


@pytest.mark.parametrize(
    ("labs", "findings", "expected"),
    [
        ({"platelets": 38, "pt": 19.5, "fibrinogen": 0.9, "d_dimer": 12}, {"fever": "present"}, "alert.dic"),
        (
            {"peripheral_blasts": 40, "fibrinogen": 0.7},
            {"abnormal_promyelocytes": "present"},
            "alert.apl_coagulopathy",
        ),
        (
            {"ferritin": 18500, "hemoglobin": 8.1, "platelets": 42},
            {"fever": "present", "splenomegaly": "present"},
            "alert.hlh",
        ),
        ({"wbc": 148, "basophils": 6.0}, {"left_shift": "present"}, "alert.mpn"),
        ({"hemoglobin": 9.1, "mcv": 68}, {}, "alert.iron_deficiency"),
    ],
)
def test_each_confuser_alert_fires_on_its_pattern(labs, findings, expected):
    assert expected in [a.rule for a in _rank(50, "male", labs, findings).alerts]


def test_a_normal_count_raises_no_confuser_alert():
    labs = {"hemoglobin": 14.5, "wbc": 6.5, "anc": 3.9, "platelets": 260, "mcv": 89, "basophils": 0.05}
    assert _rank(40, "male", labs).alerts == ()


def test_alerts_for_conditions_now_in_the_pack_are_not_outside_and_emergencies_come_first():
    alerts = {r.id: r for r in PACK.rules if isinstance(r, AlertRule)}
    for rule_id in ("alert.tma", "alert.dic", "alert.apl_coagulopathy", "alert.hlh", "alert.mpn"):
        assert alerts[rule_id].then.outside is False
    ranking = _rank(
        50,
        "male",
        {"platelets": 38, "pt": 19.5, "fibrinogen": 0.9, "hemoglobin": 9.0, "mcv": 70},
        {"schistocytes": "present"},
    )
    urgencies = [a.urgency for a in ranking.alerts]
    assert urgencies == sorted(urgencies, key=lambda u: u != "emergency")
    assert {"alert.tma", "alert.dic", "alert.iron_deficiency"} <= {a.rule for a in ranking.alerts}
