"""A cache of validated packs in the user's cache folder, so a new process skips YAML parsing and checks.

One JSON file per pack content: the validated :class:`Pack` as pydantic dumps it, read back through
pydantic's own validation (no pickle, nothing executable). A file is used only when it is trusted (see
:mod:`hemedx.rules.cache_files`) and records the exact key it was written for: the pack's content
digest, the folder it was read from and the hemedx version. ``HEMEDX_NO_CACHE=1`` switches the cache
off; every failure falls back to reading the pack.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from hemedx import __version__
from hemedx.rules import cache_files
from hemedx.rules.model import Pack

KEEP = 8  # cache files kept (the newest); older ones are deleted whenever one is written
MAX_BYTES = 20_000_000  # never read a bigger file (the default pack's is about 0.4 MB)


def cache_dir() -> Path | None:
    """The folder of the cache, or None when it is switched off or has no home."""
    return cache_files.cache_dir("packs")


def cache_key(folder: str, digest: str) -> str:
    """What a cache file must record to be used: version, folder and content digest, hashed."""
    text = json.dumps(["hemedx", __version__, folder, digest])
    return hashlib.sha256(text.encode()).hexdigest()


def load(folder: str, digest: str) -> Pack | None:
    """The cached pack for this folder and content, or None (absent, switched off, or not trusted)."""
    directory = cache_dir()
    if directory is None:
        return None
    key = cache_key(folder, digest)
    data = cache_files.read_trusted(directory / f"{key[:32]}.json", MAX_BYTES)
    if data is None:
        return None
    try:
        head, _, body = data.partition(b"\n")
        if json.loads(head) != {"key": key, "hemedx": __version__}:
            return None
        pack = Pack.model_validate_json(body)
    except (ValueError, ValidationError):
        return None
    return pack if pack.digest == digest else None


def store(folder: str, digest: str, pack: Pack) -> None:
    """Write the validated pack for the next process (atomically; failures are ignored)."""
    directory = cache_dir()
    if directory is None:
        return
    key = cache_key(folder, digest)
    head = json.dumps({"key": key, "hemedx": __version__}).encode()
    body = pack.model_dump_json(by_alias=True).encode()
    cache_files.write_atomic(directory, f"{key[:32]}.json", head + b"\n" + body, KEEP)
