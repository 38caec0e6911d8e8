"""Shared test helpers (kept out of conftest.py so tests import them explicitly)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from hemedx.rules import cache_files

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
FIXTURES = ROOT / "tests" / "fixtures"
MINI_PACK = FIXTURES / "packs" / "mini"
LINT_CASES: dict[str, Any] = yaml.safe_load((FIXTURES / "lint_cases.yaml").read_text())


def broken_pack(tmp_path: Path, name: str) -> Path:
    """The mini pack with the edits of lint case ``name`` (tests/fixtures/lint_cases.yaml) applied."""
    folder = tmp_path / name
    shutil.copytree(MINI_PACK, folder)
    for edit in LINT_CASES[name]["edits"]:
        path = folder / edit["file"]
        text = path.read_text()
        assert text.count(edit["old"]) == 1, f"lint case {name}: the old text occurs once in {edit['file']}"
        path.write_text(text.replace(edit["old"], edit["new"]))
    return folder


def write_case(
    tmp_path: Path,
    stages: list[dict[str, Any]],
    *,
    age: float = 22,
    sex: str = "female",
    case_id: str = "test-case",
    answer: dict[str, Any] | None = None,
    name: str = "case.yaml",
) -> Path:
    """Write a minimal valid case file and return its path."""
    data: dict[str, Any] = {
        "id": case_id,
        "title": "A test case",
        "patient": {"age": age, "sex": sex},
        "stages": [{"name": f"Stage {i + 1}", **s} for i, s in enumerate(stages)],
    }
    if answer:
        data["answer"] = answer
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


GENERIC_CACHE_DAMAGE = ("world_writable", "symlink", "garbage", "tampered")


def retagged_entry(head: bytes, body: bytes) -> bytes:
    """A cache entry of ``head`` and ``body`` under a valid tag, as only this user's hemedx could make it."""
    tag = cache_files._tag(cache_files._secret(create=False), head, body)
    return head + b"\n" + tag + b"\n" + body


def retag_entry(path: Path, body: bytes) -> None:
    """Rewrite a cache entry's body under a valid tag."""
    path.write_bytes(retagged_entry(path.read_bytes().partition(b"\n")[0], body))


def damage_cache_entry(path: Path, damage: str, planted: bytes, elsewhere: Path) -> None:
    """Make a cache entry untrusted in one of :data:`GENERIC_CACHE_DAMAGE`'s ways.

    ``planted`` is a whole entry (valid tag) with other content: refused for where it lies or who could
    write it, never for its tag. ``tampered`` changes the body under the old tag.
    """
    if damage == "world_writable":
        path.write_bytes(planted)
        path.chmod(0o666)
    elif damage == "symlink":
        elsewhere.write_bytes(planted)
        path.unlink()
        path.symlink_to(elsewhere)
    elif damage == "garbage":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "tampered":
        head, _, rest = path.read_bytes().partition(b"\n")
        tag, _, body = rest.partition(b"\n")
        path.write_bytes(head + b"\n" + tag + b"\n" + body[:-1] + bytes([body[-1] ^ 1]))
    else:
        raise ValueError(damage)


UNPICKLED_CODE: list[str] = []  # what a :class:`CodeFromCache` ran when unpickled (it never should)


def _ran_on_unpickling(what: str) -> str:
    UNPICKLED_CODE.append(what)
    return what


class CodeFromCache:
    """Unpickling it calls a function of the tests: what a cache entry must never make hemedx do."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_ran_on_unpickling, ("code from the cache",))
