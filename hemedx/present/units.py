"""Units as a teacher writes them: ``10^9/L`` becomes ``×10⁹/L`` wherever a learner reads it."""

from __future__ import annotations

import re
from typing import Any

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_POWER = re.compile(r"(\s?)(?:[x×]\s?)?(?<![\d.])10\^(-?\d+)")


def as_written(text: str) -> str:
    """``11 10^9/L`` → ``11 ×10⁹/L``; ``< 20 x 10^9/L`` → ``< 20 ×10⁹/L``; ``10^3/uL`` → ``×10³/uL``."""
    return _POWER.sub(lambda m: f"{m.group(1)}×10{m.group(2).translate(_SUPERSCRIPT)}", text)


def units_as_written(data: Any) -> Any:
    """Every string in plain data (dicts, lists) with :func:`as_written` applied; keys are left alone."""
    if isinstance(data, str):
        return as_written(data)
    if isinstance(data, dict):
        return {k: units_as_written(v) for k, v in data.items()}
    if isinstance(data, list):
        return [units_as_written(v) for v in data]
    return data
