"""A pack's compiled rules kept between processes, so a new process neither compiles nor re-checks them.

Compiling the default pack and checking its strings for durable_rules hash collisions take ~40 ms of a
~250 ms cold ``hemedx rank``; reading them back takes a few. An entry is keyed by the pack's content
digest and by the size and modification time of every hemedx source file, so a changed compiler (or any
other code) never meets an entry of the old one; it is written only for a pack whose hash check passed,
and stored and trusted as the validated-pack cache is (hemedx.rules.pack_cache: a private folder, an
HMAC tag, ``HEMEDX_NO_CACHE=1`` switches it off); its body is a pickle that may name only the compiled
form's own classes. Anything unreadable is a miss: the pack is compiled again.
"""

from __future__ import annotations

import pickle

from hemedx.engine.compiler import CompiledPack, Pattern, Variant, compile_pack
from hemedx.engine.durable_backend import hash_collision
from hemedx.rules import cache_files
from hemedx.rules.model import Pack

KIND = "compiled"
FORMAT = "2"  # the layout of an entry (2: a pickle); a new layout is a new key


def compiled_for(pack: Pack) -> tuple[CompiledPack, bool]:
    """``compile_pack(pack)``, and whether durable's hash check is known to pass for it.

    From the cache when an earlier process compiled this content with this code; otherwise compiled and
    checked here, and stored when the check passes (a pack that fails it is refused by the matcher).
    """
    key = cache_files.entry_key("hemedx-compiled", FORMAT, pack.digest, cache_files.code_fingerprint())
    body = cache_files.read_entry(KIND, key)
    if body is not None:
        compiled = from_bytes(body)
        if compiled is not None:
            return compiled, True
    compiled = compile_pack(pack)
    if hash_collision(pack, compiled) is not None:
        return compiled, False
    cache_files.write_entry(KIND, key, to_bytes(compiled))
    return compiled, True


def to_bytes(compiled: CompiledPack) -> bytes:
    """The compiled pack as an entry's body (a pickle of plain frozen dataclasses)."""
    return pickle.dumps(compiled, protocol=5)


def from_bytes(body: bytes) -> CompiledPack | None:
    """The compiled pack :func:`to_bytes` wrote, or None for anything else."""
    try:
        compiled = cache_files.unpickle(body, _compiled_class)
    except Exception:
        return None
    return compiled if isinstance(compiled, CompiledPack) else None


_CLASSES = {
    ("hemedx.engine.compiler", "CompiledPack"): CompiledPack,
    ("hemedx.engine.compiler", "Variant"): Variant,
    ("hemedx.engine.compiler", "Pattern"): Pattern,
    ("builtins", "frozenset"): frozenset,
}


def _compiled_class(module: str, name: str) -> type | None:
    """What a pickled compilation may name: its three dataclasses and frozenset."""
    return _CLASSES.get((module, name))
