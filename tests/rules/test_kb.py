"""The pack's knowledge base: indexes built once, never stale after a copy, one cache key for derived data."""

from __future__ import annotations

from hemedx import get_engine, load_pack
from hemedx.rules.kb import KnowledgeBase
from hemedx.rules.model import EvidenceRule, Frequency

PACK = load_pack()


def test_look_ups_by_id_find_what_a_search_of_the_lists_finds():
    kb = PACK.kb
    vocab = PACK.vocabulary
    for index, items in (
        (kb.findings, vocab.findings),
        (kb.labs, vocab.labs),
        (kb.tests, vocab.tests),
        (kb.diagnoses, PACK.diagnoses),
        (kb.rules, PACK.rules),
        (kb.sources, PACK.sources),
    ):
        assert list(index) == [x.id for x in items]
        assert all(index[x.id] is x for x in items)
    assert kb.labels["hemoglobin"] == next(x.label for x in vocab.labs if x.id == "hemoglobin")
    assert [kb.rule_order[r.id] for r in PACK.rules] == list(range(len(PACK.rules)))


def test_the_indexes_are_built_once_and_a_copy_gets_its_own():
    assert PACK.kb is PACK.kb and PACK.kb.findings is PACK.kb.findings
    fewer = PACK.model_copy(update={"rules": PACK.rules[:3]})
    assert len(fewer.kb.rules) == 3 and len(PACK.kb.rules) == len(PACK.rules)
    assert fewer.kb is not PACK.kb


def test_evidence_for_a_finding_lists_its_rules_in_pack_order():
    evidence = [r for r in PACK.rules if isinstance(r, EvidenceRule)]
    finding = evidence[0].when.finding
    assert PACK.kb.evidence_for(finding) == tuple(r for r in evidence if r.when.finding == finding)
    assert PACK.kb.evidence_for("no_such_finding") == ()


def test_a_frequency_says_its_basis_and_its_citations():
    rule = next(
        r
        for r in PACK.rules
        if isinstance(r, EvidenceRule) and any(isinstance(v, Frequency) for v in r.then.evidence.values())
    )
    dx, cited = next((k, v) for k, v in rule.then.evidence.items() if isinstance(v, Frequency))
    assert KnowledgeBase.frequency(rule, dx) == (cited.p, "published", (*cited.cites, *rule.cites))
    evidence = {k: v for k, v in rule.then.evidence.items() if k != dx}
    sparse = rule.model_copy(update={"then": rule.then.model_copy(update={"evidence": evidence})})
    expected = (rule.then.otherwise, "teaching_estimate", tuple(rule.cites))  # dx now left to otherwise
    assert KnowledgeBase.frequency(sparse, dx) == expected


def test_derived_data_is_kept_under_the_content_digest():
    assert PACK.kb.cache_key == (PACK.info.id, PACK.digest)
    same_content = PACK.model_copy()
    assert get_engine(same_content) is get_engine(PACK)  # compiled once per content, not per object
    built = []
    assert PACK.kb.derived("test:x", lambda: built.append(1) or "made") == "made"
    assert same_content.kb.derived("test:x", lambda: built.append(1) or "again") == "made"
    assert built == [1]
