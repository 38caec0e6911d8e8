"""Teaching cases: the file schema (pydantic) and the normalised, unit-converted form the engine reads.

A case file is validated in two passes: first its shape (this module's models; unknown keys rejected),
then its content against a pack's vocabulary (:mod:`hemedx.cases.loader`): known ids, units, plausible
values. The result is a :class:`Case` whose stages hold canonical values only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hemedx.cases.censored import Censored
from hemedx.cases.derive import derive_labs
from hemedx.rules.model import Cite, FindingState, Pregnancy, Sex

CASE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
FindingValue = Literal["present", "absent", "unknown"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class LabEntry(_Strict):
    """A lab value with a unit and/or a censoring comparator: ``{value: 10, comparator: "<"}``."""

    value: float
    unit: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    comparator: Literal["<", "<=", ">", ">=", "≤", "≥"] | None = None


class PatientFile(_Strict):
    """Age in years, sex and pregnancy: what picks the right reference interval."""

    age: Annotated[float, Field(ge=0, le=120)]
    sex: Sex
    pregnant: bool = Field(False, description="Pregnancy lowers the haemoglobin anaemia cut-off (WHO 2024)")
    # Either, as the report states it; both must then agree. Needs pregnant: true.
    trimester: Literal[1, 2, 3] | None = Field(None, description="Needs pregnant: true")
    gestation_weeks: Annotated[float, Field(ge=0, le=44)] | None = Field(
        None, description="Completed weeks; needs pregnant: true (trimester 2 from 14, 3 from 28)"
    )


# Gestational weeks at which the second and third trimesters begin: the usual obstetric convention (first
# trimester to 13 weeks 6 days, second 14 weeks 0 days to 27 weeks 6 days); some sources differ by a week.
SECOND_TRIMESTER_WEEKS = 14
THIRD_TRIMESTER_WEEKS = 28
# Below this age a pregnancy in a case file is taken for a typing error (an input plausibility guard).
MIN_PREGNANCY_AGE = 10


def trimester_of(weeks: float) -> int:
    """The trimester a gestational age in completed weeks falls in."""
    return 1 if weeks < SECOND_TRIMESTER_WEEKS else 2 if weeks < THIRD_TRIMESTER_WEEKS else 3


def pregnancy_problem(patient: PatientFile) -> tuple[str, str, str] | None:
    """(field, what is wrong, what would be right) for a pregnancy that cannot be, or None."""
    if not patient.pregnant:
        for key in ("trimester", "gestation_weeks"):
            if getattr(patient, key) is not None:
                return key, f"{key} is given but pregnant is not true", "add pregnant: true or remove " + key
        return None
    if patient.sex != "female":
        return "pregnant", f"pregnant: true needs sex female (got {patient.sex})", "sex: female"
    if patient.age < MIN_PREGNANCY_AGE:
        return "pregnant", f"pregnant: true at age {patient.age:g} is not plausible", "check the age"
    weeks, stated = patient.gestation_weeks, patient.trimester
    if weeks is not None and stated is not None and trimester_of(weeks) != stated:
        return (
            "trimester",
            f"trimester {stated} disagrees with gestation_weeks {weeks:g} (trimester {trimester_of(weeks)})",
            "give one of them, or make them agree: trimester 2 starts at 14 weeks, trimester 3 at 28",
        )
    return None


def pregnancy_of(patient: PatientFile) -> Pregnancy:
    """The engine's pregnancy state for a (valid) patient: a trimester when one is stated or implied."""
    if not patient.pregnant:
        return "none"
    trimester = patient.trimester
    if trimester is None and patient.gestation_weeks is not None:
        trimester = trimester_of(patient.gestation_weeks)
    if trimester is None:
        return "trimester_unstated"
    return ("trimester_1", "trimester_2", "trimester_3")[trimester - 1]


class StageFile(_Strict):
    """One step of the work-up, revealed in order during a walkthrough."""

    name: Annotated[str, Field(min_length=1, max_length=120)]
    note: str | None = None
    findings: dict[str, FindingValue] = {}
    labs: dict[str, float | str | LabEntry] = {}
    tests: dict[str, str] = {}


class AnswerFile(_Strict):
    """The answer key: expected top diagnosis and, where it applies, subtype or severity."""

    diagnosis: str
    subtype: str | None = None


class CaseTeachingPoint(_Strict):
    """A cited point shown at the end of a case."""

    text: Annotated[str, Field(min_length=1)]
    cites: Annotated[list[Cite], Field(min_length=1)]


MAX_STAGES = 50


class CaseFile(_Strict):
    """The on-disk schema of a case (DESIGN.md section 5)."""

    id: Annotated[str, Field(pattern=CASE_ID_PATTERN, min_length=2, max_length=80)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    synthetic: bool = True
    provenance: Annotated[str, Field(min_length=1, max_length=500)] | None = None  # where a record came from
    patient: PatientFile
    presentation: str | None = None
    # A walkthrough redoes inference per stage: 5,000 stages took a minute and 1.7 GB before this bound.
    stages: Annotated[list[StageFile], Field(min_length=1, max_length=MAX_STAGES)]
    answer: AnswerFile | None = None
    teaching_points: list[CaseTeachingPoint] = []
    tags: list[str] = []
    difficulty: Literal["introductory", "intermediate", "advanced"] | None = None


@dataclass(frozen=True)
class Stage:
    """A stage with ids checked and labs converted to canonical units."""

    name: str
    findings: dict[str, FindingState]
    unknown: tuple[str, ...]
    labs: dict[str, float]
    tests: dict[str, str]
    note: str | None = None
    given_units: dict[str, str] = field(default_factory=dict)
    censored: dict[str, Censored] = field(default_factory=dict)
    # As written (labs with a unit): display only, not part of equality (FHIR round trips compare stages).
    given_values: dict[str, float] = field(default_factory=dict, compare=False)

    def as_given(self, lab: str) -> tuple[float, str] | None:
        """The value and unit the case file wrote for ``lab`` (None when it used the canonical unit)."""
        if lab in self.given_units and lab in self.given_values:
            return self.given_values[lab], self.given_units[lab]
        return None


@dataclass(frozen=True)
class Snapshot:
    """Everything known about a patient at one point of the work-up: the engine's input."""

    age: float
    sex: str
    findings: dict[str, FindingState]
    labs: dict[str, float]
    tests: dict[str, str]
    censored: dict[str, Censored] = field(default_factory=dict)  # labs known only as a bound
    derived: dict[str, str] = field(default_factory=dict)  # derived lab -> its arithmetic
    lab_conflicts: tuple[str, ...] = ()  # measured values that disagree with what they imply
    pregnancy: Pregnancy = "none"

    @classmethod
    def with_derived(
        cls,
        age: float,
        sex: str,
        findings: dict[str, FindingState],
        labs: dict[str, float],
        tests: dict[str, str],
        censored: dict[str, Censored] | None = None,
        pregnancy: Pregnancy = "none",
    ) -> Snapshot:
        """A snapshot whose derivable labs (``hemedx.cases.derive``) are filled in from ``labs``."""
        censored = censored or {}
        result = derive_labs(labs, set(censored))
        return cls(
            age,
            sex,
            findings,
            {**labs, **result.values},
            tests,
            censored,
            result.arithmetic,
            result.conflicts,
            pregnancy,
        )

    def lab(self, name: str) -> float | Censored | None:
        """A lab's value, exact or censored; ``None`` when not measured."""
        return self.labs[name] if name in self.labs else self.censored.get(name)

    def with_changes(
        self,
        findings: dict[str, FindingState] | None = None,
        labs: dict[str, float] | None = None,
        tests: dict[str, str] | None = None,
        unset: tuple[str, ...] = (),
        censored: dict[str, Censored] | None = None,
    ) -> Snapshot:
        """A copy with some values set and some removed (for what-if teaching)."""
        new_f = {**self.findings, **(findings or {})}
        measured = {k: v for k, v in self.labs.items() if k not in self.derived and k not in (censored or {})}
        new_l = {**measured, **(labs or {})}
        new_t = {**self.tests, **(tests or {})}
        new_c = {k: v for k, v in self.censored.items() if k not in (labs or {})} | (censored or {})
        for key in unset:
            new_f.pop(key, None)
            new_l.pop(key, None)
            new_t.pop(key, None)
            new_c.pop(key, None)
        return Snapshot.with_derived(self.age, self.sex, new_f, new_l, new_t, new_c, self.pregnancy)


@dataclass(frozen=True)
class Case:
    """A validated case. ``snapshot()`` merges its stages; later stages override earlier values."""

    id: str
    title: str
    synthetic: bool
    age: float
    sex: str
    presentation: str | None
    stages: tuple[Stage, ...]
    answer: AnswerFile | None
    teaching_points: tuple[CaseTeachingPoint, ...]
    file: str | None = None
    tags: tuple[str, ...] = ()
    difficulty: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    provenance: str | None = None  # set for a case made from a real record (synthetic false)
    pregnancy: Pregnancy = "none"

    def snapshot(self, upto: int | None = None) -> Snapshot:
        """Facts known after stage ``upto`` (0-based, inclusive); all stages when None."""
        stages = self.stages if upto is None else self.stages[: upto + 1]
        findings: dict[str, FindingState] = {}
        labs: dict[str, float] = {}
        censored: dict[str, Censored] = {}
        tests: dict[str, str] = {}
        for stage in stages:
            for key in stage.unknown:
                findings.pop(key, None)
            findings.update(stage.findings)
            for key, value in stage.labs.items():  # a later value, exact or censored, replaces an earlier one
                censored.pop(key, None)
                labs[key] = value
            for key, bound in stage.censored.items():
                labs.pop(key, None)
                censored[key] = bound
            tests.update(stage.tests)
        return Snapshot.with_derived(self.age, self.sex, findings, labs, tests, censored, self.pregnancy)
