"""Teaching cases: the file schema (pydantic) and the normalised, unit-converted form the engine reads.

A case file is validated in two passes: first its shape (this module's models; unknown keys rejected),
then its content against a pack's vocabulary (:mod:`hemedx.cases.loader`): known ids, units, plausible
values. The result is a :class:`Case` whose stages hold canonical values only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hemedx.rules.model import Cite, FindingState, Sex

CASE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
FindingValue = Literal["present", "absent", "unknown"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LabEntry(_Strict):
    """A lab value with an explicit unit: ``{value: 11000, unit: /uL}``."""

    value: float
    unit: Annotated[str, Field(min_length=1, max_length=20)]


class PatientFile(_Strict):
    """Age in years and sex; both are needed to pick the right reference interval."""

    age: Annotated[float, Field(ge=0, le=120)]
    sex: Sex


class StageFile(_Strict):
    """One step of the work-up, revealed in order during a walkthrough."""

    name: Annotated[str, Field(min_length=1, max_length=120)]
    note: str | None = None
    findings: dict[str, FindingValue] = {}
    labs: dict[str, float | LabEntry] = {}
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


@dataclass(frozen=True)
class Snapshot:
    """Everything known about a patient at one point of the work-up: the engine's input."""

    age: float
    sex: str
    findings: dict[str, FindingState]
    labs: dict[str, float]
    tests: dict[str, str]

    def with_changes(
        self,
        findings: dict[str, FindingState] | None = None,
        labs: dict[str, float] | None = None,
        tests: dict[str, str] | None = None,
        unset: tuple[str, ...] = (),
    ) -> Snapshot:
        """A copy with some values set and some removed (for what-if teaching)."""
        new_f = {**self.findings, **(findings or {})}
        new_l = {**self.labs, **(labs or {})}
        new_t = {**self.tests, **(tests or {})}
        for key in unset:
            new_f.pop(key, None)
            new_l.pop(key, None)
            new_t.pop(key, None)
        return Snapshot(self.age, self.sex, new_f, new_l, new_t)


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

    def snapshot(self, upto: int | None = None) -> Snapshot:
        """Facts known after stage ``upto`` (0-based, inclusive); all stages when None."""
        stages = self.stages if upto is None else self.stages[: upto + 1]
        findings: dict[str, FindingState] = {}
        labs: dict[str, float] = {}
        tests: dict[str, str] = {}
        for stage in stages:
            for key in stage.unknown:
                findings.pop(key, None)
            findings.update(stage.findings)
            labs.update(stage.labs)
            tests.update(stage.tests)
        return Snapshot(self.age, self.sex, findings, labs, tests)
