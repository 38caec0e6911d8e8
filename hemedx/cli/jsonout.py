"""JSON output for every ``--json`` view, kept apart from the rich renderers so JSON never imports rich."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from hemedx.safetext import json_text

try:  # orjson writes indented JSON ~10x faster than the stdlib's pure-Python indenting encoder.
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib writes the same bytes
    orjson = None  # type: ignore[assignment]

# Where orjson's text can differ from ``json.dumps``: floats below 1e-4, which ``repr`` writes as ``1e-05``
# and orjson as ``0.00001`` or ``1.5e-7``. Any match (even inside a string) hands the document to the
# stdlib, so a false positive costs time, never bytes.
_FLOAT_DIFFERS = re.compile(rb"\de-|0\.0000")


def dumps(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, byte for byte, through orjson when it is safe.

    orjson refuses what the stdlib would coerce (integers beyond 64 bits, non-string keys) and formats very
    small floats differently; those documents take the stdlib path. (NaN/Infinity, which no hemedx view
    produces, would be ``null`` from orjson and bare ``NaN`` from the stdlib.)
    """
    if orjson is not None:
        try:
            raw = orjson.dumps(data, option=orjson.OPT_INDENT_2)
        except TypeError:
            pass
        else:
            if not _FLOAT_DIFFERS.search(raw):
                return raw.decode()
    return json.dumps(data, indent=2, ensure_ascii=False)


def emit_json(data: Any) -> None:
    """Print JSON deterministically: fixed key order, two-space indent, UTF-8 kept as is."""
    sys.stdout.write(json_text(dumps(data)) + "\n")
