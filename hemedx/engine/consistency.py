"""Consistency of a case: observed findings the rules contradict, and labs that contradict each other.

A case author may state a finding the labs already decide ("pancytopenia: present" with normal counts).
The engine never lets a derivation override an observation, so such a case ranks silently on a false
premise; here the overridden derivations are reported instead, with the rule that would have concluded
otherwise. Lab conflicts are the measured-vs-derived disagreements of ``hemedx.cases.derive`` and white-cell
subsets larger than the white-cell count.
"""

from __future__ import annotations

from hemedx.cases.model import Case, Stage
from hemedx.engine.engine import get_engine
from hemedx.rules.model import Pack

_TOLERANCE = 1.05  # rounding in reports: subsets may exceed the total by a few per cent


def case_problems(case: Case, pack: Pack) -> list[str]:
    """Every inconsistency of ``case``, each as one line naming the stage and field, first stage first."""
    engine = get_engine(pack)
    rules = pack.kb.rules
    seen: set[str] = set()
    out: list[str] = []
    for index, stage in enumerate(case.stages):
        snap = case.snapshot(index)
        firings = engine.infer(snap)
        supported = {f.derived for f in firings if f.derived and f.outcome in ("new", "again")}
        for firing in firings:
            if firing.outcome != "overridden" or not firing.derived:
                continue
            _, name, state = firing.derived.split(":")
            observed = snap.findings.get(name)
            if observed is None or (state == "absent" and f"f:{name}:{observed}" in supported):
                continue  # another rule agrees with the observation: present wins over absent
            key = f"{name}:{observed}:{state}"
            if key in seen:
                continue
            seen.add(key)
            where = _finding_stage(case, index, name)
            title = rules[firing.rule_id].title
            out.append(
                f"stages[{where}].findings.{name}: observed {observed}, but the case's own values say {state}"
                f" ({firing.rule_id}: {title})"
            )
        for conflict in snap.lab_conflicts:
            if conflict not in seen:
                seen.add(conflict)
                out.append(f"stages[{index}].labs: {conflict}")
        out.extend(f"stages[{index}].labs: {p}" for p in _subsets(stage) if p not in seen)
        seen.update(_subsets(stage))
    return out


def _finding_stage(case: Case, upto: int, name: str) -> int:
    """The stage (at or before ``upto``) whose findings last set ``name``."""
    for index in range(upto, -1, -1):
        if name in case.stages[index].findings:
            return index
    return upto


def _subsets(stage: Stage) -> list[str]:
    labs = stage.labs
    wbc = labs.get("wbc")
    if wbc is None:
        return []
    parts = {k: labs[k] for k in ("anc", "lymphocytes") if k in labs}
    total = sum(parts.values())
    if parts and total > wbc * _TOLERANCE + 0.05:
        shown = " + ".join(f"{k} {v:g}" for k, v in parts.items())
        return [f"{shown} exceeds wbc {wbc:g} (10^9/L): one of them is probably in another unit"]
    return []
