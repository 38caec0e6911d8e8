"""The fast JSON writer must print exactly what ``json.dumps(indent=2, ensure_ascii=False)`` prints."""

from __future__ import annotations

import json
import random

import pytest

from hemedx import load_pack, rank_case
from hemedx.cases.library import load_library
from hemedx.cli.jsonout import dumps
from hemedx.engine.shown import ShownFloat, probability_shown, rounded


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
    [1e-05, 1.5e-07, 3e-06, -2e-05, 9.9e-05, 0.0001, 0.00012, 1 / 3, 123456.789, -0.5, 0.0],
)
def test_shown_floats_are_written_as_the_stdlib_writes_them(value: float) -> None:
    data = {"x": [rounded(value), {"y": rounded(value)}], "p": probability_shown(value)}
    assert dumps(data) == _stdlib(data)


@pytest.mark.parametrize("value", [5e-324, 1e16, 1e22, -0.0, 2**70, -(2**63) - 1, 2**64 - 1, 1 / 3])
def test_other_numbers_and_big_integers_are_written_as_the_stdlib_writes_them(value: float) -> None:
    data = {"x": [value, {"y": value}]}
    assert dumps(data) == _stdlib(data)


@pytest.mark.parametrize("value", [1e-05, 1.5e-07, -2e-05])
def test_a_small_float_that_was_not_rounded_keeps_its_value(value: float) -> None:
    """Only shown (rounded) floats are promised the stdlib's spelling; any other is the same number."""
    assert json.loads(dumps({"x": value})) == {"x": value}
    assert isinstance(rounded(value, 9), ShownFloat)
    assert not isinstance(rounded(0.5), ShownFloat)
    assert rounded(1e-9) == 0.0 and not isinstance(rounded(1e-9), ShownFloat)


def test_random_floats_strings_and_nesting_match() -> None:
    rng = random.Random(15)
    for _ in range(3000):
        value = rng.choice(
            [
                rounded(rng.random() * 10 ** rng.randint(-12, 8), rng.randint(0, 9)),
                (1 + rng.random()) * 10 ** rng.randint(-4, 20),  # at least 1e-4: orjson spells it as repr
                round(rng.random(), rng.randint(0, 4)),
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
    data = {1: "a", "b": (1, 2), "small": rounded(1e-05)}
    assert dumps(data) == _stdlib(data)


def test_number_like_text_inside_strings_is_left_alone() -> None:
    data = {
        "1e-6 ": "0.00001",
        "note": "p = 1e-6,",
        "x": [rounded(-1.5e-07, 8), " 0.00001"],
        "top": rounded(-2e-05),
    }
    assert dumps(data) == _stdlib(data)
    assert dumps(rounded(-1e-05)) == _stdlib(-1e-05)
