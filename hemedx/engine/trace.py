"""What one evaluation produced: every rule firing, with the facts it matched and what it concluded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from hemedx.engine.compiler import CompiledPack
from hemedx.engine.facts import Fact

Outcome = Literal["new", "again", "overridden", "recorded"]


@dataclass(frozen=True)
class Firing:
    """One activation of one compiled variant of a rule."""

    rule_id: str
    variant: str
    matched: tuple[tuple[str, str], ...]  # (alias, fact id), sorted by alias
    derived: str | None  # id of the concluded fact, if any
    outcome: Outcome  # new fact / same fact again / blocked by an observed finding / evidence recorded
    state: str | None = None  # the matched finding's state (evidence rules)


class Matcher(Protocol):
    """Anything that runs a compiled pack over facts: durable_rules here, a plain evaluator in the tests."""

    def run(self, compiled: CompiledPack, facts: list[Fact], observed: dict[str, str]) -> list[Firing]:
        """Fire every variant to a fixpoint and return the firings (order is the matcher's own)."""
        ...
