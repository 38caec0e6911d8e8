"""The one place hemedx touches durable_rules, with every known pitfall of 2.0.28 handled here.

- No threads: ``QuietHost`` overrides ``Host._run`` so no dispatch/timer threads start, and one Host serves
  the whole process (Hosts are never freed). Each pack compiles once, under a unique ruleset name.
- No segfault on ``delete_state``: the ``__case`` rule always fires, so every session has run an action.
- No aborted batches / lost facts: the ``__sink`` rule makes every fact "handled".
- No swallowed action errors: each action catches and records its own exception; the session state is
  checked for durable's sticky ``exception`` too; either raises :class:`EngineError`.
- No hash collisions: durable compares sids, fact ids and property names by a 32-bit FNV-1a hash only, so
  every string that can occur is checked for collisions at compile time; one live session at a time.
- No order-dependent negation: the compiled rules contain no ``$not`` at all (absence is an explicit fact).
- Fresh dicts for every assert (durable adds ``sid`` to the dict it is given); no cross-fact ordering
  comparisons (they segfault); ``pri`` is left at its default.

Two things durable is spared because they cannot change what fires: evidence rules (a single finding
pattern that derives nothing, so no rule can depend on them) are matched in Python against the final
facts after inference, and a case fact that no registered pattern can match is not asserted.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from typing import Any

from hemedx.engine.compiler import CompiledPack, Pattern, Variant
from hemedx.engine.facts import Fact, finding_id
from hemedx.engine.trace import Firing
from hemedx.errors import EngineError
from hemedx.rules.model import AlertRule, CriteriaRule, EvidenceRule, Pack

# durable_rules calls datetime.utcfromtimestamp on every action (deprecated since Python 3.12).
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable\.")
warnings.filterwarnings("ignore", message=r".*utcfromtimestamp.*", category=DeprecationWarning)

from durable import engine as _durable  # noqa: E402  (the filters above must be in place first)


class QuietHost(_durable.Host):
    """A durable Host that starts no background threads (they steal actions and crash under load)."""

    def _run(self) -> None:
        pass


_HOST_LOCK = threading.Lock()
_HOST: QuietHost | None = None
_REGISTERED: dict[str, DurableMatcher] = {}


def _host() -> QuietHost:
    global _HOST
    if _HOST is None:
        _HOST = QuietHost()
    return _HOST


def fnv1a32(text: str) -> int:
    """The 32-bit hash durable_rules uses for sids, fact ids and property names (signed-byte variant)."""
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ (b - 256 if b > 127 else b) & 0xFFFFFFFF) * 16777619) & 0xFFFFFFFF
    return h


def matcher_for(pack: Pack, compiled: CompiledPack) -> DurableMatcher:
    """The process-wide matcher of a pack (registered on the shared Host the first time)."""
    name = f"hemedx_{pack.info.id}_{pack.digest}"
    with _HOST_LOCK:
        found = _REGISTERED.get(name)
        if found is None:
            found = DurableMatcher(name, pack, compiled)
            _REGISTERED[name] = found
        return found


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


class DurableMatcher:
    """A compiled pack registered as one durable_rules ruleset; evaluates one snapshot at a time."""

    def __init__(self, name: str, pack: Pack, compiled: CompiledPack) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._trace: list[Firing] = []
        self._errors: list[str] = []
        self._observed: dict[str, str] = {}
        rules_by_id = {r.id: r for r in pack.rules}
        definition: dict[str, Any] = {
            "__case": {"all": [{"m": {"kind": "case"}}], "run": _noop},
            "__sink": {"all": [{"a": {"kind": "__never__"}}, {"b$not": {"$ex": {"kind": 1}}}], "run": _noop},
        }
        # (rule id, variant name, alias, finding, the state it asks for or None for "known")
        self._evidence: list[tuple[str, str, str, str, str | None]] = []
        self._matchable: set[tuple[str, str]] = set()  # (kind, name) of every fact a pattern can match
        for variant in compiled.variants:
            rule = rules_by_id[variant.rule_id]
            after = _evidence_pattern(rule, variant)
            if after is not None:
                self._evidence.append((rule.id, variant.name, *after))
                continue
            definition[variant.name] = {
                "all": [{p.alias: _expression(p)} for p in variant.patterns],
                "run": self._action(variant, rule),
            }
            self._matchable.update((p.kind, p.name) for p in variant.patterns)
            if not isinstance(rule, (CriteriaRule, AlertRule)):
                # an observed fact a rule derives again must be there, so the firing is "again", not "new"
                self._matchable.add(("finding", rule.then.finding))
        _check_hashes(pack, compiled)
        _host().register_rulesets({name: definition})

    def _action(self, variant: Variant, rule: Any) -> Any:
        aliases = [p.alias for p in variant.patterns]
        evidence_alias = aliases[-1] if isinstance(rule, EvidenceRule) else None
        then = rule.then
        if isinstance(rule, CriteriaRule):
            derived_template: dict[str, Any] | None = {
                "id": f"c:{rule.id}",
                "kind": "conclusion",
                "name": then.diagnosis,
            }
        elif isinstance(rule, (EvidenceRule, AlertRule)):
            derived_template = None  # recorded only: evidence and alerts derive no fact
        else:
            derived_template = {
                "id": finding_id(then.finding, then.state),
                "kind": "finding",
                "name": then.finding,
                "state": then.state,
                "origin": "derived",
            }

        def run(c: Any) -> None:
            try:
                matched_facts = c._m
                matched = tuple(sorted((a, matched_facts[a]["id"]) for a in aliases))
                if derived_template is None:
                    state = matched_facts[evidence_alias]["state"] if evidence_alias else None
                    self._trace.append(Firing(rule.id, variant.name, matched, None, "recorded", state))
                    return
                fact = dict(derived_template)  # fresh dict: durable adds 'sid' to what it is given
                if (
                    fact["kind"] == "finding"
                    and self._observed.get(fact["name"], fact["state"]) != fact["state"]
                ):
                    self._trace.append(Firing(rule.id, variant.name, matched, fact["id"], "overridden"))
                    return
                try:
                    c.assert_fact(fact)
                    outcome = "new"
                except _durable.MessageObservedException:
                    outcome = "again"  # the same conclusion reached by another path
                self._trace.append(Firing(rule.id, variant.name, matched, fact["id"], outcome))  # type: ignore[arg-type]
            except Exception as exc:  # durable would bury this in the session state
                self._errors.append(f"{variant.name}: {exc!r}")

        return run

    def run(self, compiled: CompiledPack, facts: list[Fact], observed: dict[str, str]) -> list[Firing]:
        """Assert ``facts`` in one batch in a fresh session, collect the firings, delete the session."""
        matchable = self._matchable
        with self._lock:
            sid = str(next(self._sids))
            self._trace, self._errors, self._observed = [], [], observed
            batch = [{"id": "case", "kind": "case", "sid": sid}]
            batch += [dict(f, sid=sid) for f in facts if (f["kind"], f.get("name", "patient")) in matchable]
            host = _host()
            try:
                state = host.assert_facts(self.name, batch)
                if isinstance(state, dict) and "exception" in state:
                    raise EngineError(f"durable_rules reported an action error: {state['exception']}")
                if self._errors:
                    raise EngineError("rule action failed: " + "; ".join(self._errors))
                return self._trace + self._evidence_firings(facts, self._trace)
            except (_durable.MessageNotHandledException, _durable.MessageObservedException) as exc:
                raise EngineError(f"durable_rules rejected the case facts: {exc}") from None
            finally:
                self._trace, self._observed = [], {}
                host.delete_state(self.name, sid)

    def _evidence_firings(self, facts: list[Fact], trace: list[Firing]) -> list[Firing]:
        """The evidence rules durable would have fired on the final facts (observed and derived).

        A derived finding may exist in both states as facts (two rules disagreeing), so this asks which
        fact ids exist, not which state the finding resolves to.
        """
        present = {f["id"] for f in facts if f["kind"] == "finding"}
        present.update(f.derived for f in trace if f.derived and f.outcome in ("new", "again"))
        out = []
        for rule_id, variant, alias, finding, wanted in self._evidence:
            for state in (wanted,) if wanted else ("present", "absent"):
                fact_id = finding_id(finding, state)
                if fact_id in present:
                    out.append(Firing(rule_id, variant, ((alias, fact_id),), None, "recorded", state))
        return out


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


def _noop(c: Any) -> None:
    pass


def _check_hashes(pack: Pack, compiled: CompiledPack) -> None:
    """Refuse to run a pack in which two distinct strings durable compares by hash would collide."""
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
            raise EngineError(f"ids '{seen[h]}' and '{text}' share a durable_rules hash; rename one of them")
        seen[h] = text
