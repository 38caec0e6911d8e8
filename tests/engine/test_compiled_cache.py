"""The compiled-rules cache: the same compilation back, for the same content and code only, if trusted."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from hemedx import load_pack
from hemedx.cases.model import Snapshot
from hemedx.engine import compiled_cache, durable_backend
from hemedx.engine.compiler import compile_pack
from hemedx.engine.durable_backend import DurableMatcher
from hemedx.engine.facts import snapshot_facts

from support.helpers import MINI_PACK, UNPICKLED_CODE, CodeFromCache, retag_entry


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("HEMEDX_NO_CACHE", raising=False)
    return tmp_path / "hemedx" / "compiled"


def refuse_compiling(monkeypatch):
    def no(*args):
        raise AssertionError("compiled again, not read from the cache")

    monkeypatch.setattr(compiled_cache, "compile_pack", no)


@pytest.mark.parametrize("folder", [None, MINI_PACK], ids=["default", "mini"])
def test_a_compilation_round_trips_exactly(folder):
    compiled = compile_pack(load_pack(folder))
    assert compiled_cache.from_bytes(compiled_cache.to_bytes(compiled)) == compiled


def test_a_second_process_reads_the_compilation_and_skips_the_hash_check(cache, monkeypatch):
    pack = load_pack(MINI_PACK)
    first, checked = compiled_cache.compiled_for(pack)
    assert checked and len(list(cache.glob("*.json"))) == 1
    refuse_compiling(monkeypatch)
    again, checked = compiled_cache.compiled_for(pack)
    assert again == first == compile_pack(pack) and checked


def test_the_matcher_trusts_a_passed_check_and_makes_its_own_otherwise(monkeypatch):
    pack = load_pack(MINI_PACK)
    compiled = compile_pack(pack)

    def collide(*args):
        raise AssertionError("hash check run")

    monkeypatch.setattr(durable_backend, "_check_hashes", collide)
    matcher = DurableMatcher("hemedx_cache_test_checked", pack, compiled, hashes_checked=True)
    assert matcher.run(compiled, snapshot_facts(_snapshot()), {})
    with pytest.raises(AssertionError, match="hash check run"):
        DurableMatcher("hemedx_cache_test_unchecked", pack, compiled)


def test_changed_code_or_content_misses(cache, monkeypatch):
    pack = load_pack(MINI_PACK)
    compiled_cache.compiled_for(pack)
    monkeypatch.setattr(compiled_cache.cache_files, "code_fingerprint", lambda: "another compiler")
    calls = []
    monkeypatch.setattr(compiled_cache, "compile_pack", lambda p: calls.append(p) or compile_pack(p))
    compiled_cache.compiled_for(pack)
    assert calls == [pack]
    assert len(list(cache.glob("*.json"))) == 2


@pytest.mark.parametrize(
    "damage",
    [
        b"garbage",
        pickle.dumps({"variants": ()}),
        pickle.dumps(CodeFromCache()),
        pickle.dumps(("not", "compiled")),
    ],
    ids=["garbage", "not_a_compilation", "foreign_callable", "a_tuple"],
)
def test_a_damaged_entry_is_compiled_again(cache, damage):
    pack = load_pack(MINI_PACK)
    good, _ = compiled_cache.compiled_for(pack)
    (path,) = cache.glob("*.json")
    retag_entry(path, damage)  # verified, yet not a compilation
    assert compiled_cache.compiled_for(pack) == (good, True)
    assert not UNPICKLED_CODE
    assert compiled_cache.from_bytes(path.read_bytes().split(b"\n", 2)[2]) == good  # rewritten


def test_a_pack_that_fails_the_hash_check_is_not_stored(cache, monkeypatch):
    pack = load_pack(MINI_PACK)
    monkeypatch.setattr(compiled_cache, "hash_collision", lambda p, c: ("collide", "a", "b"))
    _, checked = compiled_cache.compiled_for(pack)
    assert not checked and not cache.exists()


def test_switched_off_writes_nothing(cache, monkeypatch):
    monkeypatch.setenv("HEMEDX_NO_CACHE", "1")
    compiled_cache.compiled_for(load_pack(MINI_PACK))
    assert not cache.exists()


def test_the_fingerprint_follows_the_source_files(tmp_path, monkeypatch):
    fingerprint = compiled_cache.cache_files.code_fingerprint()
    assert fingerprint == compiled_cache.cache_files.code_fingerprint.__wrapped__()
    source = Path(compiled_cache.__file__)
    info = source.stat()
    try:
        os.utime(source, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
        assert compiled_cache.cache_files.code_fingerprint.__wrapped__() != fingerprint
    finally:
        os.utime(source, ns=(info.st_atime_ns, info.st_mtime_ns))


def _snapshot():
    return Snapshot(22, "female", {"petechiae": "present"}, {"hemoglobin": 6.8, "platelets": 11}, {})
