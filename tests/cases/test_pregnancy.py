"""Pregnancy in the case format: WHO 2024 trimester haemoglobin cut-offs, validation and band checks.

WHO 2024 (as reproduced by BMJ Best Practice, anaemia: Criteria): anaemia in pregnancy is Hb < 110 g/L in
the first and third trimesters and < 105 g/L in the second; in non-pregnant women it is < 120 g/L.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml
from click.testing import CliRunner

from hemedx import get_engine, load_pack
from hemedx.cases.loader import parse_case
from hemedx.cases.model import trimester_of
from hemedx.cli import cli
from hemedx.rules.checks import iter_problems
from hemedx.safeyaml import Document

PACK = load_pack()
ENGINE = get_engine(PACK)
COUNT = {"hemoglobin": {"value": 106, "unit": "g/L"}, "platelets": 250, "anc": 4.0}


def case_data(patient: dict) -> dict:
    return {
        "id": "pregnancy-test",
        "title": "Haemoglobin 106 g/L",
        "synthetic": True,
        "patient": patient,
        "stages": [{"name": "Blood count", "labs": COUNT}],
    }


def anemia_state(patient: dict) -> str:
    case = parse_case(Document(data=case_data(patient), file="case.yaml"), PACK)
    return ENGINE.rank(case.snapshot()).findings["anemia"][0]


def test_hb_106_is_not_anaemia_in_the_second_trimester_but_is_in_a_non_pregnant_woman():
    assert anemia_state({"age": 29, "sex": "female", "pregnant": True, "trimester": 2}) == "absent"
    assert anemia_state({"age": 29, "sex": "female", "pregnant": True, "gestation_weeks": 22}) == "absent"
    assert anemia_state({"age": 29, "sex": "female"}) == "present"
    assert anemia_state({"age": 29, "sex": "female", "pregnant": False}) == "present"


@pytest.mark.parametrize(
    ("patient", "state"),
    [
        ({"trimester": 1}, "present"),  # 106 < 110
        ({"trimester": 3}, "present"),
        ({"gestation_weeks": 30}, "present"),
        ({}, "present"),  # trimester not stated: the higher cut-off, 110
    ],
)
def test_hb_106_is_anaemia_in_the_first_and_third_trimesters(patient, state):
    assert anemia_state({"age": 29, "sex": "female", "pregnant": True, **patient}) == state


def test_the_cut_off_is_105_in_the_second_trimester_exactly():
    case = parse_case(
        Document(
            data=case_data({"age": 29, "sex": "female", "pregnant": True, "trimester": 2}), file="c.yaml"
        ),
        PACK,
    )
    snap = case.snapshot()
    at = ENGINE.rank(replace(snap, labs={**snap.labs, "hemoglobin": 10.5}))
    below = ENGINE.rank(replace(snap, labs={**snap.labs, "hemoglobin": 10.4}))
    assert at.findings["anemia"][0] == "absent"
    assert below.findings["anemia"][0] == "present"


@pytest.mark.parametrize(("weeks", "trimester"), [(0, 1), (13.9, 1), (14, 2), (27.9, 2), (28, 3), (41, 3)])
def test_gestational_weeks_give_the_trimester(weeks, trimester):
    assert trimester_of(weeks) == trimester


def test_rank_json_explains_the_pregnancy_band(tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case_data({"age": 29, "sex": "female", "pregnant": True, "trimester": 2})))
    result = CliRunner().invoke(cli, ["rank", str(path), "--json"])
    assert result.exit_code == 0, result.output
    anemia = next(f for f in json.loads(result.stdout)["findings"] if f["finding"] == "anemia")
    assert anemia["state"] == "absent"
    assert any("pregnancy trimester 2" in why for why in anemia["because"])


@pytest.mark.parametrize(
    ("patient", "field", "says"),
    [
        ({"age": 29, "sex": "male", "pregnant": True}, "patient.pregnant", "needs sex female"),
        ({"age": 29, "sex": "female", "trimester": 2}, "patient.trimester", "pregnant is not true"),
        (
            {"age": 29, "sex": "female", "gestation_weeks": 20},
            "patient.gestation_weeks",
            "pregnant is not true",
        ),
        ({"age": 29, "sex": "female", "pregnant": True, "trimester": 4}, "patient.trimester", "1, 2 or 3"),
        (
            {"age": 29, "sex": "female", "pregnant": True, "trimester": 1, "gestation_weeks": 22},
            "patient.trimester",
            "disagrees with gestation_weeks 22",
        ),
        (
            {"age": 29, "sex": "female", "pregnant": True, "gestation_weeks": 60},
            "patient.gestation_weeks",
            "44",
        ),
        ({"age": 4, "sex": "female", "pregnant": True}, "patient.pregnant", "not plausible"),
    ],
)
def test_bad_pregnancy_exits_2_with_one_line_naming_the_field(tmp_path, patient, field, says):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case_data(patient)))
    result = CliRunner().invoke(cli, ["rank", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert field in lines[0] and says in lines[0]


def test_overlapping_reference_bands_are_a_pack_error():
    """Every patient must fall in one band per limit: the compiler applies every band that matches."""
    hb = next(lab for lab in PACK.vocabulary.labs if lab.id == "hemoglobin")
    loose = [iv.model_copy(update={"pregnancy": None}) for iv in hb.reference]
    labs = [
        lab.model_copy(update={"reference": loose}) if lab.id == "hemoglobin" else lab
        for lab in PACK.vocabulary.labs
    ]
    pack = PACK.model_copy(update={"vocabulary": PACK.vocabulary.model_copy(update={"labs": labs})})
    overlaps = [p for p in iter_problems(pack) if p[1] == "hemoglobin" and "give one patient two" in p[3]]
    assert overlaps, "removing the pregnancy split must make the female bands overlap"
    assert not [p for p in iter_problems(PACK) if "give one patient two" in p[3]]


def test_rules_show_says_which_pregnancy_state_each_band_is_for():
    result = CliRunner().invoke(cli, ["rules", "show", "hemoglobin"])
    assert result.exit_code == 0, result.output
    assert "female, age 15+, not pregnant: 12 to 15 g/dL" in result.stdout
    assert "female, age 10+, 2nd trimester: at least 10.5 g/dL" in result.stdout
    unstated = "1st trimester or 3rd trimester or pregnant, trimester not stated: at least 11 g/dL"
    assert unstated in result.stdout
