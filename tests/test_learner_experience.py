"""What a learner or teacher sees first on the command line (issue 16): verdicts, labels and work-up order.

TEACHING AID ONLY - not for clinical use.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hemedx.cli import cli

DEMO = "aa-severe-young-woman"


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, *args, input=None):
    return runner.invoke(cli, list(args), input=input, env={"COLUMNS": "100"})


def test_history_alone_says_the_differential_waits_for_the_count_not_that_nothing_fits(runner):
    """Bleeding and petechiae before any count: 'nothing fits' would read as 'not a blood disease'."""
    result = run(runner, "rank", DEMO, "--upto", "1")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "Nothing in this differential fits" not in out
    assert "waits for the full blood count with reticulocytes" in out
    assert out.index("Too early to judge") < out.index("Diagnosis")  # the verdict before the table
    summary = json.loads(run(runner, "rank", DEMO, "--upto", "1", "--json").stdout)["summary"]
    assert summary.startswith("Too early to judge") and "full blood count" in summary


def test_demo_stage_one_waits_for_the_count_and_offers_the_count_first(runner):
    result = run(runner, "demo", "--no-pause")
    assert result.exit_code == 0, result.output
    stage1 = result.stdout.split("Stage 2 of")[0].split("Stage 1 of")[1]
    flat = " ".join(stage1.split())
    assert "waits for the full blood count" in flat and "Nothing in this differential fits" not in flat
    assert "Next best test: Full blood count with reticulocytes" in flat


def test_once_the_count_is_known_the_verdict_is_no_longer_too_early(runner):
    """A normal count is a result: the verdict then judges it (outside / nothing fits), never 'too early'."""
    first = " ".join(run(runner, "rank", "normal-fatigue-young-woman", "--upto", "1").stdout.split())
    after = " ".join(run(runner, "rank", "normal-fatigue-young-woman", "--upto", "2").stdout.split())
    assert "Too early to judge" in first
    assert "Too early" not in after and "point outside this differential" in after
