"""FHIR import and export as users meet them: fixtures imported and ranked, bad bundles, round trips."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from hemedx import load_pack, rank_case
from hemedx.cases.censored import Censored
from hemedx.cases.library import library_path, load_library
from hemedx.cli import cli
from hemedx.errors import InputError
from hemedx.fhir import export_bundle, import_bundle

from support.helpers import FIXTURES, ROOT

PACK = load_pack()
HL7 = FIXTURES / "fhir" / "hl7-cbc-f001-r4.json"
SYNTHEA = FIXTURES / "fhir" / "synthea-style-transaction.json"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


@pytest.fixture
def runner():
    return CliRunner()


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def import_data(data: dict[str, Any], **kw: Any):
    return import_bundle(data, PACK, source="bundle.json", **kw)


def one_line_error(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for part in parts:
        assert part in lines[0], lines[0]


# --- the HL7 specification's CBC example ------------------------------------------------------------------


def test_hl7_cbc_example_imports_age_sex_and_values_and_lists_what_it_cannot_map():
    result = import_data(load(HL7))
    case = result.case
    assert (case.age, case.sex, case.synthetic) == (68, "male", False)  # born 1944-11-17, seen 2013-04-02
    assert case.provenance and "de-identified" in case.provenance
    assert [s.name for s in case.stages] == [
        "Day 0, Complete blood count (hemogram) panel - Blood by Automated count"
    ]
    assert case.stages[0].note == "Core lab"
    assert case.snapshot().labs == {"hemoglobin": 7.2, "rbc": 4.12}  # Hb came as LOINC 30350-3 (venous)
    assert [(u.resource, u.code) for u in result.unmapped] == [
        ("Observation/f001", "http://loinc.org|15074-8"),
        ("Observation/f002", "http://loinc.org|11555-0"),
        ("Observation/f003", "http://loinc.org|11557-6"),
    ]
    assert result.unmapped[0].display == "Glucose [Moles/volume] in Blood"


def test_hl7_import_keeps_no_name_identifier_address_or_date(runner, tmp_path):
    out = tmp_path / "case.yaml"
    result = runner.invoke(cli, ["import", "fhir", str(HL7), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for secret in ("Heuvel", "Pieter", "738472983", "Amsterdam", "Egmondkade", "1944", "2013", "heuvel@"):
        assert secret not in text
    assert (
        "unmapped: Observation/f001 http://loinc.org|15074-8 'Glucose [Moles/volume] in Blood'"
        in result.stderr
    )


def test_hl7_import_ranks_and_every_view_says_it_came_from_a_record(runner, tmp_path):
    out = tmp_path / "case.yaml"
    runner.invoke(cli, ["import", "fhir", str(HL7), "--out", str(out)])
    report = json.loads(runner.invoke(cli, ["rank", str(out), "--json"]).stdout)
    assert report["disclaimer"].startswith("This case came from a real patient record (de-identified)")
    assert report["provenance"].startswith("Imported from a FHIR record")
    assert {"anemia": "present", "severe_anemia": "present"}.items() <= {
        f["finding"]: f["state"] for f in report["findings"]
    }.items()
    show = runner.invoke(cli, ["cases", "show", str(out)])
    assert "came from a real patient record" in show.stdout
    walk = runner.invoke(cli, ["walkthrough", str(out)], input="\n" * 5)
    assert "came from a real patient record" in walk.stdout


# --- a Synthea-style transaction bundle -------------------------------------------------------------------


def test_synthea_style_bundle_is_synthetic_staged_by_date_and_ranks_aplastic_anaemia():
    result = import_data(load(SYNTHEA))
    case = result.case
    assert (case.age, case.sex, case.synthetic, case.provenance) == (33, "female", True, None)
    assert [s.name for s in case.stages] == ["Day 0", "Day 2"]
    snap = case.snapshot()
    assert snap.labs["reticulocytes"] == pytest.approx(0.3 * 2.21 * 10)  # derived from % and RBC
    assert "reticulocytes" in snap.derived
    assert snap.labs["wbc"] == 1.6 and snap.labs["platelets"] == 14 and snap.labs["rbc"] == 2.21
    assert snap.tests == {"dat_polyspecific": "negative"}
    assert {u.code.split("|")[1] for u in result.unmapped} == {"20570-8"}
    assert snap.labs["mch"] == 33.5
    assert "ignored resources hemedx does not read: 1 Encounter" in result.notes
    report = rank_case(case, PACK)
    assert report["differential"][0]["diagnosis"] == "aplastic_anemia"


def test_unmarked_bundle_is_synthetic_only_with_the_flag():
    data = load(SYNTHEA)
    patient = data["entry"][0]["resource"]
    del patient["extension"], patient["identifier"]
    assert import_data(data).case.synthetic is False
    assert import_data(data, synthetic=True).case.synthetic is True
    data["meta"] = {
        "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"}]
    }
    assert import_data(data).case.synthetic is True


# --- a bundle that is not in the repository: SI units, censored haptoglobin, %, total/direct bilirubin --


def _obs(n: int, code: str, when: str, **value: Any) -> dict[str, Any]:
    return {
        "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-999999999999"},
            "effectiveDateTime": when,
            **value,
        },
    }


def _q(value: float, code: str, comparator: str | None = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value, "unit": code, "system": UCUM, "code": code}
    if comparator:
        q["comparator"] = comparator
    return {"valueQuantity": q}


def _positive(yes: bool) -> dict[str, Any]:
    code = "10828004" if yes else "260385009"
    return {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": code}]}}


def warm_aiha_bundle() -> dict[str, Any]:
    day1, day2 = "2024-02-10T08:00:00+01:00", "2024-02-11T09:30:00+01:00"
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-999999999999",
                "resource": {"resourceType": "Patient", "gender": "female", "birthDate": "1990-05-20"},
            },
            _obs(1, "718-7", day1, **_q(78, "g/L")),
            _obs(2, "6690-2", day1, **_q(8.1, "10*9/L")),
            _obs(3, "751-8", day1, **_q(5.2, "10*9/L")),
            _obs(4, "777-3", day1, **_q(260, "10*9/L")),
            _obs(5, "787-2", day1, **_q(104, "fL")),
            _obs(6, "789-8", day1, **_q(2.4, "10*12/L")),
            _obs(7, "17849-1", day1, **_q(9, "%")),
            _obs(8, "2532-0", day2, **_q(9.5, "ukat/L")),
            _obs(9, "4542-7", day2, **_q(0.1, "g/L", "<")),
            _obs(10, "1975-2", day2, **_q(58, "umol/L")),
            _obs(11, "1968-7", day2, **_q(7, "umol/L")),
            _obs(12, "1006-6", day2, **_positive(True)),
            _obs(13, "1004-1", day2, **_positive(False)),
            _obs(14, "26446-5", day1, **_q(0, "%")),
        ],
    }


def test_an_outside_si_bundle_imports_to_canonical_values_and_ranks_as_its_key_says():
    case = import_data(warm_aiha_bundle()).case
    assert (case.age, case.sex) == (33, "female")
    snap = case.snapshot()
    assert snap.labs["hemoglobin"] == pytest.approx(7.8)
    assert snap.labs["ldh"] == pytest.approx(570)
    assert snap.censored["haptoglobin"] == Censored("<", 10.0)
    assert snap.labs["reticulocytes"] == pytest.approx(216)  # 9 % × 2.4 × 10
    assert snap.labs["bilirubin_indirect"] == pytest.approx((58 - 7) * 0.05848, rel=1e-4)
    assert snap.tests["dat"] == "igg"
    top = rank_case(case, PACK)["differential"][0]
    assert (top["diagnosis"], top["subtype"]) == ("aiha", "warm")


def test_value_ratio_titre_string_titre_and_karyotype_heuristic():
    data = warm_aiha_bundle()
    ratio = {"numerator": {"value": 1}, "denominator": {"value": 512}}
    data["entry"].append(_obs(20, "14658-9", "2024-02-11", valueRatio=ratio))
    data["entry"].append(_obs(21, "33893-9", "2024-02-11", valueString="47,XY,+8[12]/46,XY[8]"))
    result = import_data(data)
    snap = result.case.snapshot()
    assert snap.labs["cold_agglutinin_titer"] == 512 and snap.tests["cytogenetics"] == "abnormal"
    assert any("heuristic" in n and "abnormal" in n for n in result.notes)
    data["entry"][-2] = _obs(20, "14658-9", "2024-02-11", valueString="1:64")
    data["entry"][-1] = _obs(21, "33893-9", "2024-02-11", valueString="46,XX[20]")
    snap = import_data(data).case.snapshot()
    assert snap.labs["cold_agglutinin_titer"] == 64 and snap.tests["cytogenetics"] == "normal"


# --- bad bundles --------------------------------------------------------------------------------------------


def _bad(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return path


def test_strict_makes_an_unmapped_code_an_error(runner):
    result = runner.invoke(cli, ["import", "fhir", str(HL7), "--strict"])
    one_line_error(
        result, str(HL7), "Observation/f001 code", "unmapped code http://loinc.org|15074-8", "Glucose"
    )


@pytest.mark.parametrize(
    ("change", "parts"),
    [
        (
            lambda d: d["entry"][1]["resource"]["valueQuantity"].update(code="mL"),
            ["Bundle.entry[1] Observation valueQuantity.code", "unknown unit 'mL' for hemoglobin"],
        ),
        (
            lambda d: d["entry"][1]["resource"]["valueQuantity"].update(code="mmol/L"),
            ["valueQuantity.code", "implausible hemoglobin 78 mmol/L", "probably g/L"],
        ),
        (lambda d: d["entry"].pop(0), ["no Patient resource"]),
        (lambda d: d["entry"].append(copy.deepcopy(d["entry"][0])), ["2 Patient resources"]),
        (
            lambda d: d["entry"].append({"resource": {"resourceType": "Foo"}}),
            ["entry[15].resource.resourceType", "unknown resourceType 'Foo'"],
        ),
        (
            lambda d: d["entry"][3]["resource"].update(_q(250, "10*3/uL")),
            ["implausible anc 250 10*3/uL", "probably /uL (= 0.25 10^9/L)"],
        ),
        (lambda d: d["entry"][1]["resource"]["valueQuantity"].update(value="7.8"), ["valueQuantity.value"]),
        (lambda d: d["entry"][0]["resource"].update(gender="unknown"), ["gender", "female or male"]),
        (lambda d: d["entry"][0]["resource"].pop("birthDate"), ["birthDate", "missing"]),
        (
            lambda d: d["entry"][5]["resource"].update(effectiveDateTime="yesterday"),
            ["'yesterday' is not a FHIR date"],
        ),
        (lambda d: d.update(resourceType="Patient"), ["resourceType", "expected a FHIR Bundle"]),
    ],
    ids=[
        "wrong-unit",
        "implausible-unit",
        "no-patient",
        "two-patients",
        "unknown-type",
        "anc-in-cells",
        "string-number",
        "gender",
        "no-birth-date",
        "bad-date",
        "not-bundle",
    ],
)
def test_bad_bundles_exit_2_with_one_line_naming_resource_and_field(runner, tmp_path, change, parts):
    data = warm_aiha_bundle()
    change(data)
    result = runner.invoke(cli, ["import", "fhir", str(_bad(tmp_path, data))])
    one_line_error(result, "bad.json", *parts)


def test_not_json_is_one_line(runner, tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"resourceType": "Bundle",')
    one_line_error(runner.invoke(cli, ["import", "fhir", str(path)]), "x.json", "not valid JSON")


def test_out_is_never_overwritten_without_force(runner, tmp_path):
    out = tmp_path / "case.yaml"
    out.write_text("mine\n")
    result = runner.invoke(cli, ["import", "fhir", str(SYNTHEA), "--out", str(out)])
    one_line_error(result, "case.yaml", "already exists", "--force")
    assert out.read_text() == "mine\n"
    assert runner.invoke(cli, ["import", "fhir", str(SYNTHEA), "--out", str(out), "--force"]).exit_code == 0
    assert "imported-fhir-case" in out.read_text()
    bundle = tmp_path / "b.json"
    bundle.write_text("mine\n")
    one_line_error(
        runner.invoke(cli, ["export", "fhir", "pnh-classic-young-man", "--out", str(bundle)]),
        "already exists",
    )
    assert bundle.read_text() == "mine\n"


# --- export ------------------------------------------------------------------------------------------------


def _comparable(case):
    stages = tuple(dataclasses.replace(s, given_units={}) for s in case.stages)
    return dataclasses.replace(case, stages=stages, file=None, raw={})


@pytest.mark.parametrize("case", load_library(PACK), ids=lambda c: c.id)
def test_export_then_import_is_the_identity_on_library_cases(case):
    bundle = json.loads(json.dumps(export_bundle(case, PACK)))
    result = import_data(bundle)
    assert result.unmapped == () and result.notes == ()
    assert _comparable(result.case) == _comparable(case)


def test_export_cli_is_deterministic_and_uses_loinc_and_ucum(runner, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    case = str(library_path() / "aiha-warm-idiopathic-young-woman.yaml")
    assert runner.invoke(cli, ["export", "fhir", case, "--out", str(a)]).exit_code == 0
    assert runner.invoke(cli, ["export", "fhir", case, "--out", str(b)]).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    bundle = json.loads(a.read_text())
    assert bundle["type"] == "collection" and bundle["meta"]["security"][0]["code"] == "HTEST"
    hb = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "718-7"
    )
    assert hb["valueQuantity"]["system"] == UCUM and hb["valueQuantity"]["code"] == "g/dL"
    wbc = next(e["resource"] for e in bundle["entry"] if "6690-2" in json.dumps(e["resource"].get("code")))
    assert wbc["valueQuantity"]["code"] == "10*9/L"
    out = tmp_path / "back.yaml"
    assert runner.invoke(cli, ["import", "fhir", str(a), "--out", str(out)]).exit_code == 0
    assert yaml.safe_load(out.read_text())["id"] == "aiha-warm-idiopathic-young-woman"


def test_export_keeps_censored_values(tmp_path):
    from hemedx import load_case

    path = tmp_path / "c.yaml"
    path.write_text(
        "id: cens\ntitle: t\npatient: {age: 40, sex: male}\n"
        "stages:\n  - name: s\n    labs: {haptoglobin: '<10', hemoglobin: 9.0}\n"
    )
    case = load_case(path, PACK)
    bundle = export_bundle(case, PACK)
    quantities = [e["resource"].get("valueQuantity") for e in bundle["entry"]]
    assert {"value": 10.0, "comparator": "<", "unit": "mg/dL", "system": UCUM, "code": "mg/dL"} in quantities
    assert import_data(bundle).case.snapshot().censored == {"haptoglobin": Censored("<", 10.0)}


def test_import_errors_are_input_errors_in_the_api():
    with pytest.raises(InputError, match="no Patient resource"):
        import_data({"resourceType": "Bundle", "type": "collection", "entry": []})


def test_docs_mapping_table_is_current():
    from hemedx.fhir.codes import mapping_table

    page = (ROOT / "docs" / "reference" / "fhir.md").read_text()
    assert mapping_table(PACK) in page, "regenerate docs/reference/fhir.md with codes.mapping_table"


def test_a_result_without_value_is_left_out_and_a_same_day_repeat_is_noted():
    data = warm_aiha_bundle()
    absent = {"dataAbsentReason": {"text": "Specimen haemolysed"}}
    data["entry"].append(_obs(30, "2132-9", "2024-02-11", **absent))
    data["entry"].append(_obs(31, "718-7", "2024-02-10T12:00:00+01:00", **_q(7.5, "g/dL")))
    result = import_data(data)
    assert "b12" not in result.case.snapshot().labs
    assert result.case.snapshot().labs["hemoglobin"] == 7.5
    assert any("no value (Specimen haemolysed); left out" in n for n in result.notes)
    assert any("a second hemoglobin result on the same day" in n for n in result.notes)


def _pregnant_case(tmp_path, patient):
    from hemedx import load_case

    path = tmp_path / "p.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "id": "pregnant-export",
                "title": "t",
                "synthetic": True,
                "patient": {"age": 29, "sex": "female", **patient},
                "stages": [{"name": "Count", "labs": {"hemoglobin": 10.6}}],
            }
        )
    )
    return load_case(path, PACK)


@pytest.mark.parametrize(
    "patient",
    [{"pregnant": True}, {"pregnant": True, "trimester": 2}, {"pregnant": True, "gestation_weeks": 22}],
    ids=["status-only", "trimester", "weeks"],
)
def test_pregnancy_survives_export_and_import_so_the_hb_cut_off_does_not_change(tmp_path, patient):
    case = _pregnant_case(tmp_path, patient)
    bundle = json.loads(json.dumps(export_bundle(case, PACK)))
    status = [e["resource"] for e in bundle["entry"] if "82810-3" in json.dumps(e["resource"].get("code"))]
    assert status[0]["valueCodeableConcept"]["coding"][0]["code"] == "LA15173-0"  # IPS "Pregnant"
    result = import_data(bundle)
    assert result.unmapped == () and result.notes == ()
    assert result.document["patient"] == {"age": 29, "sex": "female", **patient}
    assert result.case.pregnancy == case.pregnancy != "none"
    assert _comparable(result.case) == _comparable(case)


def test_a_gestational_age_in_days_is_read_in_weeks_and_implies_pregnancy():
    bundle = json.loads(json.dumps(export_bundle(load_library(PACK)[0], PACK)))
    patient = bundle["entry"][0]["fullUrl"]
    bundle["entry"].append(
        {
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "11884-4"}]},
                "subject": {"reference": patient},
                "effectiveDateTime": "2000-01-01",
                "valueQuantity": {"value": 203, "unit": "d", "system": UCUM, "code": "d"},
            }
        }
    )
    bundle["entry"][0]["resource"]["gender"] = "female"
    document = import_data(bundle).document
    assert document["patient"]["pregnant"] is True and document["patient"]["gestation_weeks"] == 29.0


def test_a_gestational_age_without_weeks_is_one_line_naming_the_observation(runner, tmp_path):
    case = _pregnant_case(tmp_path, {"pregnant": True, "gestation_weeks": 22})
    bundle = export_bundle(case, PACK)
    weeks = next(e["resource"] for e in bundle["entry"] if "11884-4" in json.dumps(e["resource"].get("code")))
    weeks["valueQuantity"] = {"value": 5, "unit": "mo"}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    result = runner.invoke(cli, ["import", "fhir", str(path)])
    one_line_error(result, "b.json", "valueQuantity", "gestational age needs a value in weeks", "unit wk")
