"""The command reference as Markdown, read from the click command tree so it cannot drift from the CLI.

The documentation site builds its "Commands" page from :func:`command_reference` (``docs/_hooks.py``);
nothing here is hand-written per command.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from hemedx.cli.app import cli


def command_reference() -> str:
    """Every ``hemedx`` command and sub-command, with its usage, help text and options, as Markdown."""
    root = click.Context(cli, info_name="hemedx", **cli.context_settings)
    parts = [
        "# Commands",
        "",
        "Generated from the command line itself (`hemedx ... --help`) when the site is built; "
        "it lists every command and option of this version.",
        "",
    ]
    for ctx in _walk(root):
        parts.extend(_section(ctx))
    return "\n".join(parts).rstrip() + "\n"


def _walk(ctx: click.Context) -> Iterator[click.Context]:
    """``ctx`` and every command below it, depth first in name order."""
    yield ctx
    command = ctx.command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(click.Context(sub, info_name=name, parent=ctx))


def _section(ctx: click.Context) -> list[str]:
    command = ctx.command
    depth = min(ctx.command_path.count(" ") + 2, 4)
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [f"{'#' * depth} `{ctx.command_path}`", "", "```text", f"{ctx.command_path} {usage}", "```", ""]
    if command.help:
        lines += [_plain(click.unstyle(command.help)), ""]
    params = [p for p in command.get_params(ctx) if not isinstance(p, click.Argument)]
    rows = [record for p in params if (record := p.get_help_record(ctx)) is not None]
    if rows:
        lines += ["| Option | Meaning |", "|---|---|"]
        lines += [f"| `{_cell(opt)}` | {_cell(text)} |" for opt, text in rows]
        lines.append("")
    return lines


def _plain(text: str) -> str:
    """Click help text as Markdown paragraphs (click's no-rewrap blocks keep their line breaks)."""
    out = []
    for paragraph in text.strip().split("\n\n"):
        if paragraph.startswith("\b"):
            body = paragraph.lstrip("\b").strip("\n")
            out.append("```text\n" + body + "\n```")
        else:
            out.append(" ".join(line.strip() for line in paragraph.splitlines()))
    return "\n\n".join(out)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")
