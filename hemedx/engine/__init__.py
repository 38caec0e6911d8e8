"""Inference: compile a pack onto durable_rules, evaluate a case, rank, explain.

The names are imported on first use, so a command that only builds an engine (``rules check``) does not
load the report builder and the next-test advisor with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hemedx.lazy import lazy_exports

if TYPE_CHECKING:
    from hemedx.engine.engine import Engine, get_engine
    from hemedx.engine.ranking import Ranking
    from hemedx.engine.report import build_report, rank_case

__all__ = ["Engine", "Ranking", "build_report", "get_engine", "rank_case"]

_HOMES = {
    "Engine": "hemedx.engine.engine",
    "get_engine": "hemedx.engine.engine",
    "Ranking": "hemedx.engine.ranking",
    "build_report": "hemedx.engine.report",
    "rank_case": "hemedx.engine.report",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
