"""hemedx: a rule-based differential-diagnosis teaching aid for haematology. Not for clinical use.

The library is usable without the CLI::

    from hemedx import load_pack, load_case, rank_case
    pack = load_pack()
    report = rank_case(load_case("case.yaml", pack), pack)
"""

__version__ = "0.1.0"

from hemedx.cases import load_case
from hemedx.engine import get_engine, rank_case
from hemedx.rules import load_pack

__all__ = ["__version__", "get_engine", "load_case", "load_pack", "rank_case"]
