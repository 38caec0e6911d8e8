"""FHIR R4 (also R4B/R5) import and export of teaching cases: plain JSON and a few own pydantic models.

The codes (LOINC, UCUM, HPO) come from the pack's vocabulary, never from this package, so a pack that adds
a lab can import it. Nothing here reads or writes files; the CLI does that.
"""

from hemedx.fhir.exporter import export_bundle
from hemedx.fhir.importer import ImportResult, import_bundle

__all__ = ["ImportResult", "export_bundle", "import_bundle"]
