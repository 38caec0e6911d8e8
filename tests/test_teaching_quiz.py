"""Quiz: reading answers, the hand-computable scoring rule, and a whole quiz fed through stdin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hemedx import load_pack
from hemedx.cli import cli
from hemedx.engine.quiz import answer_bonus, match_diagnosis, parse_answer, score_stage, total

ENGINE = [
    "aplastic_anemia",
    "acute_leukemia",
    "mds",
    "pnh",
    "megaloblastic_anemia",
    "aiha",
    "evans_syndrome",
    "hereditary_spherocytosis",
    "itp",
]


@pytest.fixture(scope="module")
def pack():
    return load_pack()


@pytest.mark.parametrize(
    ("picks", "points"),
    [
        (["aplastic_anemia", "acute_leukemia", "mds"], 9),  # 3 + 3 + 3, the engine's order
        (["mds", "aplastic_anemia"], 3),  # MDS 1st vs 3rd: 3-2 = 1; AA 2nd vs 1st: 3-1 = 2
        (["acute_leukemia", "aplastic_anemia"], 4),  # 3-1 + 3-1
        (["itp"], 0),  # 1st vs 9th: max(0, 3-8) = 0
        ([], 0),
    ],
)
def test_stage_score_by_hand(picks, points):
    result = score_stage(picks, ENGINE)
    assert result["points"] == points
    assert result["max"] == 9


def test_stage_score_worked_example_three_picks():
    # PNH: yours 1st, engine 4th -> max(0, 3-3) = 0; MDS: 2nd vs 3rd -> 2; AA: 3rd vs 1st -> 1; total 3
    result = score_stage(["pnh", "mds", "aplastic_anemia"], ENGINE)
    assert [r["points"] for r in result["picks"]] == [0, 2, 1]
    assert result["points"] == 3


def test_answer_bonus_and_total():
    assert answer_bonus(["aiha", "evans_syndrome"], "aiha") == 3
    assert answer_bonus(["evans_syndrome", "aiha"], "aiha") == 1
    assert answer_bonus(["itp"], "aiha") == 0
    assert answer_bonus(["itp"], None) == 0
    assert total([9, 3, 4, 9], 3, True) == {"points": 28, "max": 39, "percent": 71.8}
    assert total([9, 9], 0, False) == {"points": 18, "max": 18, "percent": 100.0}


def test_reading_answers(pack):
    shown = [d.id for d in pack.diagnoses]
    assert match_diagnosis("2", pack, shown).diagnosis == shown[1]
    assert match_diagnosis("AA", pack, shown).diagnosis == "aplastic_anemia"
    assert match_diagnosis("aml", pack, shown).diagnosis == "acute_leukemia"
    assert match_diagnosis("Immune thrombocytopenia", pack, shown).diagnosis == "itp"
    typo = match_diagnosis("aplstic anemia", pack, shown)
    assert (typo.diagnosis, typo.how) == ("aplastic_anemia", "nearest")
    assert match_diagnosis("zebra", pack, shown).diagnosis is None
    picks, matches = parse_answer("1, aml; 1 > mds, itp", pack, shown)
    assert picks == [shown[0], "acute_leukemia", "mds"]  # duplicate dropped, at most three
    assert len(matches) == 5


def test_quiz_fed_through_stdin_scores_as_computed_by_hand(pack):
    runner = CliRunner()
    stages = json.loads(runner.invoke(cli, ["walkthrough", "aa-severe-young-woman", "--json"]).stdout)
    answers = ["aa, aml", "2, 1", "aplstic anaemia, zebra", "aplastic_anemia", "aplastic anaemia, mds, aml"]
    # stage 3's answer has an unknown part, so it is asked again (the 4th line answers stage 3).
    result = runner.invoke(cli, ["quiz", "aa-severe-young-woman"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    picks = [
        ["aplastic_anemia", "acute_leukemia"],
        ["acute_leukemia", "aplastic_anemia"],
        ["aplastic_anemia"],
        ["aplastic_anemia", "mds", "acute_leukemia"],
    ]
    points = [
        score_stage(p, [d["diagnosis"] for d in s["differential"]])["points"]
        for p, s in zip(picks, stages, strict=True)
    ]
    expected = total(points, 3, True)
    out = result.stdout
    assert "read 'aplstic anaemia' as Aplastic anaemia" in out
    assert "'zebra' is not in the list" in out
    assert f"Score: {' + '.join(map(str, points))} + 3 = {expected['points']} of 39" in out
    assert "Teaching points" in out


def test_quiz_random_seed_is_reproducible():
    runner = CliRunner()
    a = runner.invoke(cli, ["quiz", "--random", "--seed", "7"], input="")
    b = runner.invoke(cli, ["quiz", "--random", "--seed", "7"], input="")
    assert a.exit_code == 0, a.output
    assert a.stdout.splitlines()[0] == b.stdout.splitlines()[0]
    bad = runner.invoke(cli, ["quiz", "aa-severe-young-woman", "--random"])
    assert bad.exit_code == 2


def test_quiz_ctrl_d_reports_the_score_so_far_without_the_answer():
    result = CliRunner().invoke(cli, ["quiz", "aa-severe-young-woman"], input="aplastic anaemia\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Stage score:" in out and "Stage 2 of 4" in out  # one stage scored, the second asked
    stage_points = int(out.split("Stage score: ")[1].split()[0])
    assert f"Stopped at the end of input after 1 of 4 stages: {stage_points} of 9 points so far" in out
    assert "Answer key" not in out and "Teaching points" not in out


def test_quiz_ctrl_c_reports_the_score_so_far_and_exits_130():
    """A real process: SIGINT while the quiz waits for the second stage's answer."""
    hemedx = str(Path(sys.executable).parent / "hemedx")
    proc = subprocess.Popen(
        [hemedx, "quiz", "aa-severe-young-woman"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        proc.stdin.write(b"aplastic anaemia\n")
        proc.stdin.flush()
        seen = b""
        while b"Your differential" not in seen.partition(b"Stage 2 of 4")[2]:
            chunk = os.read(proc.stdout.fileno(), 4096)
            assert chunk, seen
            seen += chunk
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    out, err = (seen + rest).decode(), err.decode()
    assert proc.returncode == 130, err
    assert "Interrupted after 1 of 4 stages:" in out and "points so far" in out
    assert "Answer key" not in out and "Traceback" not in err
