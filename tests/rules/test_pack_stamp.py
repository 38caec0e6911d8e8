"""Every output names the rule pack it came from (id, version, content hash), so a result can be traced."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from hemedx.cli import cli
from hemedx.cli.reference import command_reference
from hemedx.rules import load_pack

CASE = "aa-severe-young-woman"
PACK = load_pack()
LINE = f"Rule pack {PACK.info.id} {PACK.info.version} (content {PACK.digest})"


@pytest.mark.parametrize(
    "args",
    [
        ["rank", CASE],
        ["explain", CASE, "--top", "1"],
        ["explain", CASE, "--why-not", "itp"],
        ["rank", CASE, "--set", "splenomegaly=present"],
        ["walkthrough", CASE, "--auto"],
        ["demo", "--case", CASE, "--no-pause"],
        ["cases", "show", CASE],
    ],
)
def test_text_views_name_the_pack_under_the_notice(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2] == LINE, lines[:4]  # title, teaching-aid notice, then the pack


def test_quiz_names_the_pack_in_text_and_json():
    result = CliRunner().invoke(cli, ["quiz", CASE], input="itp\n")
    assert LINE in result.output
    result = CliRunner().invoke(cli, ["quiz", CASE, "--json"], input="itp\n")
    data = json.loads(result.output)
    assert data["pack"] == {"id": PACK.info.id, "version": PACK.info.version, "digest": PACK.digest}


def test_json_and_html_carry_the_same_stamp(tmp_path):
    stamp = {"id": PACK.info.id, "version": PACK.info.version, "digest": PACK.digest}
    rank = json.loads(CliRunner().invoke(cli, ["rank", CASE, "--json"]).output)
    walk = json.loads(CliRunner().invoke(cli, ["walkthrough", CASE, "--json"]).output)
    sheet = json.loads(CliRunner().invoke(cli, ["cases", "show", CASE, "--json"]).output)
    assert rank["pack"] == sheet["pack"] == stamp and all(stage["pack"] == stamp for stage in walk)
    out = tmp_path / "case.html"
    assert CliRunner().invoke(cli, ["present", CASE, "--out", str(out)]).exit_code == 0
    assert LINE in out.read_text() and 'id="pack"' in out.read_text()


def test_an_overlay_is_named_with_its_own_hash(tmp_path):
    (tmp_path / "pack.yaml").write_text('id: my_overlay\ntitle: My overlay\nversion: "7"\nextends: default\n')
    result = CliRunner().invoke(cli, ["rank", CASE, "--rules", str(tmp_path), "--json"])
    stamp = json.loads(result.output)["pack"]
    assert stamp["id"] == "my_overlay" and stamp["version"] == "7" and stamp["digest"] != PACK.digest
    text = CliRunner().invoke(cli, ["rank", CASE, "--rules", str(tmp_path)]).output
    assert f"Rule pack my_overlay 7 (content {stamp['digest']})" in text


def test_the_command_reference_lists_every_command_and_option():
    text = command_reference()
    runner = CliRunner()
    for path in (["rank"], ["explain"], ["quiz"], ["rules", "diff"], ["serve", "export"], ["cases", "new"]):
        assert f"`hemedx {' '.join(path)}`" in text
        options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", runner.invoke(cli, [*path, "--help"]).output))
        assert options and all(f"`{o}" in text or f" {o}" in text for o in options), (path, options)
