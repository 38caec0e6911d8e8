"""The durable_rules wrapper: no crash, no leakage between cases, no swallowed errors, no hash collisions."""

from __future__ import annotations

import json

import pytest

from hemedx import get_engine, load_pack
from hemedx.cases.model import Snapshot
from hemedx.engine import durable_backend
from hemedx.engine.compiler import compile_pack
from hemedx.engine.facts import snapshot_facts
from hemedx.errors import EngineError

from support.helpers import MINI_PACK


@pytest.fixture(scope="module")
def engine():
    return get_engine(load_pack(MINI_PACK))


AA = Snapshot(
    22,
    "female",
    {"petechiae": "present"},
    {"hemoglobin": 6.8, "anc": 0.3, "platelets": 11, "reticulocytes": 15},
    {},
)
AIHA = Snapshot(50, "male", {}, {"hemoglobin": 8.0, "ldh": 600, "anc": 4.0, "platelets": 300}, {"dat": "igg"})
NORMAL = Snapshot(35, "male", {}, {"hemoglobin": 15.0, "anc": 4.0, "platelets": 250}, {})
EMPTY = Snapshot(35, "male", {}, {}, {})  # no action but the anchor fires: the delete_state segfault path


def signature(engine, snap):
    return sorted(
        (f.rule_id, f.variant, f.matched, f.derived, f.outcome, f.state) for f in engine.infer(snap)
    )


def test_ten_thousand_consecutive_evaluations_do_not_leak(engine):
    cases = [AA, AIHA, NORMAL, EMPTY]
    expected = [signature(engine, s) for s in cases]
    assert expected[0] != expected[1] != expected[2]
    for i in range(10_000):
        k = i % 4
        assert signature(engine, cases[k]) == expected[k], f"evaluation {i} differs"
    # 10,000 sessions were created; durable allows 1,024 live ones, so each must have been deleted.


def test_empty_case_does_not_crash(engine):
    assert engine.infer(EMPTY) == []
    assert engine.rank(EMPTY).supported is False


def test_action_error_is_raised_not_swallowed(engine):
    class Exploding(dict):
        def get(self, *args):
            raise RuntimeError("boom")

    compiled = engine.compiled
    with pytest.raises(EngineError, match="boom"):
        engine.matcher.run(compiled, snapshot_facts(AA), Exploding())
    # The failed session was deleted and the engine still works, in a fresh session.
    before = engine.matcher._sid
    with pytest.raises(EngineError, match="boom"):
        engine.matcher.run(compiled, snapshot_facts(AA), Exploding())
    assert engine.matcher._sid != before
    assert signature(engine, AA) == signature(engine, AA)
    assert engine.rank(AA).differential[0].id == "aplastic_anemia"


def test_fnv1a32_matches_the_known_collision():
    # The research note's measured collision for durable_rules' 32-bit hash.
    assert durable_backend.fnv1a32("case-478212") == durable_backend.fnv1a32("case-1221200")
    assert durable_backend.fnv1a32("anemia") != durable_backend.fnv1a32("anaemia")


def test_colliding_ids_are_refused_at_compile_time(monkeypatch):
    pack = load_pack(MINI_PACK)
    monkeypatch.setattr(durable_backend, "fnv1a32", lambda text: 7)
    with pytest.raises(EngineError, match="share a durable_rules hash"):
        durable_backend._check_hashes(pack, compile_pack(pack))


def test_default_and_fixture_packs_have_one_ruleset_each():
    default = get_engine(load_pack())
    mini = get_engine(load_pack(MINI_PACK))
    assert default.matcher is not mini.matcher
    assert default.matcher._handle != mini.matcher._handle
    assert get_engine(load_pack()) is default  # compiled and registered once per process
    assert durable_backend.matcher_for(default.pack, default.compiled) is default.matcher


def test_no_negation_in_compiled_rules():
    for pack in (load_pack(), load_pack(MINI_PACK)):
        for variant in compile_pack(pack).variants:
            assert variant.patterns, variant.name  # a rule with only negation would never fire
            for pattern in variant.patterns:
                assert all(op in {"eq", "in", "lt", "lte", "gt", "gte"} for _, op, _ in pattern.constraints)


def test_results_do_not_depend_on_fact_order(engine):
    facts = snapshot_facts(AA)
    forward = engine.matcher.run(engine.compiled, facts, {})
    backward = engine.matcher.run(engine.compiled, list(reversed(facts)), {})
    key = lambda f: (f.rule_id, f.variant, f.derived, f.state)  # noqa: E731
    assert sorted(map(key, forward)) == sorted(map(key, backward))


def test_fact_ids_decided_by_the_patterns_are_the_ids_durable_matched():
    """A variant whose patterns fix every matched fact's id is not decoded; those ids are durable's own."""
    from hemedx.cases.library import load_library

    pack = load_pack()
    engine = get_engine(pack)
    matcher = engine.matcher
    fixed = {v.name: durable_backend._fixed_match(v) for v in engine.compiled.variants}
    seen: dict[str, set] = {}
    for name, (variant, rule) in matcher._registered.items():  # actions are made when first fired
        matcher._actions.setdefault(name, matcher._action(variant, rule))
    original = dict(matcher._actions)

    def spying(name, action):
        def run(matched):
            if matched is not None:
                seen.setdefault(name, set()).add(tuple(sorted((a, f["id"]) for a, f in matched.items())))
            action(None if fixed.get(name) else matched)

        return run, True  # decode every message

    try:
        matcher._actions = {name: spying(name, action) for name, (action, _) in original.items()}
        snaps = [c.snapshot(i) for c in load_library(pack) for i in range(len(c.stages))]
        spied = [engine.infer(s) for s in snaps]
    finally:
        matcher._actions = original
    assert spied == [engine.infer(s) for s in snaps]  # decoding changes no firing
    checked = [name for name in seen if fixed.get(name)]
    assert len(checked) > 100
    for name in checked:
        assert seen[name] == {fixed[name]}, name


@pytest.mark.parametrize(
    "value",
    [0.0, 45.0, 6.8, 1e-4, 0.00012, 123456.789, 1e15, 7, -3, 'tëxt "q" \\ \x01', True, None],
)
def test_compact_json_reads_as_the_stdlib_json(value):
    facts = [{"id": "lab:x", "kind": "lab", "name": "x", "value": value, "sid": "1"}]
    # the stdlib's tokens exactly, only without the blanks between them (durable's reader skips blanks)
    assert durable_backend._compact_json(facts) == json.dumps(
        facts, ensure_ascii=False, separators=(",", ":")
    )


@pytest.mark.parametrize("value", [1e-5, 5e-5, 1e-6, 1.5e-7, 1e16, 2**70])
def test_compact_json_keeps_the_stdlib_spelling_where_orjson_differs(value):
    facts = [{"id": "lab:x", "kind": "lab", "value": value, "sid": "1"}]
    assert durable_backend._compact_json(facts) == json.dumps(facts, ensure_ascii=False)


def test_the_escaping_check_of_rule_names_is_what_json_escapes():
    """_infer reads a rule's name off durable's message verbatim: only names JSON leaves alone may run."""
    for code in range(0x3000):
        name = f"crit.x{chr(code)}y"
        escaped = json.dumps(name, ensure_ascii=False) != f'"{name}"'
        assert bool(durable_backend._NEEDS_ESCAPING.search(name)) == escaped, hex(code)
