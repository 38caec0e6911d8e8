"""The command line as a user meets it: output, exit codes, colour rules, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hemedx.cli import cli

from support.helpers import MINI_PACK, write_case

HEMEDX = str(Path(sys.executable).parent / "hemedx")


@pytest.fixture
def runner():
    return CliRunner()


def test_help_lists_the_commands(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("rank", "explain", "demo"):
        assert command in result.stdout
    assert "Not for clinical use" in result.stdout


@pytest.mark.parametrize("command", ["rank", "explain", "demo"])
def test_every_command_has_help(runner, command):
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_rank_text_shows_table_verdict_and_disclaimer(runner):
    result = runner.invoke(cli, ["rank", "aa-severe-young-woman"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "not for clinical use" in out
    first_row = next(line for line in out.splitlines() if line.lstrip().startswith("1 "))
    assert "Aplastic anaemia" in first_row and "Severe" in first_row and "met" in first_row
    assert "Most probable: Aplastic anaemia (severe)" in out
    assert "\x1b[" not in out  # no colour when not a terminal


def test_rank_json_matches_the_library_api(runner):
    from hemedx import load_pack, rank_case
    from hemedx.cases.library import resolve_case

    result = runner.invoke(cli, ["rank", "aa-severe-young-woman", "--json"])
    pack = load_pack()
    assert json.loads(result.stdout) == rank_case(resolve_case("aa-severe-young-woman", pack), pack)


def test_explain_lists_reasons_with_citations_and_references(runner):
    result = runner.invoke(cli, ["explain", "aa-severe-young-woman"])
    assert result.exit_code == 0
    out = result.stdout
    assert "For:" in out and "Against:" in out and "References" in out
    assert "Criteria met:" in out
    reasons = [line for line in out.splitlines() if line.strip().startswith(("+ ", "− "))]
    assert reasons and all("[" in line for line in reasons)  # every reason line carries a citation
    assert "[1] " in out


def test_rank_with_a_user_pack(runner, tmp_path):
    case = write_case(tmp_path, [{"labs": {"hemoglobin": 6.8, "anc": 0.3, "platelets": 11}}])
    result = runner.invoke(cli, ["rank", str(case), "--rules", str(MINI_PACK), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pack"]["id"] == "mini" and report["differential"][0]["diagnosis"] == "aplastic_anemia"


def test_uniform_priors_flag(runner):
    default = json.loads(runner.invoke(cli, ["rank", "itp-young-woman-petechiae", "--json"]).stdout)
    uniform = json.loads(
        runner.invoke(cli, ["rank", "itp-young-woman-petechiae", "--json", "--uniform-priors"]).stdout
    )
    assert uniform["priors"] == "uniform" and default["priors"] == "pack"
    n = len(uniform["differential"])  # fourteen diagnoses and the open-world hypothesis
    assert n == 15
    assert [d["prior"] for d in uniform["differential"]] == pytest.approx([1 / n] * n, abs=1e-6)


def test_demo_walks_every_stage(runner):
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for i in range(1, 5):
        assert f"Stage {i} of 4" in out
    assert "▲" in out and "▼" in out  # the differential moves between stages
    assert "References" in out


def test_unknown_case_id_suggests_the_nearest(runner):
    result = runner.invoke(cli, ["rank", "aa-severe-young-women"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "hemedx: error: 'aa-severe-young-women' is neither a case file nor a library case id "
        "(did you mean 'aa-severe-young-woman'?)"
    )


def test_bad_option_is_a_usage_error(runner):
    result = runner.invoke(cli, ["rank", "--nope"])
    assert result.exit_code == 2


def test_real_process_no_colour_when_no_color_set(tmp_path):
    env = {**os.environ, "NO_COLOR": "1"}
    run = subprocess.run([HEMEDX, "rank", "aa-severe-young-woman"], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "\x1b[" not in run.stdout


def test_real_process_bad_input_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x-1\ntitle: t\npatient: {age: 30, sex: female}\nstages:\n  - name: s\n    labs: {hemoglobn: 6}\n"
    )
    run = subprocess.run([HEMEDX, "rank", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "bad.yaml:6" in run.stderr and "stages[0].labs.hemoglobn" in run.stderr
    assert "did you mean 'hemoglobin'?" in run.stderr
