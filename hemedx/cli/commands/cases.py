"""cases list/show/new/check: browse the library as a teacher would, scaffold and check case files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hemedx.cases.library import case_code, load_library, resolve_case
from hemedx.cases.model import Case
from hemedx.cli.app import cli
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import json_option, pack_from, rules_option
from hemedx.cli.render import cite_marks, console, emit_json
from hemedx.cli.status import ExitStatus
from hemedx.engine.report import Citations, disclaimer_for, pack_line, pack_stamp
from hemedx.rules.model import Pack
from hemedx.rules.units import as_written


@cli.group()
def cases() -> None:
    """Teaching cases: list and show the library, start a new case file, check case files."""


def case_summary(case: Case, answers: bool) -> dict[str, Any]:
    """The list entry of a case: its neutral code, title and shape; id, answer and tags only on request.

    Ids and tags name the answer (``aa-drug-associated-carbamazepine``, ``aplastic_anemia``), so a
    learner's listing has neither.
    """
    entry: dict[str, Any] = {
        "code": case_code(case.id),
        "title": case.title,
        "difficulty": case.difficulty,
        "stages": len(case.stages),
        "stage_names": [s.name for s in case.stages],
        "age": case.age,
        "sex": case.sex,
    }
    if answers:
        entry |= {
            "id": case.id,
            "diagnosis": case.answer.diagnosis if case.answer else None,
            "subtype": case.answer.subtype if case.answer else None,
            "tags": list(case.tags),
        }
    return entry


@cases.command("list")
@rules_option
@json_option
@click.option(
    "--answers", is_flag=True, help="Also show ids, tags and answer keys (spoilers: a teacher's view)."
)
@pass_env
def list_cases(env: Environment, rules_dir: Path | None, as_json: bool, answers: bool) -> None:
    """List the library cases by code (codes are stable); ids, tags and answers only with --answers.

    Without --answers the cases come in code order, which says nothing about the diagnosis.
    """
    pack = pack_from(rules_dir)
    entries = [case_summary(c, answers) for c in load_library(pack)]
    if not answers:
        entries.sort(key=lambda e: e["code"])
    if as_json:
        emit_json(entries, env.stdout)
        return
    out = console(env)
    if answers:  # the teacher's view, one block a case: the id whole (never cut), key, title and tags
        for e in entries:
            out.print(Text(f"{e['code']}  {e['id']}", style="bold"))
            out.print(f"       {_answer_text(e, pack)}: {e['title']}")
            if e["tags"]:
                out.print(Text(f"       tags: {', '.join(e['tags'])}", style="dim"))
    else:
        table = Table(show_edge=False, box=None, pad_edge=False, padding=(0, 1))
        for column in ("Code", "Difficulty", "Stages", "Title"):
            table.add_column(column, no_wrap=column != "Title")
        for e in entries:
            table.add_row(e["code"], e["difficulty"] or "", str(e["stages"]), e["title"])
        out.print(table)
    hidden = "" if answers else "; ids and answer keys hidden (add --answers to show them)"
    out.print(
        Text(
            f"{len(entries)} cases{hidden}. Every command takes the code: hemedx quiz CODE,"
            " hemedx cases show CODE",
            style="dim",
        )
    )


def _answer_text(entry: dict[str, Any], pack: Pack) -> str:
    """'Aplastic anaemia — Non-severe': the labels, as ``cases show --answer`` prints the key."""
    if not entry["diagnosis"]:
        return "(no answer key)"
    dx = pack.kb.diagnosis_labels.get(entry["diagnosis"], entry["diagnosis"])
    sub = pack.kb.subtype_label(entry["diagnosis"], entry["subtype"])
    return f"{dx} — {sub}" if sub else dx


@cases.command("show")
@click.argument("case")
@rules_option
@json_option
@click.option("--answer", is_flag=True, help="Also show the answer key and the teaching points (spoilers).")
@pass_env
def show_case(env: Environment, case: str, rules_dir: Path | None, as_json: bool, answer: bool) -> None:
    """Show CASE (a library id or a case file) as a case sheet: presentation and every stage's results."""
    pack = pack_from(rules_dir)
    loaded = resolve_case(case, pack)
    if as_json:
        emit_json(case_sheet(loaded, pack, answer), env.stdout)
        return
    render_sheet(case_sheet(loaded, pack, answer), console(env))


def case_sheet(case: Case, pack: Pack, answer: bool) -> dict[str, Any]:
    """The case as labelled data: values with units, test results in words, numbered citations."""
    findings = {f.id: f.label for f in pack.vocabulary.findings}
    labs, tests = pack.kb.labs, pack.kb.tests
    stages = []
    for stage in case.stages:
        stages.append(
            {
                "name": stage.name,
                "note": " ".join(stage.note.split()) if stage.note else None,
                "findings": [
                    {"finding": k, "label": findings[k], "state": v} for k, v in stage.findings.items()
                ]
                + [{"finding": k, "label": findings[k], "state": "unknown"} for k in stage.unknown],
                "labs": [
                    {
                        "lab": k,
                        "label": labs[k].label,
                        "value": round(v, labs[k].decimals),
                        "unit": labs[k].unit,
                        "shown": f"{v:.{labs[k].decimals}f} {labs[k].unit}",
                        "given_unit": stage.given_units.get(k),
                        "as_written": as_written(
                            labs[k], f"{v:.{labs[k].decimals}f} {labs[k].unit}", stage.as_given(k)
                        ),
                    }
                    for k, v in stage.labs.items()
                ]
                + [
                    {
                        "lab": k,
                        "label": labs[k].label,
                        "value": b.bound,
                        "comparator": b.comparator,
                        "unit": labs[k].unit,
                        "shown": f"{b.shown(labs[k].decimals)} {labs[k].unit}",
                        "given_unit": stage.given_units.get(k),
                        "as_written": as_written(
                            labs[k],
                            f"{b.shown(labs[k].decimals)} {labs[k].unit}",
                            stage.as_given(k),
                            b.comparator,
                        ),
                    }
                    for k, b in stage.censored.items()
                ],
                "tests": [
                    {
                        "test": k,
                        "label": tests[k].label,
                        "result": v,
                        "shown": tests[k].value_labels.get(v, v),
                    }
                    for k, v in stage.tests.items()
                ],
            }
        )
    sheet: dict[str, Any] = {
        "code": case_code(case.id),
        **({"id": case.id} if answer else {}),  # an id names the answer
        "title": case.title,
        "patient": {
            "age": case.age,
            "sex": case.sex,
            **({"pregnancy": case.pregnancy} if case.pregnancy != "none" else {}),
        },
        "presentation": " ".join(case.presentation.split()) if case.presentation else None,
        "difficulty": case.difficulty,
        **({"tags": list(case.tags)} if answer else {}),
        "stages": stages,
        "answer_shown": answer,
    }
    if answer:
        dx = pack.kb.diagnoses
        key = case.answer
        sheet["answer"] = (
            None
            if key is None
            else {
                "diagnosis": key.diagnosis,
                "label": dx[key.diagnosis].label,
                "subtype": key.subtype,
                "subtype_label": next(
                    (s.label for s in dx[key.diagnosis].subtypes if s.id == key.subtype), None
                ),
            }
        )
        cites = Citations(pack)
        sheet["teaching_points"] = [
            {"text": " ".join(p.text.split()), "cites": cites.cite((c.source, c.locator) for c in p.cites)}
            for p in case.teaching_points
        ]
        sheet["references"] = cites.references()
    sheet["disclaimer"] = disclaimer_for(case)
    sheet["pack"] = pack_stamp(pack)
    return sheet


def render_sheet(sheet: dict[str, Any], out: Console) -> None:
    """Print a case sheet: the work-up stage by stage, then (on request) the answer and teaching points."""
    p = sheet["patient"]
    handle = sheet.get("id", sheet["code"])  # the id only beside the answer
    out.print(Text(sheet["title"], style="bold"), Text(f"  (case {handle})", style="dim"))
    out.print(Text(sheet["disclaimer"], style="italic dim"))
    out.print(Text(pack_line(sheet["pack"]), style="dim"))
    pregnant = f", pregnant ({p['pregnancy'].replace('_', ' ')})" if "pregnancy" in p else ""
    out.print(f"Patient: {p['age']:g}-year-old {p['sex']}{pregnant}")
    if sheet["presentation"]:
        out.print()
        out.print(sheet["presentation"])
    for i, stage in enumerate(sheet["stages"], 1):
        out.print()
        out.rule(Text(f"Stage {i} of {len(sheet['stages'])}: {stage['name']}", style="bold"))
        for f in stage["findings"]:
            style = "green" if f["state"] == "present" else "dim" if f["state"] == "absent" else "yellow"
            out.print(Text(f"  {f['label']}: {f['state']}", style=style))
        for lab in stage["labs"]:
            out.print(f"  {lab['label']}: {lab['as_written']}")
        for t in stage["tests"]:
            out.print(f"  {t['label']}: {t['shown']}")
        if stage["note"]:
            out.print(Text(f"  Note: {stage['note']}", style="cyan"))
    out.print()
    if not sheet["answer_shown"]:
        out.print(Text("Answer and teaching points hidden: add --answer to show them.", style="dim"))
        return
    key = sheet["answer"]
    if key is None:
        out.print(Text("Answer: no diagnosis in the differential fits (no answer key).", style="bold"))
    else:
        sub = f" — {key['subtype_label']}" if key["subtype_label"] else ""
        out.print(Text(f"Answer: {key['label']}{sub}", style="bold"))
    if sheet["teaching_points"]:
        out.print()
        out.print(Text("Teaching points", style="bold"))
        for i, point in enumerate(sheet["teaching_points"], 1):
            out.print(f"  {i}. {point['text']} {cite_marks(point['cites'])}")
    if sheet["references"]:
        out.print()
        out.print(Text("References", style="bold"))
        for ref in sheet["references"]:
            out.print(f"  [{ref['n']}] {ref['citation']}")


@cases.command("new")
@click.argument("case_id", metavar="ID")
@click.option("--out", type=click.Path(path_type=Path), help="File to write (default: ID.yaml here).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@rules_option
@pass_env
def new_case(env: Environment, case_id: str, out: Path | None, force: bool, rules_dir: Path | None) -> None:
    """Write a scaffold for a new case ID: every section, with comments naming the ids you may use."""
    import re

    from hemedx.cases.model import CASE_ID_PATTERN
    from hemedx.cases.scaffold import case_scaffold
    from hemedx.errors import InputError
    from hemedx.outfiles import write_file

    if not re.match(CASE_ID_PATTERN, case_id) or not 2 <= len(case_id) <= 80:
        raise InputError(f"case id {case_id!r} is not a slug", hint="lowercase letters, digits and hyphens")
    path = out if out is not None else Path(f"{case_id}.yaml")
    text = case_scaffold(case_id, pack_from(rules_dir))
    write_file(path, text, force=force)
    env.echo(f"wrote {path}: fill in the TODOs, then run: hemedx cases check {path}")


@cases.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@rules_option
@json_option
@pass_env
@click.pass_context
def check_cases(
    ctx: click.Context, env: Environment, files: tuple[Path, ...], rules_dir: Path | None, as_json: bool
) -> None:
    """Check case FILES: schema, vocabulary, and findings or labs that contradict the case's own values.

    Exit status 0 when every file is clean, 1 when any problem was found (each one line).
    """
    from hemedx.cases.loader import load_case
    from hemedx.engine.consistency import case_problems
    from hemedx.errors import InputError

    pack = pack_from(rules_dir)
    results = []
    for path in files:
        try:
            problems = [f"{path}: {p}" for p in case_problems(load_case(path, pack), pack)]
        except InputError as exc:
            problems = [str(exc.located(file=str(path)))]
        results.append({"file": str(path), "ok": not problems, "problems": problems})
    if as_json:
        emit_json(results, env.stdout)
    else:
        for result in results:
            for line in result["problems"]:
                env.echo(line)
        bad = sum(not r["ok"] for r in results)
        env.echo(f"{len(results) - bad} of {len(results)} case file(s) clean", err=True)
    ctx.exit(ExitStatus.FINDINGS if any(not r["ok"] for r in results) else ExitStatus.OK)
