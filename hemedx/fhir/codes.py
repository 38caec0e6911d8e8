"""Code systems and the pack's codes, indexed both ways: Observation code -> hemedx id, and back.

LOINC codes and units come from the vocabulary (``loinc``, ``loinc_also``, ``loinc_parts``); what has no
LOINC code travels under hemedx's own code systems, so an exported case imports back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from hemedx.rules.model import Pack

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
HPO_SYSTEMS = ("http://human-phenotype-ontology.org", "http://purl.obolibrary.org/obo/hp.owl")
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
HEMEDX = "https://hemedx.example/fhir/CodeSystem"
HEMEDX_FINDING = f"{HEMEDX}/finding"
HEMEDX_LAB = f"{HEMEDX}/lab"
HEMEDX_TEST = f"{HEMEDX}/test"
HEMEDX_RESULT = f"{HEMEDX}/test-result"
HEMEDX_STAGE = f"{HEMEDX}/stage"
HEMEDX_CASE = f"{HEMEDX}/case"
CASE_EXTENSION = "https://hemedx.example/fhir/StructureDefinition/teaching-case"
SYNTHEA_MARKERS = ("synthetichealth.github.io/synthea", "github.com/synthetichealth/synthea")

# SNOMED CT qualifiers for a qualitative result (the FHIR R4 observation value examples use them).
SNOMED_POSITIVE = "10828004"
SNOMED_NEGATIVE = "260385009"
# Pregnancy, as the HL7 International Patient Summary records it (IPS ValueSet pregnancy-status-uv-ips and
# its LOINC-to-SNOMED ConceptMap): the status Observation and its answers, SNOMED equivalents accepted.
PREGNANCY_STATUS = "82810-3"
PREGNANT = {(LOINC, "LA15173-0"), (SNOMED, "77386006")}
NOT_PREGNANT = {(LOINC, "LA26683-5"), (SNOMED, "60001007")}
# LOINC codes whose component is Gestational age (HL7 Europe gestational-age-loinc ValueSet), in weeks.
GESTATIONAL_AGE = ("11884-4", "11885-1")
HEMEDX_PATIENT = f"{HEMEDX}/patient"  # code "trimester": a trimester stated without gestational weeks


@dataclass(frozen=True)
class Target:
    """What an Observation code means in hemedx: a finding, a lab, a test, or one part of a test."""

    kind: str  # finding | lab | test | test_part
    id: str
    part: str | None = None


def code_index(pack: Pack) -> dict[tuple[str, str], Target]:
    """(system, code) -> target, for every code the pack's vocabulary names."""
    vocab = pack.vocabulary
    index: dict[tuple[str, str], Target] = {}
    for finding in vocab.findings:
        index[(HEMEDX_FINDING, finding.id)] = Target("finding", finding.id)
        if finding.hpo:
            for system in HPO_SYSTEMS:
                index[(system, finding.hpo)] = Target("finding", finding.id)
    for lab in vocab.labs:
        index[(HEMEDX_LAB, lab.id)] = Target("lab", lab.id)
        for code in (lab.loinc, *lab.loinc_also):
            if code:
                index[(LOINC, code)] = Target("lab", lab.id)
    for test in vocab.tests:
        index[(HEMEDX_TEST, test.id)] = Target("test", test.id)
        if test.loinc:
            index[(LOINC, test.loinc)] = Target("test", test.id)
        for part, code in test.loinc_parts.items():
            index[(LOINC, code)] = Target("test_part", test.id, part)
    return index


def ucum_code(unit: str) -> str:
    """The UCUM code for a canonical unit as the vocabulary writes it (``10^9/L`` -> ``10*9/L``)."""
    return {"titre": "{titer}"}.get(unit, unit.replace("^", "*"))


# Every resource type of FHIR R4, R4B and R5: anything else in a bundle is not FHIR at all.
FHIR_RESOURCE_TYPES = frozenset(
    [
        "Account",
        "ActivityDefinition",
        "ActorDefinition",
        "AdministrableProductDefinition",
        "AdverseEvent",
        "AllergyIntolerance",
        "Appointment",
        "AppointmentResponse",
        "ArtifactAssessment",
        "AuditEvent",
        "Basic",
        "Binary",
        "BiologicallyDerivedProduct",
        "BiologicallyDerivedProductDispense",
        "BodyStructure",
        "Bundle",
        "CapabilityStatement",
        "CarePlan",
        "CareTeam",
        "CatalogEntry",
        "ChargeItem",
        "ChargeItemDefinition",
        "Citation",
        "Claim",
        "ClaimResponse",
        "ClinicalImpression",
        "ClinicalUseDefinition",
        "CodeSystem",
        "Communication",
        "CommunicationRequest",
        "CompartmentDefinition",
        "Composition",
        "ConceptMap",
        "Condition",
        "ConditionDefinition",
        "Consent",
        "Contract",
        "Coverage",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "DetectedIssue",
        "Device",
        "DeviceAssociation",
        "DeviceDefinition",
        "DeviceDispense",
        "DeviceMetric",
        "DeviceRequest",
        "DeviceUsage",
        "DeviceUseStatement",
        "DiagnosticReport",
        "DocumentManifest",
        "DocumentReference",
        "EffectEvidenceSynthesis",
        "Encounter",
        "EncounterHistory",
        "Endpoint",
        "EnrollmentRequest",
        "EnrollmentResponse",
        "EpisodeOfCare",
        "EventDefinition",
        "Evidence",
        "EvidenceReport",
        "EvidenceVariable",
        "ExampleScenario",
        "ExplanationOfBenefit",
        "FamilyMemberHistory",
        "Flag",
        "FormularyItem",
        "GenomicStudy",
        "Goal",
        "GraphDefinition",
        "Group",
        "GuidanceResponse",
        "HealthcareService",
        "ImagingSelection",
        "ImagingStudy",
        "Immunization",
        "ImmunizationEvaluation",
        "ImmunizationRecommendation",
        "ImplementationGuide",
        "Ingredient",
        "InsurancePlan",
        "InventoryItem",
        "InventoryReport",
        "Invoice",
        "Library",
        "Linkage",
        "List",
        "Location",
        "ManufacturedItemDefinition",
        "Measure",
        "MeasureReport",
        "Media",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationKnowledge",
        "MedicationRequest",
        "MedicationStatement",
        "MedicinalProduct",
        "MedicinalProductAuthorization",
        "MedicinalProductContraindication",
        "MedicinalProductDefinition",
        "MedicinalProductIndication",
        "MedicinalProductIngredient",
        "MedicinalProductInteraction",
        "MedicinalProductManufactured",
        "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical",
        "MedicinalProductUndesirableEffect",
        "MessageDefinition",
        "MessageHeader",
        "MolecularSequence",
        "NamingSystem",
        "NutritionIntake",
        "NutritionOrder",
        "NutritionProduct",
        "Observation",
        "ObservationDefinition",
        "OperationDefinition",
        "OperationOutcome",
        "Organization",
        "OrganizationAffiliation",
        "PackagedProductDefinition",
        "Parameters",
        "Patient",
        "PaymentNotice",
        "PaymentReconciliation",
        "Permission",
        "Person",
        "PlanDefinition",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "Provenance",
        "Questionnaire",
        "QuestionnaireResponse",
        "RegulatedAuthorization",
        "RelatedPerson",
        "RequestGroup",
        "RequestOrchestration",
        "Requirements",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "ResearchStudy",
        "ResearchSubject",
        "RiskAssessment",
        "RiskEvidenceSynthesis",
        "Schedule",
        "SearchParameter",
        "ServiceRequest",
        "Slot",
        "Specimen",
        "SpecimenDefinition",
        "StructureDefinition",
        "StructureMap",
        "Subscription",
        "SubscriptionStatus",
        "SubscriptionTopic",
        "Substance",
        "SubstanceDefinition",
        "SubstanceNucleicAcid",
        "SubstancePolymer",
        "SubstanceProtein",
        "SubstanceReferenceInformation",
        "SubstanceSourceMaterial",
        "SubstanceSpecification",
        "SupplyDelivery",
        "SupplyRequest",
        "Task",
        "TerminologyCapabilities",
        "TestPlan",
        "TestReport",
        "TestScript",
        "Transport",
        "ValueSet",
        "VerificationResult",
        "VisionPrescription",
    ]
)


def mapping_table(pack: Pack) -> str:
    """The LOINC/UCUM mapping as a Markdown table (docs/reference/fhir.md has a tested copy)."""
    rows = ["| hemedx id | LOINC | UCUM (canonical) | other units read |", "|---|---|---|---|"]
    for lab in pack.vocabulary.labs:
        if lab.loinc:
            also = f" (also {', '.join(lab.loinc_also)})" if lab.loinc_also else ""
            others = ", ".join(f"`{a.unit}`" for a in lab.alternative_units)
            rows.append(f"| {lab.id} | {lab.loinc}{also} | `{ucum_code(lab.unit)}` | {others} |")
    for test in pack.vocabulary.tests:
        if test.loinc_parts:
            parts = ", ".join(f"{code} ({part})" for part, code in test.loinc_parts.items())
            rows.append(
                f"| {test.id} (test) | {parts} | – | SNOMED {SNOMED_POSITIVE} / {SNOMED_NEGATIVE} per part |"
            )
        elif test.loinc:
            how = (
                "ISCN text (a flagged heuristic) or a coded result"
                if test.id == "cytogenetics"
                else "coded result"
            )
            rows.append(f"| {test.id} (test) | {test.loinc} | – | {how} |")
    return "\n".join(rows) + "\n"
