"""The few FHIR resources hemedx reads, as lenient pydantic models (unknown elements are ignored).

Only the elements the importer uses are modelled; numbers must be JSON numbers (FHIR forbids "6.8" as a
string), and each resource is validated on its own so an error can name the resource it is in.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

Number = StrictFloat | StrictInt


class _Element(BaseModel):
    """Lenient: unknown elements are ignored, as FHIR readers must."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Coding(_Element):
    """A code in a code system (LOINC, SNOMED CT, UCUM, hemedx's own)."""

    system: StrictStr | None = None
    code: StrictStr | None = None
    display: StrictStr | None = None


class CodeableConcept(_Element):
    """Codes and/or text for one concept."""

    coding: list[Coding] = []
    text: StrictStr | None = None


class Quantity(_Element):
    """A number with a unit, possibly censored by a comparator."""

    value: Number | None = None
    comparator: Literal["<", "<=", ">=", ">"] | None = None
    unit: StrictStr | None = None
    system: StrictStr | None = None
    code: StrictStr | None = None


class Ratio(_Element):
    """A ratio such as a titre 1:512."""

    numerator: Quantity | None = None
    denominator: Quantity | None = None


class Reference(_Element):
    """A reference to another resource (``urn:uuid:...`` or ``Type/id``)."""

    reference: StrictStr | None = None


class Period(_Element):
    """A time span; only its start dates a result."""

    start: StrictStr | None = None


class Identifier(_Element):
    """Read only to recognise Synthea's identifier system; never kept."""

    system: StrictStr | None = None


class Extension(_Element):
    """An extension; hemedx reads its url and a string value."""

    url: StrictStr
    valueString: StrictStr | None = None


class Meta(_Element):
    """Security labels and tags (HTEST marks test data)."""

    security: list[Coding] = []
    tag: list[Coding] = []


class Resource(_Element):
    """The elements every resource hemedx reads shares."""

    resourceType: StrictStr
    id: StrictStr | None = None
    meta: Meta | None = None
    identifier: list[Identifier] | Identifier | None = None
    extension: list[Extension] = []


class Patient(Resource):
    """Only sex and birth date are read (the age is computed, the date is not kept)."""

    resourceType: Literal["Patient"]
    gender: StrictStr | None = None
    birthDate: StrictStr | None = None


class Observation(Resource):
    """One result: a lab, a finding or a categorical test."""

    resourceType: Literal["Observation"]
    status: StrictStr | None = None
    code: CodeableConcept
    subject: Reference | None = None
    effectiveDateTime: StrictStr | None = None
    effectiveInstant: StrictStr | None = None
    effectivePeriod: Period | None = None
    issued: StrictStr | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: StrictStr | None = None
    valueBoolean: StrictBool | None = None
    valueInteger: StrictInt | None = None
    valueRatio: Ratio | None = None
    dataAbsentReason: CodeableConcept | None = None


class DiagnosticReport(Resource):
    """A report grouping results; its name and conclusion become a stage's name and note."""

    resourceType: Literal["DiagnosticReport"]
    code: CodeableConcept | None = None
    effectiveDateTime: StrictStr | None = None
    effectivePeriod: Period | None = None
    issued: StrictStr | None = None
    result: list[Reference] = []
    conclusion: StrictStr | None = None


class Basic(Resource):
    """hemedx's teaching content (title, answer, teaching points) in an exported bundle."""

    resourceType: Literal["Basic"]
    code: CodeableConcept | None = None


class Entry(_Element):
    """One bundle entry; the resource is validated by its own model."""

    fullUrl: StrictStr | None = None
    resource: dict[str, Any] | None = None


class Bundle(_Element):
    """A collection or transaction bundle."""

    resourceType: Literal["Bundle"]
    id: StrictStr | None = None
    type: StrictStr
    meta: Meta | None = None
    entry: Annotated[list[Entry], Field(max_length=100_000)] = []


MODELS: dict[str, type[Resource]] = {
    "Patient": Patient,
    "Observation": Observation,
    "DiagnosticReport": DiagnosticReport,
    "Basic": Basic,
}
