"""What durable's C binding (durable-rules 2.0.28) does that hemedx/engine/durable_backend.py relies on.

If an upgrade changes any of this, these tests say which assumption broke before any result does.
"""

from __future__ import annotations

import json
from importlib.metadata import version

import durable_rules_engine as binding
import pytest

from hemedx.engine import durable_backend

RULESET = {
    "__case": {"all": [{"m": {"kind": "case"}}]},
    "__sink": {"all": [{"a": {"kind": "__never__"}}, {"b$not": {"$ex": {"kind": 1}}}]},
    "a_to_b": {"all": [{"x": {"$and": [{"kind": "finding"}, {"name": "a"}]}}]},
    "b_seen": {"all": [{"y": {"$and": [{"kind": "finding"}, {"name": "b"}]}}]},
}
_names = iter(range(1_000_000))


def ruleset() -> int:
    return binding.create_ruleset(f"binding_test_{next(_names)}", json.dumps(RULESET))


def fact(fid: str, name: str | None = None, sid: str = "1") -> dict:
    out = {"id": fid, "kind": "finding" if name else "case", "sid": sid}
    if name:
        out["name"] = name
    return out


def run_agenda(handle: int, batch: list[dict], derive: bool = True) -> list[tuple[str, dict]]:
    """Drive one case the way the backend does; a_to_b asserts finding b from inside its action."""
    code, state = binding.assert_facts(handle, json.dumps(batch))
    assert code == durable_backend.ASSERTED
    fired = []
    started = binding.start_action_for_state(handle, state)
    message = started[1] if started else None
    while message:
        ((name, matched),) = json.loads(message).items()
        fired.append((name, matched))
        if name == "a_to_b" and derive:
            assert binding.assert_fact(handle, json.dumps(fact("fb", "b")))[0] == durable_backend.ASSERTED
            again = binding.assert_fact(handle, json.dumps(fact("fb", "b")))[0]
            assert again == durable_backend.ALREADY_OBSERVED  # same id: "again", not an error
        message = binding.complete_and_start_action(handle, state)
    return fired


def test_the_pinned_release():
    assert version("durable-rules") == "2.0.28"


def test_one_message_per_rule_with_the_matched_facts_by_alias_in_agenda_order():
    handle = ruleset()
    fired = run_agenda(handle, [fact("case"), fact("fa", "a")])
    assert [name for name, _ in fired] == ["__case", "a_to_b", "b_seen"]
    assert fired[1][1] == {"x": fact("fa", "a")}
    assert fired[2][1] == {"y": fact("fb", "b")}  # a fact asserted inside an action fires in the same run
    stored = json.loads(binding.get_facts(handle, "1"))
    assert sorted(f["id"] for f in stored) == ["case", "fa", "fb"]  # the sink keeps every fact


def test_retracting_every_fact_leaves_the_session_as_new():
    handle = ruleset()
    batch = [fact("case"), fact("fa", "a")]
    first = run_agenda(handle, batch)
    binding.retract_facts(handle, json.dumps([*batch, fact("fb", "b")]))
    assert binding.get_facts(handle, "1") == "[]"
    assert run_agenda(handle, batch) == first  # the same firings, in the same order, as a new session


def test_an_unhandled_fact_is_reported_by_code():
    handle = binding.create_ruleset(
        f"binding_test_{next(_names)}", json.dumps({"only": {"all": [{"m": {"kind": "case"}}]}})
    )
    code, _ = binding.assert_fact(handle, json.dumps({"id": "x", "kind": "other", "sid": "1"}))
    assert code == durable_backend.NOT_HANDLED


def test_a_deleted_session_is_gone_with_error_309():
    handle = ruleset()
    run_agenda(handle, [fact("case")])
    binding.delete_state(handle, "1")
    with pytest.raises(binding.error, match="309"):
        binding.get_facts(handle, "1")


def test_at_most_256_rules_may_share_one_condition():
    def rules(n: int) -> str:
        same = {"x": {"$and": [{"kind": "finding"}, {"name": "a"}]}}
        return json.dumps({f"r{i}": {"all": [same, {f"y{i}": {"kind": f"k{i}"}}]} for i in range(n)})

    binding.create_ruleset(f"binding_test_{next(_names)}", rules(256))
    with pytest.raises(binding.error, match="108"):
        binding.create_ruleset(f"binding_test_{next(_names)}", rules(257))


def test_a_message_starts_with_the_rule_name_as_registered():
    """_infer reads the rule's name off the message text and decodes the facts only when it needs them."""
    handle = ruleset()
    code, state = binding.assert_facts(handle, json.dumps([fact("case"), fact("fa", "a")]))
    assert code == durable_backend.ASSERTED
    started = binding.start_action_for_state(handle, state)
    message = started[1] if started else None
    names = []
    while message:
        name = message[2 : message.index('"', 2)]
        assert message.startswith(f'{{"{name}":') and list(json.loads(message)) == [name]
        names.append(name)
        message = binding.complete_and_start_action(handle, state)
    assert names == ["__case", "a_to_b"]
