"""JSON output for every ``--json`` view, kept apart from the rich renderers so JSON never imports rich."""

from __future__ import annotations

import json
from typing import Any, TextIO

from hemedx.engine.shown import ShownFloat
from hemedx.safetext import json_text_utf8

try:  # orjson writes indented JSON ~10x faster than the stdlib's pure-Python indenting encoder.
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib writes the same bytes
    orjson = None  # type: ignore[assignment]


def _shown(value: Any) -> Any:
    """Write what orjson cannot write itself: a shown small float, spelled as ``repr`` spells it."""
    if isinstance(value, ShownFloat):
        return orjson.Fragment(float.__repr__(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, byte for byte, through orjson when it can.

    orjson spells floats between 1e-10 and 1e-4 in size otherwise than ``repr`` (``0.00001`` for
    ``1e-05``): every number a view shows goes through :func:`hemedx.engine.shown.rounded`, which marks
    those as :class:`ShownFloat`, and they are written as ``repr`` writes them. A float that bypassed
    it would be written in orjson's spelling, the same number. orjson refuses what the stdlib would
    coerce (integers beyond 64 bits, non-string keys); those documents take the stdlib path.
    (NaN/Infinity, which no hemedx view produces, would be ``null`` from orjson and bare ``NaN`` from
    the stdlib.)
    """
    return _encoded(data).decode()


def _encoded(data: Any) -> bytes:
    if orjson is not None:
        try:
            return orjson.dumps(data, default=_shown, option=orjson.OPT_INDENT_2)
        except TypeError:
            pass
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def emit_json(data: Any, out: TextIO) -> None:
    """Write JSON to ``out`` deterministically: fixed key order, two-space indent, UTF-8 kept as is."""
    out.write(json_text_utf8(_encoded(data)) + "\n")
