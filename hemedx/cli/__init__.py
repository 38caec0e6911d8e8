"""The ``hemedx`` command line. The click group is :data:`hemedx.cli.app.cli` (also ``hemedx.cli.cli``).

This module stays light so that :func:`main` decides how a command starts: everything a command imports
and builds lives until the process ends, so the cyclic garbage collector is paused while it is imported
and those objects are then frozen (``gc.freeze``): no later collection scans them.
"""

from __future__ import annotations

from typing import Any


def main() -> None:
    """Console-script entry point: one command per process."""
    from hemedx.lifetime import freeze_long_lived, long_lived

    freeze_long_lived()  # the app's imports now, the command's (get_command), the pack and engine: frozen
    with long_lived():
        from hemedx.cli.app import cli
    cli(prog_name="hemedx")


def __getattr__(name: str) -> Any:
    """``hemedx.cli.cli``, imported on first use."""
    if name == "cli":
        from hemedx.cli.app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
