"""Objects that live as long as the process, made without the cyclic garbage collector scanning them.

Apart from :mod:`hemedx.rules.kb` (which re-exports both) so the command line can use it before it
imports any command: the modules a command imports are long-lived too.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_freeze = False  # set by the command line: one command per process, so little garbage can be pinned


def freeze_long_lived() -> None:
    """From now on, freeze what :func:`long_lived` builds (the command line's choice, not a library's).

    Frozen objects are skipped by every later collection (reference counting still frees them), but a
    garbage cycle alive at the moment of freezing is never collected, so a long test session or an
    embedding application keeps Python's default behaviour.
    """
    global _freeze
    _freeze = True


@contextmanager
def long_lived() -> Iterator[None]:
    """Build something kept for the rest of the process without the cyclic garbage collector scanning it.

    A pack and what is derived from it are tens of thousands of objects that live as long as the process;
    a full collection scans them all (one during the engine build was a quarter of it). The collector
    pauses while they are made and, once :func:`freeze_long_lived` was called, what is alive then is
    frozen (``gc.freeze``), which took a cold ``hemedx rank --json`` from 0.34-0.38 to 0.24-0.27 s CPU.
    The collector is never left off.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            if _freeze:
                gc.freeze()
            gc.enable()
