"""The ``hemedx`` command line. The click group is :data:`hemedx.cli.app.cli` (also ``hemedx.cli.cli``).

This module stays light so that :func:`main` decides how a command starts: everything a command imports
and builds lives until the process ends, so the cyclic garbage collector is paused while it is imported
and those objects are then frozen (``gc.freeze``): no later collection scans them.
"""

from __future__ import annotations

import gc
import sys
from typing import Any


def main() -> None:
    """Console-script entry point: one command per process."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        from hemedx.cli.app import cli, preload
        from hemedx.rules.kb import freeze_long_lived

        preload(sys.argv[1:])
        freeze_long_lived()  # the pack and engine, once built, are frozen too
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    cli(prog_name="hemedx")


def __getattr__(name: str) -> Any:
    """``hemedx.cli.cli``, imported on first use."""
    if name == "cli":
        from hemedx.cli.app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
