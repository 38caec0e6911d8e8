"""How a number is shown to a learner: the JSON views' rounding, and percentages with one decimal.

Every view, and every score a learner redoes by hand, starts from these, so what is added up is what
was shown. Posteriors multiply many likelihood ratios, so a leader reaches 0.9997 long before the
work-up is done; "100.0 %" before the marrow would read as certainty the tool does not have, as
"0.0 %" reads as impossible.
"""

from __future__ import annotations

LR_DIGITS = 4  # likelihood ratios (and their log10) are written with four decimals, the rest with six


class ShownFloat(float):
    """A shown number below 1e-4 in size, marked so the JSON writer spells it as ``repr`` does (``1e-05``).

    orjson, which writes every ``--json`` view, spells exactly these floats otherwise (``0.00001``,
    ``1.5e-7``); marking them where they are rounded spares the writer a search of the whole document.
    """

    __slots__ = ()


def rounded(x: float, digits: int = 6) -> float:
    """A number as the JSON views write it (six decimals by default, never "-0.0")."""
    value = round(x, digits)
    if value == 0:
        return 0.0
    return ShownFloat(value) if -1e-4 < value < 1e-4 else value


def probability_shown(p: float) -> float:
    """A probability as every JSON view writes it, and so as every table shows it."""
    return rounded(p)


def percent_shown(p: float) -> float:
    """A probability's shown percentage as a number with one decimal: what a learner adds up."""
    return float(f"{probability_shown(p) * 100:.1f}")


def percent(p: float) -> str:
    """'29.8%', '<0.1%' for something possible but tiny, '>99.9%' for a leader short of certainty."""
    if 0 < p < 0.0005:
        return "<0.1%"
    if p >= 0.9995:
        return ">99.9%"
    return f"{p * 100:.1f}%"
