"""How a probability is shown to a learner: one decimal, and never a false certainty or a false zero.

Posteriors multiply many likelihood ratios, so a leader reaches 0.9997 long before the work-up is done;
"100.0 %" before the marrow would read as certainty the tool does not have, as "0.0 %" reads as impossible.
"""

from __future__ import annotations


def percent(p: float) -> str:
    """'29.8%', '<0.1%' for something possible but tiny, '>99.9%' for a leader short of certainty."""
    if 0 < p < 0.0005:
        return "<0.1%"
    if p >= 0.9995:
        return ">99.9%"
    return f"{p * 100:.1f}%"
