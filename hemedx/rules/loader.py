"""Load a pack for running it: the one reader (:mod:`hemedx.rules.reader`), refused at its first issue.

``hemedx rules check`` reports every issue the same reader finds, so a pack that loads is a pack that
checks without errors and the other way round. A loaded pack is cached per content, in the process and
(for a pack that is not an overlay) in the user's cache folder.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from hemedx.rules import pack_cache
from hemedx.rules.kb import long_lived
from hemedx.rules.model import Pack
from hemedx.rules.reader import default_pack_path, pack_digest, pack_folder, read_pack

__all__ = ["default_pack_path", "load_pack"]


def load_pack(path: Path | str | None = None) -> Pack:
    """Load, validate and cross-check a pack (the default one when ``path`` is None). Cached per content."""
    folder = pack_folder(path)
    return _load_cached(str(folder.resolve()), pack_digest(folder))


@lru_cache(maxsize=8)
def _load_cached(folder: str, digest: str) -> Pack:
    with long_lived():
        return _load(folder, digest)


def _load(folder: str, digest: str) -> Pack:
    cached = pack_cache.load(folder, digest)  # validated by an earlier process for this very content
    if cached is not None:
        return cached
    read = read_pack(folder, digest)
    error = read.first_error()
    if error is not None:
        raise error
    assert read.pack is not None  # no issue: pack.yaml and the vocabulary were read
    if read.info is not None and read.info.extends is None:
        # an overlay is not stored: its meaning depends on the default pack's files too
        pack_cache.store(folder, digest, read.pack)
    return read.pack
