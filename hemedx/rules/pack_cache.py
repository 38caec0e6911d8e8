"""A cache of validated packs in the user's cache folder, so a new process skips YAML parsing and checks.

One JSON file per pack content: the validated :class:`Pack` as pydantic dumps it, read back through
pydantic's own validation (no pickle, nothing executable). Other pack-derived data (the compiled rules:
hemedx.engine.compiled_cache) are entries of their own kind, kept and trusted the same way. A file is
used only when it sits in a folder of the user's own that nobody else can write, is the user's own and
not writable by others, and records the exact key it was written for: for a pack, its content digest,
the folder it was read from and the hemedx version. ``HEMEDX_NO_CACHE=1`` switches the cache off; every
failure falls back to reading the pack.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from pydantic import ValidationError

from hemedx import __version__
from hemedx.rules.model import Pack

KEEP = 8  # cache files kept (the newest); older ones are deleted whenever one is written
MAX_BYTES = 20_000_000  # never read a bigger file (the default pack's is about 0.4 MB)


def cache_dir(kind: str = "packs") -> Path | None:
    """The folder of one kind of cache entry, or None when the cache is switched off or has no home."""
    if os.environ.get("HEMEDX_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "hemedx" / kind


def cache_key(folder: str, digest: str) -> str:
    """What a cache file must record to be used: version, folder and content digest, hashed."""
    return entry_key("hemedx", __version__, folder, digest)


def entry_key(*parts: str) -> str:
    """The key of an entry: a hash of everything its content depends on."""
    return hashlib.sha256(json.dumps(list(parts)).encode()).hexdigest()


def load(folder: str, digest: str) -> Pack | None:
    """The cached pack for this folder and content, or None (absent, switched off, or not trusted)."""
    body = read_entry("packs", cache_key(folder, digest))
    if body is None:
        return None
    try:
        pack = Pack.model_validate_json(body)
    except (ValueError, ValidationError):
        return None
    return pack if pack.digest == digest else None


def store(folder: str, digest: str, pack: Pack) -> None:
    """Write the validated pack for the next process (atomically; failures are ignored)."""
    write_entry("packs", cache_key(folder, digest), pack.model_dump_json(by_alias=True).encode())


def read_entry(kind: str, key: str) -> bytes | None:
    """The body of the entry written for ``key``, or None (absent, switched off, too big or not trusted).

    The body is data for the caller to validate; this only vouches that the user's own process wrote it
    for exactly this key and version.
    """
    directory = cache_dir(kind)
    if directory is None:
        return None
    path = directory / f"{key[:32]}.json"
    try:
        if not (_private(directory) and _private(path)):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return None
        head, _, body = data.partition(b"\n")
        if json.loads(head) != {"key": key, "hemedx": __version__}:
            return None
    except (OSError, ValueError):
        return None
    return body


def write_entry(kind: str, key: str, body: bytes) -> None:
    """Write an entry atomically in a private folder, keeping the newest :data:`KEEP` (failures ignored)."""
    directory = cache_dir(kind)
    if directory is None:
        return
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(directory):
            return
        head = json.dumps({"key": key, "hemedx": __version__}).encode()
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(head + b"\n" + body)
            os.replace(tmp, directory / f"{key[:32]}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _prune(directory)
    except OSError:
        return


def _private(path: Path) -> bool:
    """The user's own, not a symlink, and writable by nobody else."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _prune(directory: Path) -> None:
    """Keep the newest :data:`KEEP` cache files."""
    files = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
