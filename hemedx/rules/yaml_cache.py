"""A cache of parsed pack files (data plus positions) in the user's cache folder, keyed by their bytes.

Parsing a pack's YAML strictly, with the position of every key and item, is most of the time of reading
it (``rules check`` of the default pack: ~110 of ~560 ms); reading the same parse products back from JSON
takes a tenth of that. Each file is cached on its own, by the SHA-256 of its bytes, the hemedx version
and the parser's own code (:mod:`hemedx.safeyaml` and PyYAML's version), so an author who edits one
rule file has the others read from the cache. Only a file that parsed cleanly is stored; a file with a
problem is always parsed again, so its error reads as it always has. The cache holds what
:func:`hemedx.safeyaml.parse_yaml` returns and nothing derived from it (no validation, no lint
results): everything after parsing runs every time.

One JSON file per content: a header line with the key, then ``[data, positions]``, where positions are
the line and column of every node in the order :func:`~hemedx.safeyaml.parse_yaml` records them (the
data's own pre-order walk), so no path is stored. Entries are kept and trusted as every hemedx cache's
(:mod:`hemedx.rules.cache_files`: HMAC-tagged, private, keyed, ``HEMEDX_NO_CACHE=1`` switches it off),
and the newest :data:`KEEP` are kept.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from hemedx import __version__, safeyaml
from hemedx.errors import InputError, PathPart
from hemedx.rules import cache_files
from hemedx.safeyaml import Document, load_file, parse_yaml, read_bytes

KIND = "yaml"
KEEP = 64  # cache files kept (the newest): several packs' files and a few edits of each
_FORMAT = 1  # bumped when the layout of a cache file changes


def load_pack_file(path: Path, label: str = "YAML") -> tuple[Document, bytes]:
    """:func:`hemedx.safeyaml.load_file` of one pack file, and the bytes it was read from.

    A cached parse of the same bytes is used when there is one; otherwise the file is parsed (raising
    exactly what ``load_file`` raises) and the result stored for the next process.
    """
    raw = read_bytes(path, label)
    if path.suffix.lower() == ".json":
        return load_file(path, label), raw  # pack files are YAML; JSON is rare and cheap to read
    caching = cache_files.cache_dir(KIND) is not None
    key = _key(raw) if caching else ""
    if caching:
        found = _load(key, str(path))
        if found is not None:
            return found, raw
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    doc = parse_yaml(text, str(path))
    if caching:
        _store(key, doc)
    return doc, raw


def _key(raw: bytes) -> str:
    parser = _parser()
    text = json.dumps(["hemedx", __version__, "yaml", _FORMAT, parser, hashlib.sha256(raw).hexdigest()])
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _parser() -> str:
    """What a parse depends on besides the bytes: the parser's own code and PyYAML's version.

    A hemedx whose ``safeyaml`` changed (a checkout, an edit) never reads what the old one parsed, even
    at the same version number; reading the module (~20 KB) costs a fraction of a millisecond.
    """
    try:
        code = Path(safeyaml.__file__).read_bytes()
    except OSError:  # pragma: no cover - a module loaded from somewhere unreadable: key by version only
        code = b""
    return f"{hashlib.sha256(code).hexdigest()[:16]} pyyaml {yaml.__version__}"


def _load(key: str, file: str) -> Document | None:
    """The cached parse for this key, as a :class:`Document` of ``file``, or None."""
    body = cache_files.read_entry(KIND, key)
    if body is None:
        return None
    try:
        value, numbers = json.loads(body)
        positions = _positions(value, numbers)
    except (ValueError, TypeError, IndexError, RecursionError):
        return None  # not what this module writes: parse the file instead
    return Document(data=value, file=file, positions=positions)


def _store(key: str, doc: Document) -> None:
    """Store a clean parse, unless reading it back would not give exactly ``doc`` (then nothing)."""
    numbers = [n for pos in doc.positions.values() for n in pos]
    try:
        body = json.dumps([doc.data, numbers], separators=(",", ":")).encode()
        same = list(_positions(doc.data, numbers).items()) == list(doc.positions.items())
    except (ValueError, TypeError, RecursionError):  # pragma: no cover - parse_yaml makes plain data
        return
    if not same:  # pragma: no cover - parse_yaml records positions in the data's pre-order
        return
    cache_files.write_entry(KIND, key, body, keep=KEEP)


def _positions(data: Any, numbers: list[Any]) -> dict[tuple[PathPart, ...], tuple[int, int]]:
    """Paths of every node of ``data`` in pre-order, paired with the (line, column) pairs of ``numbers``.

    Raises ValueError unless there is exactly one pair of integers per node.
    """
    if len(numbers) % 2 or not set(map(type, numbers)) <= {int}:  # ints only (not bools): one C pass
        raise ValueError("positions are pairs of integers")
    out: dict[tuple[PathPart, ...], tuple[int, int]] = {}
    pairs = iter(zip(numbers[::2], numbers[1::2], strict=True))

    def walk(value: Any, path: tuple[PathPart, ...]) -> None:
        out[path] = next(pairs)
        if type(value) is dict:
            for k, v in value.items():
                walk(v, (*path, k))
        elif type(value) is list:
            for i, v in enumerate(value):
                walk(v, (*path, i))

    try:
        walk(data, ())
    except StopIteration:
        raise ValueError("fewer positions than nodes") from None
    if next(pairs, None) is not None:
        raise ValueError("more positions than nodes")
    return out
