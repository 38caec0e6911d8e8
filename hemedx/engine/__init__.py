"""Inference: compile a pack onto durable_rules, evaluate a case, rank, explain."""

from hemedx.engine.engine import Engine, get_engine
from hemedx.engine.ranking import Ranking
from hemedx.engine.report import build_report, rank_case

__all__ = ["Engine", "Ranking", "build_report", "get_engine", "rank_case"]
