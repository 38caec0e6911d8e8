"""Load a case file and check it against a pack's vocabulary; every problem is one located line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from hemedx.cases.censored import Censored, normalise_comparator, parse_censored
from hemedx.cases.derive import DERIVATIONS
from hemedx.cases.model import (
    CASE_ID_PATTERN,
    MAX_STAGES,
    AnswerFile,
    Case,
    CaseFile,
    CaseTeachingPoint,
    LabEntry,
    Stage,
    pregnancy_of,
    pregnancy_problem,
)
from hemedx.errors import InputError
from hemedx.rules.model import Cite, Lab, Pack, Sex
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


_CASE_KEYS = frozenset(CaseFile.model_fields) - {"provenance"}
_STAGE_KEYS = frozenset({"name", "findings", "labs", "tests"})
_ID = re.compile(CASE_ID_PATTERN.removeprefix("^").removesuffix("$"))
_SEXES = frozenset(get_args(Sex))
_DIFFICULTIES = frozenset(
    value
    for arg in get_args(CaseFile.model_fields["difficulty"].annotation)
    for value in get_args(arg)  # the Literal's values (None's own arguments are none)
)


def quick_case(data: Any, file: str, pack: Pack) -> Case | None:
    """The :class:`Case` :func:`parse_case` makes of ``data``, without pydantic, or None when unsure.

    For documents made in memory (the generator's): plain numbers, strings, lists and dicts in the plain
    shape, every check of :func:`parse_case` passed. Anything else (a censored value, a note, a key or type
    it does not expect, any failed check) gives None, and :func:`parse_case` then decides and reports, so
    an error reads exactly as it always did. Validating a generated case with pydantic took longer than
    generating it.
    """
    if type(data) is not dict or not data.keys() <= _CASE_KEYS:
        return None
    case_id, title, patient = data.get("id"), data.get("title"), data.get("patient")
    if not (
        type(case_id) is str
        and 2 <= len(case_id) <= 80
        and _ID.fullmatch(case_id)
        and type(title) is str
        and 1 <= len(title) <= 200
        and data.get("synthetic", True) is True
        and type(patient) is dict
        and patient.keys() == {"age", "sex"}
        and type(patient["sex"]) is str
        and patient["sex"] in _SEXES
        and type(patient["age"]) in (int, float)
        and 0 <= patient["age"] <= 120
        and type(data.get("presentation", "")) is str
        and type(data.get("tags", [])) is list
        and all(type(t) is str for t in data.get("tags", []))
        and (
            data.get("difficulty") is None
            or (type(data["difficulty"]) is str and data["difficulty"] in _DIFFICULTIES)
        )
        and type(data.get("teaching_points", [])) is list
    ):
        return None
    raw_stages = data.get("stages")
    if type(raw_stages) is not list or not 1 <= len(raw_stages) <= MAX_STAGES:
        return None
    stages = []
    for raw in raw_stages:
        stage = _quick_stage(raw, pack)
        if stage is None:
            return None
        stages.append(stage)
    answer = _quick_answer(data["answer"], pack) if "answer" in data else None
    sources = pack.kb.derived("source_ids", lambda: frozenset(s.id for s in pack.sources))
    points = _quick_points(data.get("teaching_points", []), sources)
    if ("answer" in data and answer is None) or points is None:
        return None
    return Case(
        id=case_id,
        title=title,
        synthetic=True,
        age=float(patient["age"]),
        sex=patient["sex"],
        presentation=data.get("presentation"),
        stages=tuple(stages),
        answer=answer,
        teaching_points=points,
        file=file,
        tags=tuple(data.get("tags", ())),
        difficulty=data.get("difficulty"),
        raw=data,
        provenance=None,
        pregnancy="none",
    )


def _quick_answer(raw: Any, pack: Pack) -> AnswerFile | None:
    """The answer key, built as pydantic would (same fields set), when it names a diagnosis and subtype."""
    if type(raw) is not dict or "diagnosis" not in raw or not raw.keys() <= {"diagnosis", "subtype"}:
        return None
    dx = pack.kb.diagnoses.get(raw["diagnosis"]) if type(raw["diagnosis"]) is str else None
    subtype = raw.get("subtype")
    if dx is None or (
        subtype is not None and (type(subtype) is not str or subtype not in [s.id for s in dx.subtypes])
    ):
        return None
    return AnswerFile.model_construct(**raw)


def _quick_points(raw: Any, sources: frozenset[str]) -> tuple[CaseTeachingPoint, ...] | None:
    """Teaching points whose cites name known sources (so their ids are valid), built as pydantic would."""
    if type(raw) is not list:
        return None
    points = []
    for point in raw:
        if type(point) is not dict or point.keys() != {"text", "cites"}:
            return None
        text, cites = point["text"], point["cites"]
        if type(text) is not str or not text or type(cites) is not list or not cites:
            return None
        built = []
        for cite in cites:
            if type(cite) is not dict or "source" not in cite or not cite.keys() <= {"source", "locator"}:
                return None
            source, locator = cite["source"], cite.get("locator", "")
            if type(source) is not str or source not in sources or type(locator) is not str:
                return None
            if "locator" in cite and not 1 <= len(locator) <= 200:
                return None
            built.append(Cite.model_construct(**cite))
        points.append(CaseTeachingPoint.model_construct(text=text, cites=built))
    return tuple(points)


def _quick_stage(raw: Any, pack: Pack) -> Stage | None:
    """One stage of :func:`quick_case`: labs converted and checked as :func:`_normalise` does, or None."""
    if type(raw) is not dict or not raw.keys() <= _STAGE_KEYS:
        return None
    name = raw.get("name")
    findings, labs, tests = raw.get("findings", {}), raw.get("labs", {}), raw.get("tests", {})
    if not (
        type(name) is str
        and 1 <= len(name) <= 120
        and type(findings) is dict
        and type(labs) is dict
        and type(tests) is dict
    ):
        return None
    kb = pack.kb
    known, by_id, test_by_id = kb.findings, kb.labs, kb.tests
    for key, value in findings.items():
        if type(key) is not str or key not in known or type(value) is not str or value not in _STATES:
            return None
    lab_values: dict[str, float] = {}
    units: dict[str, str] = {}
    given: dict[str, float] = {}
    for key, entry in labs.items():
        lab = by_id.get(key) if type(key) is str else None
        if lab is None:
            return None
        kind = type(entry)
        if kind is float or kind is int:
            value = float(entry)
            unit = None
        elif kind is dict:
            raw_value, unit = entry.get("value"), entry.get("unit")
            if (
                entry.keys() != _VALUE_UNIT
                or type(raw_value) not in (int, float)
                or type(unit) is not str
                or not 1 <= len(unit) <= 20
            ):
                return None
            factor = _factor(pack, lab, unit)
            if factor is None:
                return None
            raw_value = float(raw_value)
            value = round(raw_value * factor, 6)  # as to_canonical rounds
            units[key] = unit
            given[key] = raw_value
        else:
            return None
        plausible = lab.plausible
        if value < 0 or (lab.unit == "%" and value > 100) or not plausible.min <= value <= plausible.max:
            return None
        lab_values[key] = value
    for key, value in tests.items():
        test = test_by_id.get(key) if type(key) is str else None
        if test is None or type(value) is not str or value not in test.values:
            return None
    return Stage(name, dict(findings), (), lab_values, dict(tests), None, units, {}, given)


_STATES = frozenset({"present", "absent"})
_VALUE_UNIT = frozenset({"value", "unit"})


def _factor(pack: Pack, lab: Lab, unit: str) -> float | None:
    """:func:`conversion_factor`, once per pack, lab and unit."""
    cache: dict[tuple[str, str], float | None] = pack.kb.derived("conversion_factors", dict)
    key = (lab.id, unit)
    if key not in cache:
        cache[key] = conversion_factor(lab, unit)
    return cache[key]


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
