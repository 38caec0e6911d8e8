"""Unit spellings people and systems write, and the implausible-for-unit error that names the likely unit."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hemedx import load_case, load_pack
from hemedx.cli import cli
from hemedx.rules.units import count_exponent, probable_unit, to_canonical

from support.helpers import write_case

PACK = load_pack()
LABS = {lab.id: lab for lab in PACK.vocabulary.labs}


@pytest.mark.parametrize(
    ("lab", "value", "unit", "canonical"),
    [
        ("wbc", 3.2, "10*9/L", 3.2),
        ("wbc", 3.2, "10*3/uL", 3.2),
        ("wbc", 3.2, "10^3/µL", 3.2),
        ("wbc", 3.2, "10³/μL", 3.2),
        ("wbc", 3.2, "K/uL", 3.2),
        ("wbc", 3.2, "K/cumm", 3.2),
        ("wbc", 3.2, "x10^9/L", 3.2),
        ("wbc", 3.2, "×10⁹/L", 3.2),
        ("wbc", 3.2, "Gpt/L", 3.2),
        ("wbc", 3200, "cells/mcL", 3.2),
        ("wbc", 3200, "/mm3", 3.2),
        ("platelets", 1.2, "10^4/uL", 12.0),  # the Japanese convention
        ("platelets", 1.2, "x10^4/µL", 12.0),
        ("platelets", 1.2, "×10⁴/µL", 12.0),
        ("platelets", 120, "10*3/uL", 120.0),
        ("rbc", 4.5, "10*12/L", 4.5),
        ("rbc", 4.5, "10*6/uL", 4.5),
        ("rbc", 4.5, "M/uL", 4.5),
        ("rbc", 450, "x10^4/uL", 4.5),
        ("reticulocytes", 0.05, "10*6/uL", 50.0),
        ("reticulocytes", 50, "10*3/uL", 50.0),
        ("hemoglobin", 68, "g/L", 6.8),
        ("mchc", 330, "g/L", 33.0),
        ("bilirubin_indirect", 34.2, "umol/L", 2.0),
        ("bilirubin_total", 34.2, "µmol/L", 2.0),
        ("bilirubin_direct", 34.2, "μmol/L", 2.0),
        ("ldh", 5, "ukat/L", 300.0),
        ("ldh", 5, "µkat/L", 300.0),
        ("ldh", 300, "[IU]/L", 300.0),
        ("cold_agglutinin_titer", 512, "{titer}", 512.0),
        ("b12", 150, "pmol/L", 203.25),
        ("folate", 10, "mcg/L", 10.0),
        ("hematocrit", 0.3, "L/L", 30.0),
    ],
)
def test_unit_spellings(lab, value, unit, canonical):
    assert to_canonical(LABS[lab], value, unit) == pytest.approx(canonical, rel=1e-4)


def test_grams_per_litre_is_never_read_as_a_count_for_haemoglobin():
    assert count_exponent("g/dL") is None
    assert to_canonical(LABS["hemoglobin"], 68, "G/L") == pytest.approx(6.8)


def test_unknown_unit_names_what_is_accepted():
    with pytest.raises(ValueError, match=r"unknown unit 'furlongs' for ldh \(accepted: U/L, ukat/L\)"):
        to_canonical(LABS["ldh"], 5, "furlongs")


def test_probable_unit_for_an_anc_given_in_cells_per_microlitre():
    assert probable_unit(LABS["anc"], 250, "10*3/uL") == ("/uL", 0.25)


def test_units_in_a_case_file(tmp_path):
    labs = {"platelets": {"value": 1.2, "unit": "x10^4/uL"}, "wbc": {"value": 3.2, "unit": "10*3/uL"}}
    snap = load_case(write_case(tmp_path, [{"labs": labs}]), PACK).snapshot()
    assert snap.labs["platelets"] == 12.0 and snap.labs["wbc"] == 3.2


@pytest.mark.parametrize(
    ("entry", "parts"),
    [
        (
            {"value": 250, "unit": "10*3/uL"},
            ["stages[0].labs.anc", "implausible anc 250 10*3/uL", "probably /uL (= 0.25 10^9/L)"],
        ),
        (
            {"value": 45000, "unit": "10^9/L"},
            ["stages[0].labs.anc", "implausible anc 45000 10^9/L", "probably /uL (= 45 10^9/L)"],
        ),
    ],
)
def test_implausible_for_its_unit_names_the_probable_unit(tmp_path, entry, parts):
    path = write_case(tmp_path, [{"labs": {"anc": entry}}])
    result = CliRunner().invoke(cli, ["rank", str(path)])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line
    for part in parts:
        assert part in line
