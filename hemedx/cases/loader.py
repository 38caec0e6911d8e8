"""Load a case file and check it against a pack's vocabulary; every problem is one located line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hemedx.cases.censored import Censored, normalise_comparator, parse_censored
from hemedx.cases.derive import DERIVATIONS
from hemedx.cases.model import (
    CASE_ID_PATTERN,
    Case,
    CaseFile,
    LabEntry,
    Stage,
    pregnancy_of,
    pregnancy_problem,
)
from hemedx.errors import InputError
from hemedx.rules.model import Lab, Pack
from hemedx.rules.units import conversion_factor, probable_unit, to_canonical
from hemedx.rules.vocab import aliases, diagnosis_aliases
from hemedx.safeyaml import Document, load_file
from hemedx.schema_errors import to_input_error
from hemedx.suggest import did_you_mean


def load_case(path: Path | str, pack: Pack) -> Case:
    """Read, validate and normalise one case file (YAML, or JSON by the ``.json`` suffix)."""
    doc = load_file(Path(path), "case")
    return parse_case(doc, pack)


def parse_case(doc: Document, pack: Pack) -> Case:
    """Validate an already-parsed document as a case of ``pack``."""
    data = doc.data
    if not isinstance(data, dict):
        kind = (
            "a list"
            if isinstance(data, list)
            else f"'{data}'"
            if isinstance(data, str)
            else type(data).__name__
        )
        raise InputError(
            f"a case file must be a mapping (id, title, patient, stages, ...), got {kind}", file=doc.file
        )
    _check_id(doc)
    try:
        parsed = CaseFile.model_validate(data)
    except ValidationError as exc:
        raise to_input_error(exc, doc, CaseFile) from None
    return _normalise(parsed, doc, pack)


def _check_id(doc: Document) -> None:
    import re

    if "id" not in doc.data:
        raise doc.error([], "missing required field 'id'", "a slug such as 'aa-young-adult'")
    value = doc.data["id"]
    if value is None or value == "":
        raise doc.error(["id"], "case id is empty", "a slug such as 'aa-young-adult'")
    if not isinstance(value, str) or not re.match(CASE_ID_PATTERN, value):
        raise doc.error(
            ["id"],
            f"case id {value!r} is not a slug",
            "use lowercase letters, digits and hyphens, e.g. 'aa-young-adult'",
        )


def _normalise(parsed: CaseFile, doc: Document, pack: Pack) -> Case:
    vocab = pack.vocabulary
    findings = {f.id for f in vocab.findings}
    labs, tests = pack.kb.labs, pack.kb.tests
    sections = {
        **{f: "findings" for f in findings},
        **{x: "labs" for x in labs},
        **{t: "tests" for t in tests},
    }

    def vocab_entry(path: tuple[Any, ...], pool: Any) -> Any:
        """The vocabulary entry a stage names at ``path`` (``stages.0.labs.hb``), or why it names none."""
        section, key = path[-2], path[-1]
        if key in pool:
            return pool[key] if isinstance(pool, dict) else key
        other = sections.get(key)
        if other and other != section:
            raise doc.error(path, f"'{key}' is not one of the {section}", f"it belongs under {other}")
        raise doc.error(path, f"unknown {section[:-1]} '{key}'", did_you_mean(key, pool, aliases(pack)))

    stages: list[Stage] = []
    for s_index, stage in enumerate(parsed.stages):
        base = ("stages", s_index)
        present_absent: dict[str, Any] = {}
        unknown: list[str] = []
        for key, value in stage.findings.items():
            vocab_entry((*base, "findings", key), findings)
            if value == "unknown":
                unknown.append(key)
            else:
                present_absent[key] = value
        lab_values: dict[str, float] = {}
        censored: dict[str, Censored] = {}
        units: dict[str, str] = {}
        given: dict[str, float] = {}
        for key, entry in stage.labs.items():
            path = (*base, "labs", key)
            lab = vocab_entry(path, labs)
            comparator: str | None = None
            if isinstance(entry, str):
                bound = parse_censored(entry)
                if bound is None:
                    _check_number(doc, path, doc.data)
                    raise AssertionError("unreachable: a string is never a number")  # pragma: no cover
                raw_value, unit, comparator = bound.bound, None, bound.comparator
            elif isinstance(entry, LabEntry):
                raw_value, unit = entry.value, entry.unit
                comparator = normalise_comparator(entry.comparator) if entry.comparator else None
                _check_number(doc, path, doc.data)
            else:
                raw_value, unit = entry, None
                _check_number(doc, path, doc.data)
            try:
                value = to_canonical(lab, raw_value, unit)
            except ValueError as exc:
                raise doc.error((*path, "unit"), str(exc), hint=_sibling_for_unit(key, unit, labs)) from None
            _check_plausible(doc, path, lab, raw_value, value, unit)
            if comparator is not None:
                censored[key] = Censored(comparator, value)  # type: ignore[arg-type]
            else:
                lab_values[key] = value
            if unit is not None:
                units[key] = unit
                given[key] = float(raw_value)
        test_values: dict[str, str] = {}
        for key, value in stage.tests.items():
            path = (*base, "tests", key)
            test = vocab_entry(path, tests)
            if value not in test.values:
                raise doc.error(
                    path,
                    f"'{value}' is not a result of {key} (allowed: {', '.join(test.values)})",
                    did_you_mean(value, test.values),
                )
            test_values[key] = value
        stages.append(
            Stage(
                stage.name,
                present_absent,
                tuple(unknown),
                lab_values,
                test_values,
                stage.note,
                units,
                censored,
                given,
            )
        )

    if not parsed.synthetic and parsed.provenance is None:
        raise doc.error(
            ["synthetic"],
            "a case that is not synthetic needs a provenance note",
            "add provenance: 'imported from a FHIR record, de-identified' (or say where it came from)",
        )
    diagnoses = pack.kb.diagnoses
    if parsed.answer is not None:
        dx = diagnoses.get(parsed.answer.diagnosis)
        if dx is None:
            raise doc.error(
                ("answer", "diagnosis"),
                f"unknown diagnosis '{parsed.answer.diagnosis}'",
                did_you_mean(parsed.answer.diagnosis, diagnoses, diagnosis_aliases(pack)),
            )
        subtypes = [s.id for s in dx.subtypes]
        if parsed.answer.subtype is not None and parsed.answer.subtype not in subtypes:
            allowed = ", ".join(subtypes) if subtypes else "none"
            raise doc.error(
                ("answer", "subtype"),
                f"'{parsed.answer.subtype}' is not a subtype of {dx.id} (allowed: {allowed})",
                did_you_mean(parsed.answer.subtype, subtypes),
            )
    problem = pregnancy_problem(parsed.patient)
    if problem is not None:
        key, message, hint = problem
        raise doc.error(("patient", key), message, hint)
    sources = {s.id for s in pack.sources}
    for i, point in enumerate(parsed.teaching_points):
        for j, cite in enumerate(point.cites):
            if cite.source not in sources:
                raise doc.error(
                    ("teaching_points", i, "cites", j, "source"),
                    f"unknown source '{cite.source}'",
                    did_you_mean(cite.source, sources),
                )
    return Case(
        id=parsed.id,
        title=parsed.title,
        synthetic=parsed.synthetic,
        age=parsed.patient.age,
        sex=parsed.patient.sex,
        presentation=parsed.presentation,
        stages=tuple(stages),
        answer=parsed.answer,
        teaching_points=tuple(parsed.teaching_points),
        file=doc.file,
        tags=tuple(parsed.tags),
        difficulty=parsed.difficulty,
        raw=doc.data,
        provenance=parsed.provenance,
        pregnancy=pregnancy_of(parsed.patient),
    )


def _check_number(doc: Document, path: tuple[Any, ...], data: Any) -> None:
    # pydantic accepts numeric strings and booleans in lax mode; a case author meant a number.
    node: Any = data
    for part in path:
        node = node[part] if isinstance(node, (dict, list)) else None
    if isinstance(node, dict):
        node = node.get("value")
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise doc.error(
            path,
            f"expected a number, got {node!r}",
            'write the value without quotes, e.g. 6.8 (a value known only as a bound: "<10" or ">=1000")',
        )


def _sibling_for_unit(key: str, unit: str | None, labs: dict[str, Lab]) -> str | None:
    """Where a value in this unit belongs: a reticulocyte percentage, with rbc, derives the absolute count."""
    for derivation in DERIVATIONS:
        if derivation.lab != key or unit is None:
            continue
        for need in derivation.needs:
            if need in labs and conversion_factor(labs[need], unit) is not None:
                others = " and ".join(f"'{n}'" for n in derivation.needs if n != need)
                derived = labs[key].label.lower()
                return f"give it as '{need}' with {others}: hemedx derives {derived} from them"
    return None


def _check_plausible(
    doc: Document, path: tuple[Any, ...], lab: Any, given: float, value: float, unit: str | None
) -> None:
    shown = f"{given:g} {unit or lab.unit}"
    if value < 0:
        raise doc.error(path, f"{lab.id} cannot be negative (got {shown})")
    if lab.unit == "%" and value > 100:
        raise doc.error(path, f"{lab.id} is a percentage and cannot exceed 100 (got {shown})")
    low, high = lab.plausible.min, lab.plausible.max
    if not low <= value <= high:
        hint = f"expected {low:g}-{high:g} {lab.unit}"
        probable = probable_unit(lab, given, unit)
        if probable is not None:
            other, converted = probable
            hint += (
                f"; probably {other} (= {converted:g} {lab.unit}): write {{value: {given:g}, unit: {other}}}"
            )
        elif unit is None and lab.alternative_units:
            alts = ", ".join(a.unit for a in lab.alternative_units)
            hint += f"; if the value is in another unit write {{value: {given:g}, unit: ...}} ({alts})"
        raise doc.error(path, f"implausible {lab.id} {shown}", hint)
