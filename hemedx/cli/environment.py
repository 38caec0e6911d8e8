"""The process's streams and terminal facts, read once where the command line starts and passed down.

Commands and renderers take what they need from an :class:`Environment` (the click context's object)
instead of reading ``sys.stdout``, ``isatty``, ``COLUMNS``, ``NO_COLOR`` or ``HEMEDX_DEBUG`` themselves,
so a test can build one with fake streams, a fixed width or a terminal that is not there.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TextIO

import click

PIPE_WIDTH = 80  # the width of piped output when COLUMNS does not say (what `fmt` and `less` assume)
MIN_WIDTH, MAX_WIDTH = 40, 1000
DEFAULT_ROWS = 24  # the height assumed when neither LINES nor the terminal says (a VT100's)
MIN_ROWS, MAX_ROWS = 5, 1000
DEBUG_VARIABLE = "HEMEDX_DEBUG"


@dataclass(frozen=True)
class Environment:
    """Where output goes and what the terminal is; every field a plain fact, so tests can set any one."""

    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    stdin_isatty: bool = False
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    columns: int | None = None  # COLUMNS when it is a sensible number (MIN_WIDTH..MAX_WIDTH)
    rows: int | None = None  # LINES, or the terminal's height, when sensible (MIN_ROWS..MAX_ROWS)
    colour: bool = True  # False when NO_COLOR is set, to any value
    debug: bool = False  # HEMEDX_DEBUG=1: an internal error also prints its traceback

    @classmethod
    def from_process(cls) -> Environment:
        """The real streams and variables of this process (called once, at the entry point)."""
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
            columns=_columns(os.environ.get("COLUMNS", "")),
            rows=_rows(os.environ.get("LINES", ""), sys.stdout),
            colour=not os.environ.get("NO_COLOR"),
            debug=os.environ.get(DEBUG_VARIABLE) == "1",
        )

    def stream(self, stderr: bool = False) -> TextIO:
        """stdout, or stderr for messages beside the output."""
        return self.stderr if stderr else self.stdout

    def isatty(self, stderr: bool = False) -> bool:
        """Whether that stream is a terminal."""
        return self.stderr_isatty if stderr else self.stdout_isatty

    def styled(self, stderr: bool = False) -> bool:
        """Escape codes only on a terminal, and never with NO_COLOR."""
        return self.isatty(stderr) and self.colour

    def width(self, stderr: bool = False) -> int | None:
        """COLUMNS when set; otherwise ``None`` on a terminal (ask it) or 80 for a pipe."""
        if self.columns is not None:
            return self.columns
        return None if self.isatty(stderr) else PIPE_WIDTH

    def height(self) -> int:
        """The screen's height in lines: what a one-screen view (the demo's stage card) must fit."""
        return self.rows if self.rows is not None else DEFAULT_ROWS

    @property
    def interactive(self) -> bool:
        """A person at a terminal on both ends: only then may a command wait for a key."""
        return self.stdin_isatty and self.stdout_isatty

    def echo(self, text: str, err: bool = False, nl: bool = True) -> None:
        """One message through click (which drops escape codes when the stream is not a terminal)."""
        click.echo(text, file=self.stream(err), nl=nl)


def _columns(text: str) -> int | None:
    """COLUMNS as a width, when it is a whole number in the range a terminal can have."""
    return _number(text, MIN_WIDTH, MAX_WIDTH)


def _rows(text: str, stream: TextIO | None) -> int | None:
    """LINES when it is a sensible height; otherwise the height of the terminal ``stream`` is on.

    A pty nobody sized reports 0 rows: that, like a pipe, is ``None`` (the default height then).
    """
    n = _number(text, MIN_ROWS, MAX_ROWS)
    if n is not None or not _isatty(stream):
        return n
    try:
        lines = os.get_terminal_size(stream.fileno()).lines  # type: ignore[union-attr]
    except (OSError, ValueError):
        return None
    return lines if MIN_ROWS <= lines <= MAX_ROWS else None


def _number(text: str, low: int, high: int) -> int | None:
    """A whole number from an environment variable, when it lies in ``low..high``."""
    try:
        n = int(text) if text.strip().isdigit() else None
    except ValueError:  # "²" is a digit to str.isdigit, not to int
        return None
    return n if n is not None and low <= n <= high else None


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed, or not a real file
        return False


pass_env = click.make_pass_decorator(Environment)
