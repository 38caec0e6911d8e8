"""Write a case as a FHIR R4 collection Bundle with LOINC and UCUM, so that importing it gives the case back.

Calendar dates are invented (stage n is day n after 2000-01-01, the birth date is set back by the age)
because a teaching case has none; the teaching content (title, presentation, answer, teaching points)
travels in a ``Basic`` resource that only hemedx reads. A synthetic case carries HL7's HTEST label.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

from hemedx.cases.censored import Censored
from hemedx.cases.model import Case
from hemedx.fhir import codes as C
from hemedx.rules.model import Pack

FIRST_DAY = date(2000, 1, 1)
_META_KEYS = (
    "id",
    "title",
    "synthetic",
    "provenance",
    "presentation",
    "answer",
    "difficulty",
    "tags",
    "teaching_points",
)
_NAMESPACE = uuid.UUID("6f1c7f7e-3c0b-4a7e-9a63-6d5b1f0c2a11")


def export_bundle(case: Case, pack: Pack) -> dict[str, Any]:
    """The case as a Bundle (plain JSON-ready dicts, deterministic: same case, same bytes)."""
    findings, labs, tests = pack.kb.findings, pack.kb.labs, pack.kb.tests
    entries: list[dict[str, Any]] = []

    def url(key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{case.id}/{key}')}"

    def add(key: str, resource: dict[str, Any]) -> str:
        full = url(key)
        entries.append({"fullUrl": full, "resource": resource})
        return full

    patient = add("patient", {"resourceType": "Patient", "gender": case.sex, "birthDate": _birth(case.age)})
    for key, resource in _pregnancy(case.raw.get("patient") or {}, patient):
        add(key, resource)
    meta = {k: case.raw[k] for k in _META_KEYS if k in case.raw}
    meta.setdefault("id", case.id)
    add(
        "case",
        {
            "resourceType": "Basic",
            "code": {"coding": [{"system": C.HEMEDX_CASE, "code": "teaching-case"}]},
            "extension": [{"url": C.CASE_EXTENSION, "valueString": json.dumps(meta, ensure_ascii=False)}],
        },
    )
    for i, stage in enumerate(case.stages):
        day = (FIRST_DAY + timedelta(days=i)).isoformat()
        results: list[str] = []

        def observation(
            key: str,
            code: dict[str, Any],
            value: dict[str, Any],
            *,
            _i: int = i,
            _d: str = day,
            _results: list[str] = results,
        ) -> None:
            resource = {
                "resourceType": "Observation",
                "status": "final",
                "code": code,
                "subject": {"reference": patient},
                "effectiveDateTime": _d,
                **value,
            }
            _results.append(add(f"stage{_i}/{key}", resource))

        for name, state in [*stage.findings.items(), *((u, "unknown") for u in stage.unknown)]:
            finding = findings[name]
            coding = [{"system": C.HEMEDX_FINDING, "code": name, "display": finding.label}]
            if finding.hpo:
                coding.append({"system": C.HPO_SYSTEMS[0], "code": finding.hpo})
            value: dict[str, Any] = (
                {"dataAbsentReason": {"coding": [{"system": C.DATA_ABSENT, "code": "unknown"}]}}
                if state == "unknown"
                else {"valueBoolean": state == "present"}
            )
            observation(f"finding/{name}", {"coding": coding, "text": finding.label}, value)
        for name, number in [*stage.labs.items(), *stage.censored.items()]:
            lab = labs[name]
            system, code = (C.LOINC, lab.loinc) if lab.loinc else (C.HEMEDX_LAB, name)
            quantity: dict[str, Any] = {
                "value": number.bound if isinstance(number, Censored) else number,
                "unit": lab.unit,
                "system": C.UCUM,
                "code": C.ucum_code(lab.unit),
            }
            if isinstance(number, Censored):
                quantity = {
                    "value": quantity["value"],
                    "comparator": number.comparator,
                    **{k: quantity[k] for k in ("unit", "system", "code")},
                }
            concept = {"coding": [{"system": system, "code": code, "display": lab.label}], "text": lab.label}
            observation(f"lab/{name}", concept, {"valueQuantity": quantity})
        for name, result in stage.tests.items():
            test = tests[name]
            if test.loinc_parts:
                positive = set(result.split("_")) if result != "negative" else set()
                for part, code in test.loinc_parts.items():
                    sign = C.SNOMED_POSITIVE if part in positive else C.SNOMED_NEGATIVE
                    word = "Positive" if part in positive else "Negative"
                    observation(
                        f"test/{name}/{part}",
                        {"coding": [{"system": C.LOINC, "code": code}], "text": f"{test.label}: {part}"},
                        {
                            "valueCodeableConcept": {
                                "coding": [{"system": C.SNOMED, "code": sign}],
                                "text": word,
                            }
                        },
                    )
                continue
            system, code = (C.LOINC, test.loinc) if test.loinc else (C.HEMEDX_TEST, name)
            label = test.value_labels.get(result, result)
            observation(
                f"test/{name}",
                {"coding": [{"system": system, "code": code, "display": test.label}], "text": test.label},
                {
                    "valueCodeableConcept": {
                        "coding": [{"system": C.HEMEDX_RESULT, "code": result}],
                        "text": label,
                    }
                },
            )
        report: dict[str, Any] = {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "code": {"coding": [{"system": C.HEMEDX_STAGE, "code": str(i + 1)}], "text": stage.name},
            "subject": {"reference": patient},
            "effectiveDateTime": day,
            "result": [{"reference": r} for r in results],
        }
        if stage.note:
            report["conclusion"] = stage.note
        add(f"stage{i}", report)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": case.id, "type": "collection"}
    if case.synthetic:
        bundle["meta"] = {
            "security": [{"system": C.ACT_REASON, "code": "HTEST", "display": "test health data"}]
        }
    bundle["entry"] = entries
    return bundle


def _birth(age: float) -> str:
    """A birth date that makes the patient ``age`` on the first day (whole years, else days)."""
    if float(age).is_integer() and age >= 2:
        return FIRST_DAY.replace(year=FIRST_DAY.year - int(age)).isoformat()
    return (FIRST_DAY - timedelta(days=round(age * 365.25))).isoformat()


def _pregnancy(patient: dict[str, Any], subject: str) -> list[tuple[str, dict[str, Any]]]:
    """Pregnancy as IPS records it: a status Observation, and the gestational age or trimester if stated."""
    if not patient.get("pregnant"):
        return []

    def observation(code: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": "final",
            "code": code,
            "subject": {"reference": subject},
            "effectiveDateTime": FIRST_DAY.isoformat(),
            **value,
        }

    status = {"coding": [{"system": C.LOINC, "code": C.PREGNANCY_STATUS, "display": "Pregnancy status"}]}
    out = [("pregnancy", observation(status, {"valueCodeableConcept": _PREGNANT}))]
    weeks, trimester = patient.get("gestation_weeks"), patient.get("trimester")
    if weeks is not None:
        code = {"coding": [{"system": C.LOINC, "code": C.GESTATIONAL_AGE[0], "display": "Gestational age"}]}
        quantity = {"value": weeks, "unit": "wk", "system": C.UCUM, "code": "wk"}
        out.append(("pregnancy/weeks", observation(code, {"valueQuantity": quantity})))
    if trimester is not None:
        code = {"coding": [{"system": C.HEMEDX_PATIENT, "code": "trimester"}], "text": "Trimester"}
        out.append(("pregnancy/trimester", observation(code, {"valueInteger": trimester})))
    return out


_PREGNANT = {"coding": [{"system": C.LOINC, "code": "LA15173-0", "display": "Pregnant"}], "text": "Pregnant"}
