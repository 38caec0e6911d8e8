"""Issue 16's "Done when", each literally as a user meets it: real pipes, make, fed input.

The pty items are elsewhere: the demo, one stage per screen, in tests/cli/test_demo_screens.py; NO_COLOR on
a terminal in tests/cli/test_cli_layout.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hemedx.cases.library import library_path
from hemedx.cli import cli

HEMEDX = str(Path(sys.executable).parent / "hemedx")
ROOT = Path(__file__).resolve().parents[2]
CASE = "aa-severe-young-woman"


@pytest.mark.parametrize(
    ("args", "first"),
    [(["rank", CASE], "Petechiae and bleeding gums"), (["rank", CASE, "--json"], "{")],
    ids=["text", "json"],
)
def test_rank_into_head_one_exits_0_through_a_real_pipe(args, first):
    """`hemedx rank X | head -1`: head closes the pipe after one line; hemedx still exits 0, silently.

    The JSON (about 400 KB) outgrows the pipe's buffer, so hemedx really writes into a closed pipe.
    """
    rank = subprocess.Popen([HEMEDX, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.run(["head", "-1"], stdin=rank.stdout, capture_output=True, text=True, timeout=120)
    assert rank.stdout is not None
    rank.stdout.close()
    _, err = rank.communicate(timeout=120)
    assert head.returncode == 0 and head.stdout.startswith(first)
    assert rank.returncode == 0 and err == b""


def test_rank_json_upto_1_ranks_the_first_stage_only(tmp_path):
    """--upto 1 ranks exactly what a case holding only its first stage ranks, and less than the whole."""
    runner = CliRunner()
    upto = json.loads(runner.invoke(cli, ["rank", CASE, "--json", "--upto", "1"]).stdout)
    data = yaml.safe_load((library_path() / f"{CASE}.yaml").read_text())
    data["stages"] = data["stages"][:1]
    first = tmp_path / "first.yaml"
    first.write_text(yaml.safe_dump(data, sort_keys=False))
    alone = json.loads(runner.invoke(cli, ["rank", str(first), "--json"]).stdout)
    full = json.loads(runner.invoke(cli, ["rank", CASE, "--json"]).stdout)
    assert upto["stage"] == {"index": 0, "name": "History and examination", "of": 4}
    assert upto["differential"] == alone["differential"] and upto["findings"] == alone["findings"]
    assert upto["differential"] != full["differential"]
    shown = {f["finding"] for f in upto["findings"]}
    assert "thrombocytopenia" not in shown and "hypocellular_marrow" not in shown  # later stages' findings


def test_quiz_header_names_no_case_id():
    case = "aml-hypocellular-older-man"
    result = CliRunner().invoke(cli, ["quiz", case], input="")
    assert result.exit_code == 0, result.output
    assert case not in result.output and "aml" not in result.stdout.splitlines()[0].lower()
    assert result.stdout.startswith("Pancytopenia with an empty-looking trephine in a 74-year-old")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_runs_the_pausing_demo():
    """`make demo` is `hemedx demo` without --no-pause: on a terminal it waits (the pty test shows how)."""
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert dry.returncode == 0, dry.stderr
    last = dry.stdout.strip().splitlines()[-1]
    assert last.endswith("/hemedx demo") and "--no-pause" not in dry.stdout
