"""The fact layout shared by every matcher: what a snapshot of a case looks like as facts.

Ids are explicit and stable (``f:anemia:present``, ``lab:hemoglobin``), so durable_rules never falls back
to content hashing, and a derived finding that repeats an observed one is recognised as the same fact.
"""

from __future__ import annotations

from typing import Any

from hemedx.cases.censored import Censored, comparison_properties
from hemedx.cases.model import Snapshot

Fact = dict[str, Any]


def finding_id(name: str, state: str) -> str:
    """Fact id of a finding in a given state."""
    return f"f:{name}:{state}"


def patient_fact(snapshot: Snapshot) -> Fact:
    """The patient as one fact: what reference bands and patient conditions match against."""
    return {
        "id": "patient",
        "kind": "patient",
        "sex": snapshot.sex,
        "age": float(snapshot.age),
        "pregnancy": snapshot.pregnancy,
    }


def snapshot_facts(snapshot: Snapshot) -> list[Fact]:
    """The initial facts of one evaluation, in a fixed order (patient, findings, labs, tests)."""
    facts: list[Fact] = [patient_fact(snapshot)]
    for name in sorted(snapshot.findings):
        state = snapshot.findings[name]
        facts.append(
            {
                "id": finding_id(name, state),
                "kind": "finding",
                "name": name,
                "state": state,
                "origin": "observed",
            }
        )
    for name in sorted({*snapshot.labs, *snapshot.censored}):
        fact: Fact = {"id": f"lab:{name}", "kind": "lab", "name": name}
        value = snapshot.lab(name)
        if isinstance(value, Censored):  # known only as a bound: only certain comparisons match
            fact.update({"comparator": value.comparator, "bound": float(value.bound)})
        else:
            fact["value"] = float(value)  # type: ignore[arg-type]
        fact.update(comparison_properties(value))  # type: ignore[arg-type]
        facts.append(fact)
    for name in sorted(snapshot.tests):
        facts.append({"id": f"test:{name}", "kind": "test", "name": name, "value": snapshot.tests[name]})
    return facts


def lab_fact_value(fact: Fact) -> float | Censored | None:
    """The value a lab fact stands for: a number, a censored bound, or ``None``."""
    if "value" in fact:
        return float(fact["value"])
    if "comparator" in fact:
        return Censored(fact["comparator"], float(fact["bound"]))
    return None
