"""`make demo` on a real terminal (an 80x24 pty): one stage per screen, a key moves on, d shows it all.

Issue 16's "Done when": "On a fresh clone, `make demo` on a terminal shows one stage per screen and
waits". Everything the demo shows between two key presses must fit the terminal.
"""

from __future__ import annotations

import os
import re
import sys

import pytest
from rich.cells import cell_len

from support.helpers import ROOT
from support.terminal import Terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
ROWS, COLS = 24, 80
PROMPT = "[any key]"
CLEAR = "\x1b[2J\x1b[H"  # what rich's Console.clear() sends: erase the screen, cursor home


@pytest.fixture
def env(tmp_path):
    """A terminal of its own size: no COLUMNS or LINES (the tests' own COLUMNS=1000 among them)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {
        **environ,
        "PYTHONPATH": str(ROOT),
        "HEMEDX_DATA_DIR": str(tmp_path),
        "NO_COLOR": "1",
        "TERM": "xterm",
    }


def demo(env: dict[str, str]) -> Terminal:
    return Terminal("demo", env=env, rows=ROWS, cols=COLS)


def lines_shown(screen: str) -> list[str]:
    """The lines a screen fills: the clear code dropped, the pty's CR LF read as one line end."""
    text = screen.replace(CLEAR, "").replace("\r\n", "\n")
    assert "\x1b" not in text and "\r" not in text, repr(text[:200])  # NO_COLOR: nothing else to skip
    return text.split("\n")


def since_last_key(term: Terminal) -> str:
    return term.seen[term.presses[-1] if term.presses else 0 :].decode(errors="replace")


def to_stage_card(term: Terminal, k: int) -> None:
    """From the start, a key per screen up to stage ``k``'s card (its prompt names what comes next)."""
    term.wait_for(f"{PROMPT} stage 1 of 4")  # the case's screen: title, presentation, legend
    for stage in range(1, k + 1):
        term.send(b" ")
        term.wait_for(f"Stage {stage} of 4: ")
        term.wait_for(f"{PROMPT} stage {stage + 1} of 4" if stage < 4 else f"{PROMPT} the answer")


def test_every_screen_between_two_keys_fits_the_terminal(env):
    term = demo(env)
    full_view = False
    while term.wait_for_either(PROMPT):
        shown = since_last_key(term)
        if not full_view and "Stage 2 of 4: Blood count" in shown:
            full_view = True
            term.send(b"d")  # the full stage too: paged, each page a screen
        else:
            term.send(b" ")
    code, out = term.finish()
    assert code == 0, out[-2000:]
    screens = term.screens()
    assert len(screens) >= 10  # the case, 4 stages, the full stage 2 in pages, the answer, the explanation
    for screen in screens:
        lines = lines_shown(screen)
        assert len(lines) <= ROWS, "\n".join(lines)
        assert max(cell_len(line) for line in lines) <= COLS, "\n".join(lines)
        assert sum(f"Stage {k} of 4: " in screen for k in range(1, 5)) <= 1  # one stage per screen
    cards = [s for s in screens if "Stage " in s and " of 4: " in s and "Revealed:" not in s]
    assert [next(k for k in range(1, 5) if f"Stage {k} of 4: " in s) for s in cards] == [1, 2, 3, 4]
    assert out.count("How to read the numbers") == 1  # the legend once, on the case's screen
    assert "Answer key: Aplastic anaemia" in out and "Criteria met" in out.split("Answer key")[1]


def press_and_finish(term: Terminal, key: bytes) -> tuple[int, str]:
    """Press ``key`` and wait for the demo to end: its exit status and everything it printed."""
    term.send(key)
    return term.finish()


def test_the_first_stage_card_appears_and_the_demo_waits(env):
    term = demo(env)
    to_stage_card(term, 1)
    card = since_last_key(term)
    assert "Present: Fatigue, Abnormal bleeding" in card  # packed, not one value a line
    assert "Next best test: Full blood count with reticulocytes" in card
    assert term.quiet_for(2)  # nothing more comes, and it is still running: it waits for a key
    code, out = press_and_finish(term, b"q")
    assert code == 0, out
    assert "Stopped; the answer was not shown." in out
    assert "Stage 2 of 4: " not in out and "Answer key" not in out


def test_d_shows_the_full_stage_then_the_same_prompt(env):
    term = demo(env)
    to_stage_card(term, 2)
    card = since_last_key(term)
    assert re.search(r"Anaemia (\[\d+\])+", card) and "Anaemia present ←" not in card  # no reasons
    term.send(b"d")
    pressed = len(term.presses)
    term.wait_for("Anaemia present ← patient: pregnancy none")  # the full stage's derived-finding line
    term.wait_for(f"{PROMPT} more, page 1 of ")
    while True:
        term.send(b" ")
        term.wait_for(PROMPT)
        if f"{PROMPT} stage 3 of 4 · [d] the full stage" in since_last_key(term):
            break
    full = term.seen[term.presses[pressed - 1] :].decode()
    assert "Next best test: Bone marrow aspirate and trephine\r\n   Bone marrow" in full  # as piped
    assert "References\r\n  [3] QuickTakes. What are the key changes" in full
    code, out = press_and_finish(term, b"q")
    assert code == 0 and "Answer key" not in out and "Stage 3 of 4: " not in out


@pytest.mark.parametrize("key", [b"q", b"\x04"], ids=["q", "ctrl-d"])
def test_q_and_ctrl_d_quit_without_the_answer(env, key):
    term = demo(env)
    to_stage_card(term, 2)
    code, out = press_and_finish(term, key)
    assert code == 0, out
    assert since_last_key(term).strip() == "Stopped; the answer was not shown."
    assert "Answer key" not in out and "Teaching points" not in out


def test_ctrl_c_quits_with_130_without_the_answer(env):
    term = demo(env)
    to_stage_card(term, 1)
    code, out = press_and_finish(term, b"\x03")
    assert code == 130, out
    assert "Interrupted; the answer was not shown." in out
    assert "Answer key" not in out and "Traceback" not in out


def test_a_key_typed_ahead_counts(env):
    """Two keys in one go move two screens: the demo never flushes what was typed while it drew."""
    term = demo(env)
    term.wait_for(f"{PROMPT} stage 1 of 4")
    term.send(b"  ")
    term.wait_for("Stage 2 of 4: ")
    term.wait_for(f"{PROMPT} stage 3 of 4")
    code, out = press_and_finish(term, b"q")
    assert code == 0 and "Answer key" not in out
