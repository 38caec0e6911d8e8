"""Turn a FHIR Bundle (already parsed from JSON) into a hemedx case document; of the patient, age and sex.

Pregnancy status and gestational age are read too: they pick the haemoglobin cut-off.

Observations are mapped through the pack's codes (``hemedx.fhir.codes``), converted to canonical units,
grouped into stages by date (days after the first, never calendar dates), and checked as a case file is.
Names, identifiers, addresses and dates (birth date included) are read only to compute the age and are
never written. What cannot be mapped is listed, not guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from hemedx.cases.censored import parse_censored
from hemedx.cases.loader import parse_case
from hemedx.cases.model import Case
from hemedx.errors import InputError
from hemedx.fhir import codes as C
from hemedx.fhir.resources import MODELS, Bundle, CodeableConcept, DiagnosticReport, Observation, Patient
from hemedx.rules.model import Lab, Pack, Test
from hemedx.rules.units import probable_unit, to_canonical
from hemedx.safeyaml import Document
from hemedx.suggest import did_you_mean

RECORD_PROVENANCE = (
    "Imported from a FHIR record and de-identified: no name, identifier, address or date is kept, only age"
    " and sex. For teaching only."
)
_BUNDLE_TYPES = {"collection", "transaction", "batch", "searchset", "document", "message"}
_SKIPPED_STATUS = {"entered-in-error", "cancelled"}
_NORMAL_KARYOTYPE = re.compile(r"^46,(XX|XY)(\[\d+\])?$")
_RATIO = re.compile(r"^\s*1\s*:\s*([0-9]+(?:\.[0-9]+)?)\s*$")
_NUMBER = re.compile(r"^\s*[0-9]+(?:\.[0-9]+)?\s*$")
_YES = {"present", "positive", "yes", "true", "detected", "pos"}
_NO = {"absent", "negative", "no", "false", "not detected", "neg"}


@dataclass(frozen=True)
class Unmapped:
    """An Observation the pack has no code for: which one, its code and display, and why."""

    resource: str
    code: str
    display: str
    why: str


@dataclass(frozen=True)
class ImportResult:
    """The case document, the validated case, and everything the import could not use or had to guess."""

    document: dict[str, Any]
    case: Case
    unmapped: tuple[Unmapped, ...]
    notes: tuple[str, ...]


@dataclass
class _Stage:
    day: date
    names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stage_name: str | None = None  # an exported hemedx stage keeps its own name
    findings: dict[str, str] = field(default_factory=dict)
    labs: dict[str, Any] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    parts: dict[str, dict[str, bool]] = field(default_factory=dict)


def import_bundle(
    data: Any, pack: Pack, *, source: str, synthetic: bool = False, case_id: str | None = None
) -> ImportResult:
    """Map a parsed Bundle onto a case of ``pack``; each problem is an InputError naming the field."""
    return _Importer(pack, source).run(data, synthetic, case_id)


class _Importer:
    def __init__(self, pack: Pack, source: str) -> None:
        self.pack = pack
        self.source = source
        self.index = C.code_index(pack)
        self.labs = pack.kb.labs
        self.tests = pack.kb.tests
        self.unmapped: list[Unmapped] = []
        self.notes: list[str] = []

    def error(self, where: str, message: str, hint: str | None = None) -> InputError:
        return InputError(message, file=self.source, field=where, hint=hint)

    # --- bundle and resources ----------------------------------------------------------------------------

    def run(self, data: Any, synthetic: bool, case_id: str | None) -> ImportResult:
        if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
            found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
            raise self.error("resourceType", f"expected a FHIR Bundle, got {found!r}", "export a Bundle")
        bundle = self.validate(Bundle, data, "Bundle")
        if bundle.type not in _BUNDLE_TYPES:
            raise self.error(
                "Bundle.type", f"unsupported bundle type '{bundle.type}'", "collection or transaction"
            )
        resources, refs, ignored = self.read_entries(bundle)
        patient = self.one_patient(resources)
        marked = synthetic or self.marked_synthetic(bundle, resources)
        meta = self.case_metadata(resources)
        stages = self.stages(resources, refs)
        if not stages:
            raise self.error("Bundle.entry", "no Observation or DiagnosticReport to make a stage from")
        age = self.age(patient, min(s.day for s in stages))
        if ignored:
            counts = ", ".join(f"{n} {t}" for t, n in sorted(ignored.items()))
            self.notes.append(f"ignored resources hemedx does not read: {counts}")
        document = self.document(meta, patient, age, stages, marked, case_id, bundle, resources)
        case = parse_case(Document(data=document, file=self.source), self.pack)
        return ImportResult(document, case, tuple(self.unmapped), tuple(self.notes))

    def validate(self, model: Any, data: Any, where: str) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ""
            for part in first["loc"]:
                if isinstance(part, int):
                    loc += f"[{part}]"
                elif not re.match(r"^(float|int|bool|str|list|dict|function-|literal|union)", str(part)):
                    loc += f".{part}" if loc else str(part)
            message = first["msg"].replace("Input should be", "expected").replace("Field required", "missing")
            got = first.get("input")
            shown = f" (got {json.dumps(got)[:40]})" if got is not None and not isinstance(got, dict) else ""
            where = f"{where}.{loc}" if where == "Bundle" and loc else f"{where} {loc}".strip()
            raise self.error(where, f"{message}{shown}") from None

    def read_entries(self, bundle: Bundle) -> tuple[list[Any], dict[str, Any], dict[str, int]]:
        resources: list[Any] = []
        refs: dict[str, Any] = {}
        ignored: dict[str, int] = {}
        for i, entry in enumerate(bundle.entry):
            raw = entry.resource
            if raw is None:
                raise self.error(f"Bundle.entry[{i}].resource", "missing resource")
            kind = raw.get("resourceType")
            if not isinstance(kind, str) or kind not in C.FHIR_RESOURCE_TYPES:
                raise self.error(
                    f"Bundle.entry[{i}].resource.resourceType",
                    f"unknown resourceType {kind!r}",
                    (did_you_mean(kind, C.FHIR_RESOURCE_TYPES) if isinstance(kind, str) else None)
                    or "a FHIR R4/R4B/R5 resource type such as Patient or Observation",
                )
            model = MODELS.get(kind)
            if model is None:
                ignored[kind] = ignored.get(kind, 0) + 1
                continue
            name = f"{kind}/{raw['id']}" if isinstance(raw.get("id"), str) else f"Bundle.entry[{i}] {kind}"
            resource = self.validate(model, raw, name)
            resources.append((name, resource))
            if entry.fullUrl:
                refs[entry.fullUrl] = (name, resource)
            if resource.id:
                refs[f"{kind}/{resource.id}"] = (name, resource)
        return resources, refs, ignored

    def one_patient(self, resources: list[Any]) -> tuple[str, Patient]:
        patients = [(n, r) for n, r in resources if isinstance(r, Patient)]
        if not patients:
            raise self.error("Bundle.entry", "no Patient resource", "a case needs the patient's sex and age")
        if len(patients) > 1:
            names = ", ".join(n for n, _ in patients[:3])
            raise self.error(
                "Bundle.entry", f"{len(patients)} Patient resources ({names})", "one patient per case"
            )
        name, patient = patients[0]
        if patient.gender not in ("female", "male"):
            raise self.error(f"{name} gender", f"gender {patient.gender!r} cannot be used", "female or male")
        if not patient.birthDate:
            raise self.error(f"{name} birthDate", "missing", "needed to compute the age at the first result")
        return name, patient

    def marked_synthetic(self, bundle: Bundle, resources: list[Any]) -> bool:
        metas = [bundle.meta, *(r.meta for _, r in resources)]
        for meta in metas:
            if meta and any(c.code == "HTEST" for c in (*meta.security, *meta.tag)):
                return True
        for _, r in resources:
            ids = r.identifier if isinstance(r.identifier, list) else [r.identifier] if r.identifier else []
            urls = [e.url for e in r.extension] + [i.system or "" for i in ids]
            if any(marker in url for url in urls for marker in C.SYNTHEA_MARKERS):
                return True
        return False

    def case_metadata(self, resources: list[Any]) -> dict[str, Any]:
        for name, r in resources:
            if MODELS["Basic"] is type(r) and r.code and _has(r.code, C.HEMEDX_CASE, "teaching-case"):
                for ext in r.extension:
                    if ext.url == C.CASE_EXTENSION and ext.valueString:
                        try:
                            meta = json.loads(ext.valueString)
                        except json.JSONDecodeError as exc:
                            raise self.error(
                                f"{name} extension.valueString", f"not JSON: {exc.msg}"
                            ) from None
                        if not isinstance(meta, dict):
                            raise self.error(f"{name} extension.valueString", "expected a JSON object")
                        return meta
        return {}

    # --- stages and observations -------------------------------------------------------------------------

    def stages(self, resources: list[Any], refs: dict[str, Any]) -> list[_Stage]:
        by_day: dict[date, _Stage] = {}
        report_of: dict[int, tuple[str, DiagnosticReport]] = {}
        for name, r in resources:
            if isinstance(r, DiagnosticReport):
                day = self.day(
                    name, r.effectiveDateTime or (r.effectivePeriod and r.effectivePeriod.start) or r.issued
                )
                stage = by_day.setdefault(day, _Stage(day)) if day else None
                if stage is not None:
                    if r.code and _has(r.code, C.HEMEDX_STAGE):
                        stage.stage_name = r.code.text
                    elif r.code:
                        stage.names.append(_text(r.code))
                    if r.conclusion:
                        stage.notes.append(r.conclusion)
                for j, ref in enumerate(r.result):
                    target = refs.get(ref.reference or "")
                    if target is None:
                        raise self.error(
                            f"{name} result[{j}].reference", f"'{ref.reference}' is not in the bundle"
                        )
                    report_of[id(target[1])] = (name, r)
        observations = [
            (n, r) for n, r in resources if isinstance(r, Observation) and _pregnancy_item(r) is None
        ]
        for name, obs in observations:
            if obs.status in _SKIPPED_STATUS:
                self.notes.append(f"{name}: skipped (status {obs.status})")
                continue
            when = (
                obs.effectiveDateTime
                or obs.effectiveInstant
                or (obs.effectivePeriod and obs.effectivePeriod.start)
            )
            if when is None and id(obs) in report_of:
                report = report_of[id(obs)][1]
                when = report.effectiveDateTime or (report.effectivePeriod and report.effectivePeriod.start)
            when = when or obs.issued
            if when is None:
                raise self.error(f"{name} effectiveDateTime", "missing, and no DiagnosticReport dates it")
            day = self.day(name, when)
            self.observation(name, obs, by_day.setdefault(day, _Stage(day)))  # type: ignore[arg-type]
        return [by_day[d] for d in sorted(by_day)]

    def day(self, where: str, text: str | None) -> date | None:
        if text is None:
            return None
        m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
        try:
            if m is None:
                raise ValueError
            return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
        except ValueError:
            raise self.error(where, f"'{text}' is not a FHIR date", "YYYY-MM-DD or a dateTime") from None

    def observation(self, name: str, obs: Observation, stage: _Stage) -> None:
        target = None
        for coding in obs.code.coding:
            target = self.index.get((coding.system or "", coding.code or ""))
            if target is not None:
                break
        if target is None:
            first = obs.code.coding[0] if obs.code.coding else None
            code = f"{first.system or '?'}|{first.code or '?'}" if first else "(no coding)"
            display = (first.display if first else None) or obs.code.text or ""
            self.unmapped.append(
                Unmapped(name, code, display, "no finding, lab or test of the pack has this code")
            )
            return
        if target.kind != "finding" and obs.dataAbsentReason is not None and not _has_value(obs):
            self.notes.append(f"{name}: no value ({_text(obs.dataAbsentReason)}); left out")
            return
        section = {"finding": stage.findings, "lab": stage.labs, "test": stage.tests}.get(target.kind, {})
        if target.id in section:
            self.notes.append(f"{name}: a second {target.id} result on the same day; the later entry is used")
        if target.kind == "finding":
            stage.findings[target.id] = self.finding_value(name, obs)
        elif target.kind == "lab":
            stage.labs[target.id] = self.lab_value(name, obs, self.labs[target.id])
        elif target.kind == "test":
            stage.tests[target.id] = self.test_value(name, obs, self.tests[target.id])
        else:
            positive = self.yes_no(name, obs)
            stage.parts.setdefault(target.id, {})[target.part or ""] = positive

    def finding_value(self, name: str, obs: Observation) -> str:
        if obs.dataAbsentReason is not None and obs.valueBoolean is None and obs.valueCodeableConcept is None:
            return "unknown"
        return "present" if self.yes_no(name, obs) else "absent"

    def yes_no(self, name: str, obs: Observation) -> bool:
        if obs.valueBoolean is not None:
            return obs.valueBoolean
        concept = obs.valueCodeableConcept
        if concept is not None:
            for coding in concept.coding:
                if coding.system == C.SNOMED and coding.code in (C.SNOMED_POSITIVE, C.SNOMED_NEGATIVE):
                    return coding.code == C.SNOMED_POSITIVE
            words = {w.strip().lower() for w in (concept.text, *(c.display for c in concept.coding)) if w}
            words |= {(c.code or "").lower() for c in concept.coding}
            if words & _YES:
                return True
            if words & _NO:
                return False
        if obs.valueString and obs.valueString.strip().lower() in _YES | _NO:
            return obs.valueString.strip().lower() in _YES
        raise self.error(
            f"{name} value[x]",
            "expected a positive/negative result",
            f"valueBoolean, or valueCodeableConcept SNOMED {C.SNOMED_POSITIVE} / {C.SNOMED_NEGATIVE}",
        )

    def lab_value(self, name: str, obs: Observation, lab: Lab) -> Any:
        comparator = None
        unit: str | None = None
        if obs.valueQuantity is not None:
            q = obs.valueQuantity
            if q.value is None:
                raise self.error(f"{name} valueQuantity.value", "missing")
            value, comparator = float(q.value), q.comparator
            unit = q.code if q.system == C.UCUM and q.code else q.unit or q.code
            where = f"{name} valueQuantity.{'code' if q.system == C.UCUM and q.code else 'unit'}"
        elif obs.valueRatio is not None and lab.unit == "titre":
            num, den = obs.valueRatio.numerator, obs.valueRatio.denominator
            if not (num and den and num.value == 1 and den.value):
                raise self.error(f"{name} valueRatio", "expected a titre 1:N", "numerator 1, denominator N")
            value, where = float(den.value), f"{name} valueRatio"
        elif obs.valueInteger is not None:
            value, where = float(obs.valueInteger), f"{name} valueInteger"
        elif obs.valueString is not None:
            value, comparator, where = self.string_number(name, obs.valueString, lab)
        else:
            raise self.error(f"{name} value[x]", f"{lab.id} needs a number", "valueQuantity with a UCUM unit")
        if unit is None and lab.unit not in ("%", "titre"):
            raise self.error(where, f"{lab.id} has no unit", f"a UCUM unit such as {C.ucum_code(lab.unit)}")
        try:
            canonical = to_canonical(lab, value, unit) if unit not in (None, "1") else value
        except ValueError as exc:
            raise self.error(where, str(exc)) from None
        if not lab.plausible.min <= canonical <= lab.plausible.max:
            hint = f"expected {lab.plausible.min:g}-{lab.plausible.max:g} {lab.unit}"
            probable = probable_unit(lab, value, unit)
            if probable is not None:
                hint += f"; probably {probable[0]} (= {probable[1]:g} {lab.unit})"
            raise self.error(where, f"implausible {lab.id} {value:g} {unit or lab.unit}", hint)
        if comparator is None:
            return canonical
        return {"value": canonical, "comparator": comparator}

    def string_number(self, name: str, text: str, lab: Lab) -> tuple[float, str | None, str]:
        where = f"{name} valueString"
        ratio = _RATIO.match(text)
        if ratio and lab.unit == "titre":
            return float(ratio.group(1)), None, where
        bound = parse_censored(text)
        if bound is not None:
            return bound.bound, bound.comparator, where
        if _NUMBER.match(text):
            return float(text), None, where
        raise self.error(
            where, f"'{text}' is not a number for {lab.id}", "a number, '<10' or a titre '1:512'"
        )

    def test_value(self, name: str, obs: Observation, test: Test) -> str:
        concept = obs.valueCodeableConcept
        if concept is not None:
            for coding in concept.coding:
                if coding.system == C.HEMEDX_RESULT and coding.code in test.values:
                    return coding.code
        if obs.valueString is not None and test.id == "cytogenetics":
            karyotype = "".join(obs.valueString.split())
            result = "normal" if _NORMAL_KARYOTYPE.match(karyotype) else "abnormal"
            self.notes.append(
                f"{name}: karyotype '{obs.valueString}' read as {result} (heuristic: only 46,XX or 46,XY"
                " counts as normal; check the report)"
            )
            return result
        words = [w for w in ((concept and _words(concept)) or []) + [obs.valueString or ""] if w]
        labels = {v: v for v in test.values} | {label.lower(): v for v, label in test.value_labels.items()}
        for word in words:
            key = word.strip().lower().replace(" ", "_")
            if key in labels or word.strip().lower() in labels:
                return labels.get(key) or labels[word.strip().lower()]
        if "positive" in test.values or "negative" in test.values:
            return "positive" if self.yes_no(name, obs) else "negative"
        raise self.error(
            f"{name} value[x]", f"no result of {test.id} matches", f"one of: {', '.join(test.values)}"
        )

    # --- pregnancy ---------------------------------------------------------------------------------------

    def pregnancy(self, resources: list[Any]) -> dict[str, Any]:
        """``pregnant``, ``gestation_weeks`` and ``trimester``, each from its latest Observation.

        The case model then checks that they agree with each other and with the patient's sex and age.
        """
        latest: dict[str, tuple[str, str, Observation]] = {}
        for name, obs in resources:
            item = _pregnancy_item(obs) if isinstance(obs, Observation) else None
            if item is None or obs.status in _SKIPPED_STATUS:
                continue
            when = obs.effectiveDateTime or obs.effectiveInstant or obs.issued or ""
            if item not in latest or when >= latest[item][0]:
                latest[item] = (when, name, obs)
        out: dict[str, Any] = {}
        if "status" in latest:
            _, name, obs = latest["status"]
            concept = obs.valueCodeableConcept
            codings = {(c.system or "", c.code or "") for c in concept.coding} if concept else set()
            if codings & C.PREGNANT:
                out["pregnant"] = True
            elif not codings & C.NOT_PREGNANT:
                self.notes.append(f"{name}: pregnancy status neither pregnant nor not pregnant; left out")
        if "weeks" in latest:
            _, name, obs = latest["weeks"]
            q = obs.valueQuantity
            unit = q.code or q.unit if q else None
            if q is None or q.value is None or unit not in ("wk", "d"):
                raise self.error(
                    f"{name} valueQuantity", "a gestational age needs a value in weeks", "unit wk (or d)"
                )
            out["gestation_weeks"] = q.value if unit == "wk" else round(q.value / 7, 1)
        if "trimester" in latest:
            _, name, obs = latest["trimester"]
            if obs.valueInteger not in (1, 2, 3):
                raise self.error(f"{name} valueInteger", f"trimester {obs.valueInteger!r}", "1, 2 or 3")
            out["trimester"] = obs.valueInteger
        if ("gestation_weeks" in out or "trimester" in out) and "pregnant" not in out:
            out["pregnant"] = True  # a gestational age says as much as a status would
        return out

    # --- the case document ---------------------------------------------------------------------------------

    def age(self, patient: tuple[str, Patient], first: date) -> float:
        name, p = patient
        born = self.day(f"{name} birthDate", p.birthDate)
        assert born is not None
        if born > first:
            raise self.error(f"{name} birthDate", "is after the first result")
        years = first.year - born.year - ((first.month, first.day) < (born.month, born.day))
        return years if years >= 2 else round((first - born).days / 365.25, 1)

    def document(
        self,
        meta: dict[str, Any],
        patient: tuple[str, Patient],
        age: float,
        stages: list[_Stage],
        synthetic: bool,
        case_id: str | None,
        bundle: Bundle,
        resources: list[Any],
    ) -> dict[str, Any]:
        sex = patient[1].gender
        first = stages[0].day
        out_stages = []
        for stage in stages:
            for test_id, parts in stage.parts.items():
                test = self.tests[test_id]
                positive = [p for p in test.loinc_parts if parts.get(p)]
                stage.tests[test_id] = "_".join(positive) if positive else "negative"
            days = (stage.day - first).days
            name = stage.stage_name or ", ".join([f"Day {days}", *stage.names])
            entry: dict[str, Any] = {"name": name}
            if stage.notes:
                entry["note"] = " ".join(stage.notes)
            for key in ("findings", "labs", "tests"):
                values = getattr(stage, key)
                if values:
                    entry[key] = dict(sorted(values.items()))
            out_stages.append(entry)
        doc: dict[str, Any] = {
            "id": meta.get("id") or case_id or _slug(bundle.id) or "imported-fhir-case",
            "title": meta.get("title") or f"Imported FHIR record: {sex}, {age:g} years",
            "synthetic": bool(meta.get("synthetic", synthetic)) or synthetic,
        }
        provenance = meta.get("provenance") if meta else None
        if not meta:
            provenance = None if synthetic else RECORD_PROVENANCE
        if provenance:
            doc["provenance"] = provenance
        doc["patient"] = {"age": age, "sex": sex, **self.pregnancy(resources)}
        for key in ("presentation",):
            if meta.get(key):
                doc[key] = meta[key]
        doc["stages"] = out_stages
        for key in ("answer", "difficulty", "tags", "teaching_points"):
            if meta.get(key):
                doc[key] = meta[key]
        return doc


def _pregnancy_item(obs: Observation) -> str | None:
    """Which pregnancy fact an Observation records ("status", "weeks", "trimester"), or None."""
    if _has(obs.code, C.LOINC, C.PREGNANCY_STATUS):
        return "status"
    if any(_has(obs.code, C.LOINC, code) for code in C.GESTATIONAL_AGE):
        return "weeks"
    if _has(obs.code, C.HEMEDX_PATIENT, "trimester"):
        return "trimester"
    return None


def _has_value(obs: Observation) -> bool:
    values = (obs.valueQuantity, obs.valueCodeableConcept, obs.valueString, obs.valueBoolean)
    return any(v is not None for v in (*values, obs.valueInteger, obs.valueRatio))


def _has(concept: CodeableConcept, system: str, code: str | None = None) -> bool:
    return any(c.system == system and (code is None or c.code == code) for c in concept.coding)


def _text(concept: CodeableConcept) -> str:
    return concept.text or next((c.display for c in concept.coding if c.display), None) or "report"


def _words(concept: CodeableConcept) -> list[str]:
    return [
        w
        for w in (concept.text, *(c.display for c in concept.coding), *(c.code for c in concept.coding))
        if w
    ]


def _slug(text: str | None) -> str | None:
    if not text:
        return None
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80] if len(slug) >= 2 else None
