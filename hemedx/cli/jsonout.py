"""JSON output for every ``--json`` view, kept apart from the rich renderers so JSON never imports rich."""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

from hemedx.safetext import json_text

try:  # orjson writes indented JSON ~10x faster than the stdlib's pure-Python indenting encoder.
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib writes the same bytes
    orjson = None  # type: ignore[assignment]

# The one place orjson's text differs from ``json.dumps``: floats below 1e-4, which ``repr`` writes as
# ``1e-05`` and orjson as ``0.00001`` or ``1.5e-7`` (every report has a few such probabilities). In indented
# output a number value is the last thing on its line, after a space, and strings never hold a raw newline,
# so a whole "space .. end of line" run that is a number is a value, never text inside a string.
_NEEDLES = (b"e-", b"0.0000")
_NUMBER = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?")


def _repr_small_floats(raw: bytes) -> bytes:
    """``raw`` with every float token orjson wrote near a needle rewritten as ``repr`` writes it.

    ``bytes.find`` jumps between the few candidates; a regex over the whole ~300 KB document cost more than
    orjson itself.
    """
    fixes: dict[int, tuple[int, bytes]] = {}
    for needle in _NEEDLES:
        hit = raw.find(needle)
        while hit != -1:
            start = max(raw.rfind(b" ", 0, hit), raw.rfind(b"\n", 0, hit)) + 1
            end = raw.find(b"\n", hit)
            end = len(raw) if end == -1 else end
            token = raw[start:end]
            if token.endswith(b","):
                token, end = token[:-1], end - 1
            if _NUMBER.fullmatch(token):
                fixes[start] = (end, repr(float(token)).encode())
            hit = raw.find(needle, hit + 1)
    if not fixes:
        return raw
    parts, done = [], 0
    for start in sorted(fixes):
        end, text = fixes[start]
        parts += [raw[done:start], text]
        done = end
    parts.append(raw[done:])
    return b"".join(parts)


def dumps(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, byte for byte, through orjson when it can.

    orjson refuses what the stdlib would coerce (integers beyond 64 bits, non-string keys); those documents
    take the stdlib path. (NaN/Infinity, which no hemedx view produces, would be ``null`` from orjson and
    bare ``NaN`` from the stdlib.)
    """
    if orjson is not None:
        try:
            raw = orjson.dumps(data, option=orjson.OPT_INDENT_2)
        except TypeError:
            pass
        else:
            return _repr_small_floats(raw).decode()
    return json.dumps(data, indent=2, ensure_ascii=False)


def emit_json(data: Any, out: TextIO) -> None:
    """Write JSON to ``out`` deterministically: fixed key order, two-space indent, UTF-8 kept as is."""
    out.write(json_text(dumps(data)) + "\n")
