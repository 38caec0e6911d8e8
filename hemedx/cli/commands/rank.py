"""rank, explain and demo: evaluate a case and show the explained differential."""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from hemedx.cases.library import DEMO_CASE, resolve_case
from hemedx.cli import cli
from hemedx.cli.options import json_option, pack_from, rules_option, uniform_option
from hemedx.cli.render import console, differential_table, emit_json, header, render_explain, render_rank
from hemedx.engine import rank_case


@cli.command()
@click.argument("case")
@rules_option
@json_option
@uniform_option
def rank(case: str, rules_dir: Path | None, as_json: bool, uniform_priors: bool) -> None:
    """Rank the differential for CASE (a case file, or a library case id)."""
    pack = pack_from(rules_dir)
    report = rank_case(resolve_case(case, pack), pack, uniform_priors=uniform_priors)
    if as_json:
        emit_json(report)
    else:
        render_rank(report, console())


@cli.command()
@click.argument("case")
@rules_option
@json_option
@uniform_option
@click.option(
    "--top", default=3, show_default=True, type=click.IntRange(1, 50), help="How many diagnoses to explain."
)
def explain(case: str, rules_dir: Path | None, as_json: bool, uniform_priors: bool, top: int) -> None:
    """Explain the ranking for CASE: evidence for and against, criteria, unknowns, references."""
    pack = pack_from(rules_dir)
    report = rank_case(resolve_case(case, pack), pack, uniform_priors=uniform_priors)
    if as_json:
        emit_json(report)
    else:
        render_explain(report, console(), top=top)


@cli.command()
@rules_option
def demo(rules_dir: Path | None) -> None:
    """Walk through a built-in case stage by stage, as a teacher would project it."""
    pack = pack_from(rules_dir)
    case = resolve_case(DEMO_CASE, pack)
    out = console()
    previous: dict[str, float] | None = None
    for index, stage in enumerate(case.stages):
        report = rank_case(case, pack, upto=index)
        if index == 0:
            header(out, report)
            if case.presentation:
                out.print()
                out.print(case.presentation.strip())
        out.print()
        out.rule(Text(f"Stage {index + 1} of {len(case.stages)}: {stage.name}", style="bold"))
        revealed = [f"{k} {v}" for k, v in stage.findings.items()]
        revealed += [f"{k} {v:g}" for k, v in stage.labs.items()] + [
            f"{k} {v}" for k, v in stage.tests.items()
        ]
        out.print(Text("Revealed: " + ", ".join(revealed), style="cyan"))
        out.print(differential_table(report, limit=5, previous=previous))
        out.print(Text(report["summary"], style="bold" if report["supported"] else "bold yellow"))
        previous = {d["diagnosis"]: d["probability"] for d in report["differential"]}
    out.print()
    render_explain(rank_case(case, pack), out, top=1)
