"""Run the ``examples`` written beside each rule: fact sets that must, or must not, make it fire."""

from __future__ import annotations

from dataclasses import dataclass

from hemedx.cases.model import Snapshot
from hemedx.engine.engine import Engine
from hemedx.rules.model import ExampleFacts, Pack
from hemedx.rules.units import to_canonical

DEFAULT_AGE = 40.0
DEFAULT_SEX = "female"


@dataclass(frozen=True)
class ExampleResult:
    """The outcome of one example of one rule."""

    rule_id: str
    expect_fire: bool
    fired: bool
    index: int
    name: str | None

    @property
    def passed(self) -> bool:
        """True when the rule did what the example says."""
        return self.fired == self.expect_fire

    @property
    def label(self) -> str:
        """A readable test id such as ``crit.aa.severe[fires 1: two of three counts]``."""
        kind = "fires" if self.expect_fire else "does_not_fire"
        return f"{self.rule_id}[{kind} {self.index}{': ' + self.name if self.name else ''}]"


def example_snapshot(pack: Pack, facts: ExampleFacts) -> Snapshot:
    """Turn an example's fact set into a snapshot (patient defaults: 40-year-old woman)."""
    labs = pack.kb.labs
    values: dict[str, float] = {}
    for key, raw in facts.labs.items():
        if isinstance(raw, dict):
            values[key] = to_canonical(labs[key], float(raw["value"]), raw.get("unit"))
        else:
            values[key] = float(raw)
    age = float(facts.patient.get("age", DEFAULT_AGE))
    sex = str(facts.patient.get("sex", DEFAULT_SEX))
    pregnancy = facts.patient.get("pregnancy", "none")
    return Snapshot(age, sex, dict(facts.findings), values, dict(facts.tests), pregnancy=pregnancy)


def run_examples(engine: Engine, rule_ids: set[str] | None = None) -> list[ExampleResult]:
    """Evaluate every example of every rule (or of ``rule_ids``) and say whether each behaved."""
    results = []
    for rule in engine.pack.rules:
        if rule.examples is None or (rule_ids is not None and rule.id not in rule_ids):
            continue
        for expect, items in ((True, rule.examples.fires), (False, rule.examples.does_not_fire)):
            for i, facts in enumerate(items, 1):
                firings = engine.infer(example_snapshot(engine.pack, facts))
                fired = any(f.rule_id == rule.id and f.outcome != "overridden" for f in firings)
                results.append(ExampleResult(rule.id, expect, fired, i, facts.name))
    return results
