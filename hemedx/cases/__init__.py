"""Teaching cases: schema, loader, the curated library and the synthetic generator."""

from hemedx.cases.loader import load_case, parse_case
from hemedx.cases.model import Case, Snapshot, Stage

__all__ = ["Case", "Snapshot", "Stage", "load_case", "parse_case"]
