"""cases new (a scaffold that validates, never overwritten) and cases check (schema, vocabulary, sense)."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from hemedx import load_case, load_pack
from hemedx.cases.library import library_files
from hemedx.cli import cli

from support.helpers import write_case

PACK = load_pack()


@pytest.fixture
def runner():
    return CliRunner()


def test_new_writes_a_scaffold_that_checks_clean_and_lists_the_vocabulary(runner, tmp_path):
    path = tmp_path / "my-case.yaml"
    result = runner.invoke(cli, ["cases", "new", "my-case", "--out", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    for section in (
        "id: my-case",
        "patient:",
        "presentation:",
        "stages:",
        "findings:",
        "labs:",
        "tests:",
        "# answer:",
        "# teaching_points:",
        "# difficulty:",
        "# tags:",
    ):
        assert section in text
    for vocabulary_id in (
        "petechiae",
        "haptoglobin (mg/dL)",
        "dat: negative | igg | c3d | igg_c3d",
        "aplastic_anemia",
    ):
        assert vocabulary_id in text
    assert all(len(line) <= 110 for line in text.splitlines())
    assert load_case(path, PACK).id == "my-case"
    assert runner.invoke(cli, ["cases", "check", str(path)]).exit_code == 0


@pytest.mark.parametrize("stated", ["trimester: 2", "gestation_weeks: 20"])
def test_the_scaffold_says_how_to_state_a_pregnancy_and_that_form_checks_clean(runner, tmp_path, stated):
    path = tmp_path / "pregnant.yaml"
    assert runner.invoke(cli, ["cases", "new", "pregnant", "--out", str(path)]).exit_code == 0
    text = path.read_text()
    hint = re.search(r"#\s+pregnant\? add (pregnant: true), trimester: 2 .*gestation_weeks: 20", text)
    assert hint is not None and "haemoglobin limit" in text
    text = text.replace(
        "patient: {age: 40, sex: female}", f"patient: {{age: 40, sex: female, {hint[1]}, {stated}}}"
    )
    path.write_text(text)
    assert load_case(path, PACK).snapshot().pregnancy == "trimester_2"  # the limit for the second trimester
    assert runner.invoke(cli, ["cases", "check", str(path)]).exit_code == 0


def test_new_defaults_to_id_yaml_and_never_overwrites_without_force(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "abc.yaml"
    assert runner.invoke(cli, ["cases", "new", "abc"]).exit_code == 0
    path.write_text("mine\n")
    result = runner.invoke(cli, ["cases", "new", "abc"])
    assert result.exit_code == 2 and "abc.yaml: already exists (pass --force" in result.stderr
    assert path.read_text() == "mine\n"
    assert runner.invoke(cli, ["cases", "new", "abc", "--force"]).exit_code == 0
    assert yaml.safe_load(path.read_text())["id"] == "abc"


def test_new_rejects_an_id_that_is_not_a_slug(runner, tmp_path):
    result = runner.invoke(cli, ["cases", "new", "My Case", "--out", str(tmp_path / "x.yaml")])
    assert result.exit_code == 2 and "is not a slug" in result.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_check_is_clean_on_every_library_case(runner):
    result = runner.invoke(cli, ["cases", "check", *map(str, library_files())])
    assert result.exit_code == 0, result.stdout
    assert f"{len(library_files())} of {len(library_files())} case file(s) clean" in result.stderr


def test_check_reports_an_observed_finding_the_labs_contradict(runner, tmp_path):
    labs = {"hemoglobin": 13.5, "wbc": 6.0, "anc": 3.5, "platelets": 250}
    path = write_case(tmp_path, [{"findings": {"pancytopenia": "present"}, "labs": labs}])
    result = runner.invoke(cli, ["cases", "check", str(path)])
    assert result.exit_code == 1
    assert result.stdout.strip() == (
        f"{path}: stages[0].findings.pancytopenia: observed present, but the case's own values say absent"
        " (syn.pancytopenia.absent: One normal line rules out pancytopenia)"
    )


def test_check_reports_lab_conflicts_and_subsets_larger_than_the_count(runner, tmp_path):
    stages = [
        {"labs": {"wbc": 6.0, "anc": 3.5, "lymphocytes": 4.0}},
        {"labs": {"wbc": 10.0, "neutrophils_percent": 60, "anc": 1.0}},
    ]
    result = runner.invoke(cli, ["cases", "check", str(write_case(tmp_path, stages)), "--json"])
    assert result.exit_code == 1
    [entry] = json.loads(result.stdout)
    assert entry["ok"] is False
    assert any("stages[0].labs: anc 3.5 + lymphocytes 4 exceeds wbc 6" in p for p in entry["problems"])
    assert any(
        "stages[1].labs: measured anc 1 disagrees with the derived value" in p for p in entry["problems"]
    )


def test_check_reports_schema_and_vocabulary_errors_per_file_and_goes_on(runner, tmp_path):
    bad = write_case(tmp_path, [{"labs": {"hemoglobn": 9}}], name="bad.yaml")
    good = write_case(tmp_path, [{"labs": {"hemoglobin": 9}}], name="good.yaml")
    result = runner.invoke(cli, ["cases", "check", str(bad), str(good), str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "bad.yaml:9:5: stages[0].labs.hemoglobn" in lines[0] and "did you mean 'hemoglobin'?" in lines[0]
    assert "none.yaml: no such case file" in lines[1]
    assert "1 of 3 case file(s) clean" in result.stderr
