"""Derived labs: absolute counts from percentages, indirect bilirubin, absolute reticulocytes; conflicts."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hemedx import get_engine, load_case, load_pack
from hemedx.cases.derive import derive_labs
from hemedx.cli import cli

from support.helpers import write_case

PACK = load_pack()


@pytest.mark.parametrize(
    ("measured", "lab", "value", "text"),
    [
        ({"wbc": 2.0, "neutrophils_percent": 20}, "anc", 0.4, "anc 0.4 = wbc 2 × neutrophils 20 % / 100"),
        (
            {"wbc": 2.0, "neutrophils_percent": 20, "bands_percent": 5},
            "anc",
            0.5,
            "anc 0.5 = wbc 2 × (neutrophils 20 % + bands 5 %) / 100",
        ),
        ({"wbc": 8.0, "lymphocytes_percent": 25}, "lymphocytes", 2.0, "lymphocytes 2 = wbc 8 × 25 % / 100"),
        (
            {"bilirubin_total": 3.1, "bilirubin_direct": 0.4},
            "bilirubin_indirect",
            2.7,
            "bilirubin_indirect 2.7 = bilirubin_total 3.1 − bilirubin_direct 0.4",
        ),
        (
            {"reticulocytes_percent": 8, "rbc": 2.5},
            "reticulocytes",
            200.0,
            "reticulocytes 200 = reticulocytes_percent 8 × rbc 2.5 × 10",
        ),
    ],
)
def test_each_derivation(measured, lab, value, text):
    result = derive_labs(measured)
    assert result.values[lab] == pytest.approx(value)
    assert result.arithmetic[lab] == text
    assert result.conflicts == ()


def test_a_measured_value_is_kept_and_a_close_one_is_no_conflict():
    result = derive_labs({"wbc": 2.0, "neutrophils_percent": 20, "anc": 0.45})
    assert "anc" not in result.values and result.conflicts == ()


def test_a_measured_value_far_from_the_derived_one_is_a_conflict():
    result = derive_labs({"wbc": 10.0, "neutrophils_percent": 60, "anc": 1.0})
    assert "anc" not in result.values
    assert result.conflicts == (
        "measured anc 1 disagrees with the derived value (anc 6 = wbc 10 × neutrophils 60 % / 100)",
    )


def test_direct_above_total_is_reported_not_derived():
    result = derive_labs({"bilirubin_total": 0.5, "bilirubin_direct": 0.9})
    assert result.values == {} and "negative" in result.conflicts[0]


def test_missing_or_censored_inputs_derive_nothing():
    assert derive_labs({"wbc": 2.0}).values == {}
    assert derive_labs({"wbc": 2.0, "neutrophils_percent": 20}, {"anc"}).values == {}


def test_derived_labs_drive_the_rules_and_show_in_json_and_explain(tmp_path):
    labs = {
        "hemoglobin": 7.0,
        "wbc": 2.0,
        "neutrophils_percent": 20,
        "platelets": 30,
        "reticulocytes_percent": 0.2,
        "rbc": 2.5,
        "bilirubin_total": {"value": 34, "unit": "umol/L"},
        "bilirubin_direct": {"value": 5, "unit": "umol/L"},
    }
    path = write_case(tmp_path, [{"labs": labs}])
    case = load_case(path, PACK)
    snap = case.snapshot()
    assert snap.labs["anc"] == pytest.approx(0.4) and snap.labs["reticulocytes"] == pytest.approx(5.0)
    assert snap.labs["bilirubin_indirect"] == pytest.approx((34 - 5) * 0.05848)
    fired = set(get_engine(PACK).rank(snap).fired_rules)
    assert {"interp.anc.low", "interp.bilirubin_indirect.high"} <= fired
    runner = CliRunner()
    report = json.loads(runner.invoke(cli, ["rank", str(path), "--json"]).stdout)
    anc = next(lab for lab in report["labs"] if lab["lab"] == "anc")
    assert anc["origin"] == "derived" and anc["arithmetic"].startswith("anc 0.4 = wbc 2")
    neutropenia = next(f for f in report["findings"] if f["finding"] == "neutropenia")
    assert any("(derived)" in b for b in neutropenia["because"])
    text = runner.invoke(cli, ["explain", str(path)]).stdout
    assert "Derived labs" in text and "reticulocytes 5 = reticulocytes_percent 0.2 × rbc 2.5 × 10" in text


def test_conflict_is_shown_in_explain(tmp_path):
    path = write_case(tmp_path, [{"labs": {"wbc": 10.0, "neutrophils_percent": 60, "anc": 1.0}}])
    result = CliRunner().invoke(cli, ["explain", str(path)])
    assert "Conflict: measured anc 1 disagrees with the derived value" in result.stdout


def test_what_if_rederives_from_the_changed_input(tmp_path):
    path = write_case(tmp_path, [{"labs": {"wbc": 2.0, "neutrophils_percent": 20}}])
    snap = load_case(path, PACK).snapshot()
    changed = snap.with_changes(labs={"neutrophils_percent": 80.0})
    assert changed.labs["anc"] == pytest.approx(1.6)


@pytest.mark.parametrize(
    ("lab", "entry", "where"),
    [
        ("reticulocytes", {"value": 0.4, "unit": "%"}, "give it as 'reticulocytes_percent' with 'rbc'"),
        ("anc", {"value": 20, "unit": "%"}, "give it as 'neutrophils_percent' with 'wbc'"),
    ],
)
def test_a_percentage_under_an_absolute_count_names_the_lab_it_belongs_to(tmp_path, lab, entry, where):
    # case reports give reticulocytes and the differential as percentages; the error says where they go
    path = write_case(tmp_path, [{"labs": {lab: entry}}])
    result = CliRunner().invoke(cli, ["rank", str(path)])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"stages[0].labs.{lab}.unit: unknown unit '%'" in line and where in line
