"""Vocabulary from published reports: bruising, purpura, breathlessness, pregnancy, DAT detail, morphology."""

from __future__ import annotations

from click.testing import CliRunner

from hemedx import get_engine, load_case, load_pack
from hemedx.cli import cli

from support.helpers import write_case

PACK = load_pack()


def test_report_findings_and_tests_load_and_rank(tmp_path):
    stages = [
        {
            "findings": {
                "bruising": "present",
                "purpura": "present",
                "ecchymoses": "absent",
                "breathlessness": "present",
                "weight_loss": "absent",
                "pregnancy": "absent",
                "polychromasia": "present",
                "target_cells": "absent",
                "nucleated_red_cells": "present",
            },
            "labs": {"hemoglobin": 6.9},
            "tests": {
                "dat": "igg",
                "dat_polyspecific": "positive",
                "dat_strength": "three_plus",
                "blast_immunophenotype": "monocytic",
            },
        }
    ]
    case = load_case(write_case(tmp_path, stages), PACK)
    snap = case.snapshot()
    assert snap.tests["dat"] == "igg" and snap.tests["dat_strength"] == "three_plus"
    ranking = get_engine(PACK).rank(snap)
    assert "interp.dat.positive" in ranking.fired_rules


def test_existing_dat_values_keep_working_and_new_values_are_checked(tmp_path):
    for value in ("negative", "igg", "c3d", "igg_c3d"):
        load_case(write_case(tmp_path, [{"tests": {"dat": value}}]), PACK)
    path = write_case(tmp_path, [{"tests": {"dat_strength": "5+"}}])
    result = CliRunner().invoke(cli, ["rank", str(path)])
    assert result.exit_code == 2 and "stages[0].tests.dat_strength" in result.stderr
    assert "weak, one_plus, two_plus, three_plus, four_plus" in result.stderr


def test_codes_only_where_verified():
    findings = {f.id: f for f in PACK.vocabulary.findings}
    assert findings["bruising"].hpo == "HP:0000978" and findings["purpura"].hpo == "HP:0000979"
    assert findings["ecchymoses"].hpo is None and findings["polychromasia"].hpo is None
    tests = {t.id: t for t in PACK.vocabulary.tests}
    assert tests["dat_polyspecific"].loinc == "1007-4"
    assert tests["dat"].loinc_parts == {"igg": "1006-6", "c3d": "1004-1"}
