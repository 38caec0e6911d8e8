"""A pack's compiled rules kept between processes, so a new process neither compiles nor re-checks them.

Compiling the default pack and checking its strings for durable_rules hash collisions take ~40 ms of a
~250 ms cold ``hemedx rank``; reading them back takes a few. An entry is keyed by the pack's content
digest and by the size and modification time of every hemedx source file, so a changed compiler (or any
other code) never meets an entry of the old one; it is written only for a pack whose hash check passed,
and stored and trusted as the validated-pack cache is (hemedx.rules.pack_cache: a private folder, an
HMAC tag, ``HEMEDX_NO_CACHE=1`` switches it off); its body is JSON, checked field by field. Anything
unreadable is a miss: the pack is compiled again.
"""

from __future__ import annotations

from typing import Any

import orjson

from hemedx.engine.compiler import CompiledPack, Pattern, Variant, compile_pack
from hemedx.engine.durable_backend import hash_collision
from hemedx.rules import cache_files
from hemedx.rules.model import Pack

KIND = "compiled"
FORMAT = "1"  # the layout of an entry below; a new layout is a new key


def compiled_for(pack: Pack) -> tuple[CompiledPack, bool]:
    """``compile_pack(pack)``, and whether durable's hash check is known to pass for it.

    From the cache when an earlier process compiled this content with this code; otherwise compiled and
    checked here, and stored when the check passes (a pack that fails it is refused by the matcher).
    """
    key = cache_files.entry_key("hemedx-compiled", FORMAT, pack.digest, cache_files.code_fingerprint())
    body = cache_files.read_entry(KIND, key)
    if body is not None:
        compiled = from_json(body)
        if compiled is not None:
            return compiled, True
    compiled = compile_pack(pack)
    if hash_collision(pack, compiled) is not None:
        return compiled, False
    cache_files.write_entry(KIND, key, to_json(compiled))
    return compiled, True


def to_json(compiled: CompiledPack) -> bytes:
    """The compiled pack as JSON (tuples as lists, sets sorted)."""
    return orjson.dumps(
        {
            "variants": [
                [
                    v.name,
                    v.rule_id,
                    [[p.kind, p.name, [list(c) for c in p.constraints]] for p in v.patterns],
                    sorted(v.estimated),
                    [list(c) for c in v.band_cites],
                    sorted(v.other_band_sources),
                ]
                for v in compiled.variants
            ],
            "unsatisfiable": list(compiled.unsatisfiable),
        }
    )


def from_json(body: bytes) -> CompiledPack | None:
    """The compiled pack :func:`to_json` wrote, or None for anything else."""
    try:
        data = orjson.loads(body)
        return CompiledPack(
            variants=tuple(_variant(v) for v in data["variants"]),
            unsatisfiable=tuple(_text(r) for r in data["unsatisfiable"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _variant(data: Any) -> Variant:
    name, rule_id, patterns, estimated, band_cites, other = data
    return Variant(
        name=_text(name),
        rule_id=_text(rule_id),
        patterns=tuple(
            Pattern(_text(kind), _text(pname), tuple(_constraint(c) for c in constraints))
            for kind, pname, constraints in patterns
        ),
        estimated=frozenset(_text(e) for e in estimated),
        band_cites=tuple((_text(source), _optional_text(locator)) for source, locator in band_cites),
        other_band_sources=frozenset(_text(s) for s in other),
    )


def _constraint(data: Any) -> tuple[str, str, Any]:
    prop, op, value = data
    if isinstance(value, list):  # "in": the allowed values, a tuple when compiled
        value = tuple(_text(v) for v in value)
    elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise TypeError(f"constraint value {value!r}")
    return _text(prop), _text(op), value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)
