"""Shared test helpers (kept out of conftest.py so tests import them explicitly)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

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
