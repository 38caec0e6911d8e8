"""Labs derived from what reports give: absolute counts from percentages, indirect bilirubin, reticulocytes.

Reports give the white-cell differential as percentages, bilirubin as total and direct, reticulocytes as a
percentage with the red-cell count; the rules read absolute counts and indirect bilirubin. These derivations
run before the rules, only from exact (not censored) values in canonical units, and never replace a
measured value: when both exist and disagree beyond a tolerance, the disagreement is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Values = dict[str, float]


@dataclass(frozen=True)
class Derivation:
    """One derived lab: which labs it needs, how it is computed, and how its arithmetic reads."""

    lab: str
    needs: tuple[str, ...]
    optional: tuple[str, ...]
    compute: Callable[[Values], float]
    explain: Callable[[Values, float], str]
    tolerance: float  # absolute, canonical unit; a conflict also needs a 10 % relative difference


def _f(x: float) -> str:
    return f"{round(x, 4):g}"


def _white_fraction(v: Values) -> float:
    return v["neutrophils_percent"] + v.get("bands_percent", 0.0)


def _anc_text(v: Values, result: float) -> str:
    parts = f"neutrophils {_f(v['neutrophils_percent'])} %"
    if "bands_percent" in v:
        parts = f"({parts} + bands {_f(v['bands_percent'])} %)"
    return f"anc {_f(result)} = wbc {_f(v['wbc'])} × {parts} / 100"


DERIVATIONS: tuple[Derivation, ...] = (
    Derivation(
        "anc",
        ("wbc", "neutrophils_percent"),
        ("bands_percent",),
        lambda v: v["wbc"] * _white_fraction(v) / 100,
        _anc_text,
        0.1,
    ),
    Derivation(
        "lymphocytes",
        ("wbc", "lymphocytes_percent"),
        (),
        lambda v: v["wbc"] * v["lymphocytes_percent"] / 100,
        lambda v, r: f"lymphocytes {_f(r)} = wbc {_f(v['wbc'])} × {_f(v['lymphocytes_percent'])} % / 100",
        0.1,
    ),
    Derivation(
        "bilirubin_indirect",
        ("bilirubin_total", "bilirubin_direct"),
        (),
        lambda v: v["bilirubin_total"] - v["bilirubin_direct"],
        lambda v, r: (
            f"bilirubin_indirect {_f(r)} = bilirubin_total {_f(v['bilirubin_total'])}"
            f" − bilirubin_direct {_f(v['bilirubin_direct'])}"
        ),
        0.2,
    ),
    Derivation(
        "reticulocytes",
        ("reticulocytes_percent", "rbc"),
        (),
        # % of red cells × RBC (10^12/L) = (p / 100) × rbc × 1000 (10^9/L) = p × rbc × 10.
        lambda v: v["reticulocytes_percent"] * v["rbc"] * 10,
        lambda v, r: (
            f"reticulocytes {_f(r)} = reticulocytes_percent {_f(v['reticulocytes_percent'])}"
            f" × rbc {_f(v['rbc'])} × 10"
        ),
        5.0,
    ),
)


@dataclass(frozen=True)
class Derived:
    """The outcome of deriving: new values, their arithmetic, and measured-vs-derived conflicts."""

    values: Values
    arithmetic: dict[str, str]
    conflicts: tuple[str, ...]


def derive_labs(measured: Values, censored: frozenset[str] | set[str] = frozenset()) -> Derived:
    """Derive what the measured values allow; ``censored`` names labs known only as a bound."""
    values: Values = {}
    arithmetic: dict[str, str] = {}
    conflicts: list[str] = []
    for d in DERIVATIONS:
        if not all(k in measured for k in d.needs):
            continue
        inputs = {k: measured[k] for k in (*d.needs, *d.optional) if k in measured}
        result = round(d.compute(inputs), 6)
        text = d.explain(inputs, result)
        if result < 0:
            conflicts.append(f"{d.lab} not derived: {text} is negative; check the inputs")
            continue
        if d.lab in measured:
            given = measured[d.lab]
            if abs(given - result) > max(d.tolerance, 0.1 * abs(given)):
                conflicts.append(f"measured {d.lab} {_f(given)} disagrees with the derived value ({text})")
            continue  # a measured value is kept as given
        if d.lab in censored:
            continue  # a reported bound is kept too
        values[d.lab] = result
        arithmetic[d.lab] = text
    return Derived(values, arithmetic, tuple(conflicts))
