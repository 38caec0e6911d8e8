"""Did-you-mean suggestions for unknown ids, so an error tells the author what would be right."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def nearest(word: str, choices: Iterable[str], limit: int = 1) -> list[str]:
    """Return up to ``limit`` known ids closest to ``word`` (empty when nothing is close)."""
    pool = sorted(set(choices))
    lowered = {c.lower(): c for c in pool}
    import difflib  # only a misspelling needs it: not every command's start

    found = difflib.get_close_matches(word.lower(), list(lowered), n=limit, cutoff=0.6)
    if not found:  # a prefix or substring often beats edit distance for ids like "hb" -> "hemoglobin"
        found = [c for c in lowered if c.startswith(word.lower()) or word.lower() in c][:limit]
    return [lowered[f] for f in found]


def did_you_mean(word: str, choices: Iterable[str], aliases: Mapping[str, str] | None = None) -> str | None:
    """Phrase the nearest match as a hint, or ``None``.

    ``aliases`` maps other names (the pack's synonyms, lower-cased: ``hb`` -> ``hemoglobin``) to ids, so
    a learner typing an abbreviation is pointed at the id it stands for.
    """
    pool = set(choices)
    if aliases:
        low = word.strip().lower()
        if low in aliases and aliases[low] in pool:
            return f"did you mean '{aliases[low]}'?"
        usable = {name: target for name, target in aliases.items() if target in pool}
        best = nearest(word, pool | set(usable))
        best = [usable.get(b, b) for b in best]
    else:
        best = nearest(word, pool)
    return f"did you mean '{best[0]}'?" if best else None
