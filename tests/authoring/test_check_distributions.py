"""``rules check`` validates the generator's distributions.yaml like the other pack files: located, coded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hemedx.authoring.lints import check_pack
from hemedx.cases.generator import load_distributions
from hemedx.cli import cli
from hemedx.errors import InputError
from hemedx.rules import default_pack_path, load_pack

from support.helpers import MINI_PACK

ITP = """\
version: 1
diagnoses:
  itp:
    slug: itp
    basis: teaching_estimate
    labs:
      platelets: {uniform: [1, 5], done: 1}
"""


def _overlay(tmp_path, distributions: str):
    folder = tmp_path / "overlay"
    folder.mkdir(parents=True)
    (folder / "pack.yaml").write_text('id: mine\ntitle: Mine\nversion: "1"\nextends: default\n')
    (folder / "distributions.yaml").write_text(distributions)
    return folder


def _check(folder):
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(folder), "--json"])
    return result.exit_code, json.loads(result.output)["issues"]


def test_the_default_distributions_check_clean():
    assert check_pack().issues == []


def test_a_valid_overlay_distributions_file_checks_clean(tmp_path):
    assert check_pack(_overlay(tmp_path, ITP)).issues == []


def test_an_unknown_lab_in_an_overlay_is_an_error_at_its_line(tmp_path):
    folder = _overlay(tmp_path, ITP.replace("platelets:", "platelet:"))
    status, issues = _check(folder)
    assert status == 1
    assert [(i["code"], i["severity"], i["file"], i["line"]) for i in issues] == [
        ("HX101", "error", str(folder / "distributions.yaml"), 7)
    ]
    assert "unknown lab 'platelet'" in issues[0]["message"]
    assert issues[0]["suggestion"] == "did you mean 'platelets'?"


def test_an_unknown_diagnosis_source_and_schema_error_have_their_own_codes(tmp_path):
    cases = {
        ITP.replace("  itp:", "  itpp:"): ("HX101", 3, "unknown diagnosis 'itpp'"),
        ITP.replace("basis: teaching_estimate", "basis: teaching_estimate\n    cites: [no_such_source]"): (
            "HX102",
            6,
            "unknown source 'no_such_source'",
        ),
        ITP.replace("slug: itp", "slug: itp\n    colour: blue"): ("HX001", 5, "unknown field 'colour'"),
        ITP.replace("basis: teaching_estimate", "basis: published"): ("HX103", 7, "no cites"),
    }
    for i, (text, (code, line, words)) in enumerate(cases.items()):
        status, issues = _check(_overlay(tmp_path / str(i), text))
        assert status == 1, text
        assert [(x["code"], x["line"]) for x in issues] == [(code, line)], (text, issues)
        assert words in issues[0]["message"]


def test_a_whole_pack_with_its_own_broken_file_is_checked_in_that_file(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(default_pack_path(), pack)
    path = pack / "distributions.yaml"
    text = path.read_text()
    assert "\n  itp:\n" in text
    path.write_text(text.replace("\n  itp:\n", "\n  itp_unknown:\n", 1))
    line = path.read_text().splitlines().index("  itp_unknown:") + 1
    status, issues = _check(pack)
    assert status == 1
    assert [(i["code"], i["file"], i["line"]) for i in issues] == [("HX101", str(path), line)]
    assert "unknown diagnosis 'itp_unknown'" in issues[0]["message"]


def test_the_text_report_names_the_file_line_and_code(tmp_path):
    folder = _overlay(tmp_path, ITP.replace("platelets:", "platelet:"))
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(folder)])
    assert result.exit_code == 1
    assert f"{folder / 'distributions.yaml'}:7:" in result.output and "HX101" in result.output


def test_a_pack_of_its_own_without_the_file_has_nothing_to_check(tmp_path):
    assert not (MINI_PACK / "distributions.yaml").exists()
    assert check_pack(MINI_PACK).issues == []


def test_a_pack_edit_that_breaks_only_the_distributions_fails_check_and_generate(tmp_path):
    """The pack still loads, but generate would refuse it: rules check says so, at the distributions line."""
    pack = tmp_path / "pack"
    shutil.copytree(default_pack_path(), pack)
    vocabulary = yaml.safe_load((pack / "vocabulary.yaml").read_text())
    hb = next(lab for lab in vocabulary["labs"] if lab["id"] == "hemoglobin")
    hb.pop("alternative_units")
    (pack / "vocabulary.yaml").write_text(yaml.safe_dump(vocabulary, sort_keys=False, allow_unicode=True))
    loaded = load_pack(pack)  # the rules run as before
    with pytest.raises(InputError, match="is not an alternative unit of hemoglobin"):
        load_distributions(loaded, folder=pack)
    status, issues = _check(pack)
    assert status == 1
    assert [(i["code"], Path(i["file"]).name) for i in issues] == [("HX101", "distributions.yaml")]
    assert "'g/L' is not an alternative unit of hemoglobin" in issues[0]["message"]
