"""hemedx vocab; the pack's synonyms and short labels feed every "did you mean", the quiz and evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hemedx import load_pack
from hemedx.cli import cli
from hemedx.engine.quiz import match_diagnosis
from hemedx.errors import InputError
from hemedx.rules.loader import default_pack_path
from hemedx.rules.vocab import collisions, diagnosis_aliases, table_labels
from hemedx.suggest import did_you_mean

from support.helpers import ROOT

PACK = load_pack()


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


def _itp(**changes: object) -> dict:
    dx = next(
        d
        for d in yaml.safe_load((default_pack_path() / "diagnoses.yaml").read_text())["diagnoses"]
        if d["id"] == "itp"
    )
    return {**dx, **changes}


def _overlay(tmp_path: Path, diagnoses: list[dict]) -> Path:
    folder = tmp_path / "overlay"
    folder.mkdir()
    (folder / "pack.yaml").write_text('id: mine\ntitle: Mine\nversion: "1"\nextends: default\n')
    (folder / "diagnoses.yaml").write_text(yaml.safe_dump({"diagnoses": diagnoses}, sort_keys=False))
    return folder


# --- the command -------------------------------------------------------------------------------------------


def test_vocab_plate_lists_platelets_with_units():
    result = invoke("vocab", "plate")
    assert result.exit_code == 0, result.output
    assert "Labs (1)" in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("platelets"))
    assert "10^9/L" in line and "also" in line


@pytest.mark.parametrize(
    ("text", "lab"), [("hgb", "hemoglobin"), ("HB", "hemoglobin"), ("wcc", "wbc"), ("retic", "reticulocytes")]
)
def test_vocab_finds_labs_by_synonym_ignoring_case(text: str, lab: str):
    data = json.loads(invoke("vocab", text, "--json").stdout)
    assert lab in [x["id"] for x in data["labs"]]


def test_vocab_json_is_the_documented_contract_and_deterministic():
    first = invoke("vocab", "--json").stdout
    assert first == invoke("vocab", "--json").stdout
    data = json.loads(first)
    assert list(data) == ["query", "findings", "labs", "tests", "diagnoses"]
    assert data["query"] is None
    hb = next(x for x in data["labs"] if x["id"] == "hemoglobin")
    assert hb["unit"] == "g/dL" and hb["short"] == "Hb" and "hgb" in hb["synonyms"]
    assert {"unit": "g/L", "factor": 0.1} in hb["accepted_units"]
    dat = next(x for x in data["tests"] if x["id"] == "dat")
    assert [v["value"] for v in dat["values"]] == ["negative", "igg", "c3d", "igg_c3d"]
    assert {x["id"] for x in data["diagnoses"]} == {d.id for d in PACK.diagnoses if not d.is_outside}
    assert len(data["findings"]) == len(PACK.vocabulary.findings)
    tma = next(x for x in data["diagnoses"] if x["id"] == "tma")
    assert "TTP" in tma["synonyms"]


def test_vocab_lists_every_kind_grouped_without_text():
    out = invoke("vocab").output
    positions = [out.index(title) for title in ("Findings (", "Labs (", "Tests (", "Diagnoses (")]
    assert positions == sorted(positions)


@pytest.mark.parametrize("columns", ["60", "80"])
def test_vocab_text_fits_the_width(columns: str):
    out = invoke("vocab", env={"COLUMNS": columns}).output
    assert max(len(line) for line in out.splitlines()) <= int(columns)
    assert "platelets" in out and "hemoglobin" in out  # ids are never cut


def test_vocab_without_a_match_is_one_line_with_a_suggestion():
    result = invoke("vocab", "plateletz")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "'plateletz'" in lines[0] and "did you mean 'platelets'?" in lines[0]


# --- synonyms feed "did you mean" --------------------------------------------------------------------------


def test_set_with_a_synonym_points_at_the_id():
    result = invoke("rank", "02375", "--set", "hb=7")
    assert result.exit_code == 2
    assert "did you mean 'hemoglobin'?" in result.stderr


def test_a_case_file_key_that_is_a_synonym_points_at_the_id(tmp_path: Path):
    case = tmp_path / "case.yaml"
    case.write_text(
        "id: syn-case\ntitle: A case\npatient: {age: 30, sex: female}\n"
        "stages:\n  - name: Count\n    labs: {plt: 20}\n"
    )
    result = invoke("rank", str(case))
    assert result.exit_code == 2
    assert "unknown lab 'plt'" in result.stderr and "did you mean 'platelets'?" in result.stderr


def test_did_you_mean_maps_synonyms_only_onto_known_choices():
    aliases = {"hb": "hemoglobin", "plt": "platelets"}
    assert did_you_mean("HB", ["hemoglobin"], aliases) == "did you mean 'hemoglobin'?"
    assert did_you_mean("plt", ["hemoglobin"], aliases) is None  # platelets is not a choice here
    assert did_you_mean("plts", ["platelets"], aliases) == "did you mean 'platelets'?"


def test_why_not_ttp_reads_the_thrombotic_microangiopathy():
    assert match_diagnosis("TTP", PACK).diagnosis == "tma"
    result = invoke("explain", "02375", "--why-not", "TTP")
    assert result.exit_code == 0, result.output
    assert "Why not Thrombotic microangiopathy (TTP, HUS)?" in result.output


# --- quiz and evaluate read the pack -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "dx"),
    [
        ("aml", "acute_leukemia"),
        ("ALL", "acute_leukemia"),
        ("leukaemia", "acute_leukemia"),
        ("saa", "aplastic_anemia"),
        ("waiha", "aiha"),
        ("cad", "aiha"),
        ("b12", "megaloblastic_anemia"),
        ("evans", "evans_syndrome"),
        ("ida", "iron_deficiency_anemia"),
    ],
)
def test_the_quiz_reads_the_packs_abbreviations(word: str, dx: str):
    m = match_diagnosis(word, PACK)
    assert (m.diagnosis, m.how) == (dx, "abbreviation")


def test_an_overlay_diagnosis_gets_its_abbreviation_in_quiz_and_evaluate(tmp_path: Path):
    folder = _overlay(tmp_path, [_itp(short="IMTP", synonyms=["immune purpura", "werlhof"])])
    pack = load_pack(folder)
    assert match_diagnosis("werlhof", pack).diagnosis == "itp"
    assert diagnosis_aliases(pack)["imtp"] == "itp"
    assert table_labels(pack.diagnoses)["itp"] == "IMTP"


def test_evaluate_confusion_headers_are_the_packs_short_labels_or_the_labels_initials():
    labels = table_labels(PACK.diagnoses, reserved=["NONE"])
    assert list(labels.values())[:4] == ["AA", "AL", "AIHA", "MDS"]
    assert labels["iron_deficiency_anemia"] == "IDA" and labels["outside"] == "OUT"
    # a diagnosis without a short in the pack is headed by its label's initials
    bare = [d.model_copy(update={"short": None}) if d.id == "outside" else d for d in PACK.diagnoses]
    assert table_labels(bare, reserved=["NONE"])["outside"] == "SOTD"
    assert len({v.upper() for v in labels.values()} | {"NONE"}) == len(labels) + 1


def test_derived_table_labels_are_unique_against_the_packs_and_each_other():
    base = next(d for d in PACK.diagnoses if d.id == "itp")
    twins = [
        base.model_copy(update={"id": "a", "label": "Immune thrombocytopenia", "short": None}),
        base.model_copy(update={"id": "b", "label": "Idiopathic thrombocytopenia", "short": None}),
        base.model_copy(update={"id": "c", "label": "Thalassaemia (beta)", "short": None}),
        base.model_copy(update={"id": "d", "label": "No new options", "short": None}),
    ]
    assert table_labels([base, *twins], reserved=["NONE", "NNO"]) == {
        "itp": "ITP",
        "a": "IT",
        "b": "IT2",
        "c": "THA",  # one word (brackets left out): its first letters
        "d": "NNO2",
    }


# --- the pack's synonyms are checked -----------------------------------------------------------------------


def test_the_default_pack_has_no_synonym_collisions():
    assert collisions(PACK) == []


def test_a_synonym_naming_two_diagnoses_is_an_error(tmp_path: Path):
    folder = _overlay(tmp_path, [_itp(synonyms=["AML"])])
    with pytest.raises(InputError, match="'aml' already names diagnosis 'acute_leukemia'"):
        load_pack(folder)
    result = invoke("rules", "check", "--rules", str(folder))
    assert result.exit_code != 0
    assert "already names diagnosis 'acute_leukemia'" in result.output


def test_a_synonym_equal_to_another_id_is_an_error(tmp_path: Path):
    folder = _overlay(tmp_path, [_itp(synonyms=["pnh"])])
    with pytest.raises(InputError, match="'pnh' already names diagnosis 'pnh'"):
        load_pack(folder)


# --- --upto for explain and present; hints name files as files -----------------------------------------


def test_explain_and_present_take_upto(tmp_path: Path):
    explained = json.loads(invoke("explain", "02375", "--upto", "1", "--json").stdout)
    ranked = json.loads(invoke("rank", "02375", "--upto", "1", "--json").stdout)
    assert explained["stage"] == ranked["stage"] == {"index": 0, "name": "History and examination", "of": 4}
    page = tmp_path / "p.html"
    result = invoke("present", "02375", "--upto", "2", "--out", str(page))
    assert result.exit_code == 0, result.output
    assert "(2 stages)" in result.stderr
    full = tmp_path / "full.html"
    invoke("present", "02375", "--out", str(full))
    assert page.read_text().count('"name":') < full.read_text().count('"name":')


def test_upto_beyond_the_case_names_the_file_as_a_file(tmp_path: Path):
    case = tmp_path / "my.yaml"
    case.write_text((ROOT / "hemedx/cases/library/aa-severe-young-woman.yaml").read_text())
    result = invoke("present", str(case), "--upto", "9", "--out", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    assert f"--upto 9: file {case} has 4 stages (use 1 to 4)" in result.stderr


def test_rank_hint_names_the_file_it_was_given_or_the_neutral_code(tmp_path: Path):
    case = tmp_path / "my.yaml"
    case.write_text((ROOT / "hemedx/cases/library/aa-severe-young-woman.yaml").read_text())
    assert invoke("rank", str(case)).output.rstrip().endswith(f"hemedx explain {case}")
    by_id = invoke("rank", "aa-severe-young-woman").output.rstrip()
    assert by_id.endswith("hemedx explain 02375")


# --- labels, never ids; units as the case gave them --------------------------------------------------------


def _unit_case(tmp_path: Path) -> Path:
    case = tmp_path / "units.yaml"
    case.write_text(
        "id: unit-case\ntitle: Units as written\npatient: {age: 30, sex: female}\nstages:\n"
        "  - name: Count\n    labs:\n      hemoglobin: {value: 91, unit: g/L}\n"
        "      platelets: {value: 250, unit: x10^9/L}\n      wbc: 6.1\n"
    )
    return case


def test_the_case_keeps_what_it_wrote(tmp_path: Path):
    from hemedx.cases.loader import load_case

    stage = load_case(_unit_case(tmp_path), PACK).stages[0]
    assert stage.labs["hemoglobin"] == pytest.approx(9.1)
    assert stage.as_given("hemoglobin") == (91.0, "g/L")
    assert stage.as_given("wbc") is None


def test_walkthrough_shows_units_as_written_with_the_canonical_value_beside(tmp_path: Path):
    case = str(_unit_case(tmp_path))
    shown = {
        r["id"]: r["display"] for r in json.loads(invoke("walkthrough", case, "--json").stdout)[0]["revealed"]
    }
    assert shown["hemoglobin"] == "Haemoglobin: 91 g/L (9.1 g/dL)"
    assert shown["platelets"] == "Platelets: 250 x10^9/L"  # only another spelling of the canonical unit
    assert shown["wbc"] == "White cell count: 6.10 10^9/L"
    sheet = invoke("cases", "show", case).output
    assert "Haemoglobin: 91 g/L (9.1 g/dL)" in sheet


def test_not_counted_twice_names_the_replacing_finding_by_its_label():
    out = invoke("explain", "02375", "--top", "5").output
    line = next(line for line in out.splitlines() if "Not counted twice" in line)
    assert "(within Pancytopenia)" in line and "(within pancytopenia)" not in line
