"""Did-you-mean suggestions for unknown ids, so an error tells the author what would be right."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(word: str, choices: Iterable[str], limit: int = 1) -> list[str]:
    """Return up to ``limit`` known ids closest to ``word`` (empty when nothing is close)."""
    pool = sorted(set(choices))
    lowered = {c.lower(): c for c in pool}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=limit, cutoff=0.6)
    if not found:  # a prefix or substring often beats edit distance for ids like "hb" -> "hemoglobin"
        found = [c for c in lowered if c.startswith(word.lower()) or word.lower() in c][:limit]
    return [lowered[f] for f in found]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Phrase the nearest match as a hint, or ``None``."""
    best = nearest(word, choices)
    return f"did you mean '{best[0]}'?" if best else None
