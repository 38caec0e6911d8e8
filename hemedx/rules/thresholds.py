"""Rule thresholds as typed values: a number, a reference limit of the patient's band, or a pack parameter.

A rule file writes ``below: 100``, ``below: lower_limit`` or ``at_least: param:saa_reticulocyte_cutoff``.
The strings are parsed here, once per distinct text (cached), so no other module compares against
``"lower_limit"`` or slices ``"param:"`` off a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

PARAM_PREFIX = "param:"


@dataclass(frozen=True, slots=True)
class Number:
    """A fixed number in the lab's canonical unit (or years, for age)."""

    value: float


@dataclass(frozen=True, slots=True)
class RefLimit:
    """The low or high limit of the reference interval that fits the patient's sex, age and pregnancy."""

    side: Literal["low", "high"]

    @property
    def keyword(self) -> str:
        """How a rule file spells it."""
        return "lower_limit" if self.side == "low" else "upper_limit"


@dataclass(frozen=True, slots=True)
class Param:
    """A named pack parameter (``param:NAME``), documented once in ``pack.yaml``."""

    name: str

    @property
    def keyword(self) -> str:
        """How a rule file spells it."""
        return f"{PARAM_PREFIX}{self.name}"


Limit = Number | RefLimit | Param


@lru_cache(maxsize=1024)
def _parse_text(text: str) -> Limit:
    if text == "lower_limit":
        return RefLimit("low")
    if text == "upper_limit":
        return RefLimit("high")
    if text.startswith(PARAM_PREFIX):
        return Param(text.removeprefix(PARAM_PREFIX))
    raise ValueError(f"not a threshold: {text!r}")  # the model's pattern lets nothing else through


def parse_threshold(value: float | str) -> Limit:
    """The typed form of a threshold as validated by the pack model."""
    return _parse_text(value) if isinstance(value, str) else Number(float(value))
