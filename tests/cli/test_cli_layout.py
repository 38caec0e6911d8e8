"""What the terminal shows: widths (COLUMNS, 60/80/120 columns, names never cut) and NO_COLOR on a pty."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hemedx.cli import cli

HEMEDX = str(Path(sys.executable).parent / "hemedx")
CASE = "aml-hypocellular-older-man"  # a subtype (Acute myeloid leukaemia) and the longest names in the table
VIEWS = [
    ["rank", CASE],
    ["rank", CASE, "--set", "platelets=250"],
    ["walkthrough", "aa-severe-young-woman", "--auto"],
]


def tables(text: str) -> list[list[str]]:
    """Every table in the output: its heading line and the rows below it up to a blank or prose line."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.lstrip().startswith("#") and "Diagnosis" in line:
            current = [line]
            found.append(current)
        elif current is not None and line.strip() and not line[0].isalpha():
            current.append(line)
        else:
            current = None
    return found


def diagnosis_column(table: list[str]) -> str:
    """The text of the Diagnosis column, wrapped lines joined (from the heading's column offsets)."""
    head = table[0]
    start = head.index("Diagnosis")
    end = min(i for i in (head.find(h) for h in ("Prob", "Before")) if i > 0)
    return " ".join(line[start:end].strip() for line in table[1:] if line[start:end].strip())


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("args", VIEWS, ids=lambda a: " ".join(a[:1] + a[2:3]))
def test_tables_fit_the_width_and_keep_every_diagnosis_name(width, args):
    result = CliRunner().invoke(cli, args, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    found = tables(result.stdout)
    assert found, result.stdout
    report = json.loads(CliRunner().invoke(cli, ["rank", args[1], "--json"]).stdout)
    labels = [d["label"] for d in report["differential"]]
    for table in found:
        assert max(len(line) for line in table) <= width, "\n".join(table)
        assert "…" not in "\n".join(table)  # nothing cut off
        names = " ".join(diagnosis_column(table).split())
        shown = [label for label in labels if label in names]
        rows = sum(1 for line in table[1:] if line.split()[0].isdigit())
        assert len(shown) >= rows, (names, labels)  # every row's whole name, wrapped at spaces at most


def test_bars_shrink_before_names_wrap():
    rows = {}
    for width in (60, 80, 120):
        out = CliRunner().invoke(cli, ["rank", CASE], env={"COLUMNS": str(width)}).stdout
        table = tables(out)[0]
        rows[width] = next(line for line in table if "Acute leukaemia" in line)
    report = json.loads(CliRunner().invoke(cli, ["rank", CASE, "--json"]).stdout)
    shown = f"{report['differential'][0]['probability'] * 100:.1f}%"
    assert "█" not in rows[60] and shown in rows[60]  # no room at 60: the bar goes, the number stays
    assert rows[80].count("█") < rows[120].count("█")
    assert "Acute myeloid leukaemia" in rows[120]


def test_piped_output_defaults_to_80_columns_and_honours_columns():
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    plain = subprocess.run([HEMEDX, "rank", CASE], capture_output=True, text=True, env=env)
    assert plain.returncode == 0
    assert max(len(line) for line in tables(plain.stdout)[0]) == 80
    wide = subprocess.run(
        [HEMEDX, "rank", CASE], capture_output=True, text=True, env={**env, "COLUMNS": "120"}
    )
    assert max(len(line) for line in tables(wide.stdout)[0]) == 120
    odd = subprocess.run([HEMEDX, "rank", CASE], capture_output=True, text=True, env={**env, "COLUMNS": "x"})
    assert odd.returncode == 0 and max(len(line) for line in tables(odd.stdout)[0]) == 80


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("view", ["explain", "walkthrough"])
def test_piped_prose_wraps_at_columns_under_its_own_indent(width, view):
    """Every line fits; a wrapped statement continues indented, so each item still reads as one."""
    args = [view, "aa-severe-young-woman"] + (["--auto"] if view == "walkthrough" else [])
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run([HEMEDX, *args], capture_output=True, text=True, env={**env, "COLUMNS": str(width)})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    if view != "explain":
        return
    item = next(i for i, line in enumerate(lines) if line.startswith("     + Hypocellular marrow present"))
    assert lines[item + 1].startswith("       ") and not lines[item + 1].startswith("       +")
    joined = " ".join(line.strip() for line in lines[item : item + 4])
    assert "(ev.hypocellular_marrow)" in joined  # the rule id stays with its statement


def on_a_terminal(args: list[str], **env: str) -> bytes:
    """Run hemedx with stdout on a pseudo-terminal and return every byte it wrote there."""
    primary, secondary = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environ.update(TERM="xterm-256color", COLUMNS="100", **env)
    proc = subprocess.Popen(
        [HEMEDX, *args], stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, env=environ
    )
    os.close(secondary)
    data = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    os.close(primary)
    assert proc.wait(timeout=120) == 0, data
    return data


def test_no_color_on_a_terminal_means_no_escape_code_at_all():
    styled = on_a_terminal(["rank", CASE])
    assert b"\x1b[1m" in styled  # bold on a terminal: the check below can fail
    plain = on_a_terminal(["rank", CASE], NO_COLOR="1")
    assert b"\x1b" not in plain
    assert b"Acute leukaemia" in plain


def test_demo_never_waits_when_stdin_is_not_a_terminal():
    result = subprocess.run(
        [HEMEDX, "demo", "--case", "aa-severe-young-woman"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "[any key]" not in result.stdout
    assert "Aplastic anaemia" in result.stdout and "Stage 4 of 4" in result.stdout
    assert result.stdout.count("How to read the numbers") == 1
    bad = subprocess.run(
        [HEMEDX, "demo", "--case", "no-such-case"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
