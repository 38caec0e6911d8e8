"""``hemedx rules schema``: JSON Schemas of the pack and case files, generated from the pydantic models.

The committed copies under ``hemedx/schema/`` let an editor (VS Code's YAML extension, any
yaml-language-server client) complete and check rule and case files while they are typed. A test fails
when a committed copy no longer matches the models, so the schemas cannot drift.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, RootModel

from hemedx.cases.model import CaseFile
from hemedx.errors import InputError
from hemedx.outfiles import write_files
from hemedx.rules.model import (
    DiagnosesFile,
    InvestigationsFile,
    OverlayInfo,
    PackInfo,
    RulesFile,
    SourcesFile,
    Vocabulary,
)
from hemedx.suggest import did_you_mean


class PackFile(RootModel[PackInfo | OverlayInfo]):
    """``pack.yaml`` for an editor: a whole pack, or an overlay that may say only ``extends``."""


SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "rule-file": (RulesFile, "A file under rules/ of a hemedx rule pack"),
    "pack": (PackFile, "pack.yaml of a hemedx rule pack"),
    "vocabulary": (Vocabulary, "vocabulary.yaml of a hemedx rule pack"),
    "sources": (SourcesFile, "sources.yaml of a hemedx rule pack"),
    "diagnoses": (DiagnosesFile, "diagnoses.yaml of a hemedx rule pack"),
    "investigations": (InvestigationsFile, "investigations.yaml of a hemedx rule pack (optional)"),
    "case": (CaseFile, "A hemedx teaching case file"),
}


def schema_dir() -> Path:
    """Folder of the committed schemas inside the package."""
    return Path(str(resources.files("hemedx") / "schema"))


def generate(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) named ``name`` (see :data:`SCHEMAS`)."""
    if name not in SCHEMAS:
        raise InputError(
            f"unknown schema '{name}'", hint=did_you_mean(name, SCHEMAS) or f"one of {', '.join(SCHEMAS)}"
        )
    model, title = SCHEMAS[name]
    body = model.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **body,
        "title": title,
    }


def render(name: str) -> str:
    """Serialised schema text, exactly as committed (sorted keys, two-space indent, final newline)."""
    return json.dumps(generate(name), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def file_name(name: str) -> str:
    """``rule-file`` -> ``rule-file.schema.json``."""
    return f"{name}.schema.json"


def write_schemas(out: Path, force: bool = False) -> list[Path]:
    """Write every schema into ``out``; return the paths written (a schema that differs needs ``force``)."""
    return write_files(out, {file_name(name): render(name) for name in SCHEMAS}, force=force)


def stale_schemas(folder: Path | None = None) -> list[str]:
    """Names whose committed copy is missing or differs from the models."""
    folder = folder if folder is not None else schema_dir()
    stale = []
    for name in SCHEMAS:
        path = folder / file_name(name)
        if not path.is_file() or path.read_text(encoding="utf-8") != render(name):
            stale.append(name)
    return stale
