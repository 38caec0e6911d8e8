"""The knowledge base of one loaded pack: its indexes, built once, and one cache for what is derived from it.

Every module used to build its own ``{f.id: f for f in ...}`` or search a list for an id; the indexes
now live here, reached as ``pack.kb`` (built the first time it is asked for, then kept with the pack).
Anything derived from a pack's content (a compiled engine, evidence tables, next-test outcomes) is kept
in one process-wide cache under the pack's cache key, :attr:`KnowledgeBase.cache_key`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from hemedx.lifetime import freeze_long_lived as freeze_long_lived  # re-exported
from hemedx.lifetime import long_lived
from hemedx.rules.model import Cite, Diagnosis, EvidenceRule, Finding, Frequency, Lab, Source, Test

if TYPE_CHECKING:
    from hemedx.rules.model import Pack

T = TypeVar("T")
Basis = Literal["published", "teaching_estimate"]


class KnowledgeBase:
    """Look-ups by id, labels, the evidence bearing on each finding and P(finding | diagnosis) of a pack."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack

    @property
    def cache_key(self) -> tuple[str, str]:
        """(pack id, content digest): the one key of everything derived from this pack's content."""
        return (self.pack.info.id, self.pack.digest)

    @cached_property
    def findings(self) -> dict[str, Finding]:
        """Findings by id."""
        return {f.id: f for f in self.pack.vocabulary.findings}

    @cached_property
    def labs(self) -> dict[str, Lab]:
        """Labs by id."""
        return {lab.id: lab for lab in self.pack.vocabulary.labs}

    @cached_property
    def tests(self) -> dict[str, Test]:
        """Categorical tests by id."""
        return {t.id: t for t in self.pack.vocabulary.tests}

    @cached_property
    def diagnoses(self) -> dict[str, Diagnosis]:
        """Hypotheses by id (the outside one included)."""
        return {d.id: d for d in self.pack.diagnoses}

    @cached_property
    def rules(self) -> dict[str, Any]:
        """Rules by id (retired ones are not in a loaded pack)."""
        return {r.id: r for r in self.pack.rules}

    @cached_property
    def rule_order(self) -> dict[str, int]:
        """A rule's place in pack order (interpretation, syndrome, criteria, evidence, alert)."""
        return {r.id: i for i, r in enumerate(self.pack.rules)}

    @cached_property
    def sources(self) -> dict[str, Source]:
        """Bibliography entries by id."""
        return {s.id: s for s in self.pack.sources}

    @cached_property
    def labels(self) -> dict[str, str]:
        """The label of every finding, lab and test, by id."""
        vocab = self.pack.vocabulary
        return {x.id: x.label for x in (*vocab.findings, *vocab.labs, *vocab.tests)}

    @cached_property
    def diagnosis_labels(self) -> dict[str, str]:
        """The label of every hypothesis, by id."""
        return {d.id: d.label for d in self.pack.diagnoses}

    def subtype_label(self, diagnosis: str, subtype: str | None) -> str | None:
        """The label of a diagnosis's subtype (None when there is none or it is unknown)."""
        dx = self.diagnoses.get(diagnosis)
        if dx is None or subtype is None:
            return None
        return next((s.label for s in dx.subtypes if s.id == subtype), None)

    @cached_property
    def _evidence(self) -> dict[str, tuple[EvidenceRule, ...]]:
        out: dict[str, list[EvidenceRule]] = {}
        for rule in self.pack.rules:
            if isinstance(rule, EvidenceRule):
                out.setdefault(rule.when.finding, []).append(rule)
        return {k: tuple(v) for k, v in out.items()}

    def evidence_for(self, finding: str) -> tuple[EvidenceRule, ...]:
        """The evidence rules that weigh ``finding``, in pack order."""
        return self._evidence.get(finding, ())

    @staticmethod
    def frequency(rule: EvidenceRule, diagnosis: str) -> tuple[float, Basis, tuple[Cite, ...]]:
        """P(finding | diagnosis) of one evidence rule, its basis and the citations behind it.

        A cited frequency is ``published`` (its own cites, then the rule's); a bare number or the rule's
        ``otherwise`` is a ``teaching_estimate`` backed by the rule's cites.
        """
        value = rule.then.evidence.get(diagnosis)
        if isinstance(value, Frequency):
            return value.p, "published", (*value.cites, *rule.cites)
        p = rule.then.otherwise if value is None else float(value)
        return p, "teaching_estimate", tuple(rule.cites)

    def derived(self, name: str, build: Callable[[], T]) -> T:
        """What ``build`` derives from this pack, made once per process under :attr:`cache_key`."""
        key = (*self.cache_key, name)
        with _LOCK:
            found = _DERIVED.get(key)
            if found is None:
                with long_lived():
                    found = _DERIVED[key] = build()
            return found


_DERIVED: dict[tuple[str, ...], Any] = {}
_LOCK = threading.RLock()


def derived_any(name: str) -> bool:
    """Whether this process derived ``name`` for any pack (``durable``: it registered a ruleset)."""
    with _LOCK:
        return any(key[-1] == name for key in _DERIVED)
