"""The engine facade: a compiled pack plus its matcher, evaluating snapshots of cases."""

from __future__ import annotations

from hemedx.cases.model import Snapshot
from hemedx.engine.compiled_cache import compiled_for
from hemedx.engine.compiler import CompiledPack
from hemedx.engine.durable_backend import matcher_for
from hemedx.engine.facts import snapshot_facts
from hemedx.engine.ranking import Ranking, rank
from hemedx.engine.trace import Firing, Matcher
from hemedx.rules.model import Pack


class Engine:
    """Evaluate snapshots against one pack. Build it with :func:`get_engine` (one per pack per process)."""

    def __init__(
        self, pack: Pack, matcher: Matcher | None = None, compiled: CompiledPack | None = None
    ) -> None:
        """``compiled`` is ``compile_pack(pack)`` when the caller has made it already (``rules check``).

        Otherwise it comes from the compiled cache when an earlier process compiled the same content.
        """
        self.pack = pack
        checked = False
        if compiled is None:
            compiled, checked = compiled_for(pack)
        self.compiled: CompiledPack = compiled
        self.matcher: Matcher = matcher if matcher is not None else matcher_for(pack, compiled, checked)

    def infer(self, snapshot: Snapshot) -> list[Firing]:
        """Run the rules to a fixpoint over one snapshot."""
        return self.matcher.run(self.compiled, snapshot_facts(snapshot), dict(snapshot.findings))

    def rank(self, snapshot: Snapshot, uniform_priors: bool = False) -> Ranking:
        """Infer, then rank the differential."""
        return rank(self.pack, dict(snapshot.findings), self.infer(snapshot), uniform_priors, snapshot.age)


def get_engine(pack: Pack) -> Engine:
    """The process-wide engine of ``pack`` (compiled and registered once, kept under its content digest)."""
    return pack.kb.derived("engine", lambda: Engine(pack))
