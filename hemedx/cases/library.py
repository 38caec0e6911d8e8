"""The curated case library shipped in ``hemedx/cases/library/``, and resolving "id or path" arguments."""

from __future__ import annotations

import hashlib
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


CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32: no i, l, o or u to misread
CODE_LENGTH = 5


def case_code(case_id: str) -> str:
    """A neutral handle for a case: 5 characters of a hash of its id, so it never names the answer.

    It depends on the id alone, so it stays the same when cases are added or renamed around it; every
    command that takes a library case id takes the code too (any letter case).
    """
    number = int.from_bytes(hashlib.sha256(case_id.encode("utf-8")).digest()[:8], "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)


def load_library(pack: Pack) -> list[Case]:
    """All library cases, validated against ``pack``."""
    return [load_case(p, pack) for p in library_files()]


def case_handle(case: Case) -> tuple[str, str]:
    """What to type to name ``case`` again, and how to call it in a sentence: a file is a file.

    A library case is named by its neutral code (its id names the answer); any other case by its path
    ('file cases/x.yaml'), which is what resolves again, whatever id the file declares.
    """
    if case.file is not None and Path(case.file).resolve().parent != library_path().resolve():
        return case.file, f"file {case.file}"
    code = case_code(case.id)
    return code, f"case {code}"


def resolve_case(ref: str, pack: Pack) -> Case:
    """Load ``ref`` as a file path if it looks like one or exists, else as a library case id or code."""
    path = Path(ref)
    if path.exists() or path.suffix in (".yaml", ".yml", ".json") or "/" in ref or "\\" in ref:
        return load_case(path, pack)
    files = library_files()
    for file in files:
        if file.stem == ref:
            return load_case(file, pack)
    by_code = [file for file in files if case_code(file.stem) == ref.strip().lower()]
    if len(by_code) == 1:
        return load_case(by_code[0], pack)
    if by_code:  # the library test keeps codes unique; a user's own library copy might not
        raise InputError(f"case code '{ref}' names {len(by_code)} cases", hint="use the case id")
    raise InputError(
        f"'{ref}' is neither a case file nor a library case id",
        hint=did_you_mean(
            ref, [case_code(f.stem) for f in files] if len(ref) <= CODE_LENGTH else library_ids()
        )
        or "see 'hemedx cases list'",
    )


def case_files_in(folder: Path) -> list[Path]:
    """Case files (YAML or JSON) directly inside ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml", ".json"))


def resolve_cases(refs: list[str], pack: Pack) -> list[Case]:
    """Load each reference: a folder gives all its case files, anything else goes through resolve_case."""
    cases: list[Case] = []
    for ref in refs:
        path = Path(ref)
        if path.is_dir():
            files = case_files_in(path)
            if not files:
                raise InputError("no case files (.yaml, .yml, .json) in this folder", file=ref)
            cases.extend(load_case(p, pack) for p in files)
        else:
            cases.append(resolve_case(ref, pack))
    return cases
