"""``hemedx rules ...``: check, test, coverage, diff, docs, show, schema, new and path for rule authors.

Thin: options are parsed here and the results of :mod:`hemedx.authoring` rendered; no domain logic.
Each command imports the authoring module it runs, so ``rules check`` does not load the test runner,
the differ or a Markdown renderer.
Exit status 0 clean, 1 when the work ran and found problems (issues, failures, coverage below the gate),
2 for input that cannot be read (handled by the group, one line on stderr).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hemedx.authoring.lints import check_pack
from hemedx.cli.app import cli
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import (
    cases_option,
    fail_under_option,
    force_option,
    json_option,
    out_dir_option,
    out_file_option,
    pack_from,
    rules_option,
)
from hemedx.cli.render import console, emit_json, pct
from hemedx.cli.status import ExitStatus
from hemedx.errors import InputError
from hemedx.rules import default_pack_path, load_pack
from hemedx.rules.model import RULE_KINDS
from hemedx.safetext import terminal_text

_SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow"}
# hemedx.authoring.schema.SCHEMAS's names (a test keeps them equal): the schema models are imported only by
# ``rules schema``, not by every rules command.
SCHEMA_NAMES = ("rule-file", "pack", "vocabulary", "sources", "diagnoses", "investigations", "case")


@cli.group()
def rules() -> None:
    """Write and review rule packs: check, test, coverage, diff, docs, schema, new."""


@rules.command()
@rules_option
@json_option
@click.option("--ignore", multiple=True, metavar="CODE", help="Skip a lint code (repeatable), e.g. HX302.")
@pass_env
@click.pass_context
def check(
    ctx: click.Context, env: Environment, rules_dir: Path | None, as_json: bool, ignore: tuple[str, ...]
) -> None:
    """Schema errors and lints of a pack, each with a code at file:line:col."""
    try:
        result = check_pack(rules_dir, {c.upper() for c in ignore})
    except InputError as exc:
        if not as_json:
            raise
        # An editor or CI job reading --json gets JSON even when a file is not YAML at all (exit 2 still).
        error = {"message": str(exc), "file": exc.file, "line": exc.line, "column": exc.column}
        emit_json({"error": error}, env.stdout)
        ctx.exit(ExitStatus.BAD_INPUT)
    if as_json:
        emit_json(result.as_dict(), env.stdout)
    else:
        out = console(env, listing=True)
        for issue in result.issues:
            line = Text(f"{issue.location()}: ")
            line.append(issue.code, style=_SEVERITY_STYLE[issue.info.severity])
            line.append(f" {issue.message}")
            if issue.suggestion:
                line.append(f" ({issue.suggestion})", style="cyan")
            out.print(line)
        out.print(Text(result.summary(), style="bold" if result.issues else "bold green"))
    ctx.exit(ExitStatus.FINDINGS if result.issues else ExitStatus.OK)


@rules.command()
@rules_option
@cases_option
@json_option
@click.option("-v", "--verbose", is_flag=True, help="List every test, not only the failures.")
@pass_env
@click.pass_context
def test(
    ctx: click.Context,
    env: Environment,
    rules_dir: Path | None,
    cases_dir: Path | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Run every rule's examples and every case's answer key."""
    from hemedx.authoring.runner import run_tests

    report = run_tests(pack_from(rules_dir), cases_dir)
    if as_json:
        emit_json(report.as_dict(), env.stdout)
    else:
        out = console(env, listing=True)
        for outcome in report.outcomes:
            if outcome.passed and not verbose:
                continue
            status = Text("PASSED ", style="green") if outcome.passed else Text("FAILED ", style="bold red")
            status.append(f"{outcome.kind} {outcome.name}")
            if outcome.where:
                status.append(f"  {outcome.where}", style="dim")
            out.print(status)
            if outcome.detail:
                out.print(f"    {outcome.detail}")
        out.print(Text(report.summary(), style="bold red" if report.failures else "bold green"))
    ctx.exit(ExitStatus.FINDINGS if report.failures else ExitStatus.OK)


@rules.command(name="coverage")
@rules_option
@cases_option
@json_option
@fail_under_option(100, "PCT", "Exit 1 when fewer than PCT percent of the rules fired.")
@pass_env
@click.pass_context
def coverage_cmd(
    ctx: click.Context,
    env: Environment,
    rules_dir: Path | None,
    cases_dir: Path | None,
    as_json: bool,
    fail_under: float | None,
) -> None:
    """How often each rule fired across rule examples and the case library."""
    from hemedx.authoring.runner import coverage

    cov = coverage(pack_from(rules_dir), cases_dir)
    if as_json:
        emit_json(cov.as_dict(), env.stdout)
    else:
        out = console(env)
        _coverage_rows(cov.rules, out)
        out.print()
        for title, ids in (
            ("Never fired", cov.never_fired),
            ("No does-not-fire example", cov.no_negative_example),
            ("No fires example", cov.no_positive_example),
            ("Cases that do not load (skipped)", cov.skipped_cases),
        ):
            if ids:
                out.print(Text(f"{title} ({len(ids)}): {', '.join(ids)}", style="yellow"))
        out.print(
            Text(
                f"Coverage: {cov.percent:.1f}% of {len(cov.rules)} rules fired"
                f" ({cov.examples} rule examples, {cov.cases} cases)",
                style="bold",
            )
        )
    if fail_under is not None and cov.percent < fail_under:
        console(env, stderr=True).print(f"Coverage {cov.percent:.1f}% is below --fail-under {fail_under:g}%")
        ctx.exit(ExitStatus.FINDINGS)


def _coverage_rows(rows: list[dict[str, Any]], out: Console) -> None:
    """One row per rule, the id never cut: a table when the widest id fits beside the numbers, else blocks."""
    widest = max((len(row["id"]) for row in rows), default=4)
    numbers = ("Kind", "Examples", "Cases", "Fires/not")
    kind = max((len(row["kind"]) for row in rows), default=4)
    if widest + kind + len("Examples") + len("Cases") + len("Fires/not") + 4 <= out.width:
        table = Table(show_edge=False, box=None, pad_edge=False, padding=(0, 1, 0, 0))
        table.add_column("Rule", no_wrap=True, min_width=widest)
        for name in numbers:
            table.add_column(name, justify="left" if name == "Kind" else "right", no_wrap=True)
        for row in rows:
            table.add_row(
                Text(row["id"], style="red" if not row["fired"] else ""),
                row["kind"],
                str(row["fired_examples"]),
                str(row["fired_cases"]),
                f"{row['fires_examples']}/{row['does_not_fire_examples']}",
            )
        out.print(table)
        return
    for row in rows:  # narrow: the id on its own line, what it did under it
        out.print(Text(row["id"], style="red" if not row["fired"] else "bold"))
        out.print(
            f"    {row['kind']}; fired in {row['fired_examples']} examples and {row['fired_cases']} cases;"
            f" {row['fires_examples']} fires / {row['does_not_fire_examples']} does-not-fire examples"
        )


def _pack_arg(value: str) -> Path | None:
    """``default`` names the built-in pack (unless a folder of that name exists)."""
    return None if value == "default" and not Path(value).exists() else Path(value)


@rules.command()
@click.argument("old_dir", metavar="OLD_DIR")
@click.argument("new_dir", metavar="NEW_DIR")
@cases_option
@json_option
@click.option(
    "--threshold",
    type=click.FloatRange(0, 100),
    default=0.5,
    show_default=True,
    metavar="PP",
    help="Show probability changes larger than this many percentage points.",
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when any case changed (for CI).")
@pass_env
@click.pass_context
def diff(
    ctx: click.Context,
    env: Environment,
    old_dir: str,
    new_dir: str,
    cases_dir: Path | None,
    as_json: bool,
    threshold: float,
    exit_code: bool,
) -> None:
    """Cases whose ranking, probabilities or subtypes change from pack OLD_DIR to NEW_DIR.

    Either folder may be 'default' for the built-in pack.
    """
    from hemedx.authoring.diffing import diff_packs

    result = diff_packs(
        load_pack(_pack_arg(old_dir)), load_pack(_pack_arg(new_dir)), threshold / 100, cases_folder=cases_dir
    )
    if as_json:
        emit_json(result, env.stdout)
    else:
        _render_diff(result, console(env, listing=True))
    ctx.exit(ExitStatus.FINDINGS if exit_code and result["cases"] else ExitStatus.OK)


def _render_diff(result: dict, out: Console) -> None:
    old, new = result["old"], result["new"]
    out.print(Text(f"{old['pack']} {old['version']} → {new['pack']} {new['version']}", style="bold"))
    for section in ("rules", "diagnoses", "findings", "labs", "tests", "sources", "investigations"):
        for what, style in (("added", "green"), ("removed", "red"), ("modified", "yellow")):
            ids = result[section][what]
            if ids:
                out.print(Text(f"{section.capitalize()} {what} ({len(ids)}): {', '.join(ids)}", style=style))
    if result["parameters"]:
        out.print(Text(f"Parameters changed: {', '.join(result['parameters'])}", style="yellow"))
    out.print()
    for change in result["cases"]:
        out.print(Text(change["case"], style="bold"))
        if "error" in change:
            for side in ("old", "new"):
                if change["error"][side]:
                    out.print(f"   {side}: {change['error'][side]}")
            continue
        if "ranking" in change:
            out.print(
                f"   top {len(change['ranking']['new'])}: {' > '.join(change['ranking']['old'])}"
                f"  →  {' > '.join(change['ranking']['new'])}"
            )
        if "supported" in change:
            out.print(f"   supported: {change['supported']['old']} → {change['supported']['new']}")
        for p in change.get("probabilities", []):
            delta = (p["new"] - p["old"]) * 100
            out.print(f"   {p['diagnosis']}: {pct(p['old'])} → {pct(p['new'])} ({delta:+.1f} pp)")
        for s in change.get("subtypes", []):
            out.print(f"   {s['diagnosis']} subtype: {s['old'] or 'none'} → {s['new'] or 'none'}")
        for c in change.get("criteria", []):
            met = {True: "met", False: "not met"}
            out.print(f"   {c['diagnosis']} criteria: {met[c['old']]} → {met[c['new']]}")
        if change["rules_now_firing"]:
            out.print(Text(f"   now firing: {', '.join(change['rules_now_firing'])}", style="dim"))
        if change["rules_no_longer_firing"]:
            out.print(
                Text(f"   no longer firing: {', '.join(change['rules_no_longer_firing'])}", style="dim")
            )
    n = len(result["cases"])
    out.print(
        Text(
            f"{n} of {result['cases_compared']} cases changed (probability threshold"
            f" {result['threshold'] * 100:g} pp).",
            style="bold",
        )
    )
    reworded = result["explanations_changed"]
    if reworded:
        out.print(
            f"{len(reworded)} more ranked alike but explained differently (citations, limits or"
            f" wording): {', '.join(reworded)}"
        )


@rules.command()
@rules_option
@out_dir_option("Folder to write the Markdown catalogue into.")
@force_option
@pass_env
def docs(env: Environment, rules_dir: Path | None, out_dir: Path, force: bool) -> None:
    """Write a Markdown catalogue of the pack: one page per rule kind, an index and the lint codes."""
    from hemedx.authoring.docs import write_catalogue

    written = write_catalogue(pack_from(rules_dir), out_dir, force=force)
    console(env).print(f"Wrote {len(written)} files to {out_dir}: {', '.join(p.name for p in written)}")


@rules.command()
@click.argument("entry_id", metavar="ID")
@rules_option
@json_option
@pass_env
def show(env: Environment, entry_id: str, rules_dir: Path | None, as_json: bool) -> None:
    """Explain any id: a rule, diagnosis, finding, lab, test or source (KIND:ID when ids clash).

    Says where it is defined, what it uses and what uses it, thresholds in words and its references.
    """
    from hemedx.authoring.show import entry_data, entry_markdown

    pack = pack_from(rules_dir)
    if as_json:
        emit_json(entry_data(pack, entry_id), env.stdout)
        return
    text = entry_markdown(pack, entry_id)
    if env.stdout_isatty:
        from rich.markdown import Markdown  # markdown-it and its plugins: only for this view

        console(env).print(Markdown(text))
    else:
        env.stdout.write(terminal_text(text))


@rules.command()
@click.argument("name", required=False, type=click.Choice(list(SCHEMA_NAMES)), default=None)
@out_dir_option("Write every schema into DIR (e.g. hemedx/schema) instead of printing one.", required=False)
@click.option("--check", "check_only", is_flag=True, help="Exit 1 when the committed schemas are stale.")
@force_option
@pass_env
@click.pass_context
def schema(
    ctx: click.Context,
    env: Environment,
    name: str | None,
    out_dir: Path | None,
    check_only: bool,
    force: bool,
) -> None:
    """JSON Schema of rule, pack and case files (for editors), generated from the models."""
    from hemedx.authoring.schema import render, schema_dir, stale_schemas, write_schemas

    if check_only:
        stale = stale_schemas(out_dir)
        folder = out_dir or schema_dir()
        if stale:
            console(env, stderr=True).print(
                f"Stale schemas in {folder}: {', '.join(stale)}"
                f" (run: hemedx rules schema --out {folder} --force)"
            )
        ctx.exit(ExitStatus.FINDINGS if stale else ExitStatus.OK)
    if out_dir is not None:
        written = write_schemas(out_dir, force=force)
        console(env).print(f"Wrote {len(written)} schemas to {out_dir}: {', '.join(p.name for p in written)}")
        return
    env.stdout.write(render(name or "rule-file"))


@rules.command(name="new")
@click.argument("rule_id", metavar="ID")
@click.option(
    "--kind", type=click.Choice(RULE_KINDS), default=None, help="Rule kind (default: from the id prefix)."
)
@out_file_option(
    "Append the rule to this rules file (created if missing) instead of printing it.", metavar="FILE"
)
@rules_option
@pass_env
def new(
    env: Environment, rule_id: str, kind: str | None, out_file: Path | None, rules_dir: Path | None
) -> None:
    """Scaffold a rule with every section to fill in (then: hemedx rules check)."""
    from hemedx.authoring.scaffold import new_rule, write_rule

    text = new_rule(rule_id, kind, pack_from(rules_dir))
    if out_file is None:
        env.stdout.write("rules:\n" + text)
        return
    write_rule(text, out_file)
    console(env, stderr=True).print(
        f"Added rule '{rule_id}' to {out_file}; fill in the TODOs, then: hemedx rules check"
    )


@rules.command()
@pass_env
def path(env: Environment) -> None:
    """Print the folder of the built-in pack (copy it to start your own)."""
    env.echo(str(default_pack_path()))
