"""hemedx: a rule-based differential-diagnosis teaching aid for haematology. Not for clinical use.

The library is usable without the CLI::

    from hemedx import load_pack, load_case, rank_case
    pack = load_pack()
    report = rank_case(load_case("case.yaml", pack), pack)
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "get_engine", "load_case", "load_pack", "rank_case"]

if TYPE_CHECKING:
    from hemedx.cases import load_case
    from hemedx.engine import get_engine, rank_case
    from hemedx.rules import load_pack

# Where each public name lives: imported on first use, so that ``import hemedx.cli`` (the command line's
# entry point) decides how its own start goes, and ``hemedx.__version__`` costs nothing.
_HOMES = {
    "load_case": "hemedx.cases",
    "get_engine": "hemedx.engine",
    "rank_case": "hemedx.engine",
    "load_pack": "hemedx.rules",
}


def __getattr__(name: str) -> Any:
    """The public names, imported on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'hemedx' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
