"""Reference numbers a learner can follow: every printed mark is listed, nothing unprinted is listed,
and a number means one source for a whole demo (walkthrough and the closing explanation alike)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from hemedx.cli import cli

MARK = re.compile(r"\[(\d+)(?::[^\]]*)?\]")
REFERENCE = re.compile(r"^  \[(\d+)\] (.+?)(?=^\S|^  \[|\Z)", re.M | re.S)


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    "case",
    [
        "aa-severe-young-woman",
        "aiha-warm-igg-c3d-older-man",
        "outside-g6pd-fava-beans",
        "normal-fatigue-young-woman",
    ],
)
@pytest.mark.parametrize("top", ["1", "3"])
def test_explain_lists_exactly_the_references_it_marks(case: str, top: str) -> None:
    out = run("explain", case, "--top", top)
    body, _, refs = out.partition("\nReferences\n")
    marked = {int(n) for n in MARK.findall(body)}
    listed = {int(m.group(1)) for m in REFERENCE.finditer(refs)}
    assert marked == listed


def test_a_number_names_one_source_through_the_whole_demo() -> None:
    out = run("demo", "--no-pause")
    seen: dict[int, str] = {}
    lists = 0
    for block in out.split("\nReferences\n")[1:]:
        lists += 1
        for m in REFERENCE.finditer(block):
            n, citation = int(m.group(1)), " ".join(m.group(2).split())
            assert seen.setdefault(n, citation) == citation, f"[{n}] names two sources"
    assert lists >= 5  # four stages, the answer and the closing explanation
    assert len(set(seen.values())) == len(seen)  # and a source keeps one number
