"""Workers started ahead of a run, guided chunks and the pickled pack: the same results as a serial run."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

from hemedx import get_engine, load_pack
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


def test_workers_are_spawned_once_this_process_holds_durable_state():
    get_engine(PACK)  # a registered ruleset: never to be copied into a fork
    with Workers(2, fork=True) as workers:
        assert workers.start_method == "spawn"


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_workers_started_first_thing_are_forked_and_agree_with_a_serial_run():
    script = """
import json
from hemedx.engine.evaluate import GeneratedItem, Workers, evaluate_cases
workers = Workers(2, fork=True)  # before any pack is loaded: nothing durable to copy
from hemedx import get_engine, load_pack
from hemedx.cases.generator import load_distributions, plan
pack = load_pack()
dist = load_distributions(pack)
items = [GeneratedItem(p, 5) for p in plan(dist, "all", None, 120)]
with workers:
    forked = evaluate_cases(items, pack, dist, jobs=2, workers=workers)
print(json.dumps([workers.start_method, forked == evaluate_cases(items, pack, dist, jobs=1)]))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["fork", True]
