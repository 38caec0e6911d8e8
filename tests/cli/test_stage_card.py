"""The demo's stage card and screen, without a terminal: a fake Environment of a fixed size.

Every stage of every library case must fit one screen at 80x24 and 120x40 (the prompt takes the last
line), cite with the full stage's numbers, and keep alerts and the verdict above the table.
"""

from __future__ import annotations

import io
import os
import re
import sys

import pytest
from rich.cells import cell_len

from hemedx.cases.library import load_library, resolve_case
from hemedx.cli.card import FITS, short_labels, stage_card
from hemedx.cli.commands.teach import full_stage
from hemedx.cli.environment import Environment
from hemedx.cli.render import console
from hemedx.cli.screen import Quit, Screen, terminal_keys
from hemedx.engine.walkthrough import walkthrough
from hemedx.rules.loader import load_pack

SIZES = [(80, 24), (120, 40)]


def terminal(columns: int, rows: int) -> Environment:
    """A fake environment of that size (piped streams: no escape codes to count around)."""
    return Environment(
        stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), columns=columns, rows=rows
    )


@pytest.fixture(scope="module")
def pack():
    return load_pack()


@pytest.fixture(scope="module")
def stages(pack) -> list[tuple[str, dict]]:
    """(case id, stage) for every stage of every library case."""
    return [(case.id, stage) for case in load_library(pack) for stage in walkthrough(case, pack)]


@pytest.mark.parametrize(("columns", "rows"), SIZES, ids=[f"{c}x{r}" for c, r in SIZES])
def test_every_library_stage_fits_one_screen(stages, pack, columns, rows):
    out = console(terminal(columns, rows))
    short = short_labels(pack)
    assert len(stages) > 200  # the whole library, not a sample
    for case_id, stage in stages:
        lines = stage_card(out, stage, rows, short).splitlines()
        where = f"{case_id} stage {stage['index'] + 1} at {columns}x{rows}:\n" + "\n".join(lines)
        assert len(lines) <= rows - 1, where  # the prompt is the screen's last line
        assert max(cell_len(line) for line in lines) <= columns, where
        assert lines[0].count("─") > 10 and f"Stage {stage['index'] + 1} of {stage['of']}: " in lines[0]


def test_the_card_cites_with_the_full_stage_s_numbers(stages):
    """A number on the card names the same source as in the full view (d): a subset of its marks."""
    out = console(terminal(80, 24))
    short: dict[str, str] = {}
    for case_id, stage in stages[:40]:
        card = stage_card(out, stage, 24, short)
        with out.capture() as full:
            full_stage(out, stage)
        cited = set(re.findall(r"\[(\d+)[]:]", card))  # [29] on the card; [29: Table 1] in full
        assert cited <= set(re.findall(r"\[(\d+)[]:]", full.get())), case_id


def test_alerts_and_the_verdict_come_before_the_table(pack):
    """An emergency alert, the verdict, then the table: at every fit, as the full stage has it."""
    case = resolve_case("dic-sepsis-older-man", pack)
    stage = walkthrough(case, pack)[1]
    assert stage["alerts"], "this stage raises an alert"
    out = console(terminal(80, 24))
    for rows in (60, 24, 16):  # roomy (full alerts), tight (short), tighter (brief)
        card = stage_card(out, stage, rows, short_labels(pack))
        alert, verdict, table = (
            card.index("EMERGENCY: "),
            card.index(stage["summary"][:30]),
            card.index("#  Diagnosis"),
        )
        assert alert < verdict < table, card


def test_a_small_screen_gets_the_tighter_card(stages, pack):
    """At 80x24 the default case's blood count is packed and shows the top 3; at 120x40 the top 5."""
    stage = next(s for case_id, s in stages if case_id == "aa-severe-young-woman" and s["index"] == 1)
    short = short_labels(pack)
    small = stage_card(console(terminal(80, 24)), stage, 24, short)
    large = stage_card(console(terminal(120, 40)), stage, 40, short)
    assert "Results: Hb 6.8 g/dL, WBC 1.90 10^9/L" in small and "Haemoglobin: 6.8" not in small
    assert "\n4  " not in small and "\n5  Disseminated intravascular coagulation" in large
    assert re.search(r"Derived, present:\n  Anaemia (\[\d+\])+\n", large)  # one line each when there is room
    assert len(FITS) > 1 and FITS[0].top == 5


def keys(*pressed: str):
    it = iter(pressed)
    return lambda: next(it)


def test_the_screen_pages_what_is_taller_than_the_terminal():
    env = terminal(80, 10)
    out = console(env)
    text = "".join(f"line {i}\n" for i in range(1, 21))  # 20 lines on a 10-line screen: 3 pages
    assert Screen(out, 10, keys(" ", " ", "n")).show(text, "[any key] next") == "n"
    shown = env.stdout.getvalue()
    assert shown.count("[any key] more, page") == 2 and shown.endswith("[any key] next ")
    first = shown.split("[any key] more, page 1 of 3")[0]
    assert first.count("\n") == 9 and "line 9\n" in first and "line 10" not in first  # 9 + the prompt


@pytest.mark.parametrize("key", ["q", "Q", "\x04"])
def test_q_or_ctrl_d_at_any_prompt_quits(key):
    out = console(terminal(80, 10))
    with pytest.raises(Quit):
        Screen(out, 10, keys(key)).show("a\nb\n", "[any key] next")
    with pytest.raises(Quit):  # on a page's prompt too
        Screen(out, 10, keys(" ", key)).show("x\n" * 30, "[any key] next")


def test_a_prompt_stays_one_line_on_a_narrow_screen():
    env = terminal(40, 10)
    Screen(console(env), 10, keys(" ")).show("a\n", "[any key] stage 2 of 4 · [d] the full stage · [q] quit")
    prompt = env.stdout.getvalue().split("\n")[-1]
    assert cell_len(prompt) < 40 and prompt.startswith("[any key] stage 2 of 4") and prompt.endswith("…")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_terminal_keys_read_one_key_at_a_time_and_restore_the_terminal():
    import termios

    primary, secondary = os.openpty()
    try:
        with os.fdopen(os.dup(secondary), "r") as tty_in:
            before = termios.tcgetattr(secondary)
            with terminal_keys(tty_in) as key:
                assert not termios.tcgetattr(secondary)[3] & (termios.ICANON | termios.ECHO)
                os.write(primary, b"ab\x1b[Aq")  # typed ahead in one go: kept, not flushed
                assert [key(), key(), key(), key()] == ["a", "b", "\x1b[A", "q"]  # an arrow: one key
            assert termios.tcgetattr(secondary) == before
    finally:
        os.close(primary)
        os.close(secondary)
