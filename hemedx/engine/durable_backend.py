"""The one place hemedx touches durable_rules, with every known pitfall of 2.0.28 handled here.

hemedx drives durable's C binding (``durable_rules_engine``, pinned to 2.0.28) directly rather than its
Python ``Host`` layer: the Host starts timer threads, JSON-encodes the session state after every action and
wraps every firing in Closure objects, which cost as much as the matching itself. What the binding does
and that this module relies on is tested in tests/engine/test_durable_binding.py.

- No segfault on ``delete_state``: the ``__case`` rule always fires, and a session is only deleted after
  its agenda has been run (durable frees uninitialised memory for a session where no action ran).
- No aborted batches / lost facts: the ``__sink`` rule makes every fact "handled".
- No swallowed action errors: each action catches and records its own exception; any error raises
  :class:`EngineError`, and the session is deleted so the next case starts in a fresh one.
- One session, reused: after each case every fact is retracted and the session is checked to be empty
  (there is no ``$not`` but the sink's, so retraction fires nothing); anything else gets a fresh session.
- No hash collisions: durable compares sids, fact ids and property names by a 32-bit FNV-1a hash only, so
  every string that can occur is checked for collisions at compile time; one live session at a time.
- No order-dependent negation: the compiled rules contain no ``$not`` at all (absence is an explicit fact).
- No cross-fact ordering comparisons (they segfault); ``pri`` is left at its default; every rule is
  registered once per pack and process (rulesets are never freed).

Three things durable is spared because they cannot change what fires: evidence rules (a single finding
pattern that derives nothing, so no rule can depend on them) are matched in Python against the final
facts after inference; a fact, observed or derived, that no registered pattern can match is not asserted
(conclusions never are); and a derived fact whose id the case already holds is not asserted again:
hemedx knows every id it gave durable, so it decides "new" or "again" itself (durable too compares facts
by id only).
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import threading
from collections.abc import Callable
from typing import Any

import durable_rules_engine as _binding
import orjson

from hemedx.engine.compiler import CompiledPack, Pattern, Variant
from hemedx.engine.facts import Fact, finding_id
from hemedx.engine.trace import Firing, Outcome
from hemedx.errors import EngineError, InputError
from hemedx.rules.model import PREGNANCY_STATES, AlertRule, CriteriaRule, EvidenceRule, Pack

# Fact properties no registered pattern reads, by kind (a lab's value is compared through its v_* flags,
# and actions read only ids): left out of what durable parses and indexes.
_UNREAD: dict[str, frozenset[str]] = {
    "finding": frozenset({"origin"}),
    "lab": frozenset({"value", "comparator", "bound"}),
}


def _given(fact: Fact) -> Fact:
    """``fact`` as durable is given it: without the properties no registered pattern reads."""
    unread = _UNREAD.get(fact["kind"])
    return {k: v for k, v in fact.items() if k not in unread} if unread else fact.copy()


# What JSON escapes in a string (ensure_ascii off): a rule name holding any of it would not appear verbatim
# in durable's messages, which _infer reads without decoding.
_NEEDS_ESCAPING = re.compile(r'["\\\x00-\x1f]')

# Result codes of the binding's assert calls (durable/engine.py Ruleset._handle_result).
ASSERTED, NOT_HANDLED, ALREADY_OBSERVED = 0, 1, 2


@functools.cache  # rules check hashes every id twice (the lint, then the engine it builds)
def fnv1a32(text: str) -> int:
    """The 32-bit hash durable_rules uses for sids, fact ids and property names (signed-byte variant)."""
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ (b - 256 if b > 127 else b) & 0xFFFFFFFF) * 16777619) & 0xFFFFFFFF
    return h


def matcher_for(pack: Pack, compiled: CompiledPack, hashes_checked: bool = False) -> DurableMatcher:
    """The process-wide matcher of a pack (its ruleset created the first time, named by its content).

    ``hashes_checked``: :func:`hash_collision` is known to pass for exactly this pack and compilation.
    """
    name = f"hemedx_{pack.info.id}_{pack.digest}"
    return pack.kb.derived("durable", lambda: DurableMatcher(name, pack, compiled, hashes_checked))


def _expression(pattern: Pattern) -> dict[str, Any]:
    terms: list[dict[str, Any]] = [{"kind": pattern.kind}]
    if pattern.kind != "patient":
        terms.append({"name": pattern.name})
    for prop, op, value in pattern.constraints:
        if op == "eq":
            terms.append({prop: value})
        elif op == "in":
            terms.append({"$or": [{prop: v} for v in value]})
        elif pattern.kind == "lab" and prop == "value":
            # v_lt/v_lte/v_gt/v_gte say whether an exact or censored value certainly satisfies the
            # comparison (hemedx.cases.censored); durable's $or overflows its alpha stack, so none is used.
            terms.append({f"${op}": {f"v_{op}": value}})
        else:
            terms.append({f"${op}": {prop: value}})
    return {"$and": terms}


Action = Callable[[dict[str, Any] | None], None]


class DurableMatcher:
    """A compiled pack as one durable_rules ruleset; evaluates one snapshot at a time in one session."""

    def __init__(self, name: str, pack: Pack, compiled: CompiledPack, hashes_checked: bool = False) -> None:
        self.name = name
        self._pack_id = pack.info.id
        self._lock = threading.Lock()
        self._next_sid = 1
        self._sid = "1"  # the live session; a new number after any error
        self._trace: list[Firing] = []
        self._errors: list[str] = []
        self._observed: dict[str, str] = {}
        self._known: set[str] = set()  # ids of this case's facts, observed and derived so far
        self._derived: list[str] = []  # JSON of the facts actions asserted in this case (to retract)
        rules_by_id = pack.kb.rules
        definition: dict[str, Any] = {
            "__case": {"all": [{"m": {"kind": "case"}}]},
            "__sink": {"all": [{"a": {"kind": "__never__"}}, {"b$not": {"$ex": {"kind": 1}}}]},
        }
        # variant name -> (action, whether it needs the matched facts decoded), made when it first fires
        # (a case fires a few dozen of some 550 variants, and a new process runs one case)
        self._actions: dict[str, tuple[Action, bool]] = {"__case": (_noop, False), "__sink": (_noop, False)}
        self._registered: dict[str, tuple[Variant, Any]] = {}  # variant name -> (variant, rule)
        # (finding fact id, the firing it gives) of every evidence variant, in the order durable fires them
        self._evidence: list[tuple[str, Firing]] = []
        after_inference = {v.name: _evidence_pattern(rules_by_id[v.rule_id], v) for v in compiled.variants}
        # (kind, name) of every fact some registered pattern can match: only those go to durable
        self._matchable = {
            (p.kind, p.name) for v in compiled.variants if after_inference[v.name] is None for p in v.patterns
        }
        expressions: dict[Pattern, dict[str, Any]] = {}  # many variants share a pattern
        for variant in compiled.variants:
            rule = rules_by_id[variant.rule_id]
            after = after_inference[variant.name]
            if after is not None:
                alias, finding, wanted = after
                ids = [
                    (state, finding_id(finding, state))
                    for state in ((wanted,) if wanted else ("present", "absent"))
                ]
                self._evidence += [
                    (fid, Firing(rule.id, variant.name, ((alias, fid),), None, "recorded", st))
                    for st, fid in ids
                ]
                continue
            terms = []
            for p in variant.patterns:
                expression = expressions.get(p)
                if expression is None:
                    expression = expressions[p] = _expression(p)
                terms.append({p.alias: expression})
            definition[variant.name] = {"all": terms}
            self._registered[variant.name] = (variant, rule)
        if not hashes_checked:
            _check_hashes(pack, compiled)
        for rule_name in definition:  # _infer reads the name off each message without decoding it
            if _NEEDS_ESCAPING.search(rule_name):
                raise EngineError(f"rule name {rule_name!r} would need escaping in durable_rules")
        self._handle = _binding.create_ruleset(name, _compact_json(definition))

    def _action(self, variant: Variant, rule: Any) -> tuple[Action, bool]:
        aliases = sorted(p.alias for p in variant.patterns)
        fixed = _fixed_match(variant)  # the matched fact ids, when the patterns alone decide them
        then = rule.then
        if isinstance(rule, CriteriaRule):
            derived: dict[str, Any] | None = {
                "id": f"c:{rule.id}",
                "kind": "conclusion",
                "name": then.diagnosis,
            }
        elif isinstance(rule, AlertRule):
            derived = None  # recorded only: alerts derive no fact
        else:
            derived = {
                "id": finding_id(then.finding, then.state),
                "kind": "finding",
                "name": then.finding,
                "state": then.state,
                "origin": "derived",
            }
        derived_id = derived["id"] if derived else None
        # the fact's JSON up to its sid, built once (the sid is digits only, so it needs no escaping);
        # durable is given only what its patterns read
        finding = (then.finding, then.state) if derived and derived["kind"] == "finding" else None
        # whether any registered pattern can match the derived fact (else durable never needs to hold it)
        asserted = derived is not None and (derived["kind"], derived["name"]) in self._matchable
        head = _compact_json(_given(derived))[:-1] + ',"sid":"' if derived and asserted else ""
        made: dict[str, Firing] = {}  # outcome -> firing, when the matched ids are fixed (firings are frozen)

        def firing(matched_facts: dict[str, Any] | None, outcome: Outcome) -> Firing:
            if fixed is None:
                assert matched_facts is not None
                matched = tuple((a, matched_facts[a]["id"]) for a in aliases)
                return Firing(rule.id, variant.name, matched, derived_id, outcome)
            found = made.get(outcome)
            if found is None:
                found = made[outcome] = Firing(rule.id, variant.name, fixed, derived_id, outcome)
            return found

        def run(matched_facts: dict[str, Any] | None) -> None:
            if derived is None:
                self._trace.append(firing(matched_facts, "recorded"))
                return
            if finding is not None and self._observed.get(finding[0], finding[1]) != finding[1]:
                self._trace.append(firing(matched_facts, "overridden"))
                return
            known = self._known
            if derived_id in known:  # the same conclusion reached by another path, or observed already
                self._trace.append(firing(matched_facts, "again"))
                return
            known.add(derived_id)
            if asserted:
                fact = head + self._sid + '"}'
                code = _binding.assert_fact(self._handle, fact)[0]
                if code != ASSERTED:
                    raise EngineError(f"durable_rules refused the derived fact {derived_id} (code {code})")
                self._derived.append(fact)
            self._trace.append(firing(matched_facts, "new"))

        return run, fixed is None

    def run(self, compiled: CompiledPack, facts: list[Fact], observed: dict[str, str]) -> list[Firing]:
        """Assert ``facts`` in one batch, run the agenda out, collect the firings, empty the session."""
        matchable = self._matchable
        with self._lock:
            sid = self._sid
            self._trace, self._errors, self._observed, self._derived = [], [], observed, []
            self._known = {f["id"] for f in facts}
            batch = [{"id": "case", "kind": "case", "sid": sid}]
            for f in facts:
                if (f["kind"], f.get("name", "patient")) in matchable:
                    given = _given(f)
                    given["sid"] = sid
                    batch.append(given)
            try:
                batch_json = _compact_json(batch)
                self._infer(batch_json)
                if self._errors:
                    raise EngineError("rule action failed: " + "; ".join(self._errors))
                trace, known = self._trace, self._known
                self._empty(batch_json)
            except BaseException as exc:
                # After durable's own error the session may be half-updated, and freeing it can crash the
                # process (a matcher overflow does): leave it allocated and move on to a fresh one.
                self._abandon(free=not isinstance(exc, _binding.error))
                if isinstance(exc, _binding.error):
                    limit = _pack_limit(str(exc))
                    if limit is not None:  # the pack's making, not hemedx's: the author can fix it
                        raise InputError(
                            f"rule pack '{self._pack_id}': durable_rules cannot evaluate it ({exc}): {limit}",
                            hint="run `hemedx rules check` on it (HX108 says what to change)",
                            code="HX108",
                        ) from None
                    raise EngineError(f"durable_rules failed: {exc}") from None
                raise
            finally:
                self._trace, self._observed, self._derived, self._known = [], {}, [], set()
            return trace + self._evidence_firings(known)

    def _infer(self, batch: str) -> None:
        """Assert the batch and run every activation, in durable's own order, until the agenda is empty."""
        handle = self._handle
        code, state = _binding.assert_facts(handle, batch)
        started = _binding.start_action_for_state(handle, state)
        message = started[1] if started else None
        while message:
            name = message[2 : message.index('"', 2)]  # '{"NAME":{...}}': exactly one rule per message
            try:
                made = self._actions.get(name)
                if made is None:
                    made = self._actions[name] = self._action(*self._registered[name])
                action, decode = made
                action(orjson.loads(message)[name] if decode else None)
            except Exception as exc:  # durable would bury this in the session state
                self._errors.append(f"{name}: {exc!r}")
            message = _binding.complete_and_start_action(handle, state)
        if code != ASSERTED:
            raise EngineError(f"durable_rules rejected the case facts (code {code})")

    def _empty(self, batch_json: str) -> None:
        """Retract every fact of the case so the session is as new; refuse it if anything is left."""
        handle, sid = self._handle, self._sid
        retracted = batch_json
        if self._derived:
            retracted = retracted[:-1] + "," + ",".join(self._derived) + "]"
        _binding.retract_facts(handle, retracted)
        left = _binding.get_facts(handle, sid)
        if left != "[]":
            raise EngineError(f"durable_rules kept facts after retraction: {left[:200]}")

    def _abandon(self, free: bool = True) -> None:
        """Leave the live session after an error (the next case gets a fresh one), freeing it if safe."""
        sid = self._sid
        self._next_sid += 1
        self._sid = str(self._next_sid)
        if not free:
            return
        with contextlib.suppress(_binding.error):  # no such session (never created): nothing to free
            _binding.delete_state(self._handle, sid)

    def _evidence_firings(self, known: set[str]) -> list[Firing]:
        """The evidence rules durable would have fired on the final facts (observed and derived).

        ``known`` is every fact id of the case, observed or derived (not overridden). A derived finding may
        exist in both states as facts (two rules disagreeing), so this asks which fact ids exist, not
        which state the finding resolves to.
        """
        return [firing for fact_id, firing in self._evidence if fact_id in known]


# orjson writes the same text as ``json.dumps`` for every value hemedx gives durable (facts, rule
# definitions) except floats below 1e-4 or from 1e16 (``0.00001`` / ``1e-6`` / ``1e+16``; durable's
# number reader takes an exponent only after a fraction, so the two spellings need not read alike).
# A document with any such text keeps the stdlib's spelling; otherwise durable reads the same tokens,
# only without the blanks between them.
_NOT_REPR = (b"e-", b"e+", b"0.0000")


# durable_rules' error codes that a pack (not hemedx) can cause, with what they mean for its author.
_PACK_LIMITS = {
    "303": "its matcher holds at most 64 conditions matched by one fact at once",
}


def _pack_limit(message: str) -> str | None:
    """What a durable_rules error means for the pack's author, when it is one the pack can cause."""
    code = message.rsplit("error code:", 1)[-1].strip() if "error code:" in message else ""
    return _PACK_LIMITS.get(code)


def _compact_json(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` without its blanks, ~10x faster (through orjson)."""
    try:
        raw = orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value, ensure_ascii=False)
    if any(needle in raw for needle in _NOT_REPR):
        return json.dumps(value, ensure_ascii=False)
    return raw.decode()


def _evidence_pattern(rule: Any, variant: Variant) -> tuple[str, str, str | None] | None:
    """(alias, finding, state or None) of an evidence variant that can be matched after inference."""
    if not isinstance(rule, EvidenceRule) or len(variant.patterns) != 1:
        return None
    (pattern,) = variant.patterns
    if pattern.kind != "finding":
        return None
    if not pattern.constraints:
        return pattern.alias, pattern.name, None
    if len(pattern.constraints) == 1 and pattern.constraints[0][:2] == ("state", "eq"):
        return pattern.alias, pattern.name, pattern.constraints[0][2]
    return None


def _fixed_match(variant: Variant) -> tuple[tuple[str, str], ...] | None:
    """(alias, fact id) sorted by alias when the patterns decide every matched fact's id, else None.

    Fact ids are stable (hemedx.engine.facts): a lab, test or the patient has one id, a finding one per
    state, so only a finding pattern that leaves the state open needs durable's matched facts decoded.
    """
    ids = []
    for p in variant.patterns:
        if p.kind == "finding":
            state = next((v for prop, op, v in p.constraints if prop == "state" and op == "eq"), None)
            if state is None:
                return None
            ids.append((p.alias, finding_id(p.name, state)))
        else:
            ids.append((p.alias, "patient" if p.kind == "patient" else f"{p.kind}:{p.name}"))
    return tuple(sorted(ids))


def _noop(matched: dict[str, Any] | None) -> None:
    pass


def _check_hashes(pack: Pack, compiled: CompiledPack) -> None:
    """Refuse to run a pack in which two distinct strings durable compares by hash would collide."""
    problem = hash_collision(pack, compiled)
    if problem is not None:
        raise EngineError(problem[0])


def hash_collision(pack: Pack, compiled: CompiledPack) -> tuple[str, str, str] | None:
    """(message, first, second) for two distinct strings durable would compare as equal, or None.

    ``hemedx rules check`` reports it too, so a pack that checks clean never fails here.
    """
    strings = {
        "id",
        "kind",
        "name",
        "state",
        "origin",
        "value",
        "v_lt",
        "v_lte",
        "v_gt",
        "v_gte",
        "comparator",
        "bound",
        "<",
        "<=",
        ">",
        ">=",
        "sex",
        "age",
        "pregnancy",
        *PREGNANCY_STATES,
        "sid",
        "case",
        "patient",
        "finding",
        "lab",
        "test",
        "conclusion",
        "present",
        "absent",
        "observed",
        "derived",
        "female",
        "male",
        "__never__",
        "__case",
        "__sink",
        "m",
        "a",
        "b",
    }
    for f in pack.vocabulary.findings:
        strings.update({f.id, finding_id(f.id, "present"), finding_id(f.id, "absent"), f"finding_{f.id}"})
    for lab in pack.vocabulary.labs:
        strings.update({lab.id, f"lab:{lab.id}", f"lab_{lab.id}"})
    for test in pack.vocabulary.tests:
        strings.update({test.id, f"test:{test.id}", f"test_{test.id}", *test.values})
    for rule in pack.rules:
        strings.add(f"c:{rule.id}")
    for diagnosis in pack.diagnoses:
        strings.add(diagnosis.id)
    strings.update(v.name for v in compiled.variants)
    seen: dict[int, str] = {}
    for text in sorted(strings):
        h = fnv1a32(text)
        if h in seen and seen[h] != text:
            message = f"ids '{seen[h]}' and '{text}' share a durable_rules hash; rename one of them"
            return message, seen[h], text
        seen[h] = text
    return None
