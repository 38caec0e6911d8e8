"""Options shared by several commands, each defined once, so every command spells them the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hemedx.rules import Pack, load_pack

F = Callable[..., Any]
Decorator = Callable[[F], F]


def path_option(flag: str, dest: str, metavar: str, help: str) -> Decorator:
    """An optional path (``--rules DIR`` and its kin): unset means the built-in one."""
    return click.option(flag, dest, type=click.Path(path_type=Path), default=None, metavar=metavar, help=help)


rules_option = path_option(  # ``--rules DIR``: use another pack (or an overlay of the default one)
    "--rules",
    "rules_dir",
    "DIR",
    "Rule pack folder to use instead of the built-in pack (or an overlay with 'extends: default').",
)
cases_option = path_option(  # ``--cases DIR``: a folder of case files instead of the built-in library
    "--cases", "cases_dir", "DIR", "Folder of case files to use instead of the built-in case library."
)
distributions_option = path_option(  # ``--distributions FILE``: default, the pack folder's
    "--distributions",
    "distributions_file",
    "FILE",
    "Generator distributions to use instead of the pack's distributions.yaml.",
)


def out_dir_option(help: str, *, required: bool = True, dest: str = "out_dir") -> Decorator:
    """``--out DIR``: the folder a command writes its files into (through :mod:`hemedx.outfiles`)."""
    folder = click.Path(path_type=Path, file_okay=False)
    return click.option("--out", dest, type=folder, required=required, default=None, metavar="DIR", help=help)


def out_file_option(help: str, *, required: bool = False, metavar: str | None = None) -> Decorator:
    """``--out FILE``: the one file a command writes (through :mod:`hemedx.outfiles`)."""
    file = click.Path(path_type=Path, dir_okay=False)
    return click.option(
        "--out", "out_file", type=file, required=required, default=None, metavar=metavar, help=help
    )


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


upto_option = click.option(
    "--upto",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Use only the first N stages of the case (what was known then).",
)


def case_view(f: F) -> F:
    """CASE with ``--rules``, ``--json`` and ``--uniform-priors``: what every view of one case takes."""
    for decorator in (uniform_option, json_option, rules_option, click.argument("case")):
        f = decorator(f)
    return f


def fail_under_option(top: float, metavar: str, help: str) -> Decorator:
    """``--fail-under``: the gate below which a run that worked still exits 1 (for CI)."""
    return click.option(
        "--fail-under", type=click.FloatRange(0, top), default=None, metavar=metavar, help=help
    )


def pack_from(rules_dir: Path | None) -> Pack:
    """Load the pack named by ``--rules`` (or the default pack)."""
    return load_pack(rules_dir)
