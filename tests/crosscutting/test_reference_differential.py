"""Differential test: the durable_rules engine and the plain reference evaluator must agree exactly."""

from __future__ import annotations

import os
import random
from dataclasses import replace

import pytest

from hemedx import get_engine, load_pack
from hemedx.cases.censored import Censored
from hemedx.cases.library import load_library
from hemedx.cases.model import MIN_PREGNANCY_AGE, Snapshot
from hemedx.rules.model import PREGNANCY_STATES

from support.reference_evaluator import Reference

PACK = load_pack()
ENGINE = get_engine(PACK)
REFERENCE = Reference(PACK)
# `make test` runs modest numbers; HEMEDX_DIFFERENTIAL_GENERATED=100000 (generated cases, every stage)
# and HEMEDX_DIFFERENTIAL_CASES=100000 (random near-threshold snapshots) run the full comparison.
RANDOM_CASES = int(os.environ.get("HEMEDX_DIFFERENTIAL_CASES", "2000"))
GENERATED_CASES = int(os.environ.get("HEMEDX_DIFFERENTIAL_GENERATED", "400"))


def random_snapshot(rng: random.Random) -> Snapshot:
    """A random, plausible-range snapshot: many values land near thresholds, many are missing."""
    vocab = PACK.vocabulary
    findings = {f.id: rng.choice(["present", "absent"]) for f in vocab.findings if rng.random() < 0.25}
    labs = {}
    for lab in vocab.labs:
        if rng.random() < 0.6:
            thresholds = [v for iv in lab.reference for v in (iv.low, iv.high) if v is not None]
            if thresholds and rng.random() < 0.5:
                value = rng.choice(thresholds) * rng.choice([0.5, 0.9, 0.99, 1.0, 1.01, 1.1, 2.0])
            else:
                lo, hi = lab.plausible.min, lab.plausible.max
                value = lo + (hi - lo) * rng.random() ** 3
            labs[lab.id] = round(min(max(value, lab.plausible.min), lab.plausible.max), 2)
    tests = {t.id: rng.choice(t.values) for t in vocab.tests if rng.random() < 0.5}
    censored = {}
    for name in list(labs):
        if rng.random() < 0.15:  # some results known only as a bound, often exactly at a threshold
            censored[name] = Censored(rng.choice(["<", "<=", ">", ">="]), labs.pop(name))
    sex = rng.choice(["female", "male"])
    age = round(rng.uniform(1, 90))
    # Pregnancy picks its own haemoglobin band; some women of child-bearing age are pregnant.
    pregnancy = "none"
    if sex == "female" and MIN_PREGNANCY_AGE <= age <= 50 and rng.random() < 0.4:
        pregnancy = rng.choice(PREGNANCY_STATES[1:])
    return Snapshot(age, sex, findings, labs, tests, censored, pregnancy=pregnancy)


def assert_agree(snap: Snapshot) -> None:
    ranking = ENGINE.rank(snap)
    ref = REFERENCE.evaluate(snap)
    assert set(ranking.fired_rules) == ref.fired
    assert {k: v[0] for k, v in ranking.findings.items()} == ref.findings
    for d in ranking.differential:
        assert d.probability == pytest.approx(ref.probabilities[d.id], rel=1e-9, abs=1e-12), d.id
        assert d.subtype == ref.subtypes[d.id], d.id
        assert d.criteria_met == ref.criteria[d.id], d.id
    assert ranking.supported == ref.supported
    assert [a.rule for a in ranking.alerts] == ref.alerts


@pytest.mark.parametrize("case", load_library(PACK), ids=lambda c: c.id)
def test_library_cases_agree_at_every_stage(case):
    for stage in range(len(case.stages)):
        assert_agree(case.snapshot(stage))


def test_random_cases_agree():
    rng = random.Random(20261121)
    for _ in range(RANDOM_CASES):
        assert_agree(random_snapshot(rng))


def test_generated_cases_agree_at_every_stage():
    """Cases from the synthetic generator (every diagnosis, with noise and missing tests)."""
    from hemedx.cases.generator import generate_case, load_distributions, plan
    from hemedx.cases.loader import parse_case
    from hemedx.safeyaml import Document

    dist = load_distributions(PACK)
    for n, item in enumerate(plan(dist, "all", None, GENERATED_CASES)):
        data = generate_case(dist, PACK, item, seed=77)
        case = parse_case(Document(data=data, file=f"{data['id']}.yaml"), PACK)
        # The generator makes no pregnant patients; its women of child-bearing age are also run pregnant.
        pregnant = case.sex == "female" and MIN_PREGNANCY_AGE <= case.age <= 50
        for stage in range(len(case.stages)):
            snap = case.snapshot(stage)
            assert_agree(snap)
            if pregnant:
                assert_agree(replace(snap, pregnancy=PREGNANCY_STATES[1 + n % 4]))
