"""JSON output for every ``--json`` view, kept apart from the rich renderers so JSON never imports rich."""

from __future__ import annotations

import json
import sys
from typing import Any

from hemedx.safetext import json_text


def emit_json(data: Any) -> None:
    """Print JSON deterministically: fixed key order, two-space indent, UTF-8 kept as is."""
    sys.stdout.write(json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")
