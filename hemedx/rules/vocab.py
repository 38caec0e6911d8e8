"""The names a learner may type for pack entries: ids, labels, short labels and synonyms.

Synonyms live in the pack (``synonyms:`` and ``short:`` on findings, labs, tests and diagnoses), so a
teacher's overlay extends them. Two namespaces: the vocabulary (findings, labs and tests share one, as
``--set`` and case files do) and the diagnoses. Matching is case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from hemedx.rules.model import Diagnosis, Finding, Lab, Pack, Test

KINDS = ("finding", "lab", "test", "diagnosis")
VOCABULARY_KINDS = ("finding", "lab", "test")


@dataclass(frozen=True)
class Entry:
    """One nameable thing in the pack, with every name it answers to."""

    kind: str
    id: str
    label: str
    short: str | None
    synonyms: tuple[str, ...]
    item: Finding | Lab | Test | Diagnosis

    def names(self) -> tuple[str, ...]:
        """Id, short label and synonyms, lower-cased: what a learner may type for it."""
        extra = (self.short,) if self.short else ()
        return tuple(dict.fromkeys(n.lower() for n in (self.id, *extra, *self.synonyms)))

    def matches(self, text: str) -> bool:
        """Case-insensitive substring over id, label, short label and synonyms."""
        low = text.lower()
        return any(low in n for n in (*self.names(), self.label.lower()))


def entries(pack: Pack, kinds: tuple[str, ...] = KINDS) -> Iterator[Entry]:
    """Every finding, lab, test and diagnosis (the outside hypothesis excepted), in pack order by kind."""
    vocab = pack.vocabulary
    groups: dict[str, list[Finding | Lab | Test | Diagnosis]] = {
        "finding": list(vocab.findings),
        "lab": list(vocab.labs),
        "test": list(vocab.tests),
        "diagnosis": [d for d in pack.diagnoses if not d.is_outside],
    }
    for kind in kinds:
        for item in groups[kind]:
            short = getattr(item, "short", None)
            yield Entry(kind, item.id, item.label, short, tuple(item.synonyms), item)


def aliases(pack: Pack, kinds: tuple[str, ...] = VOCABULARY_KINDS) -> dict[str, str]:
    """Short label or synonym (lower-cased) -> id, for "did you mean" and for reading answers."""
    out: dict[str, str] = {}
    for entry in entries(pack, kinds):
        for name in entry.names()[1:]:
            if name != entry.id:
                out.setdefault(name, entry.id)
    return out


def diagnosis_aliases(pack: Pack) -> dict[str, str]:
    """Abbreviations and synonyms of the diagnoses (AML -> acute_leukemia)."""
    return aliases(pack, ("diagnosis",))


def table_labels(diagnoses: Iterable[Diagnosis], reserved: Iterable[str] = ()) -> dict[str, str]:
    """Diagnosis id -> an abbreviation for table headers, unique among them and ``reserved`` (case-blind).

    The pack's ``short`` where it has one (a teacher chose it); otherwise one derived from the label, so
    a header is short enough never to be cut and a legend can give the whole name beside it.
    """
    listed = list(diagnoses)
    taken = {r.upper() for r in reserved} | {d.short.upper() for d in listed if d.short}
    out: dict[str, str] = {}
    for dx in listed:
        if dx.short:
            out[dx.id] = dx.short
            continue
        base = _initials(dx.label) or dx.id.upper()
        label, n = base, 1
        while label.upper() in taken:
            n += 1
            label = f"{base}{n}"
        taken.add(label.upper())
        out[dx.id] = label
    return out


def _initials(label: str) -> str:
    """``Iron-deficiency anaemia`` -> ``IDA``; a one-word label gives its first three letters (``THA``).

    What is in brackets is left out: it qualifies the name (``Megaloblastic anaemia (B12 or folate)``).
    """
    words = re.findall(r"[^\W_]+", label.split("(")[0])
    if len(words) == 1:
        return words[0][:3].upper()
    return "".join(w[0] for w in words).upper()


def collisions(pack: Pack) -> list[tuple[Entry, str, Entry]]:
    """(entry, name, other entry) for every short label or synonym that another entry already answers to."""
    found: list[tuple[Entry, str, Entry]] = []
    for kinds in (VOCABULARY_KINDS, ("diagnosis",)):
        every = list(entries(pack, kinds))
        owner = {e.id: e for e in every}
        claimed: dict[str, Entry] = {}
        for entry in every:
            for name in entry.names()[1:]:
                other = owner.get(name) or claimed.get(name)
                if other is not None and other is not entry:
                    found.append((entry, name, other))
                claimed.setdefault(name, entry)
    return found


GROUPS = {"finding": "findings", "lab": "labs", "test": "tests", "diagnosis": "diagnoses"}


def search(pack: Pack, text: str | None) -> dict[str, list[Entry]]:
    """Entries whose id, label, short label or synonym contains ``text`` (all when None), by kind."""
    found: dict[str, list[Entry]] = {group: [] for group in GROUPS.values()}
    for entry in entries(pack):
        if text is None or entry.matches(text):
            found[GROUPS[entry.kind]].append(entry)
    return found


def describe(entry: Entry) -> dict[str, Any]:
    """The ``hemedx vocab --json`` record of one entry (documented in the README)."""
    item = entry.item
    out: dict[str, Any] = {"id": entry.id, "label": entry.label}
    if entry.kind != "finding":
        out["short"] = entry.short
    out["synonyms"] = list(entry.synonyms)
    if isinstance(item, Finding):
        out |= {"category": item.category, "observable": item.observable}
    elif isinstance(item, Lab):
        units = [{"unit": u, "factor": 1.0} for u in (item.unit, *item.unit_aliases)]
        for alt in item.alternative_units:
            units += [{"unit": u, "factor": alt.factor} for u in (alt.unit, *alt.aliases)]
        out |= {"category": item.category, "unit": item.unit, "accepted_units": units}
    elif isinstance(item, Test):
        values = [{"value": v, "label": item.value_labels.get(v, v)} for v in item.values]
        out |= {"category": item.category, "values": values}
    return out


def every_name(pack: Pack) -> dict[str, str]:
    """Every lower-cased name (synonym, short label, label) -> id, for "did you mean" over all kinds."""
    names: dict[str, str] = {}
    for entry in entries(pack):
        for name in (*entry.names()[1:], entry.label.lower()):
            names.setdefault(name, entry.id)
    return names
