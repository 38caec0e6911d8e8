"""Ctrl-D and Ctrl-C at a real terminal (a pty): the quiz and walkthrough stop without showing the answer."""

from __future__ import annotations

import json
import os
import sys

import pytest

from hemedx.cases.library import case_code

from support.helpers import ROOT
from support.terminal import Terminal

CASE = "aa-severe-young-woman"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HEMEDX_DATA_DIR": str(tmp_path),
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }


def test_quiz_ctrl_d_quits_without_the_answer(env):
    term = Terminal("quiz", CASE, env=env)
    term.wait_for("Your differential")
    term.send(b"aa\n")
    term.wait_for("Your differential")
    term.send(b"\x04")
    code, out = term.finish()
    assert code == 0, out
    assert "Stopped at the end of input after 1 of 4 stages" in out
    assert "Answer key" not in out and "Teaching points" not in out and CASE not in out


def test_quiz_ctrl_c_saves_and_reports_the_score_so_far(env, tmp_path):
    term = Terminal("quiz", CASE, env=env)
    term.wait_for("Your differential")
    term.send(b"aa\n")
    term.wait_for("Your differential")
    term.send(b"\x03")
    code, out = term.finish()
    assert code == 130, out
    assert "Interrupted after 1 of 4 stages:" in out and "points so far" in out
    assert "Answer key" not in out and "Traceback" not in out
    saved = [json.loads(line) for line in (tmp_path / "quiz-history.jsonl").read_text().splitlines()]
    assert [(r["status"], r["stages_done"], r["case"]) for r in saved] == [
        ("interrupted", 1, case_code(CASE))
    ]


def test_quiz_empty_enter_asks_again_on_a_terminal(env):
    term = Terminal("quiz", CASE, env=env)
    term.wait_for("Your differential")
    term.send(b"\n")
    term.wait_for("Type at least one diagnosis")
    term.wait_for("Your differential")
    term.send(b"\x04")
    code, out = term.finish()
    assert code == 0 and "after 0 of 4 stages" in out and "Stage score" not in out


def test_walkthrough_ctrl_d_quits_without_the_answer(env):
    term = Terminal("walkthrough", CASE, env=env)
    term.wait_for("reveal stage 1")
    term.send(b"\n")
    term.wait_for("Your leading diagnosis?")
    term.send(b"\x04")
    code, out = term.finish()
    assert code == 0, out
    assert "the answer was not shown" in out and "Answer key" not in out and CASE not in out
