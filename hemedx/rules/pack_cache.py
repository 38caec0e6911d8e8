"""A cache of validated packs in the user's cache folder, so a new process skips YAML parsing and checks.

One file per pack content and hemedx code: the validated :class:`Pack`, pickled (unpickling it takes ~8
ms; pydantic's schema build and validation of its JSON took ~30, a tenth of a cold ``hemedx rank``).
Other pack-derived data (the compiled rules: hemedx.engine.compiled_cache) are entries of their own kind,
kept and trusted the same way.

Nothing is trusted that this user's hemedx did not write. Every entry carries an HMAC-SHA256 tag made
with a random secret kept in the cache folder (readable by the user only), and is read only when its tag
verifies, the folder and file are the user's own and writable by nobody else, and it records the exact
key it was written for: for a pack, its content digest, the folder it was read from, the hemedx version
and the size and modification time of every hemedx source file (so a changed model class never meets an
old pickle). Only then is a pack unpickled, and even so only classes of :mod:`hemedx.rules.model` may be
named in it. ``HEMEDX_NO_CACHE=1`` switches the cache off; every failure falls back to reading the pack.
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
from functools import cache
from pathlib import Path

from hemedx import __version__
from hemedx.rules import model
from hemedx.rules.model import Pack

KEEP = 8  # cache files kept (the newest); older ones are deleted whenever one is written
MAX_BYTES = 20_000_000  # never read a bigger file (the default pack's is about 0.6 MB)
SECRET_BYTES = 32


def cache_root() -> Path | None:
    """The cache's own folder, or None when the cache is switched off."""
    if os.environ.get("HEMEDX_NO_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "hemedx"


def cache_dir(kind: str = "packs") -> Path | None:
    """The folder of one kind of cache entry, or None when the cache is switched off."""
    root = cache_root()
    return None if root is None else root / kind


def cache_key(folder: str, digest: str) -> str:
    """What a pack's cache file must record to be used: version, code, folder and content, hashed."""
    return entry_key("hemedx", __version__, code_fingerprint(), folder, digest)


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


def load(folder: str, digest: str) -> Pack | None:
    """The cached pack for this folder and content, or None (absent, switched off, or not trusted)."""
    body = read_entry("packs", cache_key(folder, digest))
    if body is None:
        return None
    try:
        pack = _ModelUnpickler(io.BytesIO(body)).load()
    except Exception:  # an entry from other code that still verified: read the pack instead
        return None
    return pack if isinstance(pack, Pack) and pack.digest == digest else None


def store(folder: str, digest: str, pack: Pack) -> None:
    """Write the validated pack for the next process (atomically; failures are ignored)."""
    clean = pack.model_copy()  # without its knowledge base, which the next process builds afresh
    write_entry("packs", cache_key(folder, digest), pickle.dumps(clean, protocol=5))


class _ModelUnpickler(pickle.Unpickler):
    """Unpickles only what a pickled :class:`Pack` names: the classes of :mod:`hemedx.rules.model`."""

    def find_class(self, module: str, name: str) -> type:
        if module == model.__name__:
            found = getattr(model, name, None)
            if isinstance(found, type) and issubclass(found, model.BaseModel):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not a pack class")


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


def write_entry(kind: str, key: str, body: bytes) -> None:
    """Write an entry atomically in a private folder, keeping the newest :data:`KEEP` (failures ignored)."""
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
        _prune(directory)
    except OSError:
        return


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


def _prune(directory: Path) -> None:
    """Keep the newest :data:`KEEP` cache files."""
    files = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()
