"""vocab: the ids a case file, ``--set`` or a quiz answer may use, found by id, label or synonym."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hemedx.cli.app import cli
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import json_option, pack_from, rules_option
from hemedx.cli.render import console, emit_json
from hemedx.errors import InputError
from hemedx.rules.model import Finding, Lab, Test
from hemedx.rules.vocab import Entry, describe, every_name, search
from hemedx.suggest import did_you_mean

TITLES = {"findings": "Findings", "labs": "Labs", "tests": "Tests", "diagnoses": "Diagnoses"}


@cli.command()
@click.argument("text", required=False)
@rules_option
@json_option
@pass_env
def vocab(env: Environment, text: str | None, rules_dir: Path | None, as_json: bool) -> None:
    """List findings, labs, tests and diagnoses whose id, label or synonym contains TEXT (all without TEXT).

    Labs show their canonical unit and the other units a case may use; tests their allowed values.
    Matching ignores case: 'hemedx vocab plate' finds platelets, 'hemedx vocab hgb' haemoglobin.
    """
    pack = pack_from(rules_dir)
    query = text.strip() if text is not None else None
    found = search(pack, query or None)
    if query and not any(found.values()):
        names = every_name(pack)
        hint = did_you_mean(query, set(names.values()), names)
        raise InputError(f"vocab: nothing matches '{query}'", hint=hint or "run 'hemedx vocab' to list all")
    if as_json:
        groups = {group: [describe(e) for e in items] for group, items in found.items()}
        emit_json({"query": query or None, **groups}, env.stdout)
        return
    out = console(env)
    for group, items in found.items():
        if items:
            _group(out, TITLES[group], items)


def _group(out: Console, title: str, items: list[Entry]) -> None:
    out.print(Text(f"{title} ({len(items)})", style="bold"))
    table = Table(show_edge=False, box=None, pad_edge=False, padding=(0, 1), show_header=False)
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("name", ratio=3)
    table.add_column("detail", ratio=2)
    for entry in items:
        name = Text(entry.label)
        if entry.synonyms:
            name.append(f"\nalso: {', '.join(entry.synonyms)}", style="dim")
        table.add_row(entry.id, name, _detail(entry))
    out.print(table)
    out.print()


def _detail(entry: Entry) -> str:
    """What a case may say about it: a lab's units, a test's values, whether a finding is given or derived."""
    item = entry.item
    if isinstance(item, Lab):
        others = [*item.unit_aliases, *(alt.unit for alt in item.alternative_units)]
        return item.unit + (f" (also {', '.join(others)})" if others else "")
    if isinstance(item, Test):
        return "values: " + ", ".join(item.values)
    if isinstance(item, Finding):
        return item.category if item.observable else "derived (worked out, not given)"
    return entry.short or ""
