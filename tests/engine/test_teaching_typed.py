"""Teaching decisions are taken on the typed Ranking, and agree with the JSON views built from it."""

from __future__ import annotations

import pytest

from hemedx.cases.library import resolve_case
from hemedx.cli.commands.teach import compare_guess
from hemedx.engine.report import ranked_report
from hemedx.engine.shift import moves
from hemedx.engine.shown import probability_shown
from hemedx.engine.walkthrough import ranked_walkthrough, walkthrough
from hemedx.engine.whatif import apply, deltas, parse_set
from hemedx.rules import load_pack

CASE = "aml-hypocellular-older-man"


@pytest.fixture(scope="module")
def pack():
    return load_pack()


def test_each_stage_shows_the_ranking_it_was_decided_on(pack):
    case = resolve_case(CASE, pack)
    staged = ranked_walkthrough(case, pack)
    assert [stage for _, stage in staged] == walkthrough(case, pack)
    previous = None
    for ranking, stage in staged:
        assert [d["diagnosis"] for d in stage["differential"]] == [d.id for d in ranking.differential]
        assert [s["probability"] for s in stage["shift"]] == [
            probability_shown(d.probability) for d in ranking.differential
        ]
        assert [(m.diagnosis, m.previous_rank, m.delta) for m in moves(ranking, previous)] == [
            (s["diagnosis"], s["previous_rank"], s["delta"]) for s in stage["shift"]
        ]
        previous = ranking
    final, last = staged[-1]
    assert last["answer"]["engine_top"] == final.differential[0].id
    assert last["answer"]["engine_agrees"] == (final.differential[0].id == case.answer.diagnosis)


def test_a_guess_is_compared_with_the_typed_ranking(pack):
    case = resolve_case(CASE, pack)
    ranking, _ = ranked_walkthrough(case, pack)[0]
    top, second = ranking.differential[0], ranking.differential[1]
    agree = compare_guess(top.label, ranking, pack)
    assert agree.startswith(f"You agree with the engine: {top.label} leads at ")
    other = compare_guess(second.id, ranking, pack)
    assert other.startswith(f"You: {second.label}, which the engine ranks 2nd at ")
    assert f"it leads with {top.label}" in other
    assert compare_guess("xyzzy", ranking, pack).startswith("'xyzzy' is not a diagnosis")


def test_what_if_deltas_come_from_the_two_rankings(pack):
    case = resolve_case(CASE, pack)
    before, report = ranked_report(case, pack, case.snapshot(), None, False)
    after, changed = ranked_report(
        case, pack, apply(case.snapshot(), [parse_set("platelets=250", pack)]), None, False
    )
    rows = deltas(before, after)
    old = {d["diagnosis"]: (i, d["probability"]) for i, d in enumerate(report["differential"], 1)}
    assert [r["diagnosis"] for r in rows] == [d["diagnosis"] for d in changed["differential"]]
    for rank, (row, d) in enumerate(zip(rows, changed["differential"], strict=True), 1):
        assert (row["rank_after"], row["after"]) == (rank, d["probability"])
        assert (row["rank_before"], row["before"]) == old[d["diagnosis"]]
        assert row["delta"] == round(d["probability"] - old[d["diagnosis"]][1], 6)
    assert any(r["rank_before"] != r["rank_after"] or r["delta"] for r in rows)  # the change moved it
