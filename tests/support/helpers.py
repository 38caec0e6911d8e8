"""Shared test helpers (kept out of conftest.py so tests import them explicitly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
FIXTURES = ROOT / "tests" / "fixtures"
MINI_PACK = FIXTURES / "packs" / "mini"


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
