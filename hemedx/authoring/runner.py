"""``hemedx rules test`` and ``hemedx rules coverage``: run rule examples and case answer keys.

Tests are the examples beside every rule (must fire / must not fire) and the answer key of every case in
a case folder (the expected top diagnosis and subtype; a case tagged ``normal`` must be unsupported).
Coverage counts, per rule, in how many examples and cases it fired: a rule nothing fires is untested.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hemedx.cases.library import library_path
from hemedx.cases.loader import load_case
from hemedx.cases.model import Case
from hemedx.engine.engine import Engine, get_engine
from hemedx.engine.evaluate import scored
from hemedx.engine.examples import example_snapshot, run_examples
from hemedx.engine.report import rank_case
from hemedx.errors import InputError
from hemedx.rules.model import Pack


@dataclass(frozen=True)
class Outcome:
    """One test: a rule example or a case answer key."""

    kind: str  # "example" | "case"
    name: str
    passed: bool
    where: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form: the fields, in this order."""
        return asdict(self)


@dataclass
class TestReport:
    """Every outcome, in pack order then case order."""

    __test__ = False  # not a pytest test class

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        """The outcomes that failed."""
        return [o for o in self.outcomes if not o.passed]

    def summary(self) -> str:
        """``310 examples, 45 cases: 355 passed, 0 failed``."""
        examples = sum(1 for o in self.outcomes if o.kind == "example")
        cases = sum(1 for o in self.outcomes if o.kind == "case")
        failed = len(self.failures)
        return (
            f"{examples} rule examples, {cases} case answer keys: {len(self.outcomes) - failed} passed,"
            f" {failed} failed"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "passed": len(self.outcomes) - len(self.failures),
            "failed": len(self.failures),
            "tests": [o.as_dict() for o in self.outcomes],
        }


def case_files(folder: Path | None = None) -> list[Path]:
    """Case files of a folder (the built-in library when None), sorted by name."""
    folder = folder if folder is not None else library_path()
    if not folder.is_dir():
        raise InputError("no such case folder", file=str(folder))
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml", ".json") and p.is_file())


def load_cases(pack: Pack, folder: Path | None = None) -> tuple[list[Case], list[tuple[Path, InputError]]]:
    """Cases that load against ``pack``, and the files that do not (with why)."""
    cases, broken = [], []
    for file in case_files(folder):
        try:
            cases.append(load_case(file, pack))
        except InputError as exc:
            broken.append((file, exc))
    return cases, broken


def run_tests(pack: Pack, cases_folder: Path | None = None) -> TestReport:
    """Run every rule example and every case answer key against ``pack``."""
    engine = get_engine(pack)
    report = TestReport()
    for result in run_examples(engine):
        detail = None
        if not result.passed:
            detail = (
                "expected to fire, but it did not"
                if result.expect_fire
                else "expected not to fire, but it fired"
            )
            detail += _fired_note(engine, result.rule_id, result.expect_fire, result.index)
        where = pack.origin.get(f"rule:{result.rule_id}")
        report.outcomes.append(Outcome("example", result.label, result.passed, where, detail))
    cases, broken = load_cases(pack, cases_folder)
    for file, exc in broken:
        report.outcomes.append(Outcome("case", file.stem, False, str(file), f"does not load: {exc}"))
    for case in cases:
        outcome = _case_outcome(case, pack)
        if outcome is not None:
            report.outcomes.append(outcome)
    report.outcomes.sort(key=lambda o: o.kind != "example")  # stable: examples first, then cases
    return report


def _fired_note(engine: Engine, rule_id: str, expect_fire: bool, index: int) -> str:
    """What did fire in a failing example, so the author sees which step of the chain broke."""
    rule = next(r for r in engine.pack.rules if r.id == rule_id)
    assert rule.examples is not None
    facts = (rule.examples.fires if expect_fire else rule.examples.does_not_fire)[index - 1]
    fired = sorted(
        {f.rule_id for f in engine.infer(example_snapshot(engine.pack, facts)) if f.outcome != "overridden"}
    )
    shown = ", ".join(fired[:8]) + (f" (+{len(fired) - 8} more)" if len(fired) > 8 else "")
    return f"; rules that fired: {shown or 'none'}"


def _case_outcome(case: Case, pack: Pack) -> Outcome | None:
    """The answer-key test of one case, or None when the case has no key to test."""
    if not scored(case):
        return None
    report = rank_case(case, pack)
    top = report["differential"][0]
    problems = []
    if case.answer is None:
        expected = "nothing in the differential fits (normal)"
        if report["supported"]:
            problems.append("the result is supported")
    else:
        expected = case.answer.diagnosis + (f" ({case.answer.subtype})" if case.answer.subtype else "")
        outside = any(d.is_outside and d.id == case.answer.diagnosis for d in pack.diagnoses)
        if not report["supported"] and not outside:
            problems.append("the result is not supported")
        if top["diagnosis"] != case.answer.diagnosis:
            problems.append(f"ranked first: {top['diagnosis']} {top['probability'] * 100:.1f}%")
        elif case.answer.subtype and top["subtype"] != case.answer.subtype:
            problems.append(f"subtype: {top['subtype'] or 'none'}")
    detail = f"expected {expected}; " + "; ".join(problems) if problems else None
    return Outcome("case", case.id, not problems, case.file, detail)


# --- coverage ----------------------------------------------------------------------------------------


@dataclass
class Coverage:
    """Per rule, how often it fired in examples and cases; the share of rules that fired at all."""

    rules: list[dict[str, Any]]
    cases: int
    examples: int
    skipped_cases: list[str]

    @property
    def percent(self) -> float:
        """Share of rules fired at least once, in percent (100 for an empty pack)."""
        if not self.rules:
            return 100.0
        return round(100 * sum(1 for r in self.rules if r["fired"]) / len(self.rules), 2)

    @property
    def never_fired(self) -> list[str]:
        """Rules no example and no case made fire."""
        return [r["id"] for r in self.rules if not r["fired"]]

    @property
    def no_negative_example(self) -> list[str]:
        """Rules without a does-not-fire example (their limits are untested)."""
        return [r["id"] for r in self.rules if not r["does_not_fire_examples"]]

    @property
    def no_positive_example(self) -> list[str]:
        """Rules without a fires example."""
        return [r["id"] for r in self.rules if not r["fires_examples"]]

    def as_dict(self) -> dict[str, Any]:
        """JSON form: ``{"rules": [{"id", "fired", ...}], "percent": FLOAT, ...}``."""
        return {
            "rules": self.rules,
            "percent": self.percent,
            "examples": self.examples,
            "cases": self.cases,
            "never_fired": self.never_fired,
            "no_does_not_fire_example": self.no_negative_example,
            "no_fires_example": self.no_positive_example,
            "skipped_cases": self.skipped_cases,
        }


def coverage(pack: Pack, cases_folder: Path | None = None) -> Coverage:
    """Count every rule's firings over all rule examples and all cases that load."""
    engine = get_engine(pack)
    in_examples: Counter[str] = Counter()
    in_cases: Counter[str] = Counter()
    n_examples = 0
    for rule in pack.rules:
        if rule.examples is None:
            continue
        for facts in (*rule.examples.fires, *rule.examples.does_not_fire):
            n_examples += 1
            in_examples.update(_fired(engine, example_snapshot(pack, facts)))
    cases, broken = load_cases(pack, cases_folder)
    for case in cases:
        in_cases.update(_fired(engine, case.snapshot()))
    rows = []
    for rule in pack.rules:
        ex = rule.examples
        rows.append(
            {
                "id": rule.id,
                "kind": rule.kind,
                "fired": in_examples[rule.id] + in_cases[rule.id],
                "fired_examples": in_examples[rule.id],
                "fired_cases": in_cases[rule.id],
                "fires_examples": len(ex.fires) if ex else 0,
                "does_not_fire_examples": len(ex.does_not_fire) if ex else 0,
            }
        )
    return Coverage(rows, len(cases), n_examples, [f.stem for f, _ in broken])


def _fired(engine: Engine, snapshot: Any) -> set[str]:
    return {f.rule_id for f in engine.infer(snapshot) if f.outcome != "overridden"}
