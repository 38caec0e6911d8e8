"""The one condition algebra: every walk over a rule's ``when`` tree is written here, once per node type.

A condition is a tree of ``all`` / ``any`` / ``at_least … of`` nodes over leaves (finding, lab, test,
patient). What the rest of hemedx does with a tree is one of a few folds, each a
:func:`functools.singledispatch` function with one implementation per node type:

- :func:`walk` - every leaf with its path inside the rule (cross-reference checks, lints);
  :func:`subject` says what a leaf tests (``("lab", "hb")``), :func:`leaves_about` and :func:`named` keep
  the leaves or ids of one kind, :func:`thresholds` gives a leaf's numeric comparisons;
- :func:`count_alternatives` - how many conjunctions the tree expands into, counted without building them;
- :func:`dnf` - the conjunctions themselves (the compiler);
- :func:`holds` - the tree's truth given a verdict per leaf (:func:`satisfiable` is ``holds`` with
  "can this leaf ever hold?");
- :func:`describe` - plain-language Markdown for the generated catalogue and ``rules show``.

Adding a node type means one registration per fold here, never a search for isinstance ladders or
leaf-type filters elsewhere.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterator, Mapping
from functools import singledispatch
from typing import Any

from hemedx.errors import PathPart
from hemedx.rules.model import (
    AllOf,
    AnyOf,
    CountOf,
    FindingCondition,
    LabCondition,
    NumericBounds,
    Pack,
    PatientCondition,
    TestCondition,
)
from hemedx.rules.thresholds import Limit, Number, Param, RefLimit
from hemedx.safetext import markdown_text as md

Leaf = FindingCondition | LabCondition | TestCondition | PatientCondition
Path = tuple[PathPart, ...]
COUNT_CAP = 10**15  # counts beyond this are reported as "more than"; no need to know how many more


# --- structure -----------------------------------------------------------------------------------------


@singledispatch
def children(cond: Any) -> tuple[str, list[Any]]:
    """(the key the sub-conditions sit under, the sub-conditions); a leaf has none."""
    return "", []


@children.register
def _(cond: AllOf) -> tuple[str, list[Any]]:
    return "all", cond.all


@children.register
def _(cond: AnyOf) -> tuple[str, list[Any]]:
    return "any", cond.any


@children.register
def _(cond: CountOf) -> tuple[str, list[Any]]:
    return "of", cond.of


def walk(cond: Any, path: Path = ("when",)) -> Iterator[tuple[Path, Leaf]]:
    """Every leaf condition of ``cond`` with its path inside the rule (``when.any.1``), in authored order."""
    key, subs = children(cond)
    if not key:
        yield path, cond
        return
    for i, sub in enumerate(subs):
        yield from walk(sub, (*path, key, i))


def leaves(cond: Any) -> Iterator[Leaf]:
    """Every leaf condition of ``cond``, in authored order."""
    return (leaf for _, leaf in walk(cond))


# Each leaf type names what it tests in the field its kind is named after (``{lab: hb, below: 10}``).
_KIND = {FindingCondition: "finding", LabCondition: "lab", TestCondition: "test", PatientCondition: "patient"}


def subject(leaf: Any) -> tuple[str, str]:
    """What a leaf tests: ``("finding", id)``, ``("lab", id)``, ``("test", id)`` or ``("patient", "age")``."""
    kind = _KIND.get(type(leaf))
    if kind is None:
        raise TypeError(f"not a leaf condition: {type(leaf).__name__}")
    return kind, getattr(leaf, kind)


def leaves_about(cond: Any, kind: str) -> Iterator[tuple[Path, Leaf]]:
    """The leaves of ``cond`` on one kind of fact (``finding``, ``lab``, ``test``, ``patient``), with path."""
    return ((path, leaf) for path, leaf in walk(cond) if subject(leaf)[0] == kind)


def named(cond: Any, kind: str) -> list[str]:
    """The ids of one kind of fact that ``cond`` tests, each once, in authored order."""
    return list(dict.fromkeys(subject(leaf)[1] for _, leaf in leaves_about(cond, kind)))


# --- expansion -------------------------------------------------------------------------------------------


@singledispatch
def count_alternatives(cond: Any, labs: Mapping[str, Any]) -> int:
    """How many conjunctions ``cond`` compiles into at most, counted without building any of them.

    ``any`` adds, ``all`` multiplies, ``at_least k of`` is the sum over every k-subset of the product
    (an elementary symmetric sum, O(n*k)), and a lab's reference limit multiplies by its reference bands.
    The count is capped at :data:`COUNT_CAP` so that even a hostile nesting stays cheap arithmetic.
    """
    return 1


@count_alternatives.register
def _(cond: LabCondition, labs: Mapping[str, Any]) -> int:
    lab = labs.get(cond.lab)
    if lab is not None and needs_band(cond):
        return max(1, len(lab.reference))
    return 1


@count_alternatives.register
def _(cond: AllOf, labs: Mapping[str, Any]) -> int:
    total = 1
    for sub in cond.all:
        total = min(total * count_alternatives(sub, labs), COUNT_CAP)
    return total


@count_alternatives.register
def _(cond: AnyOf, labs: Mapping[str, Any]) -> int:
    return min(sum(count_alternatives(sub, labs) for sub in cond.any), COUNT_CAP)


@count_alternatives.register
def _(cond: CountOf, labs: Mapping[str, Any]) -> int:
    if cond.at_least > len(cond.of):
        return 0
    sums = [1] + [0] * cond.at_least  # sums[j]: total over the j-subsets seen so far of their products
    for sub in cond.of:
        n = count_alternatives(sub, labs)
        for j in range(cond.at_least, 0, -1):
            sums[j] = min(sums[j] + sums[j - 1] * n, COUNT_CAP)
    return sums[cond.at_least]


@singledispatch
def dnf(cond: Any) -> list[list[Leaf]]:
    """Disjunctive normal form: a list of conjunctions, each a list of leaf conditions."""
    return [[cond]]


@dnf.register
def _(cond: AllOf) -> list[list[Leaf]]:
    return _products([dnf(c) for c in cond.all])


@dnf.register
def _(cond: AnyOf) -> list[list[Leaf]]:
    return [conj for c in cond.any for conj in dnf(c)]


@dnf.register
def _(cond: CountOf) -> list[list[Leaf]]:
    return [
        conj
        for chosen in itertools.combinations(cond.of, cond.at_least)
        for conj in _products([dnf(c) for c in chosen])
    ]


def _products(parts: list[list[list[Leaf]]]) -> list[list[Leaf]]:
    """Every way of picking one conjunction from each part, joined into one conjunction."""
    return [[leaf for conj in combo for leaf in conj] for combo in itertools.product(*parts)]


# --- truth -----------------------------------------------------------------------------------------------

LeafVerdict = Callable[[Leaf], bool]


@singledispatch
def holds(cond: Any, leaf_holds: LeafVerdict) -> bool:
    """Whether ``cond`` holds when each leaf holds exactly when ``leaf_holds(leaf)`` says so."""
    return leaf_holds(cond)


@holds.register
def _(cond: AllOf, leaf_holds: LeafVerdict) -> bool:
    return all(holds(c, leaf_holds) for c in cond.all)


@holds.register
def _(cond: AnyOf, leaf_holds: LeafVerdict) -> bool:
    return any(holds(c, leaf_holds) for c in cond.any)


@holds.register
def _(cond: CountOf, leaf_holds: LeafVerdict) -> bool:
    return sum(holds(c, leaf_holds) for c in cond.of) >= cond.at_least


def satisfiable(cond: Any, available: Collection[tuple[str, str]], known: Collection[str]) -> bool:
    """Whether ``cond`` can hold when only the ``available`` (finding, state) pairs can ever exist.

    Findings not in ``known`` are unknown ids (reported on their own) and labs, tests and patient facts
    come from the case, so those leaves count as satisfiable.
    """

    def can_hold(leaf: Leaf) -> bool:
        if not isinstance(leaf, FindingCondition) or leaf.finding not in known:
            return True
        states = ("present", "absent") if leaf.is_ == "known" else (leaf.is_,)
        return any((leaf.finding, s) in available for s in states)

    return holds(cond, can_hold)


# --- thresholds ------------------------------------------------------------------------------------------


@singledispatch
def thresholds(leaf: Any) -> dict[str, Limit]:
    """A leaf's numeric comparisons (``{"below": limit}``); none for findings, tests and the patient's sex."""
    return {}


@thresholds.register
def _(leaf: NumericBounds) -> dict[str, Limit]:
    return leaf.limits()


def needs_band(leaf: Any) -> bool:
    """Whether a comparison uses a reference limit, so it fans out over the lab's reference bands."""
    return any(isinstance(limit, RefLimit) for limit in thresholds(leaf).values())


def resolve(limit: Limit, params: Mapping[str, float], band: Any = None) -> float | None:
    """The number a threshold stands for: a parameter's value, or the band's low/high limit.

    ``None`` when there is none (no band given, a band without that limit, an unknown parameter).
    """
    if isinstance(limit, Number):
        return limit.value
    if isinstance(limit, Param):
        value = params.get(limit.name)
        return None if value is None else float(value)
    edge = None if band is None else (band.low if limit.side == "low" else band.high)
    return None if edge is None else float(edge)


# --- words -----------------------------------------------------------------------------------------------

_WORDS = {"below": "below", "above": "above", "at_least": "at least", "at_most": "at most"}
_STATES = {"present": "present", "absent": "absent", "known": "known (present or absent)"}


class Labels:
    """Labels of everything a condition can name, so a condition reads in words rather than ids."""

    def __init__(self, pack: Pack) -> None:
        vocab = pack.vocabulary
        self.findings = {f.id: f.label for f in vocab.findings}
        self.labs = {lab.id: lab for lab in vocab.labs}
        self.tests = {t.id: t for t in vocab.tests}
        self.params = pack.info.parameters

    def finding(self, fid: str) -> str:
        """A finding's label (its id when unknown)."""
        return md(self.findings.get(fid, fid))

    def threshold(self, unit: str, limit: Limit) -> str:
        """A threshold in words: ``0.5 10^9/L``, the reference limit, or a parameter with its value."""
        if isinstance(limit, RefLimit):
            edge = "lower" if limit.side == "low" else "upper"
            return f"the {edge} reference limit (for the patient's sex, age and pregnancy)"
        if isinstance(limit, Param):
            param = self.params.get(limit.name)
            shown = f"{param.value:g} {md(param.unit)}" if param else "?"
            return f"{shown} (pack parameter `{limit.name}`)"
        return f"{limit.value:g} {unit}".strip()

    def test_value(self, test_id: str, value: str) -> str:
        """A test result's label (the value itself when the test or label is unknown)."""
        test = self.tests.get(test_id)
        return md(test.value_labels.get(value, value) if test else value)


def describe(cond: Any, labels: Labels, depth: int = 0) -> list[str]:
    """The condition as a nested Markdown list, one plain-language statement per leaf.

    A top-level ``all`` is the rule's own conjunction, so its members are listed without a heading.
    """
    key, subs = children(cond)
    if not key:
        return [f"{'  ' * depth}- {describe_leaf(cond, labels)}"]
    if depth == 0 and isinstance(cond, AllOf):
        return [line for c in subs for line in describe(c, labels, 0)]
    out = [f"{'  ' * depth}- {_heading(cond)}"]
    for c in subs:
        out += describe(c, labels, depth + 1)
    return out


@singledispatch
def _heading(cond: Any) -> str:
    raise TypeError(f"not a branch condition: {type(cond).__name__}")


@_heading.register
def _(cond: AllOf) -> str:
    return "all of:"


@_heading.register
def _(cond: AnyOf) -> str:
    return "any of:"


@_heading.register
def _(cond: CountOf) -> str:
    return f"at least {cond.at_least} of:"


@singledispatch
def describe_leaf(cond: Any, labels: Labels) -> str:
    """One leaf condition in words: ``Neutrophils below 0.5 10^9/L``."""
    raise TypeError(f"not a leaf condition: {type(cond).__name__}")


@describe_leaf.register
def _(cond: FindingCondition, labels: Labels) -> str:
    return f"{labels.finding(cond.finding)} is {_STATES[cond.is_]}"


@describe_leaf.register
def _(cond: LabCondition, labels: Labels) -> str:
    lab = labels.labs.get(cond.lab)
    label, unit = (md(lab.label), md(lab.unit)) if lab else (cond.lab, "")
    parts = [f"{_WORDS[k]} {labels.threshold(unit, v)}" for k, v in cond.limits().items()]
    return f"{label} {' and '.join(parts)}"


@describe_leaf.register
def _(cond: TestCondition, labels: Labels) -> str:
    test = labels.tests.get(cond.test)
    label = md(test.label) if test else cond.test
    values = [labels.test_value(cond.test, v) for v in cond.allowed()]
    return f"{label} is {values[0]}" if len(values) == 1 else f"{label} is one of: {', '.join(values)}"


@describe_leaf.register
def _(cond: PatientCondition, labels: Labels) -> str:
    if cond.patient == "sex":
        return f"the patient is {cond.is_}"
    parts = [f"{_WORDS[k]} {labels.threshold('', v)}" for k, v in cond.limits().items()]
    return f"the patient's age is {' and '.join(parts)} years"
