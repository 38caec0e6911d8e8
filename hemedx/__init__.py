"""hemedx: a rule-based differential-diagnosis teaching aid for haematology. Not for clinical use.

The library is usable without the CLI::

    from hemedx import load_pack, load_case, rank_case
    pack = load_pack()
    report = rank_case(load_case("case.yaml", pack), pack)

The names are imported on first use, so ``import hemedx.cli`` (or any one submodule) does not load the
case reader, the engine and the pack models before it needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hemedx.lazy import lazy_exports

__version__ = "0.1.0"

if TYPE_CHECKING:
    from hemedx.cases import load_case
    from hemedx.engine import get_engine, rank_case
    from hemedx.rules import load_pack

__all__ = ["__version__", "get_engine", "load_case", "load_pack", "rank_case"]

_HOMES = {
    "load_case": "hemedx.cases",
    "get_engine": "hemedx.engine",
    "rank_case": "hemedx.engine",
    "load_pack": "hemedx.rules",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
