"""quick_case: the Case parse_case makes of a plain document, or None (and parse_case decides) when unsure."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hemedx import load_pack
from hemedx.cases.generator import generate_case, load_distributions, plan, to_case
from hemedx.cases.loader import parse_case, quick_case
from hemedx.errors import EngineError, InputError
from hemedx.safeyaml import Document

PACK = load_pack()
DIST = load_distributions(PACK)


def _docs(n: int = 300, seed: int = 11) -> list[dict[str, Any]]:
    return [generate_case(DIST, PACK, item, seed) for item in plan(DIST, "all", None, n)]


def _full(doc: dict[str, Any], file: str = "<f>"):
    return parse_case(Document(data=doc, file=file), PACK)


def test_generated_cases_are_built_exactly_as_parse_case_builds_them():
    with_units = 0
    for doc in _docs():
        quick, full = quick_case(doc, "<f>", PACK), _full(doc)
        assert quick is not None, doc["id"]
        assert quick == full and repr(quick) == repr(full)
        assert quick.raw is doc and quick.file == full.file and quick.snapshot() == full.snapshot()
        for a, b in zip(quick.stages, full.stages, strict=True):
            assert a.given_values == b.given_values  # not part of Stage equality
            assert [(k, type(v)) for k, v in a.labs.items()] == [(k, type(v)) for k, v in b.labs.items()]
        with_units += sum(bool(s.given_units) for s in quick.stages)
    assert with_units  # some generated labs are written in an alternative unit


def _lab_stage(doc: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in doc["stages"] if s.get("labs"))


def _edits() -> list[tuple[str, Any]]:
    """Changes to a valid document that parse_case rejects, or that quick_case leaves to it."""

    def set_(path: tuple[Any, ...], value: Any):
        def edit(doc: dict[str, Any]) -> None:
            node = doc
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value

        return edit

    def lab(value: Any):
        def edit(doc: dict[str, Any]) -> None:
            labs = _lab_stage(doc)["labs"]
            labs[next(iter(labs))] = value

        return edit

    return [
        ("id too long", set_(("id",), "gen-" + "x" * 90)),
        ("id with a newline", set_(("id",), "gen-aa\n")),
        ("id not a slug", set_(("id",), "Gen_AA")),
        ("empty title", set_(("title",), "")),
        ("age out of range", set_(("patient", "age"), 130)),
        ("age a boolean", set_(("patient", "age"), True)),
        ("age a string", set_(("patient", "age"), "40")),
        ("unknown sex", set_(("patient", "sex"), "other")),
        ("pregnant", set_(("patient", "pregnant"), True)),
        ("not synthetic", set_(("synthetic",), False)),
        ("unknown key", set_(("extra",), 1)),
        ("no stages", set_(("stages",), [])),
        ("stage note", set_(("stages", 0, "note"), "a note")),
        ("unknown finding", set_(("stages", 0, "findings"), {"no_such_finding": "present"})),
        ("finding unknown", set_(("stages", 0, "findings"), {"pallor": "unknown"})),
        ("implausible lab", lab(1e9)),
        ("negative lab", lab(-1)),
        ("lab a string", lab("<10")),
        ("lab a boolean", lab(True)),
        ("lab not a number", lab(float("nan"))),
        ("unknown unit", lab({"value": 1, "unit": "furlongs"})),
        ("censored lab", lab({"value": 1, "comparator": "<"})),
        ("unknown diagnosis", set_(("answer",), {"diagnosis": "no_such_dx"})),
        ("unknown subtype", set_(("answer",), {"diagnosis": "aplastic_anemia", "subtype": "nope"})),
        ("no answer key", set_(("answer",), None)),
        ("unknown source", set_(("teaching_points",), [{"text": "t", "cites": [{"source": "nope"}]}])),
        ("no cites", set_(("teaching_points",), [{"text": "t", "cites": []}])),
        ("bad difficulty", set_(("difficulty",), "hard")),
        ("difficulty a list", set_(("difficulty",), ["hard"])),
        ("tags not a list", set_(("tags",), "generated")),
    ]


@pytest.mark.parametrize(("name", "edit"), _edits(), ids=[name for name, _ in _edits()])
def test_anything_unusual_is_left_to_parse_case(name, edit):
    doc = copy.deepcopy(next(d for d in _docs(40) if d.get("answer") and d.get("teaching_points")))
    edit(doc)
    assert quick_case(doc, "<f>", PACK) is None
    try:
        expected: Any = _full(doc, f"<generated {doc['id']}>")
    except InputError as exc:
        expected = f"generated case does not validate: {exc}"
    if isinstance(expected, str):  # to_case reports parse_case's own error
        with pytest.raises(EngineError) as info:
            to_case(doc, PACK)
        assert str(info.value) == expected
    else:
        assert to_case(doc, PACK) == expected
