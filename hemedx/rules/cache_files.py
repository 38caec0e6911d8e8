"""Entries of hemedx's caches in the user's cache folder: trusted only if this user's hemedx wrote them.

Shared by the validated-pack cache (:mod:`hemedx.rules.pack_cache`), the parsed-YAML cache
(:mod:`hemedx.rules.yaml_cache`) and the compiled rules (:mod:`hemedx.engine.compiled_cache`), each in a
folder of its own kind. An entry is a header line with its key, an HMAC-SHA256 tag made with a random
secret kept in the cache folder (readable by the user only), and a body for the caller to validate. It
is read only when its tag verifies, the folder and file are the user's own, not symlinks and writable by
nobody else, and the header records the exact key and hemedx version asked for. Writes are atomic and
each folder keeps its newest entries. ``HEMEDX_NO_CACHE=1`` switches every cache off; every failure is
the caller's cue to do the work itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import pickle
import stat
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from hemedx import __version__

KEEP = 8  # entries kept per folder (the newest), unless the caller says otherwise
MAX_BYTES = 20_000_000  # never read a bigger entry (the default pack's is about 0.6 MB)
SECRET_BYTES = 32


def cache_root() -> Path | None:
    """The cache's own folder, or None when the cache is switched off."""
    if os.environ.get("HEMEDX_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "hemedx"


def cache_dir(kind: str) -> Path | None:
    """The folder of one kind of cache entry, or None when the cache is switched off."""
    root = cache_root()
    return None if root is None else root / kind


@cache
def code_fingerprint() -> str:
    """Size and modification time of every hemedx source file: any code change makes new keys."""
    root = Path(__file__).resolve().parent.parent
    parts: list[str] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                    stack.append(Path(entry.path))
                elif entry.name.endswith(".py"):
                    info = entry.stat()
                    parts.append(f"{os.path.relpath(entry.path, root)}:{info.st_size}:{info.st_mtime_ns}")
    return entry_key(*sorted(parts))


def entry_key(*parts: str) -> str:
    """The key of an entry: a hash of everything its content depends on."""
    return hashlib.sha256(json.dumps(list(parts)).encode()).hexdigest()


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
        head, _, rest = data.partition(b"\n")
        tag, _, body = rest.partition(b"\n")
        secret = _secret(create=False)
        if secret is None or not hmac.compare_digest(tag, _tag(secret, head, body)):
            return None
        if json.loads(head) != {"key": key, "hemedx": __version__}:
            return None
    except (OSError, ValueError):
        return None
    return body


def write_entry(kind: str, key: str, body: bytes, keep: int = KEEP) -> None:
    """Write an entry atomically in a private folder, keeping the newest ``keep`` (failures ignored)."""
    directory = cache_dir(kind)
    if directory is None:
        return
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(directory):
            return
        secret = _secret(create=True)
        if secret is None:
            return
        head = json.dumps({"key": key, "hemedx": __version__}).encode()
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(head + b"\n" + _tag(secret, head, body) + b"\n" + body)
            os.replace(tmp, directory / f"{key[:32]}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _prune(directory, keep)
    except OSError:
        return


def unpickle(body: bytes, allowed: Callable[[str, str], type | None]) -> Any:
    """The object a verified entry's body pickles, naming only classes ``allowed(module, name)`` returns.

    Even a verified entry is read this way (defence in depth): a pickle naming any other callable is
    refused before anything runs. Raises on anything else; the caller treats that as a miss.
    """

    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> type:
            found = allowed(module, name)
            if found is None:
                raise pickle.UnpicklingError(f"{module}.{name} may not be named in a cache entry")
            return found

    return Restricted(io.BytesIO(body)).load()


def _tag(secret: bytes, head: bytes, body: bytes) -> bytes:
    return hmac.new(secret, head + b"\n" + body, hashlib.sha256).hexdigest().encode()


def _secret(create: bool) -> bytes | None:
    """The user's cache secret (made on first write), or None when it is missing or not private."""
    root = cache_root()
    if root is None:
        return None
    path = root / "secret"
    try:
        if create and not path.exists():
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-secret-")  # mode 0600
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(os.urandom(SECRET_BYTES))
                with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        info = os.lstat(path)
        if not _private(root) or not _private(path) or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as f:
            secret = f.read(SECRET_BYTES + 1)
    except OSError:
        return None
    return secret if len(secret) == SECRET_BYTES else None


def _private(path: Path) -> bool:
    """The user's own, not a symlink, and writable by nobody else."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _prune(directory: Path, keep: int) -> None:
    """Keep the newest ``keep`` cache files of ``directory``."""
    files = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
