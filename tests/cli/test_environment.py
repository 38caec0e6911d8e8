"""The CLI's environment object: built once from the process, or by a test with fake streams and facts.

Every renderer and command writes where the :class:`Environment` says, at its width, styled only when it
says a terminal is there and colour is allowed; nothing reads ``sys.stdout``, COLUMNS or NO_COLOR itself.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
from dataclasses import replace

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from hemedx.cases.library import resolve_case
from hemedx.cli import cli
from hemedx.cli.environment import DEFAULT_ROWS, PIPE_WIDTH, Environment
from hemedx.cli.render import console, render_explain, render_rank
from hemedx.engine import rank_case
from hemedx.rules import load_pack

CASE = "aml-hypocellular-older-man"  # the longest diagnosis and subtype names in the table
ESC = "\x1b["


def fake(**facts: object) -> Environment:
    """An environment of in-memory streams; ``facts`` override the terminal facts."""
    env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    return replace(env, **facts)  # type: ignore[arg-type]


def written(env: Environment, stderr: bool = False) -> str:
    stream = env.stream(stderr)
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


@pytest.fixture(scope="module")
def report() -> dict:
    pack = load_pack()
    return rank_case(resolve_case(CASE, pack), pack)


def test_from_process_reads_columns_no_color_and_debug(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("NO_COLOR", "")
    monkeypatch.setenv("HEMEDX_DEBUG", "1")
    env = Environment.from_process()
    assert (env.columns, env.colour, env.debug) == (60, True, True)  # an empty NO_COLOR is not set
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("HEMEDX_DEBUG", "yes")
    for nonsense in ("10", "5000", "wide", ""):
        monkeypatch.setenv("COLUMNS", nonsense)
        env = Environment.from_process()
        assert (env.columns, env.colour, env.debug) == (None, False, False), nonsense


def test_width_is_columns_else_the_terminal_else_80_for_a_pipe():
    assert fake(columns=60).width() == 60
    assert fake(columns=60, stdout_isatty=True).width() == 60
    assert fake().width() == PIPE_WIDTH
    assert fake(stdout_isatty=True).width() is None  # rich asks the terminal
    assert fake(stderr_isatty=True).width(stderr=True) is None and fake(stderr_isatty=True).width() == 80


def test_rank_at_60_columns_on_a_pipe_fits_and_keeps_every_name(report):
    env = fake(columns=60)
    render_rank(report, console(env))
    text = written(env)
    assert ESC not in text and written(env, stderr=True) == ""
    assert max(cell_len(line) for line in text.splitlines()) <= 60
    for d in report["differential"]:
        for word in d["label"].split():
            assert word in text, word  # wrapped at spaces, never cut
    assert "Probability" not in text  # at 60 columns the bars go and the heading shortens
    assert "Prob." in text


def test_rank_at_120_columns_draws_bars(report):
    env = fake(columns=120)
    render_rank(report, console(env))
    text = written(env)
    assert "Probability" in text and "█" in text
    assert max(cell_len(line) for line in text.splitlines()) <= 120


def test_a_terminal_gets_styles_and_no_color_takes_every_escape_away(report):
    coloured = fake(columns=100, stdout_isatty=True)
    render_rank(report, console(coloured))
    assert ESC in written(coloured)
    plain = fake(columns=100, stdout_isatty=True, colour=False)  # NO_COLOR on a terminal
    render_rank(report, console(plain))
    assert ESC not in written(plain)
    assert re.sub(r"\x1b\[[0-9;]*m", "", written(coloured)) == written(plain)  # the same text, unstyled


def test_a_listing_on_a_pipe_keeps_one_line_per_item():
    env = fake(columns=40)
    long_line = "file.yaml:1:1: HX201 " + "a long message " * 10
    console(env, listing=True).print(long_line)
    assert written(env) == long_line + "\n"
    prose = fake(columns=40)
    console(prose).print(long_line)
    assert len(written(prose).splitlines()) > 1


def test_stderr_console_uses_the_stderr_facts(report):
    env = fake(columns=100, stderr_isatty=True)  # a terminal on stderr, stdout piped
    console(env, stderr=True).print("warning", style="bold")
    render_explain(report, console(env), top=1)
    assert ESC in written(env, stderr=True) and ESC not in written(env)


def test_a_command_writes_to_the_environment_it_is_given():
    env = fake(columns=60)
    result = CliRunner().invoke(cli, ["rank", CASE], obj=env)
    assert result.exit_code == 0 and result.stdout == ""  # nothing went to the process's stdout
    text = written(env)
    assert "Acute leukaemia" in text and "hemedx explain" in text
    assert max(cell_len(line) for line in text.splitlines()) <= 60


def test_json_goes_to_the_environment_s_stdout_byte_identical():
    env = fake(columns=60, stdout_isatty=True)  # JSON is the same on a terminal, at any width
    assert CliRunner().invoke(cli, ["rank", CASE, "--json"], obj=env).exit_code == 0
    process = CliRunner().invoke(cli, ["rank", CASE, "--json"])
    assert written(env) == process.stdout
    assert json.loads(written(env))["case"] == CASE


def test_bad_input_is_one_line_on_the_environment_s_stderr():
    env = fake()
    result = CliRunner().invoke(cli, ["rank", "no-such-case"], obj=env)
    assert result.exit_code == 2 and result.stderr == ""
    lines = written(env, stderr=True).splitlines()
    assert len(lines) == 1 and lines[0].startswith("hemedx: error: ") and "no-such-case" in lines[0]


def test_an_internal_error_shows_its_traceback_only_when_the_environment_says_debug(monkeypatch):
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("hemedx.cli.options.load_pack", broken)
    quiet, debug = fake(), fake(debug=True)
    assert CliRunner().invoke(cli, ["rank", CASE], obj=quiet).exit_code == 3
    assert CliRunner().invoke(cli, ["rank", CASE], obj=debug).exit_code == 3
    (line,) = written(quiet, stderr=True).splitlines()
    assert line.startswith("hemedx: internal error, please report it") and "RuntimeError: boom" in line
    assert "Traceback (most recent call last)" in written(debug, stderr=True)
    assert written(debug, stderr=True).splitlines()[-1] == line


def test_the_walkthrough_reads_answers_from_the_environment_s_stdin():
    env = fake(stdin=io.StringIO("\nAML\n"))  # reveal stage 1, name a diagnosis, then end of input
    result = CliRunner().invoke(cli, ["walkthrough", CASE], obj=env)
    assert result.exit_code == 0, written(env, stderr=True)
    text = written(env)
    assert "Stage 1 of" in text and "Stage 2 of" not in text
    assert "You: Acute leukaemia, which the engine ranks 2nd" in text  # the guess, compared
    assert "Stopped at the end of input; the answer was not shown." in text
    assert "Answer key" not in text


def test_the_demo_waits_only_when_the_environment_is_interactive():
    assert fake(stdin_isatty=True, stdout_isatty=True).interactive
    assert not fake(stdin_isatty=True).interactive and not fake(stdout_isatty=True).interactive
    env = fake(columns=100)  # piped: runs straight through, never asks for a key
    result = CliRunner().invoke(cli, ["demo", "--case", "aa-severe-young-woman"], obj=env)
    assert result.exit_code == 0 and "[any key]" not in written(env) and "Stage 4 of 4" in written(env)


def test_a_columns_that_is_a_digit_but_no_number_is_ignored(monkeypatch):
    monkeypatch.setenv("COLUMNS", "²")  # str.isdigit says yes, int says no: read at the entry, never fatal
    assert Environment.from_process().columns is None


def test_rows_come_from_lines_or_the_default(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # no terminal to ask, even under pytest -s
    monkeypatch.setenv("LINES", "30")
    assert Environment.from_process().rows == 30 and Environment.from_process().height() == 30
    for bad in ("abc", "2", "0", ""):
        monkeypatch.setenv("LINES", bad)
        env = Environment.from_process()
        assert env.rows is None and env.height() == DEFAULT_ROWS == 24


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_without_lines_the_rows_are_the_terminal_s(monkeypatch):
    import fcntl
    import struct
    import termios

    primary, secondary = os.openpty()
    try:
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 90, 0, 0))
        with os.fdopen(os.dup(secondary), "w") as tty_out:
            monkeypatch.setattr(sys, "stdout", tty_out)
            monkeypatch.delenv("LINES", raising=False)
            assert Environment.from_process().rows == 33
            monkeypatch.setenv("LINES", "28")  # LINES says first, as COLUMNS does for the width
            assert Environment.from_process().rows == 28
            fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
            monkeypatch.delenv("LINES")
            assert Environment.from_process().rows is None  # a pty nobody sized: the default
    finally:
        os.close(primary)
        os.close(secondary)
