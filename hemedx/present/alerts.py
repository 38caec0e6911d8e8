"""Alerts as one line a teacher reads out: urgency, what, because what, and what to do next."""

from __future__ import annotations

from typing import Any


def alert_line(alert: Any) -> str:
    """'EMERGENCY: Neutropenic fever (because …). Next: …' from a ``rank --json`` alert entry."""
    if isinstance(alert, dict) and isinstance(alert.get("label"), str) and "because" in alert:
        urgency = f"{str(alert['urgency']).upper()}: " if alert.get("urgency") else ""
        because = "; ".join(str(b) for b in alert.get("because") or [])
        text = urgency + alert["label"] + (f" (because {because})" if because else "")
        return text + (f". Next: {alert['next_test']}" if alert.get("next_test") else "")
    if isinstance(alert, dict):
        for key in ("text", "message", "title", "label"):
            if isinstance(alert.get(key), str):
                return alert[key]
        return "; ".join(f"{k}: {v}" for k, v in alert.items() if isinstance(v, str | int | float))
    return str(alert)
