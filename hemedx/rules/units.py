"""Unit handling for labs: recognise a unit spelling and convert to the lab's canonical unit."""

from __future__ import annotations

from hemedx.rules.model import Lab


def _norm(unit: str) -> str:
    return "".join(unit.split()).lower().replace("μ", "µ")


def accepted_units(lab: Lab) -> list[str]:
    """The unit spellings a case may use for ``lab``, canonical first (for error messages)."""
    return [lab.unit, *(alt.unit for alt in lab.alternative_units)]


def conversion_factor(lab: Lab, unit: str) -> float | None:
    """Factor that turns a value in ``unit`` into the canonical unit, or ``None`` if the unit is unknown."""
    wanted = _norm(unit)
    if wanted in {_norm(u) for u in (lab.unit, *lab.unit_aliases)}:
        return 1.0
    for alt in lab.alternative_units:
        if wanted in {_norm(u) for u in (alt.unit, *alt.aliases)}:
            return alt.factor
    return None


def to_canonical(lab: Lab, value: float, unit: str | None) -> float:
    """Convert ``value`` given in ``unit`` (canonical when None); ``ValueError`` for an unknown unit."""
    if unit is None:
        return float(value)
    factor = conversion_factor(lab, unit)
    if factor is None:
        raise ValueError(f"unknown unit '{unit}' for {lab.id} (accepted: {', '.join(accepted_units(lab))})")
    # Round away binary noise from the factor (e.g. 68 g/L * 0.1 = 6.800000000000001) so output is stable.
    return round(float(value) * factor, 6)
