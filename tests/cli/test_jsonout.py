"""The fast JSON writer must print exactly what ``json.dumps(indent=2, ensure_ascii=False)`` prints."""

from __future__ import annotations

import json
import random

import pytest

from hemedx import load_pack, rank_case
from hemedx.cases.library import load_library
from hemedx.cli.jsonout import dumps


def _stdlib(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def test_every_library_report_is_byte_identical() -> None:
    pack = load_pack()
    for case in load_library(pack):
        for stage in range(len(case.stages)):
            report = rank_case(case, pack, upto=stage)
            assert dumps(report) == _stdlib(report), f"{case.id} stage {stage}"


@pytest.mark.parametrize(
    "value",
    [1e-05, 1.5e-07, 5e-324, 0.0001, 0.00012, 1e16, 1e22, -0.0, 1 / 3, 2**70, -(2**63) - 1, 2**64 - 1],
)
def test_floats_and_big_integers_are_written_as_the_stdlib_writes_them(value: float) -> None:
    data = {"x": [value, {"y": value}]}
    assert dumps(data) == _stdlib(data)


def test_random_floats_strings_and_nesting_match() -> None:
    rng = random.Random(15)
    for _ in range(3000):
        value = rng.choice(
            [
                rng.random() * 10 ** rng.randint(-12, 20),
                round(rng.random(), rng.randint(0, 6)),
                rng.randint(-(2**70), 2**70),
                "".join(chr(rng.randint(0, 0x3000)) for _ in range(rng.randint(0, 8))),
                None,
                True,
                [],
                {},
            ]
        )
        data = {"k": value, "nested": [value, {"é": value}], "empty": []}
        assert dumps(data) == _stdlib(data), repr(value)


def test_non_string_keys_fall_back_to_the_stdlib() -> None:
    data = {1: "a", "b": (1, 2)}
    assert dumps(data) == _stdlib(data)


def test_number_like_text_inside_strings_is_left_alone() -> None:
    data = {"1e-6 ": "0.00001", "note": "p = 1e-6,", "x": [-1.5e-07, " 0.00001"], "top": -0.00002}
    assert dumps(data) == _stdlib(data)
    assert dumps(-1e-05) == _stdlib(-1e-05)
