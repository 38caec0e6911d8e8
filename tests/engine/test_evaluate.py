"""Batch evaluation: the library and generated cases, serial and parallel runs agreeing exactly."""

from __future__ import annotations

import time

import pytest

from hemedx import load_pack
from hemedx.cases.generator import load_distributions, plan
from hemedx.cases.library import load_library
from hemedx.engine.evaluate import GeneratedItem, evaluate_cases, summarise

PACK = load_pack()
DIST = load_distributions(PACK)


def _generated(n: int, seed: int) -> list[GeneratedItem]:
    return [GeneratedItem(p, seed) for p in plan(DIST, "all", None, n)]


def test_library_serial_equals_parallel_and_reaches_95_percent():
    cases = load_library(PACK)
    serial = summarise(evaluate_cases(cases, PACK, jobs=1), PACK)
    parallel = summarise(evaluate_cases(cases, PACK, jobs=2), PACK)
    assert serial == parallel
    assert serial["cases"] == len(cases)
    assert serial["top1"] >= 0.95
    assert serial["top3"] >= serial["top1"]
    for miss in serial["misses"]:  # every miss is explained, with its top three
        assert miss["why"] and len(miss["top3"]) == 3


def test_summary_contract_and_metric_definitions():
    results = evaluate_cases(load_library(PACK), PACK, jobs=1)
    s = summarise(results, PACK)
    for key in ("cases", "top1", "top3", "brier", "misses", "subtype", "confusion", "calibration"):
        assert key in s
    assert 0 <= s["brier"] <= 2
    assert sum(b["n"] for b in s["calibration"]) == s["brier_cases"] * len(PACK.diagnoses)
    matrix = s["confusion"]["matrix"]
    assert sum(sum(row.values()) for row in matrix.values()) == s["cases"]
    assert sum(matrix[d.id][d.id] for d in PACK.diagnoses) + matrix["normal"]["none"] == round(
        s["top1"] * s["cases"]
    )


def test_a_normal_case_is_correct_only_when_nothing_fits():
    normals = [c for c in load_library(PACK) if c.answer is None]
    results = evaluate_cases(normals, PACK, jobs=1)
    for r in results:
        assert r.top1 == (not r.supported)


def test_generated_mix_is_ranked_well_and_deterministic():
    start = time.perf_counter()
    serial = summarise(evaluate_cases(_generated(600, 11), PACK, DIST, jobs=1), PACK)
    parallel = summarise(evaluate_cases(_generated(600, 11), PACK, DIST, jobs=2), PACK)
    assert serial == parallel
    assert serial["cases"] == 600 and serial["answered"] == 560  # 1 in 15 plans is a normal case
    assert serial["top1"] >= 0.9, [m["why"] for m in serial["misses"]]
    assert time.perf_counter() - start < 60


@pytest.mark.slow
def test_ten_thousand_generated_cases(request):
    if "slow" not in (request.config.getoption("-m") or ""):
        pytest.skip("slow: run with -m slow")
    first = summarise(evaluate_cases(_generated(10_000, 2024), PACK, DIST), PACK)
    again = summarise(evaluate_cases(_generated(10_000, 2024), PACK, DIST), PACK)
    assert first == again
    assert first["cases"] == 10_000
    assert first["top1"] >= 0.9
    print(
        f"\n10k generated: top1 {first['top1']:.4f} top3 {first['top3']:.4f} "
        f"subtype {first['subtype']:.4f} brier {first['brier']:.4f}"
    )
