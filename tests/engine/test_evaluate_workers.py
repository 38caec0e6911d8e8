"""Workers started ahead of a run, guided chunks and the pickled pack: the same results as a serial run."""

from __future__ import annotations

import pickle

import pytest

from hemedx import load_pack
from hemedx.cases.generator import generate_case, load_distributions, plan
from hemedx.engine.evaluate import GUIDED_MAX, GeneratedItem, Workers, _chunks, evaluate_cases

PACK = load_pack()
DIST = load_distributions(PACK)


@pytest.mark.parametrize("n", [1, 2, 5, 17, 50, 500, 10_000, 123_457])
@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_chunks_cover_every_item_in_order_and_reach_every_worker(n, jobs):
    items = list(range(n))
    chunks = _chunks(items, jobs)
    assert [i for c in chunks for i in c] == items
    assert len(chunks) >= min(n, jobs)  # a short run is still shared out
    sizes = [len(c) for c in chunks]
    assert max(sizes) <= GUIDED_MAX
    assert sizes == sorted(sizes, reverse=True)  # smaller towards the end


def test_workers_started_before_the_pack_give_the_serial_results():
    with Workers(2) as workers:  # started first, as the command line does
        items = [GeneratedItem(p, 21) for p in plan(DIST, "all", None, 150)]
        parallel = evaluate_cases(items, PACK, DIST, jobs=2, workers=workers)
        with pytest.raises(RuntimeError):
            workers.run(items, PACK, DIST)  # the workers hold this run's pack: one run each
    assert parallel == evaluate_cases(items, PACK, DIST, jobs=1)


def test_a_run_too_short_for_workers_is_serial_even_when_they_were_started():
    with Workers(2) as workers:
        items = [GeneratedItem(plan(DIST, "aiha", None, 1)[0], 3)]
        assert evaluate_cases(items, PACK, DIST, jobs=2, workers=workers) == evaluate_cases(
            items, PACK, DIST, jobs=1
        )


def test_distributions_pickle_without_their_cache_and_generate_the_same_cases():
    used = load_distributions(PACK)
    item = plan(used, "tma", None, 3)[2]
    first = generate_case(used, PACK, item, 8)  # fills the cache with compiled profiles (closures)
    assert used._profiles
    copy = pickle.loads(pickle.dumps(used))
    assert not copy._profiles and copy.spec == used.spec and copy.file == used.file
    assert generate_case(copy, PACK, item, 8) == first
