"""The curated case library shipped in ``hemedx/cases/library/``, and resolving "id or path" arguments."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hemedx.cases.loader import load_case
from hemedx.cases.model import Case
from hemedx.errors import InputError
from hemedx.rules.model import Pack
from hemedx.suggest import did_you_mean

DEMO_CASE = "aa-severe-young-woman"


def library_path() -> Path:
    """Folder of the built-in teaching cases."""
    return Path(str(resources.files("hemedx.cases") / "library"))


def library_files() -> list[Path]:
    """Every library case file, sorted by name (the name is the case id)."""
    return sorted(p for p in library_path().iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def library_ids() -> list[str]:
    """Ids of the library cases."""
    return [p.stem for p in library_files()]


def load_library(pack: Pack) -> list[Case]:
    """All library cases, validated against ``pack``."""
    return [load_case(p, pack) for p in library_files()]


def resolve_case(ref: str, pack: Pack) -> Case:
    """Load ``ref`` as a file path if it looks like one or exists, else as a library case id."""
    path = Path(ref)
    if path.exists() or path.suffix in (".yaml", ".yml", ".json") or "/" in ref or "\\" in ref:
        return load_case(path, pack)
    for file in library_files():
        if file.stem == ref:
            return load_case(file, pack)
    raise InputError(
        f"'{ref}' is neither a case file nor a library case id",
        hint=did_you_mean(ref, library_ids()) or "see 'hemedx cases list'",
    )
