"""A minimal overlay (extends: default, nothing else) is the default pack under another name."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hemedx import get_engine, load_pack
from hemedx.cases.library import load_library
from hemedx.cli import cli

DEFAULT = load_pack()


def _minimal_overlay(tmp_path):
    folder = tmp_path / "overlay"
    folder.mkdir()
    (folder / "pack.yaml").write_text('id: my_overlay\ntitle: My overlay\nversion: "1"\nextends: default\n')
    return folder


def test_a_minimal_overlay_checks_clean(tmp_path):
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(_minimal_overlay(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.output


def test_a_minimal_overlay_keeps_the_default_parameters(tmp_path):
    overlay = load_pack(_minimal_overlay(tmp_path))
    assert overlay.info.id == "my_overlay"
    assert overlay.info.parameters == DEFAULT.info.parameters


def test_an_overlay_parameter_replaces_the_default_one(tmp_path):
    folder = _minimal_overlay(tmp_path)
    base = DEFAULT.info.parameters["saa_reticulocyte_cutoff"]
    (folder / "pack.yaml").write_text(
        (folder / "pack.yaml").read_text()
        + "parameters:\n  saa_reticulocyte_cutoff:\n    value: 20\n    unit: 10^9/L\n"
        + "    description: Manual counts (older modified Camitta criteria).\n"
        + f"    cites: [{{source: {base.cites[0].source}}}]\n"
    )
    overlay = load_pack(folder)
    assert overlay.info.parameters["saa_reticulocyte_cutoff"].value == 20
    assert set(overlay.info.parameters) == set(DEFAULT.info.parameters)


def test_a_minimal_overlay_ranks_every_library_case_exactly_as_the_default(tmp_path):
    overlay = load_pack(_minimal_overlay(tmp_path))
    mine, default = get_engine(overlay), get_engine(DEFAULT)
    for case in load_library(DEFAULT):
        for stage in range(len(case.stages)):
            a, b = mine.rank(case.snapshot(stage)), default.rank(case.snapshot(stage))
            assert [(d.id, d.probability, d.subtype, d.criteria_met) for d in a.differential] == [
                (d.id, d.probability, d.subtype, d.criteria_met) for d in b.differential
            ], (case.id, stage)
            assert a.fired_rules == b.fired_rules and a.supported == b.supported


def test_rank_json_differs_only_in_the_pack_identity(tmp_path):
    folder = str(_minimal_overlay(tmp_path))
    runner = CliRunner()
    plain = json.loads(runner.invoke(cli, ["rank", "aa-severe-young-woman", "--json"]).stdout)
    over = json.loads(
        runner.invoke(cli, ["rank", "aa-severe-young-woman", "--json", "--rules", folder]).stdout
    )
    assert over.pop("pack")["id"] == "my_overlay"
    plain.pop("pack")
    assert over == plain


def test_rules_check_refuses_an_overlay_lab_that_reuses_a_finding_id_as_load_pack_does(tmp_path):
    import pytest

    from hemedx.errors import InputError

    folder = _minimal_overlay(tmp_path)
    (folder / "vocabulary.yaml").write_text(
        "findings: []\ntests: []\nlabs:\n  - id: fever\n    label: Temperature\n    category: chemistry\n"
        "    unit: C\n    plausible: {min: 30, max: 45}\n"
    )
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(folder)])
    assert result.exit_code == 1
    assert "'fever' is defined twice in the vocabulary" in result.output
    with pytest.raises(InputError, match="defined twice"):
        load_pack(folder)


def test_extends_default_alone_is_a_valid_overlay_named_after_its_folder(tmp_path):
    folder = tmp_path / "My Pack-2"
    folder.mkdir()
    (folder / "pack.yaml").write_text("extends: default\n")
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(folder)])
    assert result.exit_code == 0, result.output
    assert "All checks passed: pack 'my_pack_2'" in result.output
    info = load_pack(folder).info
    assert (info.id, info.version) == ("my_pack_2", DEFAULT.info.version)
    assert info.title == f"{DEFAULT.info.title} (overlay My Pack-2)"
    assert info.parameters == DEFAULT.info.parameters
    case = load_library(DEFAULT)[0]
    assert get_engine(load_pack(folder)).rank(case.snapshot()).supported == (
        get_engine(DEFAULT).rank(case.snapshot()).supported
    )


def test_a_mistake_in_an_overlay_pack_yaml_is_the_only_issue_reported(tmp_path):
    folder = tmp_path / "overlay"
    folder.mkdir()
    (folder / "pack.yaml").write_text("extends: default\nbogus: 1\n")
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(folder)])
    assert result.exit_code == 1
    assert "pack.yaml:2:1: HX001 bogus: unknown field 'bogus'" in result.output
    assert "a pack needs a" not in result.output  # the default pack provides those files
    assert "Found 1 issue" in result.output


def test_a_pack_that_extends_nothing_still_needs_its_identity(tmp_path):
    folder = tmp_path / "standalone"
    folder.mkdir()
    (folder / "pack.yaml").write_text("title: Alone\n")
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(folder)])
    assert result.exit_code == 1
    assert "pack.yaml:1:1: HX001 missing required field 'id'" in result.output
