"""import fhir and export fhir: bring a FHIR R4 bundle in as a case file, or write a case out as one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml

from hemedx.cases.library import resolve_case
from hemedx.cli.app import cli
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import pack_from, rules_option
from hemedx.errors import InputError
from hemedx.fhir import export_bundle, import_bundle
from hemedx.outfiles import write_file

MAX_BUNDLE_BYTES = 64_000_000  # Synthea's bundles run to tens of MB; beyond this is not one patient
HEADER = (
    "# Imported by `hemedx import fhir` from {source}. TEACHING AID ONLY - not for clinical use.\n"
    "# Values are in the vocabulary's canonical units; labs such as anc are derived when the case loads.\n"
)


@cli.group("import")
def import_group() -> None:
    """Bring outside data in as a hemedx case (FHIR R4/R4B/R5 bundles)."""


@cli.group("export")
def export_group() -> None:
    """Write a hemedx case out in another format (a FHIR R4 bundle)."""


def read_json(path: Path) -> Any:
    """A JSON file, strictly (no duplicate keys, no NaN), as one-line input errors."""
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a file", file=str(path))
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise InputError(f"larger than {MAX_BUNDLE_BYTES // 1_000_000} MB", file=str(path))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=str(path), hint="FHIR JSON is UTF-8") from None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise InputError(f"duplicate key '{key}'", file=str(path))
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise InputError(f"{name} is not a JSON number", file=str(path))

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        where = {"line": exc.lineno, "column": exc.colno}
        raise InputError(f"not valid JSON: {exc.msg}", file=str(path), **where) from None
    except RecursionError:
        raise InputError("nested too deeply", file=str(path)) from None


def refuse_existing(path: Path | None, force: bool) -> None:
    """Stop before any work when --out exists and --force is not given."""
    if path is not None and not force and path.exists():
        raise InputError("already exists", file=str(path), hint="use --force to replace it")


def write_new(path: Path, text: str, force: bool) -> None:
    """Write ``text`` to ``path`` through the project's one writer (no overwrite without --force)."""
    write_file(path, text, force=force)


@import_group.command("fhir")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Write the case file here (default: stdout).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--strict", is_flag=True, help="Fail (exit 2) if any Observation cannot be mapped.")
@click.option("--synthetic", is_flag=True, help="Mark the case synthetic (the bundle is test data).")
@click.option("--id", "case_id", default=None, help="Case id (default: the bundle's id).")
@rules_option
@pass_env
def import_fhir(
    env: Environment,
    bundle: Path,
    out: Path | None,
    force: bool,
    strict: bool,
    synthetic: bool,
    case_id: str | None,
    rules_dir: Path | None,
) -> None:
    """Import a FHIR Bundle (Patient, Observations, DiagnosticReports) as a de-identified case file."""
    refuse_existing(out, force)
    pack = pack_from(rules_dir)
    result = import_bundle(read_json(bundle), pack, source=str(bundle), synthetic=synthetic, case_id=case_id)
    if strict and result.unmapped:
        first = result.unmapped[0]
        raise InputError(
            f"unmapped code {first.code} ({first.display or 'no display'}): {first.why}",
            file=str(bundle),
            field=f"{first.resource} code",
            hint=f"{len(result.unmapped)} unmapped in all; drop --strict to import without them",
        )
    for item in result.unmapped:
        env.echo(f"unmapped: {item.resource} {item.code} '{item.display}': {item.why}", err=True)
    for note in result.notes:
        env.echo(f"note: {note}", err=True)
    body = yaml.safe_dump(result.document, sort_keys=False, allow_unicode=True, width=110)
    text = HEADER.format(source=bundle.name) + body
    if out is None:
        env.echo(text, nl=False)
        return
    write_new(out, text, force)
    kind = "synthetic" if result.case.synthetic else "from a real record (de-identified)"
    env.echo(f"wrote {out}: case {result.case.id}, {len(result.case.stages)} stage(s), {kind}", err=True)


@export_group.command("fhir")
@click.argument("case")
@click.option("--out", type=click.Path(path_type=Path), help="Write the bundle here (default: stdout).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@rules_option
@pass_env
def export_fhir(env: Environment, case: str, out: Path | None, force: bool, rules_dir: Path | None) -> None:
    """Export CASE (a case file or library id) as a FHIR R4 collection Bundle with LOINC and UCUM."""
    refuse_existing(out, force)
    pack = pack_from(rules_dir)
    bundle = export_bundle(resolve_case(case, pack), pack)
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        env.echo(text, nl=False)
        return
    write_new(out, text, force)
    env.echo(f"wrote {out}: {len(bundle['entry'])} resources", err=True)
