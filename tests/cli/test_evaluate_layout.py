"""evaluate's text at 40 to 120 columns: every line fits, no name is cut, the confusion is the JSON's."""

from __future__ import annotations

import io
import json
from functools import cache

import pytest
from click.testing import CliRunner

from hemedx.cli import cli
from hemedx.cli.confusion import NONE_LABEL, render_confusion
from hemedx.cli.environment import Environment
from hemedx.cli.render import console
from hemedx.engine.evaluate import NONE, NORMAL
from hemedx.rules.loader import load_pack
from hemedx.rules.vocab import table_labels

PACK = load_pack()
LABELS = dict(PACK.kb.diagnosis_labels)
NORMAL_NAME = "Normal (nothing should fit)"
WIDTHS = [40, 60, 80, 120]


@cache
def text(width: int) -> str:
    result = CliRunner().invoke(cli, ["evaluate", "--library", "--jobs", "1"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.stdout


@cache
def matrix() -> dict[str, dict[str, int]]:
    result = CliRunner().invoke(cli, ["evaluate", "--library", "--json", "--jobs", "1"])
    return json.loads(result.stdout)["confusion"]["matrix"]


def section(out: str, first: str) -> list[str]:
    """The lines from the one starting with ``first`` up to the next blank line."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def flat(out: str) -> str:
    """The output with every wrap undone, so a name wrapped at a space reads whole."""
    return " ".join(out.split())


@pytest.mark.parametrize("width", WIDTHS)
def test_every_line_fits_and_nothing_is_cut(width: int):
    out = text(width)
    too_long = [line for line in out.splitlines() if len(line) > width]
    assert not too_long, "\n".join(too_long)
    assert "…" not in out


@pytest.mark.parametrize("width", WIDTHS)
def test_every_expected_diagnosis_is_named_in_full_under_the_confusion(width: int):
    out = text(width)
    part = "Confusion matrix" if width >= 80 else "Confusion ("
    shown = flat("\n".join(section(out, part)))
    expected = [r for r, counts in matrix().items() if any(counts.values())]
    assert len(expected) > 10
    for row in expected:
        assert (LABELS[row] if row != NORMAL else NORMAL_NAME if width < 80 else "NONE nothing fits") in shown


@pytest.mark.parametrize("width", WIDTHS)
def test_the_per_diagnosis_table_wraps_names_at_spaces(width: int):
    table = section(text(width), "Per diagnosis")
    head = table[1]
    start, end = head.index("Diagnosis"), head.index("Cases")
    column = " ".join(line[start:end].strip() for line in table[2:])
    names = " ".join(column.split())
    for row, counts in matrix().items():
        if any(counts.values()):
            name = LABELS[row] if row != NORMAL else NORMAL_NAME
            folded = width < 60 and name.replace(" ", "") in names.replace(" ", "")  # a long word folds at 40
            assert name in names or folded, name


def _grid(width: int) -> dict[str, dict[str, int]]:
    """The matrix as printed: short label -> short label -> count (a dot is 0)."""
    lines = section(text(width), "Confusion matrix")
    head = next(i for i, line in enumerate(lines) if line.split() and line.split()[0] == "AA")
    cols = lines[head].split()
    rows = lines[head + 1 : head + 1 + len(matrix())]
    grid = {}
    for line in rows:
        if len(line.split()) != len(cols) + 1:
            break  # the legend starts
        label, *cells = line.split()
        grid[label] = {c: 0 if v == "·" else int(v) for c, v in zip(cols, cells, strict=True)}
    return grid


@pytest.mark.parametrize("width", [80, 120])
def test_the_matrix_fits_from_80_columns_and_its_counts_are_the_jsons(width: int):
    shorts = table_labels(PACK.diagnoses, reserved=[NONE_LABEL])
    short = {**shorts, NORMAL: NONE_LABEL, NONE: NONE_LABEL}
    expected = {
        short[r]: {short[c]: n for c, n in counts.items()}
        for r, counts in matrix().items()
        if any(counts.values())
    }
    grid = _grid(width)
    assert grid == expected
    assert grid["AA"]["AA"] == matrix()["aplastic_anemia"]["aplastic_anemia"] >= 10  # the library's AA cases
    legend = flat("\n".join(section(text(width), "Confusion matrix")))
    for dx_id, label in shorts.items():
        assert f"{label} {LABELS[dx_id]}" in legend  # each header beside its whole name


def test_at_80_columns_the_padding_goes_before_the_matrix_does():
    roomy = section(text(120), "Confusion matrix")
    tight = section(text(80), "Confusion matrix")
    row = next(line for line in roomy if line.split()[:1] == ["AIHA"])
    assert len(row) > 80  # the roomy matrix would not fit 80 columns ...
    assert "AIHA" in " ".join(tight) and max(map(len, tight)) <= 80  # ... one space between columns does


@pytest.mark.parametrize("width", [40, 60])
def test_too_narrow_for_the_matrix_the_counts_become_a_list(width: int):
    out = text(width)
    assert "Confusion matrix" not in out
    listed = flat("\n".join(section(out, "Confusion (")))
    for row, counts in matrix().items():
        if not any(counts.values()):
            continue
        name = NORMAL_NAME if row == NORMAL else LABELS[row]
        got = ", ".join(f"{n} → {'nothing fits' if c == NONE else LABELS[c]}" for c, n in counts.items() if n)
        assert f"{name}: {got}" in listed


def _render(width: int, counts: dict[str, dict[str, int]]) -> str:
    buf = io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=buf, stderr=io.StringIO(), columns=width)
    shorts = table_labels(PACK.diagnoses, reserved=[NONE_LABEL])
    name = {**LABELS, NORMAL: NORMAL_NAME}.__getitem__
    render_confusion(counts, shorts, name, console(env), normal=NORMAL, none=NONE)
    return buf.getvalue()


def test_a_list_puts_the_commonest_answer_first_and_a_matrix_puts_misses_off_the_diagonal():
    cols = [d.id for d in PACK.diagnoses] + [NONE]
    counts = {r: dict.fromkeys(cols, 0) for r in [d.id for d in PACK.diagnoses] + [NORMAL]}
    counts["mds"].update(mds=1, acute_leukemia=2, none=1)
    counts[NORMAL].update(none=3)
    listed = flat(_render(60, counts))
    mds = "Myelodysplastic syndrome: 2 → Acute leukaemia, 1 → Myelodysplastic syndrome, 1 → nothing fits"
    assert mds in listed
    assert f"{NORMAL_NAME}: 3 → nothing fits" in listed
    assert "Aplastic anaemia:" not in listed  # a diagnosis no case expected has no line
    shown = _render(120, counts).splitlines()
    header = next(line for line in shown if line.split()[:1] == ["AA"]).split()
    row = next(line for line in shown if line.split()[:1] == ["MDS"]).split()[1:]
    assert dict(zip(header, row, strict=True)) == {
        **dict.fromkeys(header, "·"),
        "AL": "2",
        "MDS": "1",
        "NONE": "1",
    }
