"""Files of hemedx's caches in the user's cache folder: read only when trusted, written atomically, pruned.

Shared by the validated-pack cache (:mod:`hemedx.rules.pack_cache`) and the parsed-YAML cache
(:mod:`hemedx.rules.yaml_cache`). A file is read only when it sits in a folder of the user's own that
nobody else can write, is the user's own, not a symlink and not writable by others. ``HEMEDX_NO_CACHE=1``
switches every cache off; every failure is the caller's cue to do the work itself.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def cache_dir(kind: str) -> Path | None:
    """The folder of one cache (``packs``, ``yaml``), or None when caching is switched off."""
    if os.environ.get("HEMEDX_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "hemedx" / kind


def read_trusted(path: Path, max_bytes: int) -> bytes | None:
    """The bytes of a cache file, or None when it is absent, too big or not trusted (see the module)."""
    try:
        if not (private(path.parent) and private(path)):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError:
        return None
    return data if len(data) <= max_bytes else None


def write_atomic(directory: Path, name: str, data: bytes, keep: int) -> None:
    """Write ``directory/name`` whole or not at all, then keep the newest ``keep`` files (errors ignored)."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not private(directory):
            return
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, directory / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        prune(directory, keep)
    except OSError:
        return


def private(path: Path) -> bool:
    """The user's own, not a symlink, and writable by nobody else."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def prune(directory: Path, keep: int) -> None:
    """Keep the newest ``keep`` cache files of ``directory``."""
    files = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
