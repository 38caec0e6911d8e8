"""A cache of validated packs in the user's cache folder, so a new process skips YAML parsing and checks.

One entry per pack content and hemedx code (:mod:`hemedx.rules.cache_files`: HMAC-tagged, private,
keyed): the validated :class:`Pack`, pickled. Unpickling it takes ~8 ms; pydantic's schema build and
validation of its JSON took ~30, a tenth of a cold ``hemedx rank``. The key holds the pack's content
digest, the folder it was read from, the hemedx version and the size and modification time of every
hemedx source file (so a changed model class never meets an old pickle); even a verified entry may name
only classes of :mod:`hemedx.rules.model`. Every failure falls back to reading the pack.
"""

from __future__ import annotations

import pickle

from hemedx import __version__
from hemedx.rules import model
from hemedx.rules.cache_files import code_fingerprint, entry_key, read_entry, unpickle, write_entry
from hemedx.rules.model import Pack

KIND = "packs"


def cache_key(folder: str, digest: str) -> str:
    """What a pack's cache file must record to be used: version, code, folder and content, hashed."""
    return entry_key("hemedx", __version__, code_fingerprint(), folder, digest)


def load(folder: str, digest: str) -> Pack | None:
    """The cached pack for this folder and content, or None (absent, switched off, or not trusted)."""
    body = read_entry(KIND, cache_key(folder, digest))
    if body is None:
        return None
    try:
        pack = unpickle(body, _model_class)
    except Exception:  # an entry from other code that still verified: read the pack instead
        return None
    return pack if isinstance(pack, Pack) and pack.digest == digest else None


def store(folder: str, digest: str, pack: Pack) -> None:
    """Write the validated pack for the next process (atomically; failures are ignored)."""
    clean = pack.model_copy()  # without its knowledge base, which the next process builds afresh
    write_entry(KIND, cache_key(folder, digest), pickle.dumps(clean, protocol=5))


def _model_class(module: str, name: str) -> type | None:
    """What a pickled :class:`Pack` may name: the pydantic classes of :mod:`hemedx.rules.model`."""
    if module == model.__name__:
        found = getattr(model, name, None)
        if isinstance(found, type) and issubclass(found, model.BaseModel):
            return found
    return None
