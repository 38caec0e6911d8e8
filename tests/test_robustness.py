"""Hostile input gets bounded work, no silent misreads, no lost user files and one clean line.

Each test here failed on the code before issue 14: a number read as a different number, a traceback, a
hang, an overwritten file or a raw escape sequence. Most run through click's runner; signals, pipes,
encodings and full disks need a real process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from hemedx.cli import cli
from hemedx.errors import InputError
from hemedx.rules import default_pack_path
from hemedx.safeyaml import parse_json, parse_yaml

HERE = Path(__file__).parent
MINI = HERE / "fixtures" / "packs" / "mini"
PREFIX = "hemedx: error: "

CASE = """\
id: ok-case
title: A valid case
patient: {{age: {age}, sex: female}}
stages:
  - name: Count
    findings: {{petechiae: present}}
    labs: {{hemoglobin: 9.1, platelets: 20, marrow_blasts: {blasts}}}
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_error_line(result: Result, exit_code: int = 2) -> str:
    """The run failed with ``exit_code`` and said so in exactly one line, without a traceback."""
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def write_case(tmp_path: Path, age: str = "40", blasts: str = "3") -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(CASE.format(age=age, blasts=blasts))
    return path


def overlay(tmp_path: Path, files: dict[str, object]) -> Path:
    """An overlay pack on the default one: its pack.yaml plus ``extends: default``, and ``files``."""
    folder = tmp_path / "overlay"
    (folder / "rules").mkdir(parents=True)
    info = yaml.safe_load((default_pack_path() / "pack.yaml").read_text())
    info["extends"] = "default"
    (folder / "pack.yaml").write_text(yaml.safe_dump(info))
    for name, data in files.items():
        (folder / name).write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return folder


def default_diagnosis(**changes: object) -> dict:
    dx = yaml.safe_load((default_pack_path() / "diagnoses.yaml").read_text())["diagnoses"][0]
    dx.update(changes)
    return dx


# --- 1. numbers as YAML 1.2 reads them ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "hint"),
    [
        ("020", "write 20, not 020"),
        ("-007", "write -7, not -007"),
        ("1_000", "write 1000, not 1_000"),
        ("1_0.5", "write 10.5, not 1_0.5"),
        ("0x1F", "e.g. 31"),
        ("0b101", "e.g. 5"),
        ("0o17", "decimal digits"),
        ("1:20", "e.g. 80"),
    ],
)
def test_yaml11_number_spellings_are_refused_with_the_field(spelling, hint):
    with pytest.raises(InputError) as info:
        parse_yaml(f"labs:\n  marrow_blasts: {spelling}\n", "case.yaml")
    err = info.value
    assert (err.file, err.line, err.field) == ("case.yaml", 2, "labs.marrow_blasts")
    assert "not a plain decimal number" in err.message and hint in str(err)


@pytest.mark.parametrize(
    ("spelling", "value"),
    [("20", 20), ("-7", -7), ("+12", 12), ("0", 0), ("020.5", 20.5), (".5", 0.5), ("1.0e+3", 1000.0)],
)
def test_plain_numbers_are_read_as_written(spelling, value):
    assert parse_yaml(f"a: {spelling}\n", "f.yaml").data == {"a": value}


@pytest.mark.parametrize("quoted", ["'020'", '"0x1F"', "'1:20'"])
def test_quoted_text_that_looks_like_a_number_stays_text(quoted):
    assert parse_yaml(f"a: {quoted}\n", "f.yaml").data == {"a": quoted[1:-1]}


def test_octal_looking_blasts_are_an_error_not_sixteen_percent(tmp_path):
    """marrow_blasts: 020 used to be read as 16 (octal): the case then ranked MDS, not leukaemia."""
    line = one_error_line(run("rank", "--rules", str(MINI), str(write_case(tmp_path, blasts="020"))))
    assert line.startswith(f"{PREFIX}{tmp_path / 'case.yaml'}:7:")
    assert "stages[0].labs.marrow_blasts" in line and "write 20, not 020" in line


def test_octal_looking_age_is_an_error(tmp_path):
    line = one_error_line(run("rank", "--rules", str(MINI), str(write_case(tmp_path, age="030"))))
    assert "patient.age" in line and "write 30, not 030" in line


@pytest.mark.parametrize("digits", [16, 5000])
def test_huge_integers_are_an_input_error(tmp_path, digits):
    line = one_error_line(run("rank", "--rules", str(MINI), str(write_case(tmp_path, age="9" * digits))))
    assert f"patient.age: a {digits}-digit integer is out of range" in line


def test_huge_integer_in_json_is_an_input_error():
    with pytest.raises(InputError) as info:
        parse_json('{"patient": {"age": ' + "9" * 5000 + "}}", "case.json")
    assert "5000-digit integer" in str(info.value) and info.value.field == "patient.age"


@pytest.mark.parametrize("prior", [5e-324, 0.00001, 0.99999])
def test_priors_near_zero_or_one_are_refused(tmp_path, prior):
    dx = default_diagnosis()
    dx["prior"]["value"] = prior
    pack = overlay(tmp_path, {"diagnoses.yaml": {"diagnoses": [dx]}})
    line = one_error_line(run("rank", "--rules", str(pack), "aa-young-adult"))
    assert "diagnoses.yaml:" in line and "diagnoses[0].prior.value" in line
