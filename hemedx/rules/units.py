"""Unit handling for labs: recognise a unit spelling and convert to the lab's canonical unit.

Spellings differ between people, countries and systems: UCUM writes ``10*9/L`` and ``10*3/uL``, US reports
``K/uL`` or ``K/cumm``, German ones ``Gpt/L``, Japanese ones ``×10^4/µL``. Cell counts are therefore read
as a power of ten per litre (``10^3/uL`` = ``10^9/L``), so every count spelling works for every count lab;
other units match the vocabulary's canonical unit, aliases and alternative units after normalising the
micro sign, superscripts and UCUM's braces and brackets.
"""

from __future__ import annotations

import math
import re

from hemedx.rules.model import Lab

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SYNONYMS = {"{titer}": "titre", "titer": "titre", "[iu]/l": "iu/l", "{cells}/ul": "/ul"}
# Prefixes of a count unit, as powers of ten: K/uL (thousands), M/uL, G/L and Gpt/L (giga), T/L.
_PREFIX = {"": 0, "k": 3, "thou": 3, "m": 6, "g": 9, "gpt": 9, "giga": 9, "t": 12, "tpt": 12}
_PER = {"l": 0, "ml": 3, "ul": 6, "nl": 9}  # per litre, millilitre, microlitre, nanolitre
_COUNT = re.compile(r"^(?:x?10(?:\^|\*|e)?(-?\d{1,2})|(k|thou|m|g|gpt|giga|t|tpt)?)(?:cells)?/(l|ml|ul|nl)$")


def normalise_unit(unit: str) -> str:
    """A comparable spelling: no spaces, lower case, ``u`` for micro, ``^`` powers, ``ul`` for mm³."""
    text = "".join(unit.split()).lower().replace("μ", "u").replace("µ", "u").replace("×", "x")
    text = re.sub(r"(\d)([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)", lambda m: m.group(1) + "^" + m.group(2), text)
    text = text.translate(_SUPERSCRIPTS)
    text = re.sub(r"mc(?=g|l$|mol)", "u", text)
    text = re.sub(r"/(?:cumm|cmm|mm\^?3)$", "/ul", text)
    text = text.replace("cells/", "/")
    return _SYNONYMS.get(text, text)


def count_exponent(unit: str) -> int | None:
    """The power of ten per litre a cell-count unit stands for (``10^3/uL`` -> 9), else ``None``."""
    m = _COUNT.match(normalise_unit(unit))
    if m is None:
        return None
    power, prefix, per = m.groups()
    base = int(power) if power is not None else _PREFIX[prefix or ""]
    return base + _PER[per]


def accepted_units(lab: Lab) -> list[str]:
    """The unit spellings a case may use for ``lab``, canonical first (for error messages)."""
    return [lab.unit, *(alt.unit for alt in lab.alternative_units)]


def conversion_factor(lab: Lab, unit: str) -> float | None:
    """Factor that turns a value in ``unit`` into the canonical unit, or ``None`` if the unit is unknown."""
    wanted = normalise_unit(unit)
    if wanted in {normalise_unit(u) for u in (lab.unit, *lab.unit_aliases)}:
        return 1.0
    for alt in lab.alternative_units:
        if wanted in {normalise_unit(u) for u in (alt.unit, *alt.aliases)}:
            return alt.factor
    canonical, given = count_exponent(lab.unit), count_exponent(unit)
    if canonical is not None and given is not None:
        return 10.0 ** (given - canonical)
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


_COUNT_CANDIDATES = ("/uL", "10^3/uL", "10^4/uL", "10^6/uL", "10^9/L", "10^12/L")


def probable_unit(lab: Lab, value: float, stated: str | None) -> tuple[str, float] | None:
    """The unit in which an implausible ``value`` would be plausible, and the value it would then be.

    Of the lab's accepted units (and, for counts, the usual count units) the one that puts the value
    nearest the middle of the reference interval (on a log scale) wins; ``None`` when none fits.
    """
    candidates = list(accepted_units(lab))
    if count_exponent(lab.unit) is not None:
        candidates += [u for u in _COUNT_CANDIDATES if u not in candidates]
    stated_norm = normalise_unit(stated) if stated else normalise_unit(lab.unit)
    centre = _centre(lab)
    best: tuple[float, str, float] | None = None
    for unit in candidates:
        factor = conversion_factor(lab, unit)
        if factor is None or normalise_unit(unit) == stated_norm:
            continue
        if stated and factor == conversion_factor(lab, stated):
            continue  # another spelling of the stated unit
        converted = round(value * factor, 6)
        if not lab.plausible.min <= converted <= lab.plausible.max:
            continue
        distance = abs(math.log10(max(converted, 1e-9)) - math.log10(centre))
        if best is None or distance < best[0]:
            best = (distance, unit, converted)
    return None if best is None else (best[1], best[2])


def _centre(lab: Lab) -> float:
    for band in lab.reference:
        if band.low is not None and band.high is not None and band.low > 0:
            return math.sqrt(band.low * band.high)
    low, high = max(lab.plausible.min, 1e-3), lab.plausible.max
    return math.sqrt(low * high)


def with_unit(shown: str, unit: str) -> str:
    """'9.1 g/dL'; a titre (stored as its reciprocal) reads as the dilution a report prints, '1:1024'."""
    if unit != "titre":
        return f"{shown} {unit}"
    comparator = shown[:1] if shown[:1] in "<>" else ""
    return f"{comparator}1:{shown[len(comparator) :]}"


def as_written(lab: Lab, canonical: str, given: tuple[float, str] | None, comparator: str = "") -> str:
    """A lab value in the unit the case wrote, with the canonical value beside: '91 g/L (9.1 g/dL)'.

    ``canonical`` is the canonical text ('9.1 g/dL'); it is returned alone when the case used the
    canonical unit, and dropped when the case's unit is only another spelling of it ('x10^9/L').
    """
    if given is None:
        return canonical
    value, unit = given
    written = f"{comparator}{value:g} {unit}"
    return written if conversion_factor(lab, unit) == 1.0 else f"{written} ({canonical})"
