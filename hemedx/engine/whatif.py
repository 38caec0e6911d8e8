"""What-if: change one or more findings, labs or tests and see how the differential moves.

Changes are parsed and checked against the pack's vocabulary exactly as a case file is (ids with a
"did you mean", lab units converted to canonical, plausible ranges), so ``--set platelets=250000/uL`` and
``--set platelets=250`` mean the same thing and a typo is one clear line, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hemedx.cases.censored import Censored, normalise_comparator
from hemedx.cases.model import Snapshot
from hemedx.engine.ranking import Ranking
from hemedx.engine.shift import moves
from hemedx.errors import InputError
from hemedx.rules.model import Pack
from hemedx.rules.units import to_canonical
from hemedx.rules.vocab import aliases
from hemedx.suggest import did_you_mean

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Change:
    """One what-if change: set a finding/lab/test, or unset it (value ``None``)."""

    kind: str  # finding | lab | test
    id: str
    value: str | float | Censored | None  # canonical; None = unset (unknown)
    given: str | None  # what the user typed after '='
    unit: str | None  # canonical unit of a lab

    def as_dict(self) -> dict[str, Any]:
        """JSON form, for the ``what_if`` key."""
        return {
            "kind": self.kind,
            "id": self.id,
            "value": self.value.bound if isinstance(self.value, Censored) else self.value,
            **({"comparator": self.value.comparator} if isinstance(self.value, Censored) else {}),
            "unit": self.unit,
            "given": self.given,
            "action": "unset" if self.value is None else "set",
        }


def _kinds(pack: Pack) -> dict[str, str]:
    vocab = pack.vocabulary
    return {
        **{f.id: "finding" for f in vocab.findings},
        **{x.id: "lab" for x in vocab.labs},
        **{t.id: "test" for t in vocab.tests},
    }


def _kind_of(name: str, pack: Pack, option: str) -> str:
    kinds = _kinds(pack)
    if name not in kinds:
        raise InputError(
            f"{option} {name}: unknown finding, lab or test '{name}'",
            hint=did_you_mean(name, kinds, aliases(pack)) or "list the ids with: hemedx vocab",
        )
    return kinds[name]


def parse_set(text: str, pack: Pack) -> Change:
    """Parse ``ID=VALUE`` (finding present/absent/unknown, a lab number with optional unit, a test result)."""
    if "=" not in text:
        raise InputError(f"--set {text}: expected ID=VALUE", hint="e.g. --set splenomegaly=present")
    name, value = (part.strip() for part in text.split("=", 1))
    kind = _kind_of(name, pack, "--set")
    if kind == "finding":
        states = ["present", "absent", "unknown"]
        if value not in states:
            raise InputError(
                f"--set {text}: a finding is present, absent or unknown, not '{value}'",
                hint=did_you_mean(value, states),
            )
        return Change("finding", name, None if value == "unknown" else value, value, None)
    if kind == "test":
        test = pack.kb.tests[name]
        if value == "unknown":
            return Change("test", name, None, value, None)
        if value not in test.values:
            raise InputError(
                f"--set {text}: '{value}' is not a result of {name} (allowed: {', '.join(test.values)})",
                hint=did_you_mean(value, test.values),
            )
        return Change("test", name, value, value, None)
    lab = pack.kb.labs[name]
    if value == "unknown":
        return Change("lab", name, None, value, lab.unit)
    comparator = None
    sign = re.match(r"^\s*(<=|>=|<|>|≤|≥)", value)
    if sign:  # a censored value: --set haptoglobin=<10
        comparator = normalise_comparator(sign.group(1))
        value = value[sign.end() :]
    match = _NUMBER.match(value)
    if not match:
        raise InputError(
            f"--set {text}: expected a number for {name}, optionally with a unit",
            hint=f"e.g. --set {name}=<number> (in {lab.unit})",
        )
    number, unit = float(match.group(1)), match.group(2) or None
    try:
        canonical = to_canonical(lab, number, unit)
    except ValueError as exc:
        raise InputError(f"--set {text}: {exc}") from None
    low, high = lab.plausible.min, lab.plausible.max
    if not low <= canonical <= high:
        alts = ", ".join(a.unit for a in lab.alternative_units)
        hint = f"expected {low:g}-{high:g} {lab.unit}" + (f", or give a unit ({alts})" if alts else "")
        raise InputError(f"--set {text}: implausible {name} {number:g} {unit or lab.unit}", hint=hint)
    if comparator is not None:
        bound = Censored(comparator, canonical)  # type: ignore[arg-type]
        return Change("lab", name, bound, text.split("=", 1)[1].strip(), lab.unit)
    return Change("lab", name, canonical, value, lab.unit)


def parse_unset(name: str, pack: Pack) -> Change:
    """Parse ``--unset ID``: the finding, lab or test becomes unknown."""
    name = name.strip()
    return Change(_kind_of(name, pack, "--unset"), name, None, None, None)


def apply(snapshot: Snapshot, changes: list[Change]) -> Snapshot:
    """The snapshot with every change applied in order (a later change to the same id wins)."""
    snap = snapshot
    for c in changes:
        if c.value is None:
            snap = snap.with_changes(unset=(c.id,))
        elif c.kind == "finding":
            snap = snap.with_changes(findings={c.id: c.value})  # type: ignore[dict-item]
        elif c.kind == "lab" and isinstance(c.value, Censored):
            snap = snap.with_changes(censored={c.id: c.value})
        elif c.kind == "lab":
            snap = snap.with_changes(labs={c.id: float(c.value)})  # type: ignore[arg-type]
        else:
            snap = snap.with_changes(tests={c.id: str(c.value)})
    return snap


def deltas(before: Ranking, after: Ranking) -> list[dict[str, Any]]:
    """Per diagnosis, in the new order: probability and rank before and after, and the change."""
    return [
        {
            "diagnosis": m.diagnosis,
            "label": m.label,
            "before": m.previous,
            "after": m.probability,
            "delta": m.delta,
            "rank_before": m.previous_rank,
            "rank_after": m.rank,
        }
        for m in moves(after, before)
    ]
