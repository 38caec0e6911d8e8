"""Imports point one way: cli -> authoring/present/serve -> engine -> cases -> rules; nothing imports cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support.helpers import ROOT

PACKAGE = ROOT / "hemedx"
SHARED = {"errors", "lazy", "lifetime", "outfiles", "safetext", "safeyaml", "schema_errors", "suggest"}
ALLOWED = {
    "rules": {"rules"},
    "cases": {"cases", "rules"},
    "engine": {"engine", "cases", "rules"},
    "authoring": {"authoring", "engine", "cases", "rules", "schema"},
    "present": {"present", "engine", "cases", "rules"},
    "serve": {"serve", "present", "engine", "cases", "rules"},  # present: units as written
    "fhir": {"fhir", "cases", "rules"},
}


def imported_packages(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hemedx."):
            out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("hemedx.")}
    return out


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_downwards(layer):
    for path in (PACKAGE / layer).rglob("*.py"):
        bad = imported_packages(path) - ALLOWED[layer] - SHARED
        assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_shared_modules_import_only_each_other():
    for name in sorted(SHARED):
        bad = imported_packages(PACKAGE / f"{name}.py") - SHARED
        assert not bad, f"{name}.py imports {sorted(bad)}: a shared module must not depend on a layer"


def test_every_top_level_module_is_a_layer_or_shared():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert modules == SHARED, "a new top-level module: add it to SHARED (or move it into a layer)"
    assert packages == set(ALLOWED) | {"cli", "schema"}
