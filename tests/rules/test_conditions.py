"""The one condition algebra: its folds agree with each other, and no other module walks the tree itself."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from hemedx.rules import load_pack
from hemedx.rules.conditions import (
    Labels,
    count_alternatives,
    describe,
    dnf,
    holds,
    leaves,
    leaves_about,
    named,
    resolve,
    satisfiable,
    subject,
    thresholds,
    walk,
)
from hemedx.rules.model import Condition, Interval
from hemedx.rules.thresholds import Number, Param, RefLimit, parse_threshold

from support.helpers import ROOT

PACKAGE = ROOT / "hemedx"
CONDITION = TypeAdapter(Condition)
NAMES = ["a", "b", "c", "d"]


def cond(data):
    return CONDITION.validate_python(data)


# A random condition tree over four findings, as a rule file would write it.
trees = st.recursive(
    st.sampled_from(NAMES).map(lambda n: {"finding": n}),
    lambda sub: (
        st.lists(sub, min_size=1, max_size=3).map(lambda xs: {"all": xs})
        | st.lists(sub, min_size=2, max_size=3).map(lambda xs: {"any": xs})
        | st.lists(sub, min_size=2, max_size=3).flatmap(
            lambda xs: st.integers(1, len(xs)).map(lambda k: {"at_least": k, "of": xs})
        )
    ),
    max_leaves=8,
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(trees, st.sets(st.sampled_from(NAMES)))
def test_holds_agrees_with_the_dnf_the_compiler_runs(tree, present):
    c = cond(tree)
    verdict = lambda leaf: leaf.finding in present  # noqa: E731
    expanded = any(all(verdict(leaf) for leaf in conj) for conj in dnf(c))
    assert holds(c, verdict) == expanded


@SETTINGS
@given(trees)
def test_the_counted_alternatives_are_the_built_ones(tree):
    c = cond(tree)
    assert count_alternatives(c, {}) == len(dnf(c))


@SETTINGS
@given(trees)
def test_walk_paths_point_at_their_leaves(tree):
    c = cond(tree)
    for path, leaf in walk(c):
        node = c
        for part in path[1:]:
            node = getattr(node, part) if isinstance(part, str) else node[part]
        assert node is leaf
    assert list(leaves(c)) == [leaf for _, leaf in walk(c)]


def test_at_least_k_of_n_expands_into_every_k_subset():
    c = cond({"at_least": 2, "of": [{"finding": n} for n in "abc"]})
    assert [[leaf.finding for leaf in conj] for conj in dnf(c)] == [
        list(pair) for pair in itertools.combinations("abc", 2)
    ]


def test_satisfiable_needs_a_reachable_state():
    c = cond(
        {"any": [{"finding": "a", "is": "absent"}, {"all": [{"finding": "b"}, {"lab": "hb", "below": 1}]}]}
    )
    known = {"a", "b"}
    assert not satisfiable(c, {("a", "present"), ("b", "absent")}, known)
    assert satisfiable(c, {("b", "present")}, known)
    assert satisfiable(c, set(), {"a"})  # 'b' is an unknown id, reported on its own


def test_thresholds_are_parsed_into_typed_values_once():
    assert parse_threshold(20) == Number(20.0)
    assert parse_threshold("lower_limit") == RefLimit("low")
    assert parse_threshold("upper_limit") == RefLimit("high")
    assert parse_threshold("param:cutoff") == Param("cutoff")
    assert parse_threshold("param:cutoff") is parse_threshold("param:cutoff")  # cached
    with pytest.raises(ValueError):
        parse_threshold("lower")
    band = Interval(low=120, basis="teaching_estimate")
    assert resolve(RefLimit("low"), {}, band) == 120.0
    assert resolve(RefLimit("high"), {}, band) is None  # this band has no high limit
    assert resolve(Param("cutoff"), {"cutoff": 60}) == 60.0
    assert resolve(Param("missing"), {}) is None


def test_subject_names_what_each_leaf_tests_and_filters_keep_one_kind():
    c = cond(
        {
            "all": [
                {"finding": "a"},
                {"any": [{"lab": "hb", "below": 10}, {"finding": "b", "is": "absent"}]},
                {"at_least": 1, "of": [{"test": "dat", "is": "negative"}, {"patient": "age", "below": 18}]},
                {"finding": "a", "is": "absent"},
                {"patient": "sex", "is": "female"},
            ]
        }
    )
    assert [subject(leaf) for leaf in leaves(c)] == [
        ("finding", "a"),
        ("lab", "hb"),
        ("finding", "b"),
        ("test", "dat"),
        ("patient", "age"),
        ("finding", "a"),
        ("patient", "sex"),
    ]
    assert [path for path, _ in leaves_about(c, "finding")] == [
        ("when", "all", 0),
        ("when", "all", 1, "any", 1),
        ("when", "all", 3),
    ]
    assert named(c, "finding") == ["a", "b"]  # each once, first use first
    assert named(c, "lab") == ["hb"] and named(c, "test") == ["dat"]
    by_subject = {subject(leaf): thresholds(leaf) for leaf in leaves(c)}
    assert by_subject[("lab", "hb")] == {"below": Number(10.0)}
    assert by_subject[("patient", "age")] == {"below": Number(18.0)}
    assert by_subject[("finding", "a")] == by_subject[("test", "dat")] == by_subject[("patient", "sex")] == {}


def test_describe_reads_a_rule_of_the_default_pack_in_words():
    pack = load_pack()
    rule = next(r for r in pack.rules if r.id == "interp.hemoglobin.low")
    lab = next(lab for lab in pack.vocabulary.labs if lab.id == "hemoglobin")
    assert describe(rule.when, Labels(pack)) == [
        f"- {lab.label} below the lower reference limit (for the patient's sex, age and pregnancy)"
    ]
    nested = cond(
        {
            "any": [
                {"finding": "a"},
                {"at_least": 1, "of": [{"finding": "b"}, {"patient": "age", "below": 18}]},
            ]
        }
    )
    assert describe(nested, Labels(pack)) == [
        "- any of:",
        "  - a is present",
        "  - at least 1 of:",
        "    - b is present",
        "    - the patient's age is below 18 years",
    ]


NODE_TYPES = {
    "AllOf",
    "AnyOf",
    "CountOf",
    "FindingCondition",
    "LabCondition",
    "TestCondition",
    "PatientCondition",
    "NumericBounds",
}


def _type_ladders(path: Path) -> list[int]:
    """Lines of ``isinstance(x, <a condition node type>)`` outside the algebra (branches and leaves)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "isinstance"
            and len(node.args) == 2
        ):
            names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            if names & NODE_TYPES:
                out.append(node.lineno)
    return out


def test_only_the_algebra_walks_the_condition_tree():
    found = {
        str(p.relative_to(PACKAGE)): lines
        for p in PACKAGE.rglob("*.py")
        if p.name != "conditions.py" and (lines := _type_ladders(p))
    }
    assert found == {}
