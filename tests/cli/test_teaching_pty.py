"""Ctrl-D and Ctrl-C at a real terminal (a pty): the quiz and walkthrough stop without showing the answer."""

from __future__ import annotations

import json
import os
import pty
import select
import sys
import time

import pytest

from hemedx.cases.library import case_code

from support.helpers import ROOT

CASE = "aa-severe-young-woman"
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


class Terminal:
    """``hemedx ARGS`` on a pty of its own (its controlling terminal, so ^C and ^D mean what they do)."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: run hemedx from this checkout
            os.execve(sys.executable, [sys.executable, "-m", "hemedx", *args], env)
        self.seen = b""
        self.pos = 0  # end of the last text waited for: later output may already sit in the same chunk

    def wait_for(self, text: str, timeout: float = 120) -> None:
        """Read until ``text`` appears after everything waited for before."""
        start = time.monotonic()
        while (found := self.seen.find(text.encode(), self.pos)) < 0:
            assert time.monotonic() - start < timeout, self.seen.decode(errors="replace")[-2000:]
            ready, _, _ = select.select([self.fd], [], [], 1)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                assert chunk, self.seen.decode(errors="replace")[-2000:]
                self.seen += chunk
        self.pos = found + len(text.encode())

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        """Read to the end; the exit status and everything the terminal showed."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            ready, _, _ = select.select([self.fd], [], [], 1)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                self.seen += chunk
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status), self.seen.decode(errors="replace")


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
