"""The rule pack as pydantic models: vocabulary, sources, diagnoses, parameters and rules.

These models are the schema of the YAML files under ``hemedx/rules/pack/`` (and of any teacher's own
pack). Unknown keys are rejected everywhere, so a typo in a rule file is an error rather than a rule
that silently does nothing. Cross-references (ids that must exist elsewhere in the pack) are checked by
:mod:`hemedx.rules.checks`, which has the whole pack in view.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from hemedx.rules.thresholds import Limit, parse_threshold

if TYPE_CHECKING:
    from hemedx.rules.kb import KnowledgeBase

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
RULE_ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"
SOURCE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
RuleId = Annotated[str, Field(pattern=RULE_ID_PATTERN, max_length=96)]
SourceId = Annotated[str, Field(pattern=SOURCE_ID_PATTERN, max_length=96)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
Category = Literal[
    "history", "examination", "blood_count", "smear", "chemistry", "immunology", "marrow", "derived"
]
FindingState = Literal["present", "absent"]
Sex = Literal["female", "male"]
# A patient's pregnancy as the engine sees it: "none", a trimester, or pregnant with the trimester not stated.
Pregnancy = Literal["none", "trimester_1", "trimester_2", "trimester_3", "trimester_unstated"]
PREGNANCY_STATES: tuple[str, ...] = get_args(Pregnancy)
Synonym = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/+-]*$", max_length=40)]
Short = Annotated[str, Field(min_length=1, max_length=12)]


class Strict(BaseModel):
    """Base for every pack model: unknown keys are errors, values are immutable after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


# --- sources and citations -------------------------------------------------------------------------------


class Source(Strict):
    """One bibliography entry. Only verified references are cited as sources of fact."""

    id: SourceId
    kind: Literal["guideline", "paper", "textbook", "web", "reference_text", "classification", "ontology"]
    citation: Text
    title: str | None = None
    note: str | None = None


class Cite(Strict):
    """A pointer from a rule, interval or teaching point to a source, with where in it to look."""

    source: SourceId
    locator: Annotated[str, Field(min_length=1, max_length=200)] | None = None


Cites = Annotated[list[Cite], Field(min_length=1)]


# --- vocabulary --------------------------------------------------------------------------------------------


class Finding(Strict):
    """A present/absent finding: observed in a case file, or derived by rules (``category: derived``)."""

    id: Id
    label: Text
    category: Category
    description: str | None = None
    hpo: Annotated[str, Field(pattern=r"^HP:\d{7}$")] | None = None
    observable: bool = Field(True, description="May a case file give this finding directly?")
    synonyms: list[Synonym] = Field([], description="Other names learners type (case-insensitive)")
    context_only: bool = Field(
        False,
        description="Recorded in a case for the story only: no rule weighs it yet (exempt from lint HX305)",
    )


LoincCode = Annotated[str, Field(pattern=r"^\d{1,7}-\d$")]


class AltUnit(Strict):
    """Another accepted unit: canonical value = given value × ``factor``."""

    unit: Annotated[str, Field(min_length=1, max_length=20)]
    factor: Annotated[float, Field(gt=0)]
    aliases: list[str] = []


class Range(Strict):
    """Inclusive plausible range; beyond it a value is an input error, not a finding."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class Interval(Strict):
    """A reference interval (or decision limit) for one sex, age band and pregnancy state, with its source."""

    sex: Sex | Literal["any"] = "any"
    age_min: Annotated[float, Field(ge=0)] = 0
    age_max: Annotated[float, Field(gt=0)] | None = None  # exclusive
    # Which pregnancy states the band is for (None: any). Pregnancy lowers the haemoglobin cut-off.
    pregnancy: Annotated[list[Pregnancy], Field(min_length=1)] | None = None
    low: float | None = None
    high: float | None = None
    basis: Literal["published", "teaching_estimate"] = "published"
    note: str | None = None
    cites: list[Cite] = []

    @model_validator(mode="after")
    def _sane(self) -> Interval:
        if self.basis == "published" and not self.cites:
            raise ValueError("a published interval needs cites (or say basis: teaching_estimate)")
        if self.low is None and self.high is None:
            raise ValueError("an interval needs low, high or both")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError("low must be below high")
        if self.age_max is not None and self.age_max <= self.age_min:
            raise ValueError("age_max must be above age_min")
        if self.pregnancy is not None and self.sex == "male" and self.pregnancy != ["none"]:
            raise ValueError("a band for pregnancy needs sex female or any")
        return self

    def applies_to(self, sex: str, age: float, pregnancy: str = "none") -> bool:
        """Whether this band is the one for a patient of this sex, age and pregnancy state."""
        return (
            self.sex in ("any", sex)
            and self.age_min <= age
            and (self.age_max is None or age < self.age_max)
            and (self.pregnancy is None or pregnancy in self.pregnancy)
        )


class Lab(Strict):
    """A numeric laboratory value with its canonical unit, conversions, intervals and plausible range."""

    id: Id
    label: Text
    category: Category
    unit: Annotated[str, Field(min_length=1, max_length=20)]
    unit_aliases: list[str] = []
    alternative_units: list[AltUnit] = []
    plausible: Range
    reference: list[Interval] = []
    decimals: Annotated[int, Field(ge=0, le=4)] = 1
    loinc: LoincCode | None = None
    loinc_also: list[LoincCode] = Field([], description="Other LOINC codes read as this lab on import")
    description: str | None = None
    synonyms: list[Synonym] = Field([], description="Other names learners type (hb, hgb; case-insensitive)")
    short: Short | None = Field(None, description="Short label for tight text (Hb)")


class Test(Strict):
    """A categorical test (for example the DAT) with its allowed result values."""

    id: Id
    label: Text
    category: Category
    values: Annotated[list[Id], Field(min_length=2)]
    value_labels: dict[str, str] = {}
    loinc: LoincCode | None = None
    loinc_parts: dict[Id, LoincCode] = Field(
        {},
        description="LOINC codes of separately reported parts (the DAT's IgG and C3d); their positive parts,"
        " joined with '_' in this order, name the result, and none positive is 'negative'",
    )
    description: str | None = None
    synonyms: list[Synonym] = Field([], description="Other names learners type (case-insensitive)")
    short: Short | None = Field(None, description="Short label for tight text (DAT)")


class Vocabulary(Strict):
    """Everything a rule or case may name."""

    findings: list[Finding]
    labs: list[Lab]
    tests: list[Test]


# --- diagnoses ---------------------------------------------------------------------------------------------


class PriorBand(Strict):
    """The prior for patients up to and including ``max_age`` (whole years): children differ from adults."""

    max_age: Annotated[int, Field(ge=0, le=120)]
    value: Annotated[float, Field(gt=0, lt=1)]
    basis: Literal["published", "teaching_estimate"]
    rationale: str | None = None
    cites: list[Cite] = []

    @model_validator(mode="after")
    def _published_cites(self) -> PriorBand:
        if self.basis == "published" and not self.cites:
            raise ValueError("a published prior needs cites")
        return self


class Prior(Strict):
    """Pre-test probability weight (normalised over the differential) and where it comes from."""

    # Bounded away from 0 and 1: a prior of 5e-324 underflows to zero when normalised (no log of it).
    value: Annotated[float, Field(ge=0.0001, le=0.9999)]
    basis: Literal["published", "teaching_estimate"]
    rationale: str | None = None
    cites: list[Cite] = []
    by_age: list[PriorBand] = Field(
        [], description="Age bands, youngest first; the first whose max_age the patient has not passed wins"
    )

    @model_validator(mode="after")
    def _published_cites(self) -> Prior:
        if self.basis == "published" and not self.cites:
            raise ValueError("a published prior needs cites")
        ages = [band.max_age for band in self.by_age]
        if ages != sorted(set(ages)):
            raise ValueError("by_age bands must have increasing max_age")
        return self

    def at_age(self, age: float | None) -> float:
        """The prior for a patient of ``age`` years (the adult ``value`` when no band applies)."""
        if age is not None:
            for band in self.by_age:
                if age < band.max_age + 1:
                    return band.value
        return self.value


class Subtype(Strict):
    """A subtype or severity grade. The first listed that a criteria rule concludes is reported."""

    id: Id
    label: Text
    description: str | None = None


class TeachingPoint(Strict):
    """A cited statement shown to learners (pathophysiology, pitfalls, management)."""

    text: Text
    topic: Literal["pathophysiology", "diagnosis", "pitfall", "management", "cause"] = "diagnosis"
    cites: Cites


OUTSIDE = "outside"


class Diagnosis(Strict):
    """A member of the differential, or the one open-world hypothesis (``kind: outside``).

    The outside hypothesis ("something outside this differential") is ranked in the same arithmetic as the
    diagnoses, so findings the differential explains badly move probability to it; it has no cardinal
    findings, criteria or subtypes, and is never presented as the patient's diagnosis.
    """

    id: Id
    kind: Literal["diagnosis", "outside"] = "diagnosis"
    label: Text
    description: Text
    prior: Prior
    cardinal: list[Id] = Field(
        [], description="Findings of which at least one must be present for this diagnosis to be in play"
    )
    subtypes: list[Subtype] = []
    teaching_points: list[TeachingPoint] = []
    codes: dict[str, str] = {}
    short: Short | None = Field(None, description="Abbreviation for tables and quiz answers (AA, ITP)")
    synonyms: list[Synonym] = Field([], description="Other names a learner may answer with (AML, TTP)")

    @model_validator(mode="after")
    def _role(self) -> Diagnosis:
        if self.kind == "diagnosis" and not self.cardinal:
            raise ValueError("a diagnosis needs at least one cardinal finding")
        if self.kind == "outside":
            if self.id != OUTSIDE:
                raise ValueError(f"the outside hypothesis has the id '{OUTSIDE}'")
            if self.cardinal or self.subtypes:
                raise ValueError("the outside hypothesis has no cardinal findings or subtypes")
        elif self.id == OUTSIDE:
            raise ValueError(f"'{OUTSIDE}' is reserved for the hypothesis with kind: outside")
        return self

    @property
    def is_outside(self) -> bool:
        """True for the open-world hypothesis."""
        return self.kind == "outside"


# --- rules -------------------------------------------------------------------------------------------------

Threshold = float | Annotated[str, Field(pattern=r"^(lower_limit|upper_limit|param:[a-z][a-z0-9_]*)$")]


class FindingCondition(Strict):
    """``{finding: X}`` (present), ``{finding: X, is: absent}``; evidence rules may use ``is: known``."""

    finding: Id
    is_: Literal["present", "absent", "known"] = Field("present", alias="is")


class NumericBounds(Strict):
    """Shared comparison keys. ``below``/``above`` are strict; ``at_least``/``at_most`` inclusive."""

    below: Threshold | None = None
    above: Threshold | None = None
    at_least: Threshold | None = None
    at_most: Threshold | None = None

    def bounds(self) -> dict[str, Threshold]:
        """The comparisons given, in a fixed order."""
        return {
            k: v for k in ("below", "above", "at_least", "at_most") if (v := getattr(self, k)) is not None
        }

    def limits(self) -> dict[str, Limit]:
        """The comparisons given, in a fixed order, with each threshold parsed into its typed form."""
        return {k: parse_threshold(v) for k, v in self.bounds().items()}


class LabCondition(NumericBounds):
    """``{lab: hemoglobin, below: lower_limit}`` or ``{lab: marrow_blasts, at_least: 20}``."""

    lab: Id

    @model_validator(mode="after")
    def _has_bound(self) -> LabCondition:
        if not self.bounds():
            raise ValueError("a lab condition needs one of below, above, at_least, at_most")
        return self


class TestCondition(Strict):
    """``{test: dat, is: igg}`` or ``{test: dat, in: [igg, igg_c3d]}``."""

    test: Id
    is_: Id | None = Field(None, alias="is")
    in_: Annotated[list[Id], Field(min_length=1)] | None = Field(None, alias="in")

    @model_validator(mode="after")
    def _one(self) -> TestCondition:
        if (self.is_ is None) == (self.in_ is None):
            raise ValueError("a test condition needs exactly one of 'is' or 'in'")
        return self

    def allowed(self) -> list[str]:
        """The result values that satisfy this condition."""
        return [self.is_] if self.is_ is not None else list(self.in_ or [])


class PatientCondition(NumericBounds):
    """``{patient: sex, is: female}`` or ``{patient: age, below: 18}``."""

    patient: Literal["sex", "age"]
    is_: Sex | None = Field(None, alias="is")

    @model_validator(mode="after")
    def _fits(self) -> PatientCondition:
        if self.patient == "sex" and (self.is_ is None or self.bounds()):
            raise ValueError("a sex condition takes 'is: female' or 'is: male'")
        if self.patient == "age" and (self.is_ is not None or not self.bounds()):
            raise ValueError("an age condition takes below, above, at_least or at_most")
        for value in self.bounds().values():
            if isinstance(value, str):
                raise ValueError("patient conditions take numbers, not reference limits")
        return self


class AllOf(Strict):
    """Every condition holds."""

    all: Annotated[list[Condition], Field(min_length=1)]


class AnyOf(Strict):
    """At least one condition holds."""

    any: Annotated[list[Condition], Field(min_length=2)]


class CountOf(Strict):
    """At least ``at_least`` of the conditions hold (``≥2 of 3`` criteria)."""

    at_least: Annotated[int, Field(ge=1)]
    of: Annotated[list[Condition], Field(min_length=2)]

    @model_validator(mode="after")
    def _reachable(self) -> CountOf:
        if self.at_least > len(self.of):
            raise ValueError(f"at_least {self.at_least} of only {len(self.of)} conditions can never hold")
        return self


_CONDITION_KEYS = {
    "finding": "finding",
    "lab": "lab",
    "test": "test",
    "patient": "patient",
    "all": "all",
    "any": "any",
    "of": "count",
}


# The tag of a condition model by its class: what the key test below gives on its dump (every model
# dumps all its fields, and each class has exactly one of the keys), without dumping a whole subtree at
# every level while a rule is serialised.
_MODEL_TAGS: dict[type, str] = {
    FindingCondition: "finding",
    LabCondition: "lab",
    TestCondition: "test",
    PatientCondition: "patient",
    AllOf: "all",
    AnyOf: "any",
    CountOf: "count",
}


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        tag = _MODEL_TAGS.get(type(value))
        if tag is not None:
            return tag
        value = value.model_dump(by_alias=True)
    if not isinstance(value, dict):
        return None
    for key, tag in _CONDITION_KEYS.items():
        if key in value:
            return tag
    return None


Condition = Annotated[
    Annotated[FindingCondition, Tag("finding")]
    | Annotated[LabCondition, Tag("lab")]
    | Annotated[TestCondition, Tag("test")]
    | Annotated[PatientCondition, Tag("patient")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[CountOf, Tag("count")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition starts with one of: finding, lab, test, patient, all, any,"
        " at_least/of",
    ),
]


class ThenFinding(Strict):
    """Interpretation and syndrome rules conclude a derived finding's state."""

    finding: Id
    state: FindingState = "present"


class ThenDiagnosis(Strict):
    """Criteria rules conclude that a criterion set is met and/or a subtype or severity."""

    diagnosis: Id
    criteria: bool = False
    subtype: Id | None = None

    @model_validator(mode="after")
    def _concludes(self) -> ThenDiagnosis:
        if not self.criteria and self.subtype is None:
            raise ValueError("a criteria rule concludes 'criteria: true', a 'subtype', or both")
        return self


class Frequency(Strict):
    """How often a finding occurs in a diagnosis, with its published source."""

    p: Annotated[float, Field(ge=0.001, le=0.999)]
    cites: Cites
    note: str | None = None


Probability = Annotated[float, Field(ge=0.001, le=0.999)]


class ThenEvidence(Strict):
    """P(finding | diagnosis) per diagnosis. A bare number is a teaching estimate; a mapping cites."""

    evidence: dict[Id, Probability | Frequency]
    otherwise: Probability = Field(
        description="P(finding | diagnosis) for diagnoses not listed (teaching estimate)"
    )
    replaces: list[Id] = Field(
        [], description="Findings whose evidence is not counted again while this finding is present"
    )


class ExampleFacts(Strict):
    """A minimal fact set used as a rule example (fires / does not fire)."""

    name: str | None = None
    patient: dict[str, Any] = {}
    findings: dict[str, FindingState] = {}
    labs: dict[str, Any] = {}
    tests: dict[str, str] = {}


class Examples(Strict):
    """Positive and negative examples beside a rule; run by ``hemedx rules test``."""

    fires: list[ExampleFacts] = []
    does_not_fire: list[ExampleFacts] = []


class RuleBase(Strict):
    """Fields every rule has, whatever its kind."""

    id: RuleId
    title: Text
    explanation: Text
    cites: Cites
    status: Literal["draft", "reviewed", "teaching", "retired"] = "teaching"
    examples: Examples | None = None


class InterpretationRule(RuleBase):
    """A lab or test value against its interval or decision limit becomes a finding."""

    kind: Literal["interpretation"]
    when: Condition
    then: ThenFinding


class SyndromeRule(RuleBase):
    """Findings combine into a derived finding."""

    kind: Literal["syndrome"]
    when: Condition
    then: ThenFinding


class CriteriaRule(RuleBase):
    """A formal criterion set (or a subtype/severity grade) is met."""

    kind: Literal["criteria"]
    when: Condition
    then: ThenDiagnosis


class EvidenceRule(RuleBase):
    """A finding bears on the differential: present multiplies by p, absent by 1 - p."""

    kind: Literal["evidence"]
    when: FindingCondition
    then: ThenEvidence


class ThenAlert(Strict):
    """An alert names a condition outside the differential, or an emergency, and the test that settles it."""

    alert: Text = Field(description="What to think of, e.g. 'Thrombotic microangiopathy (TTP, HUS)'")
    urgency: Literal["emergency", "consider"]
    next_test: Text = Field(description="The investigation that settles it")
    outside: bool = Field(True, description="Does it name a condition outside this differential?")


class AlertRule(RuleBase):
    """A pattern that must not be missed: shown before any differential, in every view."""

    kind: Literal["alert"]
    when: Condition
    then: ThenAlert


Rule = Annotated[
    InterpretationRule | SyndromeRule | CriteriaRule | EvidenceRule | AlertRule,
    Field(discriminator="kind"),
]

RULE_KINDS = ("interpretation", "syndrome", "criteria", "evidence", "alert")


class Parameter(Strict):
    """A named threshold that sources disagree on, documented once and used by ``param:NAME``."""

    value: float
    unit: str
    description: Text
    alternatives: str | None = None
    cites: Cites


class PackInfo(Strict):
    """``pack.yaml``: identity and settings of a pack."""

    id: Id
    title: Text
    version: str
    description: str | None = None
    extends: Literal["default"] | None = None
    expected_frequency: Annotated[float, Field(ge=0.001, le=0.999)] = Field(
        0.5, description="A diagnosis 'expects' an unknown finding when P(finding|diagnosis) is at least this"
    )
    parameters: dict[Id, Parameter] = {}


class OverlayInfo(PackInfo):
    """``pack.yaml`` of an overlay: ``extends: default`` alone is enough (identity is then derived)."""

    id: Id | None = None  # type: ignore[assignment]
    title: Text | None = None  # type: ignore[assignment]
    version: str | None = None  # type: ignore[assignment]
    extends: Literal["default"]


class Orders(Strict):
    """What comes back with an investigation: if any of these is known, it counts as done."""

    labs: list[Id] = []
    tests: list[Id] = []
    findings: list[Id] = []

    def ids(self) -> tuple[str, ...]:
        """Every id ordered, labs then tests then findings."""
        return (*self.labs, *self.tests, *self.findings)


class InvestigationSpec(Strict):
    """An orderable investigation for next-best-test: what it orders, which findings its result settles."""

    id: Id
    label: Text
    orders: Orders
    reveals: Annotated[list[Id], Field(min_length=1)]
    exclusive: list[tuple[Id, Id]] = Field([], description="Pairs of findings that cannot both be present")
    implies: list[tuple[Id, Id]] = Field([], description="[a, b]: a present means b present")
    after: list[Id] = Field([], description="Investigations done first in a work-up (marrow after the count)")


class InvestigationsFile(BaseModel, extra="forbid", defer_build=True):
    """``investigations.yaml``: the orderable investigations (optional; an overlay merges by id)."""

    investigations: list[InvestigationSpec]


class Pack(Strict):
    """A whole, loaded pack. Build it with :func:`hemedx.rules.load_pack`, which also cross-checks it."""

    info: PackInfo
    vocabulary: Vocabulary
    sources: list[Source]
    diagnoses: list[Diagnosis]
    rules: list[Rule]
    investigations: list[InvestigationSpec] = []
    digest: str = Field(description="Content hash of the pack files, used to name its compiled ruleset")
    origin: dict[str, str] = Field({}, description="rule/diagnosis/source id -> file it came from")

    @cached_property
    def kb(self) -> KnowledgeBase:
        """The pack's indexes and derived-data cache (:mod:`hemedx.rules.kb`), built on first use."""
        from hemedx.rules.kb import KnowledgeBase  # kb.py imports this module

        return KnowledgeBase(self)

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Pack:
        """A copy whose indexes are built afresh: with ``update`` the old ones would be stale."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("kb", None)
        return copied


class RulesFile(BaseModel, extra="forbid", defer_build=True):
    """A file under ``rules/``: a list of rules."""

    rules: list[Rule]


class SourcesFile(BaseModel, extra="forbid", defer_build=True):
    """``sources.yaml``: the bibliography."""

    sources: list[Source]


class DiagnosesFile(BaseModel, extra="forbid", defer_build=True):
    """``diagnoses.yaml``: the differential."""

    diagnoses: list[Diagnosis]
