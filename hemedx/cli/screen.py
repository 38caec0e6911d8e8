"""One screen at a time on a terminal: clear it, show a text, page what is taller, read one key.

The demo on a terminal shows each stage on a screen of its own (a projector shows no scroll-back), so
what it prints between two key presses must fit the terminal's height; :class:`Screen` pages anything
taller. Keys are read without Enter and without echo; a key typed ahead is kept, not flushed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

import click
from rich.console import Console
from rich.text import Text

QUIT_KEYS = frozenset({"q", "Q", "\x04"})  # q, or Ctrl-D (a byte like any other once Enter is not needed)
Key = Callable[[], str]
ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|O.)?")  # ESC, or an arrow or function key's sequence


class Quit(Exception):
    """``q`` or Ctrl-D at a screen's prompt: the learner stops the show there."""


class Screen:
    """A terminal ``rows`` lines high: each :meth:`show` clears it and fills at most that many lines."""

    def __init__(self, out: Console, rows: int, key: Key) -> None:
        self.out = out
        self.rows = rows
        self.key = key

    def show(self, text: str, prompt: str | None) -> str | None:
        """Clear, then show ``text`` a page at a time (a key per page), the last page ending in ``prompt``.

        Returns the key pressed at ``prompt`` (``None`` without a prompt); :class:`Quit` on q or Ctrl-D.
        """
        lines = text.strip("\n").split("\n")
        size = max(self.rows - 1, 1)  # one line for the prompt
        pages = [lines[i : i + size] for i in range(0, len(lines), size)]
        for number, page in enumerate(pages, 1):
            self.out.clear()
            self.out.file.write("\n".join(page) + "\n")  # already rendered, escape codes and all
            if number < len(pages):
                self.wait(f"[any key] more, page {number} of {len(pages)} · [q] quit")
        self.out.file.flush()
        return self.wait(prompt) if prompt is not None else None

    def wait(self, prompt: str) -> str:
        """Show ``prompt`` on the last line (cut to the width, so it stays one line) and read one key."""
        line = Text(prompt + " ", style="bold magenta")
        line.truncate(self.out.width - 1, overflow="ellipsis")
        self.out.print(line, end="", no_wrap=True, overflow="ellipsis")
        self.out.file.flush()
        key = self.key()
        if key in QUIT_KEYS:
            self.out.print()
            raise Quit
        return key


@contextmanager
def terminal_keys(stream: TextIO) -> Iterator[Key]:
    """Keys from the terminal on ``stream``, one at a time, for as long as the block runs.

    The terminal is in cbreak mode meanwhile (no line buffering, no echo; Ctrl-C still interrupts) and
    is set back however the block ends. Without termios (Windows) click reads each key.
    """
    try:
        import termios
        import tty
    except ImportError:  # pragma: no cover - not on the platforms the tests run on
        yield click.getchar
        return
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd, termios.TCSANOW)  # not TCSAFLUSH: a key pressed while a screen was drawn counts
    try:
        yield _KeyReader(fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class _KeyReader:
    """One key per call from a file descriptor; an escape sequence (an arrow key) counts as one key."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = ""

    def __call__(self) -> str:
        if not self.pending:
            chunk = os.read(self.fd, 64)
            if not chunk:  # the terminal went away: as Ctrl-D
                return "\x04"
            self.pending = chunk.decode(errors="replace")
        match = ESCAPE.match(self.pending)
        size = match.end() if match else 1
        key, self.pending = self.pending[:size], self.pending[size:]
        return key
