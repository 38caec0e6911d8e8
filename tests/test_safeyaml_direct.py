"""The direct read (compose without the prescan) gives exactly what the full read gives, error or not.

``parse_yaml`` composes a text once and falls back to the prescan-first read at anything unusual; this
compares the two on every pack and library file and on texts made to hit each thing the prescan is for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hemedx import safeyaml
from hemedx.cases.library import library_path
from hemedx.errors import InputError
from hemedx.rules import default_pack_path

TRICKY = {
    "plain": "a: 1\nb: [x, y]\nc: {d: 2.5}\n",
    "alias value": "a: &x 1\nb: *x\n",
    "alias in list": "a: &x [1]\nb:\n  - 2\n  - *x\n",
    "alias as key": "a: &k name\n*k : 2\n",
    "anchored key, alias value": "&k a: 1\nb: *k\n",
    "undefined alias": "a: [1, *nope]\n",
    "anchor only": "a: &x 1\nb: 2\n",
    "star in text": "a: 5 * 10^9/L\nb: '*'\nc: x*y\n",
    "merge key": "base: &b {x: 1}\na:\n  <<: *b\n",
    "plain merge without alias": "a:\n  <<: {x: 1}\n",
    "tagged merge spelling": "a:\n  !!str <<: 1\n",
    "quoted merge spelling": "a:\n  '<<': 1\n",
    "explicit merge tag": "a:\n  !!merge x: 1\n",
    "complex key": "? [a, b]\n: 1\n",
    "flow mapping key": "{a: 1}: 2\n",
    "duplicate before an alias": "a: 1\na: 2\nb: &x 3\nc: *x\n",
    "duplicate before a complex key": "a: 1\na: 2\n? [x]\n: 3\n",
    "tag before an alias": "a: !!binary aGk=\nb: &x 1\nc: *x\n",
    "bad number before depth": "a: 0x1F\nb: " + "[" * 70 + "]" * 70 + "\n",
    "depth 64": "a: " + "[" * 63 + "1" + "]" * 63 + "\n",
    "depth 65": "a: " + "[" * 64 + "1" + "]" * 64 + "\n",
    "depth 70 in blocks": "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "v: 1\n",
    "depth 2000": "[" * 2000 + "]" * 2000,
    "two documents": "a: 1\n---\nb: 2\n",
    "empty": "",
    "null document": "~\n",
    "malformed": "a: [1, 2\nb: 3\n",
    "control character": "a: b\x07c\n",
    "octal": "a: 020\n",
    "nan": "a: .nan\n",
    "big int": "a: 1234567890123456\n",
    "missing dash": "items:\n  - id: a\n    x: 1\n    id: b\n",
}


def _read(text: str, direct: bool, monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.setattr(safeyaml, "_BOUNDED_NESTING", direct)
    try:
        doc = safeyaml.parse_yaml(text, "f.yaml")
    except InputError as err:
        return ("error", str(err), err.message, err.file, err.line, err.column, err.field, err.hint)
    return ("doc", doc.data, doc.positions)


@pytest.mark.parametrize("text", list(TRICKY.values()), ids=list(TRICKY))
def test_direct_read_matches_the_full_read(text, monkeypatch):
    assert _read(text, True, monkeypatch) == _read(text, False, monkeypatch)


def _shipped_files() -> list[Path]:
    return sorted([*default_pack_path().rglob("*.yaml"), *library_path().rglob("*.yaml")])


def test_direct_read_matches_on_every_shipped_file(monkeypatch):
    files = _shipped_files()
    assert len(files) > 20
    for file in files:
        text = file.read_text(encoding="utf-8")
        assert _read(text, True, monkeypatch) == _read(text, False, monkeypatch), file


def test_the_installed_libyaml_bounds_nesting():
    # What makes composing before the prescan safe; without it the full read is the only one used.
    assert safeyaml._BOUNDED_NESTING
