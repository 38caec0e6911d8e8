"""The validated-pack cache: used only for the same content, version and folder, and only when trusted."""

from __future__ import annotations

import os
import pickle

import pytest

from hemedx.rules import cache_files, loader, pack_cache
from hemedx.rules.reader import pack_digest

from support.helpers import (
    GENERIC_CACHE_DAMAGE,
    MINI_PACK,
    UNPICKLED_CODE,
    CodeFromCache,
    damage_cache_entry,
    retag_entry,
    retagged_entry,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("HEMEDX_NO_CACHE", raising=False)
    return tmp_path / "hemedx" / "packs"


def fresh_load(folder=MINI_PACK):
    """Load as a new process would (the in-process lru cache bypassed)."""
    path = str(folder.resolve())
    return loader._load_cached.__wrapped__(path, pack_digest(folder))


def refuse_yaml(monkeypatch):
    def no(*args):
        raise AssertionError("the pack was read from YAML, not from the cache")

    monkeypatch.setattr(loader, "read_pack", no)


def test_a_second_process_gets_the_same_pack_without_reading_yaml(cache, monkeypatch):
    first = fresh_load()
    assert len(list(cache.glob("*.json"))) == 1
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    refuse_yaml(monkeypatch)
    again = fresh_load()
    assert again == first
    assert again.origin == first.origin and again.digest == first.digest


def test_the_default_pack_round_trips_exactly(cache):
    first = fresh_load(loader.default_pack_path())
    assert pack_cache.load(str(loader.default_pack_path().resolve()), first.digest) == first


def test_switched_off_writes_and_reads_nothing(cache, monkeypatch):
    monkeypatch.setenv("HEMEDX_NO_CACHE", "1")
    fresh_load()
    assert not cache.exists()


def only_file(cache):
    (path,) = cache.glob("*.json")
    return path


def test_a_file_with_another_key_is_not_used(cache, monkeypatch):
    pack = fresh_load()
    path = only_file(cache)
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(head.replace(b'"key": "', b'"key": "0') + b"\n" + body)
    assert pack_cache.load(str(MINI_PACK.resolve()), pack.digest) is None
    assert fresh_load() == pack  # read from YAML again, and the cache rewritten
    assert pack_cache.load(str(MINI_PACK.resolve()), pack.digest) == pack


def test_another_version_or_folder_misses(cache, monkeypatch):
    pack = fresh_load()
    assert pack_cache.load("/elsewhere", pack.digest) is None
    monkeypatch.setattr(pack_cache, "__version__", "9.9.9")
    assert pack_cache.load(str(MINI_PACK.resolve()), pack.digest) is None


@pytest.mark.parametrize("damage", [*GENERIC_CACHE_DAMAGE, "foreign_class", "not_a_pack", "secret"])
def test_an_untrusted_or_damaged_file_is_ignored(cache, damage, tmp_path):
    pack = fresh_load()
    path = only_file(cache)
    if damage in GENERIC_CACHE_DAMAGE:
        head = path.read_bytes().partition(b"\n")[0]
        # a pack that would pass every other check: refused only for where it lies or its tag
        planted = pack.model_copy(update={"info": pack.info.model_copy(update={"title": "planted"})})
        other = pickle.dumps(planted)
        damage_cache_entry(path, damage, retagged_entry(head, other), tmp_path / "elsewhere.json")
    elif damage == "foreign_class":  # even a verified entry may name only pack classes
        retag_entry(path, pickle.dumps(CodeFromCache()))
    elif damage == "not_a_pack":
        retag_entry(path, pickle.dumps(pack.info))
    else:  # a secret others can read proves nothing
        (cache.parent / "secret").chmod(0o644)
    assert pack_cache.load(str(MINI_PACK.resolve()), pack.digest) is None
    assert not UNPICKLED_CODE
    assert fresh_load() == pack


def test_the_secret_is_private_and_made_once(cache):
    fresh_load()
    secret = cache.parent / "secret"
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    first = secret.read_bytes()
    fresh_load(loader.default_pack_path())
    assert secret.read_bytes() == first and len(first) == cache_files.SECRET_BYTES


def test_a_folder_others_can_write_is_not_used(cache):
    pack = fresh_load()
    cache.chmod(0o777)
    try:
        assert pack_cache.load(str(MINI_PACK.resolve()), pack.digest) is None
    finally:
        cache.chmod(0o700)


def test_old_files_are_pruned(cache):
    pack = fresh_load()
    for i in range(cache_files.KEEP + 3):
        pack_cache.store(f"/folder/{i}", pack.digest, pack)
        os.utime(only_newest(cache), (i, i + 1_000_000_000))
    assert len(list(cache.glob("*.json"))) == cache_files.KEEP
    assert pack_cache.load(f"/folder/{cache_files.KEEP + 2}", pack.digest) == pack


def only_newest(cache):
    return max(cache.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
