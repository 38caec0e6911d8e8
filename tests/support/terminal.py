"""``hemedx`` on a real pty of a set size, for the tests where a terminal matters (keys, Ctrl-C, screens).

Every wait reads until a text appears (or the program ends), with a generous timeout: nothing waits a
fixed time in the hope that the program has got somewhere.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import pty
import select
import struct
import sys
import termios
import time


class Terminal:
    """``hemedx ARGS`` on a pty of its own (its controlling terminal, so ^C and ^D mean what they do).

    ``rows`` and ``cols`` size the pty before hemedx starts (a pty nobody sized says 0 by 0). Each key
    sent is remembered with where the output stood, so :meth:`screens` can cut the output into what
    the terminal showed between two key presses.
    """

    def __init__(self, *args: str, env: dict[str, str], rows: int | None = None, cols: int = 80) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: size its terminal, then run hemedx from this checkout
            if rows is not None:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(sys.executable, [sys.executable, "-m", "hemedx", *args], env)
        self.seen = b""
        self.pos = 0  # end of the last text waited for: later output may already sit in the same chunk
        self.presses: list[int] = []  # len(self.seen) at each key sent
        self.ended = False

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout`` seconds; False once the program has closed the terminal."""
        if self.ended:
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                self.ended = True
                return False
            self.seen += chunk
        return True

    def wait_for(self, text: str, timeout: float = 120) -> None:
        """Read until ``text`` appears after everything waited for before."""
        start = time.monotonic()
        while (found := self.seen.find(text.encode(), self.pos)) < 0:
            assert time.monotonic() - start < timeout, self.seen.decode(errors="replace")[-2000:]
            assert self._read(1), self.seen.decode(errors="replace")[-2000:]
        self.pos = found + len(text.encode())

    def wait_for_either(self, text: str, timeout: float = 120) -> bool:
        """Read until ``text`` appears after everything waited for before (True) or the program ends."""
        start = time.monotonic()
        while (found := self.seen.find(text.encode(), self.pos)) < 0:
            assert time.monotonic() - start < timeout, self.seen.decode(errors="replace")[-2000:]
            if not self._read(1):
                return False
        self.pos = found + len(text.encode())
        return True

    def quiet_for(self, seconds: float) -> bool:
        """Whether nothing more is shown for ``seconds`` and the program is still running (it waits)."""
        before = len(self.seen)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if not self._read(left):
                return False
        return len(self.seen) == before and os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def send(self, data: bytes) -> None:
        self.presses.append(len(self.seen))
        os.write(self.fd, data)

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        """Read to the end; the exit status and everything the terminal showed."""
        start = time.monotonic()
        while time.monotonic() - start < timeout and self._read(1):
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status), self.seen.decode(errors="replace")

    def screens(self) -> list[str]:
        """The output between one key press and the next (the first: up to the first key), as text."""
        cuts = [0, *self.presses, len(self.seen)]
        return [self.seen[a:b].decode(errors="replace") for a, b in itertools.pairwise(cuts)]
