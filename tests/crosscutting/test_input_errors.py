"""Bad input never crashes hemedx: exit status 2 and one located line on stderr, never a traceback.

Every malformed case file, rule pack or command line is checked through the real CLI (click's runner,
plus a real subprocess for what a terminal user sees) and through the library API, which raises
:class:`hemedx.errors.InputError` with ``file``, ``line`` and ``field`` set.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import hemedx
from hemedx.cli import cli
from hemedx.errors import InputError, format_path

from support.helpers import FIXTURES, MINI_PACK

MINI = MINI_PACK
BAD_CASES = FIXTURES / "bad_cases"
PREFIX = "hemedx: error: "

BASE = """\
id: ok-case
title: A valid case
patient: {age: 40, sex: female}
stages:
  - name: Count
    findings: {petechiae: present}
    labs: {hemoglobin: 9.1, platelets: {value: 11000, unit: /uL}, marrow_blasts: 3}
    tests: {dat: negative}
answer: {diagnosis: aplastic_anemia, subtype: severe}
"""

BASE_JSON = {
    "id": "ok-case",
    "title": "A valid case",
    "patient": {"age": 40, "sex": "female"},
    "stages": [
        {
            "name": "Count",
            "findings": {"petechiae": "present"},
            "labs": {"hemoglobin": 9.1, "platelets": {"value": 11000, "unit": "/uL"}, "marrow_blasts": 3},
            "tests": {"dat": "negative"},
        }
    ],
    "answer": {"diagnosis": "aplastic_anemia", "subtype": "severe"},
}


# --- helpers -------------------------------------------------------------------------------------------


def rank(*args: object, rules: Path | None = MINI) -> Result:
    argv = ["rank", *(str(a) for a in args)]
    if rules is not None:
        argv += ["--rules", str(rules)]
    return CliRunner().invoke(cli, argv)


def error_line(result: Result, *needles: str) -> str:
    """Assert the bad-input contract and return the single stderr line."""
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(PREFIX), line
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def replaced(old: str | None, new: str, base: str = BASE) -> str:
    """``base`` with ``old`` replaced once by ``new`` (or all of it when ``old`` is None)."""
    if old is None:
        return new
    assert old in base, f"fixture drift: {old!r} not in the base case"
    return base.replace(old, new, 1)


def write(tmp_path: Path, text: str | bytes, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, marker: str) -> int:
    """1-based number of the first line of ``text`` containing ``marker``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} not in text")


@pytest.fixture(scope="module")
def mini_pack():
    return hemedx.load_pack(MINI)


# --- the valid base cases ----------------------------------------------------------------------------


def test_base_case_is_valid(tmp_path):
    result = rank(write(tmp_path, BASE))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "Aplastic anaemia" in result.stdout


def test_base_case_as_json_is_valid(tmp_path):
    result = rank(write(tmp_path, json.dumps(BASE_JSON), "case.json"), "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert json.loads(result.stdout)["differential"]


# --- one mutation of the base case per problem --------------------------------------------------------

# (old text, new text, substrings the one error line must contain)
CASE_MUTATIONS = [
    pytest.param(None, "id: [unclosed\n", ["case.yaml:2:", "not valid YAML"], id="not-yaml"),
    pytest.param(None, "id: x\n\tfoo: 1\n", ["case.yaml:2:", "not valid YAML", "tab"], id="tab-indent"),
    pytest.param(None, "", ["case.yaml", "file is empty"], id="empty-file"),
    pytest.param(None, "  \n\n", ["case.yaml", "file is empty"], id="blank-file"),
    pytest.param(None, "# only a comment\n", ["case.yaml", "file is empty"], id="comment-only"),
    pytest.param(None, "- a\n- b\n", ["case.yaml", "must be a mapping", "got a list"], id="top-level-list"),
    pytest.param(None, "hello\n", ["case.yaml", "must be a mapping", "'hello'"], id="top-level-string"),
    pytest.param(None, "42\n", ["case.yaml", "must be a mapping"], id="top-level-number"),
    pytest.param(None, "---\n", ["case.yaml", "file is empty"], id="explicit-empty-document"),
    pytest.param("id: ok-case\n", "", ["case.yaml:1:", "missing required field 'id'"], id="missing-id"),
    pytest.param("id: ok-case", "id: Bad Case", ["case.yaml:1:", "id:", "not a slug"], id="id-not-slug"),
    pytest.param("id: ok-case", "id: OK-case", ["case.yaml:1:", "id:", "not a slug"], id="id-uppercase"),
    pytest.param("id: ok-case", "id: 12", ["case.yaml:1:", "id:", "not a slug"], id="id-number"),
    pytest.param("id: ok-case", "id:", ["case.yaml:1:", "id:", "case id is empty"], id="id-null"),
    pytest.param(
        "id: ok-case\n",
        "id: ok-case\nid: other\n",
        ["case.yaml:2:", "duplicate key 'id'", "first given on line 1"],
        id="duplicate-top-key",
    ),
    pytest.param(
        "hemoglobin: 9.1,",
        "hemoglobin: 9.1, hemoglobin: 8,",
        ["case.yaml:7:", "stages[0].labs", "duplicate key 'hemoglobin'"],
        id="duplicate-lab-key",
    ),
    pytest.param(
        "title: A valid case\n",
        "title: A valid case\ntitel: again\n",
        ["case.yaml:3:", "titel", "unknown field 'titel'", "did you mean 'title'?"],
        id="unknown-field",
    ),
    pytest.param(
        "petechiae: present",
        "petechia: present",
        [
            "case.yaml:6:",
            "stages[0].findings.petechia",
            "unknown finding 'petechia'",
            "did you mean 'petechiae'?",
        ],
        id="unknown-finding",
    ),
    pytest.param(
        "petechiae: present",
        "petechiae: maybe",
        ["case.yaml:6:", "stages[0].findings.petechiae", "'present', 'absent' or 'unknown'"],
        id="bad-finding-value",
    ),
    pytest.param(
        "petechiae: present",
        "petechiae: yes",
        ["case.yaml:6:", "stages[0].findings.petechiae", "'present', 'absent' or 'unknown'"],
        id="finding-value-yaml-bool",
    ),
    pytest.param(
        "petechiae: present",
        "hemoglobin: present",
        ["stages[0].findings.hemoglobin", "not one of the findings", "belongs under labs"],
        id="lab-under-findings",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobn: 9.1",
        ["case.yaml:7:", "stages[0].labs.hemoglobn", "unknown lab 'hemoglobn'", "did you mean 'hemoglobin'?"],
        id="unknown-lab-typo",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "haemoglobin: 9.1",
        ["stages[0].labs.haemoglobin", "did you mean 'hemoglobin'?"],
        id="unknown-lab-british",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: -3",
        ["case.yaml:7:", "stages[0].labs.hemoglobin", "cannot be negative", "-3 g/dL"],
        id="negative-lab",
    ),
    pytest.param(
        "value: 11000",
        "value: -5",
        ["stages[0].labs.platelets", "cannot be negative", "-5 /uL"],
        id="negative-lab-with-unit",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: 91",
        [
            "case.yaml:7:",
            "stages[0].labs.hemoglobin",
            "implausible hemoglobin 91 g/dL",
            "expected 1-25 g/dL",
            "g/L",
        ],
        id="implausible-lab",
    ),
    pytest.param(
        "platelets: {value: 11000, unit: /uL}",
        "platelets: 11000",
        ["stages[0].labs.platelets", "implausible platelets", "/uL"],
        id="implausible-missing-unit",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: .nan",
        ["case.yaml:7:", "stages[0].labs.hemoglobin", "not a finite number"],
        id="nan-lab",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: .NaN",
        ["stages[0].labs.hemoglobin", "not a finite number"],
        id="nan-lab-capitalised",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: .inf",
        ["case.yaml:7:", "stages[0].labs.hemoglobin", "not a finite number"],
        id="inf-lab",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: -.inf",
        ["stages[0].labs.hemoglobin", "not a finite number"],
        id="minus-inf-lab",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: 1.0e+400",
        ["stages[0].labs.hemoglobin", "not a finite number"],
        id="overflowing-float",
    ),
    pytest.param(
        "value: 11000",
        "value: .nan",
        ["stages[0].labs.platelets.value", "not a finite number"],
        id="nan-lab-with-unit",
    ),
    pytest.param("age: 40", "age: .nan", ["patient.age", "not a finite number"], id="nan-age"),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: '9.1'",
        ["stages[0].labs.hemoglobin", "expected a number", "'9.1'"],
        id="quoted-number",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: nan",
        ["stages[0].labs.hemoglobin", "expected a number"],
        id="bare-nan-is-text",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: true",
        ["stages[0].labs.hemoglobin", "expected a number"],
        id="boolean-lab",
    ),
    pytest.param(
        "unit: /uL",
        "unit: furlongs",
        ["case.yaml:7:", "stages[0].labs.platelets.unit", "unknown unit 'furlongs'", "/uL"],
        id="unknown-unit",
    ),
    pytest.param(
        "value: 11000, ",
        "",
        ["stages[0].labs.platelets", "missing required field 'value'"],
        id="unit-without-value",
    ),
    pytest.param(
        "marrow_blasts: 3",
        "marrow_blasts: 130",
        ["case.yaml:7:", "stages[0].labs.marrow_blasts", "cannot exceed 100", "130 %"],
        id="percentage-over-100",
    ),
    pytest.param(
        "marrow_blasts: 3",
        "marrow_blasts: {value: 100.5, unit: '%'}",
        ["stages[0].labs.marrow_blasts", "cannot exceed 100"],
        id="percentage-over-100-with-unit",
    ),
    pytest.param(
        "marrow_blasts: 3",
        "marrow_blasts: -1",
        ["stages[0].labs.marrow_blasts", "cannot be negative"],
        id="negative-percentage",
    ),
    pytest.param(
        "dat: negative",
        "dat: positive",
        [
            "case.yaml:8:",
            "stages[0].tests.dat",
            "'positive' is not a result of dat",
            "negative, igg, c3d, igg_c3d",
        ],
        id="bad-test-value",
    ),
    pytest.param(
        "dat: negative",
        "dat: igg_c3",
        ["stages[0].tests.dat", "did you mean 'igg_c3d'?"],
        id="bad-test-value-typo",
    ),
    pytest.param(
        "dat: negative",
        "dta: negative",
        ["case.yaml:8:", "stages[0].tests.dta", "unknown test 'dta'", "did you mean 'dat'?"],
        id="unknown-test",
    ),
    pytest.param(
        "diagnosis: aplastic_anemia",
        "diagnosis: aplastic_anaemia",
        [
            "case.yaml:9:",
            "answer.diagnosis",
            "unknown diagnosis 'aplastic_anaemia'",
            "did you mean 'aplastic_anemia'?",
        ],
        id="unknown-answer-diagnosis",
    ),
    pytest.param(
        "subtype: severe",
        "subtype: sever",
        [
            "case.yaml:9:",
            "answer.subtype",
            "'sever' is not a subtype of aplastic_anemia",
            "did you mean 'severe'?",
        ],
        id="bad-answer-subtype",
    ),
    pytest.param(
        "diagnosis: aplastic_anemia, subtype: severe",
        "diagnosis: acute_leukemia, subtype: aml",
        ["answer.subtype", "not a subtype of acute_leukemia", "allowed: none"],
        id="subtype-of-diagnosis-without-subtypes",
    ),
    pytest.param(
        "answer: {diagnosis: aplastic_anemia, subtype: severe}",
        "answer: aplastic_anemia",
        ["case.yaml:9:", "answer"],
        id="answer-not-a-mapping",
    ),
    pytest.param("age: 40", "age: 400", ["case.yaml:3:", "patient.age", "120"], id="implausible-age"),
    pytest.param(
        "sex: female", "sex: f", ["case.yaml:3:", "patient.sex", "'female' or 'male'"], id="bad-sex"
    ),
    pytest.param(
        "patient: {age: 40, sex: female}", "patient: null", ["case.yaml:3:", "patient"], id="patient-null"
    ),
    pytest.param(
        "stages:\n  - name: Count\n    findings: {petechiae: present}\n"
        "    labs: {hemoglobin: 9.1, platelets: {value: 11000, unit: /uL}, marrow_blasts: 3}\n"
        "    tests: {dat: negative}\n",
        "stages: []\n",
        ["case.yaml:4:", "stages", "at least 1"],
        id="no-stages",
    ),
    pytest.param(
        "stages:\n  - name: Count\n    findings: {petechiae: present}\n"
        "    labs: {hemoglobin: 9.1, platelets: {value: 11000, unit: /uL}, marrow_blasts: 3}\n"
        "    tests: {dat: negative}\n",
        "",
        ["case.yaml", "missing required field 'stages'"],
        id="missing-stages",
    ),
    pytest.param(
        "findings: {petechiae: present}",
        "findings: petechiae",
        ["stages[0].findings", "expected a mapping"],
        id="findings-not-a-mapping",
    ),
    pytest.param(
        "labs: {hemoglobin: 9.1, platelets: {value: 11000, unit: /uL}, marrow_blasts: 3}",
        "labs: [9.1, 11]",
        ["stages[0].labs", "expected a mapping"],
        id="labs-a-list",
    ),
    pytest.param(
        "answer:",
        "  - name: Marrow\n    labs: {hemoglobin: 91}\nanswer:",
        ["case.yaml:10:", "stages[1].labs.hemoglobin", "implausible hemoglobin"],
        id="error-in-second-stage",
    ),
    pytest.param(
        "answer:",
        "teaching_points:\n  - text: A point.\n    cites: [{source: src-z}]\nanswer:",
        ["case.yaml:11:", "teaching_points[0].cites[0].source", "unknown source 'src-z'"],
        id="unknown-teaching-point-source",
    ),
    pytest.param(
        BASE,
        BASE + "---\nid: second\n",
        ["case.yaml:10:", "not valid YAML", "another document"],
        id="two-yaml-documents",
    ),
]


@pytest.mark.parametrize(("old", "new", "needles"), CASE_MUTATIONS)
def test_bad_case_file(tmp_path, old, new, needles):
    path = write(tmp_path, replaced(old, new))
    error_line(rank(path), str(path), *needles)


@pytest.mark.parametrize(("old", "new", "needles"), CASE_MUTATIONS[:20:4])
def test_bad_case_file_with_json_flag_prints_nothing_on_stdout(tmp_path, old, new, needles):
    path = write(tmp_path, replaced(old, new))
    error_line(rank(path, "--json"), str(path), *needles)


def test_bad_case_file_through_explain(tmp_path):
    path = write(tmp_path, replaced("hemoglobin: 9.1", "hemoglobn: 9.1"))
    result = CliRunner().invoke(cli, ["explain", str(path), "--rules", str(MINI)])
    error_line(result, str(path), "stages[0].labs.hemoglobn", "did you mean 'hemoglobin'?")


# --- YAML tags, aliases and merge keys: refused, never executed ----------------------------------------

TAG_PAYLOADS = [
    pytest.param(
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/apply:os.system",
        id="python-object-apply",
    ),
    pytest.param(
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/object/new:os.system",
        id="python-object-new",
    ),
    pytest.param(
        "!!python/object/apply:subprocess.check_call [[touch, '{marker}']]",
        "!!python/object/apply:subprocess.check_call",
        id="python-apply-subprocess",
    ),
    pytest.param("!!python/name:os.system", "!!python/name:os.system", id="python-name"),
    pytest.param("!!python/module:os", "!!python/module:os", id="python-module"),
    pytest.param(
        "!!python/object:argparse.Namespace {{a: 1}}",
        "!!python/object:argparse.Namespace",
        id="python-object",
    ),
    pytest.param(
        "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
        "!!python/object/apply:os.system",
        id="verbatim-python-tag",
    ),
    pytest.param("!!set {{a, b}}", "!!set", id="set"),
    pytest.param("!!binary aGVsbG8=", "!!binary", id="binary"),
    pytest.param("!!omap [a: 1]", "!!omap", id="omap"),
    pytest.param("!foo bar", "!foo", id="custom-local-tag"),
    pytest.param("!foo {{a: 1}}", "!foo", id="custom-tag-on-mapping"),
]


@pytest.mark.parametrize(("payload", "tag"), TAG_PAYLOADS)
def test_yaml_tags_are_refused_and_never_run(tmp_path, payload, tag):
    marker = tmp_path / "pwned"
    text = replaced("title: A valid case", "title: " + payload.format(marker=marker))
    path = write(tmp_path, text)
    error_line(rank(path), str(path), "case.yaml:2:", "title", f"YAML tag '{tag}'", "not allowed")
    assert not marker.exists(), "a YAML tag executed code"


def test_python_tag_deep_inside_a_stage_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = write(
        tmp_path,
        replaced("hemoglobin: 9.1", f"hemoglobin: !!python/object/apply:os.system ['touch {marker}']"),
    )
    error_line(rank(path), "case.yaml:7:", "stages[0].labs.hemoglobin", "not allowed")
    assert not marker.exists()


ALIASES = [
    pytest.param(
        "patient: {age: 40, sex: female}",
        "patient: &p {age: 40, sex: female}\nother: *p",
        ["case.yaml:4:", "other", "anchors and aliases are not allowed"],
        id="mapping-alias",
    ),
    pytest.param(
        "stages:\n",
        "tags: &t [a, b]\nkeywords: *t\nstages:\n",
        ["case.yaml:5:", "keywords", "anchors and aliases are not allowed"],
        id="list-alias",
    ),
    pytest.param(
        "stages:\n",
        "lol: &a [x, x, x, x, x, x, x, x, x]\nlol2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "lol3: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nstages:\n",
        ["anchors and aliases are not allowed"],
        id="billion-laughs",
    ),
    pytest.param(
        "petechiae: present",
        "petechiae: present, splenomegaly: *undefined",
        ["case.yaml:6:", "stages[0].findings.splenomegaly", "aliases are not allowed"],
        id="undefined-alias",
    ),
    pytest.param(
        "hemoglobin: 9.1",
        "hemoglobin: &hb 9.1, anc: *hb",
        ["anchors and aliases are not allowed"],
        id="scalar-alias",
    ),
]


@pytest.mark.parametrize(("old", "new", "needles"), ALIASES)
def test_yaml_aliases_are_refused(tmp_path, old, new, needles):
    path = write(tmp_path, replaced(old, new))
    error_line(rank(path), str(path), *needles)


@pytest.mark.parametrize(
    "patient",
    [
        pytest.param("patient:\n  <<: {age: 40}\n  sex: female", id="merge-inline-mapping"),
        pytest.param("base: &b {age: 40}\npatient:\n  <<: *b\n  sex: female", id="merge-alias"),
        pytest.param("patient:\n  <<: [{age: 40}]\n  sex: female", id="merge-list"),
    ],
)
def test_yaml_merge_keys_are_refused(tmp_path, patient):
    path = write(tmp_path, replaced("patient: {age: 40, sex: female}", patient))
    line = error_line(rank(path), str(path), "patient")
    assert "merge keys" in line or "anchors and aliases" in line


def test_complex_yaml_key_is_refused(tmp_path):
    path = write(tmp_path, replaced("petechiae: present", "[a, b]: present"))
    error_line(rank(path), "case.yaml:6:", "stages[0].findings", "only plain text keys")


# --- files that are not case files ---------------------------------------------------------------------


def test_missing_case_file(tmp_path):
    path = tmp_path / "missing.yaml"
    error_line(rank(path), str(path), "no such case file")


def test_case_argument_is_a_directory(tmp_path):
    error_line(rank(tmp_path), str(tmp_path), "is a directory")


def test_unknown_library_id_suggests_nearest():
    error_line(rank("aa-severe-young-womn"), "aa-severe-young-womn", "did you mean 'aa-severe-young-woman'?")


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        pytest.param(b"id: caf\xe9\n", "not UTF-8 text (byte 7)", id="latin-1"),
        pytest.param("id: ok\n".encode("utf-16"), "not UTF-8 text", id="utf-16"),
        pytest.param(bytes(range(256)), "not UTF-8 text", id="binary-junk"),
    ],
)
def test_case_file_not_utf8(tmp_path, raw, needle):
    path = write(tmp_path, raw)
    error_line(rank(path), str(path), needle)


def test_case_with_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + BASE.encode())
    assert rank(path).exit_code == 0


def test_huge_case_file(tmp_path):
    path = write(tmp_path, BASE + "# " + "x" * 2_100_000 + "\n")
    error_line(rank(path), str(path), "larger than")


# --- JSON case files ---------------------------------------------------------------------------------


def json_text(**changes: object) -> str:
    return json.dumps({**BASE_JSON, **changes})


NAN_JSON = json_text().replace('"hemoglobin": 9.1', '"hemoglobin": NaN')
DUP_JSON = json_text().replace('"hemoglobin": 9.1', '"hemoglobin": 9.1, "hemoglobin": 8')

JSON_CASES = [
    pytest.param('{"id": ', ["case.json:1:8", "not valid JSON"], id="not-json"),
    pytest.param('{"id": "x"}{', ["case.json:1:", "not valid JSON", "Extra data"], id="trailing-data"),
    pytest.param("", ["case.json", "file is empty"], id="empty"),
    pytest.param("   \n", ["case.json", "file is empty"], id="blank"),
    pytest.param("[1, 2]", ["case.json", "must be a mapping", "a list"], id="top-level-list"),
    pytest.param("null", ["case.json", "must be a mapping"], id="top-level-null"),
    pytest.param(
        json_text().replace('"id": "ok-case", ', '"id": "ok-case", "id": "again", '),
        ["case.json", "duplicate key 'id'"],
        id="duplicate-top-key",
    ),
    pytest.param(DUP_JSON, ["case.json", "duplicate key 'hemoglobin'"], id="duplicate-nested-key"),
    pytest.param(NAN_JSON, ["case.json", "'NaN' is not a finite number"], id="nan"),
    pytest.param(
        json_text().replace('"hemoglobin": 9.1', '"hemoglobin": Infinity'),
        ["case.json", "'Infinity' is not a finite number"],
        id="infinity",
    ),
    pytest.param(
        json_text().replace('"age": 40', '"age": -Infinity'),
        ["case.json", "'-Infinity' is not a finite number"],
        id="minus-infinity",
    ),
    pytest.param(
        json_text().replace('"petechiae"', '"petechia"'),
        ["case.json", "stages[0].findings.petechia", "did you mean 'petechiae'?"],
        id="unknown-finding",
    ),
    pytest.param(
        json_text().replace('"hemoglobin": 9.1', '"hemoglobin": "9.1"'),
        ["case.json", "stages[0].labs.hemoglobin", "expected a number"],
        id="quoted-number",
    ),
    pytest.param(
        json_text().replace('"marrow_blasts": 3', '"marrow_blasts": 101'),
        ["case.json", "stages[0].labs.marrow_blasts", "cannot exceed 100"],
        id="percentage-over-100",
    ),
    pytest.param(
        json_text().replace('"/uL"', '"/furlong"'),
        ["case.json", "stages[0].labs.platelets.unit", "unknown unit"],
        id="unknown-unit",
    ),
    pytest.param(json_text(stages=[]), ["case.json", "stages", "at least 1"], id="no-stages"),
    pytest.param(
        json_text(answer={"diagnosis": "aiha", "subtype": "hot"}),
        ["case.json", "answer.subtype", "not a subtype of aiha"],
        id="bad-subtype",
    ),
    pytest.param("[" * 100_000 + "]" * 100_000, ["case.json", "nested too deeply"], id="deep-nesting"),
]


@pytest.mark.parametrize(("text", "needles"), JSON_CASES)
def test_bad_json_case_file(tmp_path, text, needles):
    path = write(tmp_path, text, "case.json")
    error_line(rank(path), str(path), *needles)


def test_json_nan_names_the_field(tmp_path):
    path = write(tmp_path, NAN_JSON, "case.json")
    error_line(rank(path), "stages[0].labs.hemoglobin", "not a finite number")


def test_json_nested_duplicate_names_the_field(tmp_path):
    path = write(tmp_path, DUP_JSON, "case.json")
    error_line(rank(path), "stages[0].labs", "duplicate key 'hemoglobin'")


def test_json_overflowing_number_is_not_finite(tmp_path):
    path = write(tmp_path, json_text().replace('"hemoglobin": 9.1', '"hemoglobin": 1e400'), "case.json")
    error_line(rank(path), "stages[0].labs.hemoglobin", "not a finite number")


def test_json_overflowing_number_is_still_an_input_error(tmp_path):
    path = write(tmp_path, json_text().replace('"hemoglobin": 9.1', '"hemoglobin": 1e400'), "case.json")
    error_line(rank(path), str(path), "stages[0].labs.hemoglobin")


def test_json_with_bom_is_accepted(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbf" + json_text().encode(), "case.json")
    assert rank(path).exit_code == 0


# --- checked-in bad fixtures ---------------------------------------------------------------------------

BAD_FIXTURES = {
    "not_yaml.yaml": ["not valid YAML"],
    "not_a_mapping.yaml": ["must be a mapping"],
    "unknown_lab.yaml": ["stages[1].labs.hemoglobn", "did you mean 'hemoglobin'?"],
    "percentage_over_100.yaml": ["stages[1].labs.marrow_blasts", "cannot exceed 100"],
    "python_tag.yaml": ["YAML tag '!!python/object/apply:os.system'", "not allowed"],
    "duplicate_keys.json": ["duplicate key 'title'"],
    "nan.json": ["'NaN' is not a finite number"],
}


def test_every_bad_fixture_is_listed():
    assert sorted(p.name for p in BAD_CASES.iterdir()) == sorted(BAD_FIXTURES)


@pytest.mark.parametrize("name", sorted(BAD_FIXTURES))
def test_checked_in_bad_fixture(name):
    path = BAD_CASES / name
    error_line(rank(path), name, *BAD_FIXTURES[name])


# --- command-line usage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["rank", "--bogus"], id="unknown-option"),
        pytest.param(["rank"], id="missing-case"),
        pytest.param(["no-such-command"], id="unknown-command"),
        pytest.param(["explain", "x.yaml", "--top", "0"], id="out-of-range"),
    ],
)
def test_bad_usage_exits_2_like_click(argv):
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert result.stderr.startswith(PREFIX) and len(result.stderr.splitlines()) == 1  # issue 14: one line


def test_rules_folder_missing(tmp_path):
    path = write(tmp_path, BASE)
    error_line(rank(path, rules=tmp_path / "nope"), str(tmp_path / "nope"), "no such rule pack folder")


def test_rules_is_a_file(tmp_path):
    path = write(tmp_path, BASE)
    error_line(rank(path, rules=path), str(path), "a rule pack is a folder")


# --- a real process: what a terminal user sees ---------------------------------------------------------


def hemedx_script() -> str:
    beside = Path(sys.executable).parent / "hemedx"
    if beside.exists():
        return str(beside)
    found = shutil.which("hemedx")
    if found is None:
        pytest.skip("the hemedx console script is not installed")
    return found


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        pytest.param(
            replaced("hemoglobin: 9.1", "hemoglobn: 9.1"), ["did you mean 'hemoglobin'?"], id="typo"
        ),
        pytest.param(
            replaced("title: A valid case", "title: !!python/object/apply:os.system ['touch {marker}']"),
            ["not allowed"],
            id="python-tag",
        ),
    ],
)
def test_real_process_prints_one_line_and_no_traceback(tmp_path, text, needles):
    marker = tmp_path / "pwned"
    path = write(tmp_path, text.replace("{marker}", str(marker)))
    proc = subprocess.run(
        [hemedx_script(), "rank", str(path), "--rules", str(MINI)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(PREFIX)
    assert str(path) in lines[0]
    for needle in needles:
        assert needle in lines[0]
    assert not marker.exists()


# --- the library API ---------------------------------------------------------------------------------

API_CASE = """\
id: api-case
title: API case
patient: {age: 40, sex: female}
stages:
  - name: Count
    findings:
      petechiae: present
    labs:
      hemoglobin: 9.1
      platelets: 20
  - name: Marrow
    labs:
      marrow_blasts: 3
"""


def load_error(tmp_path: Path, text: str, pack) -> InputError:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        hemedx.load_case(path, pack)
    err = info.value
    assert "\n" not in str(err)
    assert err.file == str(path)
    assert str(err).startswith(f"{path}:")
    return err


def test_api_case_is_valid(tmp_path, mini_pack):
    case = hemedx.load_case(write(tmp_path, API_CASE), mini_pack)
    assert case.id == "api-case"
    assert len(case.stages) == 2


def test_api_duplicate_key_position(tmp_path, mini_pack):
    text = API_CASE.replace("      platelets: 20\n", "      hemoglobin: 8.0\n")
    err = load_error(tmp_path, text, mini_pack)
    assert (err.line, err.column) == (10, 7)
    assert err.field == "stages[0].labs"
    assert "duplicate key 'hemoglobin', first given on line 9" in str(err)


def test_api_unknown_finding_position(tmp_path, mini_pack):
    err = load_error(tmp_path, API_CASE.replace("petechiae: present", "petechia: present"), mini_pack)
    assert (err.line, err.column) == (7, 7)
    assert err.field == "stages[0].findings.petechia"
    assert err.hint == "did you mean 'petechiae'?"


def test_api_implausible_value_position(tmp_path, mini_pack):
    err = load_error(tmp_path, API_CASE.replace("marrow_blasts: 3", "hemoglobin: 91"), mini_pack)
    assert (err.line, err.column) == (13, 7)
    assert err.field == "stages[1].labs.hemoglobin"
    assert "implausible hemoglobin 91 g/dL" in str(err)


def test_api_percentage_position(tmp_path, mini_pack):
    err = load_error(tmp_path, API_CASE.replace("marrow_blasts: 3", "marrow_blasts: 250"), mini_pack)
    assert err.line == 13
    assert err.field == "stages[1].labs.marrow_blasts"


def test_api_unknown_unit_points_at_unit(tmp_path, mini_pack):
    text = API_CASE.replace("platelets: 20", "platelets:\n        value: 20\n        unit: furlongs")
    err = load_error(tmp_path, text, mini_pack)
    assert err.line == line_of(text, "unit: furlongs")
    assert err.field == "stages[0].labs.platelets.unit"


def test_api_python_tag_raises_input_error(tmp_path, mini_pack):
    marker = tmp_path / "pwned"
    text = API_CASE.replace("title: API case", f"title: !!python/object/apply:os.system ['touch {marker}']")
    err = load_error(tmp_path, text, mini_pack)
    assert err.line == 2
    assert err.field == "title"
    assert not marker.exists()


def test_api_missing_file(tmp_path, mini_pack):
    with pytest.raises(InputError, match="no such case file") as info:
        hemedx.load_case(tmp_path / "nope.yaml", mini_pack)
    assert info.value.file == str(tmp_path / "nope.yaml")


def test_api_missing_pack(tmp_path):
    with pytest.raises(InputError, match="no such rule pack folder"):
        hemedx.load_pack(tmp_path / "nope")


def test_input_error_is_always_one_line():
    err = InputError(
        "bad\nthing\r\n  here",
        file="f.yaml",
        line=3,
        column=4,
        field=["stages", 1, "labs"],
        hint="try\nagain",
    )
    assert str(err) == "f.yaml:3:4: stages[1].labs: bad thing here (try again)"
    assert format_path(["stages", 1, "labs", "hemoglobin"]) == "stages[1].labs.hemoglobin"
    assert format_path([0, "a"]) == "[0].a"


def test_input_error_located_fills_only_missing_details():
    err = InputError("boom", field="x").located(file="a.yaml", line=5, field="y")
    assert (err.file, err.line, err.field) == ("a.yaml", 5, "x")


# --- broken rule packs ---------------------------------------------------------------------------------

EXTRA_RULE = """\
rules:
  - id: test.extra
    kind: evidence
    title: Extra rule
    explanation: A rule a test breaks on purpose.
    when: {finding: petechiae, is: present}
    then:
      evidence: {aplastic_anemia: 0.6}
      otherwise: 0.2
    cites: [{source: src-a, locator: "p. 9"}]
"""

EXTRA_CRITERIA = """\
rules:
  - id: test.criteria
    kind: criteria
    title: Extra criteria
    explanation: A criteria rule a test breaks on purpose.
    when: {test: dat, in: [igg]}
    then: {diagnosis: aiha, subtype: warm}
    cites: [{source: src-a}]
"""


def pack_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(MINI, folder)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("text", [EXTRA_RULE, EXTRA_CRITERIA], ids=["evidence", "criteria"])
def test_unbroken_extra_rule_loads(tmp_path, text):
    folder = pack_with(tmp_path, {"rules/zz_extra.yaml": text})
    result = rank(write(tmp_path, BASE), rules=folder)
    assert result.exit_code == 0, result.output


BROKEN_RULES = [
    pytest.param(
        EXTRA_RULE,
        "{finding: petechiae,",
        "{finding: petechia,",
        "petechia,",
        ["rule 'test.extra' when.finding", "unknown finding 'petechia'", "did you mean 'petechiae'?"],
        id="unknown-finding",
    ),
    pytest.param(
        EXTRA_RULE,
        "source: src-a",
        "source: src-x",
        "src-x",
        ["rule 'test.extra' cites[0].source", "unknown source 'src-x'", "did you mean"],
        id="unknown-source",
    ),
    pytest.param(
        EXTRA_RULE,
        "    title: Extra rule\n",
        "    title: Extra rule\n    weight: 3\n",
        "weight",
        ["rule 'test.extra' weight", "unknown field 'weight'"],
        id="unknown-key",
    ),
    pytest.param(
        EXTRA_RULE,
        "aplastic_anemia: 0.6",
        "aplastic_anaemia: 0.6",
        "aplastic_anaemia",
        ["rule 'test.extra' then.evidence.aplastic_anaemia", "did you mean 'aplastic_anemia'?"],
        id="unknown-diagnosis",
    ),
    pytest.param(
        EXTRA_RULE,
        "    title: Extra rule\n",
        "    title: Extra rule\n    title: Again\n",
        "Again",
        ["rule 'test.extra': duplicate key 'title'", "first given on line 4"],
        id="duplicate-key",
    ),
    pytest.param(
        EXTRA_CRITERIA,
        "subtype: warm",
        "subtype: hot",
        "subtype: hot",
        ["rule 'test.criteria' then.subtype", "'hot' is not a subtype of 'aiha'"],
        id="subtype-the-diagnosis-lacks",
    ),
    pytest.param(
        EXTRA_CRITERIA,
        "in: [igg]",
        "in: [igm]",
        "igm",
        ["rule 'test.criteria' when.in", "'igm' is not a result of test 'dat'", "did you mean 'igg'?"],
        id="bad-test-value",
    ),
    pytest.param(
        EXTRA_RULE,
        "otherwise: 0.2",
        "otherwise: .nan",
        ".nan",
        ["rule 'test.extra' then.otherwise", "not a finite number"],
        id="nan",
    ),
    pytest.param(
        EXTRA_RULE,
        "    title: Extra rule\n",
        "    title: !!python/object/apply:os.system [true]\n",
        "python",
        ["rule 'test.extra' title", "not allowed"],
        id="python-tag",
    ),
]


@pytest.mark.parametrize(("base", "old", "new", "marker", "needles"), BROKEN_RULES)
def test_broken_rule_file(tmp_path, base, old, new, marker, needles):
    text = replaced(old, new, base)
    folder = pack_with(tmp_path, {"rules/zz_broken.yaml": text})
    line = error_line(rank(write(tmp_path, BASE), rules=folder), *needles)
    assert f"{folder / 'rules' / 'zz_broken.yaml'}:{line_of(text, marker)}:" in line


def test_yaml_error_in_rules_file(tmp_path):
    text = EXTRA_RULE.replace("title: Extra rule", "title: [Extra rule")
    folder = pack_with(tmp_path, {"rules/zz_broken.yaml": text})
    line = error_line(rank(write(tmp_path, BASE), rules=folder), "zz_broken.yaml:", "not valid YAML")
    number = int(re.search(r"zz_broken\.yaml:(\d+):", line).group(1))
    assert number in (line_of(text, "[Extra rule"), line_of(text, "[Extra rule") + 1)


def test_duplicate_rule_id_across_two_files(tmp_path):
    folder = pack_with(tmp_path, {"rules/zz_a.yaml": EXTRA_RULE, "rules/zz_b.yaml": EXTRA_RULE})
    error_line(
        rank(write(tmp_path, BASE), rules=folder),
        f"{folder / 'rules' / 'zz_b.yaml'}:2:",
        "rules[0].id",
        "duplicate rule id 'test.extra'",
        f"first defined at {folder / 'rules' / 'zz_a.yaml'}:2",
    )


def test_duplicate_rule_id_with_a_fixture_rule(tmp_path):
    folder = pack_with(tmp_path, {"rules/zz_broken.yaml": EXTRA_RULE.replace("test.extra", "ev.petechiae")})
    error_line(
        rank(write(tmp_path, BASE), rules=folder),
        "zz_broken.yaml:2:",
        "duplicate rule id 'ev.petechiae'",
        "first defined at",
    )


def test_pack_without_pack_yaml(tmp_path):
    folder = pack_with(tmp_path, {})
    (folder / "pack.yaml").unlink()
    error_line(rank(write(tmp_path, BASE), rules=folder), "pack.yaml", "needs a pack.yaml")


def test_vocabulary_not_a_mapping(tmp_path):
    folder = pack_with(tmp_path, {"vocabulary.yaml": "- just\n- a list\n"})
    error_line(rank(write(tmp_path, BASE), rules=folder), "vocabulary.yaml", "expected a mapping")


def test_api_broken_pack_has_file_and_line(tmp_path):
    text = EXTRA_RULE.replace("{finding: petechiae,", "{finding: petechia,")
    folder = pack_with(tmp_path, {"rules/zz_broken.yaml": text})
    with pytest.raises(InputError) as info:
        hemedx.load_pack(folder)
    err = info.value
    assert err.file == str(folder / "rules" / "zz_broken.yaml")
    assert err.line == line_of(text, "petechia,")
    assert err.field == "rule 'test.extra' when.finding"
    assert "\n" not in str(err)


# --- messages that would mislead a user ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "wrong"),
    [
        pytest.param(
            "unit: /uL}", "unit: /uL, note: x}", "stages[0].labs.platelets.note", "note", id="note-in-lab"
        ),
        pytest.param(
            "title: A valid case\n",
            "title: A valid case\nlabs: {hemoglobin: 9}\n",
            "labs",
            "labs",
            id="labs-at-top-level",
        ),
        pytest.param(
            "title: A valid case\n", "title: A valid case\nnam: x\n", "nam", "name", id="stage-key-at-top"
        ),
    ],
)
def test_unknown_field_suggests_only_fields_allowed_there(tmp_path, old, new, field, wrong):
    path = write(tmp_path, replaced(old, new))
    line = error_line(rank(path), str(path), f"{field}: unknown field")
    assert f"did you mean '{wrong}'" not in line


def test_wrong_threshold_type_names_the_threshold_not_the_union_tag(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(MINI, pack)
    rules = pack / "rules" / "interpretation.yaml"
    rules.write_text(
        rules.read_text().replace(
            "when: {lab: hemoglobin, below: lower_limit}", "when: {lab: hemoglobin, below: [1]}", 1
        )
    )
    result = CliRunner().invoke(cli, ["rank", "aa-severe-young-woman", "--rules", str(pack)])
    assert result.exit_code == 2
    assert "interpretation.yaml:6:" in result.stderr and "when.below:" in result.stderr
