"""Censored lab values ("<10", ">=1000"): a bound instead of a number, and what it says against a cut-off.

A laboratory that reports "haptoglobin < 10" says only that the value lies below 10. Against a cut-off of
25 that is certainly below; against 5 it is undetermined: the value may lie on either side. Rules fire on
what is certain only, so an undetermined comparison fires neither the "low" nor the "normal" rule.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Comparator = Literal["<", "<=", ">", ">="]
COMPARATORS: tuple[str, ...] = ("<", "<=", ">", ">=")
# People also write the mathematical signs; they mean the same as the ASCII spellings.
_SIGNS = {"≤": "<=", "≥": ">=", "=<": "<=", "=>": ">="}
_TEXT = re.compile(r"^\s*(<=|>=|=<|=>|<|>|≤|≥)\s*([0-9]+(?:\.[0-9]+)?)\s*$")


@dataclass(frozen=True)
class Censored:
    """A value known only to lie beyond a bound: ``comparator`` ``bound`` (canonical unit)."""

    comparator: Comparator
    bound: float

    def shown(self, decimals: int) -> str:
        """The value as a learner reads it, e.g. ``<10``."""
        return f"{self.comparator}{self.bound:.{decimals}f}"


def parse_censored(text: str) -> Censored | None:
    """Read ``"<10"``, ``">= 1000"`` or ``"≤5"``; ``None`` when the text is not a censored number."""
    m = _TEXT.match(text)
    if m is None:
        return None
    sign = _SIGNS.get(m.group(1), m.group(1))
    return Censored(sign, float(m.group(2)))  # type: ignore[arg-type]


def normalise_comparator(text: str) -> str | None:
    """The ASCII comparator for a spelling such as ``≤``; ``None`` if it is not one."""
    sign = _SIGNS.get(text.strip(), text.strip())
    return sign if sign in COMPARATORS else None


def compare(value: float | Censored, op: str, threshold: float) -> bool | None:
    """Does ``value`` satisfy ``op threshold`` (op: lt, lte, gt, gte)? ``None`` when it cannot be told."""
    if not isinstance(value, Censored):
        return {
            "lt": value < threshold,
            "lte": value <= threshold,
            "gt": value > threshold,
            "gte": value >= threshold,
        }[op]
    if _certain(value, op, threshold):
        return True
    if _certain(value, _NEGATION[op], threshold):
        return False
    return None


_NEGATION = {"lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt"}


def _certain(value: Censored, op: str, threshold: float) -> bool:
    """Every number the censored value allows satisfies ``op threshold``."""
    c, b = value.comparator, value.bound
    if c in ("<", "<="):  # values reach up to b (excluded for "<")
        if op == "lt":
            return b <= threshold if c == "<" else b < threshold
        if op == "lte":
            return b <= threshold
        return False  # no lower bound: gt/gte can never be certain
    if op == "gt":
        return b >= threshold if c == ">" else b > threshold
    if op == "gte":
        return b >= threshold
    return False


def comparison_properties(value: float | Censored) -> dict[str, float]:
    """Per-operator properties of a lab fact, so a matcher needs one comparison and no disjunction.

    ``v_lt < T`` holds exactly when the value is certainly below T, ``v_lte <= T`` when certainly at most
    T, and so on. For an exact value all four are the value. For "<b" the value is certainly below T
    when b <= T, which for floating-point T is the same as ``nextafter(b, -inf) < T``. A one-sided bound
    has no properties for the other side, so those comparisons never match.
    """
    if not isinstance(value, Censored):
        v = _plain(float(value))
        return {"v_lt": v, "v_lte": v, "v_gt": v, "v_gte": v}
    b = float(value.bound)
    props = {
        "<": {"v_lt": math.nextafter(b, -math.inf), "v_lte": b},
        "<=": {"v_lt": b, "v_lte": b},
        ">": {"v_gt": math.nextafter(b, math.inf), "v_gte": b},
        ">=": {"v_gt": b, "v_gte": b},
    }[value.comparator]
    return {k: _plain(v) for k, v in props.items()}


_TINY = 0.0001


def _plain(x: float) -> float:
    """A number whose JSON form has no exponent: durable_rules misreads ``1e-05`` in a fact.

    Magnitudes below 0.0001 (for example just above a bound of 0) become 0.0001 with their sign; a pack
    threshold strictly between 0 and 0.0001 would be compared inexactly, and no lab has one.
    """
    return math.copysign(_TINY, x) if 0 < abs(x) < _TINY else x
