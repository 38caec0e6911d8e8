"""Options shared by several commands, so every command spells them the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hemedx.rules import Pack, load_pack

F = Callable[..., Any]


def rules_option(f: F) -> F:
    """``--rules DIR``: use another pack (or an overlay of the default one)."""
    return click.option(
        "--rules",
        "rules_dir",
        type=click.Path(path_type=Path),
        default=None,
        metavar="DIR",
        help="Rule pack folder to use instead of the built-in pack (or an overlay with 'extends: default').",
    )(f)


def json_option(f: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(f)


def uniform_option(f: F) -> F:
    """``--uniform-priors``: every diagnosis starts equally likely (classroom use)."""
    return click.option(
        "--uniform-priors",
        is_flag=True,
        help="Start every diagnosis equally likely instead of using the pack's priors.",
    )(f)


def force_option(f: F) -> F:
    """``--force``: an ``--out`` may replace files that exist (never without it)."""
    return click.option(
        "--force", is_flag=True, help="Replace output files that already exist (kept otherwise)."
    )(f)


def pack_from(rules_dir: Path | None) -> Pack:
    """Load the pack named by ``--rules`` (or the default pack)."""
    return load_pack(rules_dir)
