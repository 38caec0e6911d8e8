"""The parsed-YAML cache: the same Document as parsing, for the same bytes and version, only when trusted."""

from __future__ import annotations

import json
import os

import pytest

from hemedx.errors import InputError
from hemedx.rules import yaml_cache
from hemedx.rules.reader import default_pack_path, pack_files, read_pack
from hemedx.safeyaml import load_file

from support.helpers import GENERIC_CACHE_DAMAGE, MINI_PACK, damage_cache_entry, retag_entry, retagged_entry

TEXT = """\
id: x
title: "Quoted: text → ü"
n: [1, -2.5, 0.0, true, null, 2024-01-31]
deep:
  - {a: 1, b: [x, {c: ""}]}
  - []
  - {}
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HEMEDX_NO_CACHE", raising=False)
    return tmp_path / "home" / "hemedx" / "yaml"


def refuse_parsing(monkeypatch):
    def no(*args):
        raise AssertionError("the file was parsed, not read from the cache")

    monkeypatch.setattr(yaml_cache, "parse_yaml", no)


def same(a, b):
    """Equal, with the same key order and the same types (1 == 1.0 == True in Python)."""
    assert a == b
    assert repr(a.data) == repr(b.data)
    assert list(a.positions.items()) == list(b.positions.items())


def test_a_second_read_is_the_parse_without_parsing(cache, tmp_path, monkeypatch):
    path = tmp_path / "f.yaml"
    path.write_text(TEXT)
    first, raw = yaml_cache.load_pack_file(path)
    assert raw == path.read_bytes()
    same(first, load_file(path))
    assert len(list(cache.glob("*.json"))) == 1
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    refuse_parsing(monkeypatch)
    moved = tmp_path / "g.yaml"
    path.rename(moved)
    again, _ = yaml_cache.load_pack_file(moved)
    same(again, load_file(moved))  # the file name is the one read now, not the cached one
    assert again.file == str(moved)


def test_every_file_of_the_default_pack_round_trips_exactly(cache, monkeypatch):
    files = pack_files(default_pack_path())
    parsed = [yaml_cache.load_pack_file(f)[0] for f in files]
    refuse_parsing(monkeypatch)
    for file, doc in zip(files, parsed, strict=True):
        same(yaml_cache.load_pack_file(file)[0], doc)
        same(doc, load_file(file))


def test_a_pack_read_from_the_cache_is_the_pack_read_from_yaml(cache, monkeypatch):
    first = read_pack(MINI_PACK)
    refuse_parsing(monkeypatch)
    again = read_pack(MINI_PACK)
    assert again.pack == first.pack and again.issues == first.issues
    assert again.digest == first.digest == first.pack.digest


def test_changed_bytes_version_or_parser_miss(cache, tmp_path, monkeypatch):
    path = tmp_path / "f.yaml"
    path.write_text(TEXT)
    yaml_cache.load_pack_file(path)
    path.write_text(TEXT.replace("id: x", "id: y"))
    assert yaml_cache.load_pack_file(path)[0].data["id"] == "y"
    calls = []
    monkeypatch.setattr(yaml_cache, "parse_yaml", lambda *a: calls.append(a) or load_file(path))
    yaml_cache.load_pack_file(path)
    assert not calls  # the same bytes: read back
    with monkeypatch.context() as m:
        m.setattr(yaml_cache, "__version__", "9.9.9")
        yaml_cache.load_pack_file(path)
    assert len(calls) == 1
    with monkeypatch.context() as m:
        m.setattr(yaml_cache, "_parser", lambda: "an edited safeyaml")
        yaml_cache.load_pack_file(path)
    assert len(calls) == 2


def test_a_file_with_a_problem_is_not_stored_and_raises_as_before(cache, tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\na: 2\n")
    with pytest.raises(InputError) as cached:
        yaml_cache.load_pack_file(path)
    with pytest.raises(InputError) as plain:
        load_file(path)
    assert str(cached.value) == str(plain.value)
    assert not list(cache.glob("*.json"))


def test_switched_off_writes_and_reads_nothing(cache, tmp_path, monkeypatch):
    monkeypatch.setenv("HEMEDX_NO_CACHE", "1")
    path = tmp_path / "f.yaml"
    path.write_text(TEXT)
    same(yaml_cache.load_pack_file(path)[0], load_file(path))
    assert not cache.exists()


@pytest.mark.parametrize(
    "damage", [*GENERIC_CACHE_DAMAGE, "other_key", "short_positions", "long_positions", "floats"]
)
def test_an_untrusted_or_damaged_file_is_ignored(cache, tmp_path, damage):
    path = tmp_path / "f.yaml"
    path.write_text(TEXT)
    expected, _ = yaml_cache.load_pack_file(path)
    (stored,) = cache.glob("*.json")
    head, _, body = stored.read_bytes().split(b"\n", 2)
    if damage in GENERIC_CACHE_DAMAGE:
        # a planted parse that verifies is refused for where it lies (read from YAML, so still right)
        planted = retagged_entry(head, body.replace(b'"x"', b'"planted"'))
        damage_cache_entry(stored, damage, planted, tmp_path / "elsewhere.json")
    elif damage == "other_key":
        stored.write_bytes(
            retagged_entry(head.replace(b'"key": "', b'"key": "0'), body.replace(b'"x"', b'"p"'))
        )
    else:
        value, numbers = json.loads(body)
        if damage == "floats":
            numbers = [float(n) for n in numbers]
        else:
            numbers = numbers[:-2] if damage == "short_positions" else [*numbers, 1, 1]
        retag_entry(stored, json.dumps([value, numbers]).encode())
    assert yaml_cache._load(yaml_cache._key(path.read_bytes()), str(path)) is None
    same(yaml_cache.load_pack_file(path)[0], expected)


def test_old_files_are_pruned(cache, tmp_path):
    for i in range(yaml_cache.KEEP + 3):
        path = tmp_path / f"f{i}.yaml"
        path.write_text(f"n: {i}\n")
        yaml_cache.load_pack_file(path)
        newest = max(cache.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        os.utime(newest, (i, i + 1_000_000_000))
    assert len(list(cache.glob("*.json"))) == yaml_cache.KEEP
