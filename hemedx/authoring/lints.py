"""``hemedx rules check``: schema errors, broken references and semantic lints of a rule pack.

Three stages, each reported with a code (see :data:`hemedx.authoring.issues.LINTS`):

1. schema (HX0xx) and references (HX1xx) - every issue the one pack reader (:mod:`hemedx.rules.reader`)
   finds, each entry validated on its own; :func:`hemedx.rules.load_pack` raises the first of them;
3. semantics (HX2xx, HX3xx) - one function per lint over the valid entries: rules that can never fire,
   derivation cycles, implausible thresholds, double-counted evidence, unsupported diagnoses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from hemedx.authoring.content_lints import CONTENT_LINTS
from hemedx.authoring.issues import LINTS, Issue
from hemedx.cases.generator import DISTRIBUTIONS_FILE, load_distributions
from hemedx.engine.compiler import CompiledPack, Variant, compile_rule, shared_pattern_problem
from hemedx.engine.durable_backend import hash_collision
from hemedx.engine.engine import Engine
from hemedx.errors import EngineError, InputError, PathPart
from hemedx.rules.conditions import leaves_about, named, resolve, satisfiable, subject, thresholds, walk
from hemedx.rules.kb import long_lived
from hemedx.rules.model import (
    EvidenceRule,
    Frequency,
    Pack,
)
from hemedx.rules.reader import PackIssue, PackRead, read_pack
from hemedx.rules.thresholds import Param

AGE_RANGE = (0.0, 120.0)


@dataclass
class CheckResult:
    """Issues found in one pack, sorted by file and line, with counts for the summary line."""

    folder: str
    pack_id: str | None
    rules: int
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """How many issues are errors."""
        return sum(1 for i in self.issues if i.info.severity == "error")

    @property
    def warnings(self) -> int:
        """How many issues are warnings."""
        return sum(1 for i in self.issues if i.info.severity == "warning")

    def summary(self) -> str:
        """One line: what was checked and what was found."""
        what = (
            f"pack '{self.pack_id}' ({self.rules} rules)"
            if self.pack_id
            else f"{self.folder} (its pack.yaml could not be read)"
        )
        if not self.issues:
            return f"All checks passed: {what}."
        return (
            f"Found {len(self.issues)} issue{'s' if len(self.issues) != 1 else ''}"
            f" ({self.errors} error{'s' if self.errors != 1 else ''},"
            f" {self.warnings} warning{'s' if self.warnings != 1 else ''}) in {what}."
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON form for tools and editors."""
        return {
            "pack": self.pack_id,
            "folder": self.folder,
            "rules": self.rules,
            "issues": [i.as_dict() for i in self.issues],
            "summary": {"issues": len(self.issues), "errors": self.errors, "warnings": self.warnings},
        }


def check_pack(
    folder: Path | str | None = None, ignore: set[str] | frozenset[str] = frozenset()
) -> CheckResult:
    """Check a pack folder (the default pack when None). Raises InputError only for unreadable files."""
    # The read and the lints make tens of thousands of objects (YAML nodes, entries, an engine) that live
    # until the check is done: the cyclic collector would only scan them over and over.
    with long_lived():
        raw = read_pack(folder)
        issues = [_issue(found) for found in raw.issues]
        pack = raw.pack
        if pack is not None:
            ctx = Context(raw, pack, clean=not issues)
            for lint in (*SEMANTIC_LINTS, *CONTENT_LINTS):
                issues += list(lint(ctx))
            if not raw.issues:  # checked against a pack that loads, so an unknown id is really unknown
                issues += _distributions_issues(folder, pack)
    unknown = sorted(set(ignore) - set(LINTS))
    if unknown:
        raise InputError(
            f"unknown lint code '{unknown[0]}'", field="--ignore", hint=f"codes: {', '.join(LINTS)}"
        )
    kept = sorted({i for i in issues if i.code not in ignore}, key=Issue.sort_key)
    return CheckResult(
        str(raw.folder),
        raw.info.id if raw.info else None,
        len(pack.rules) if pack else len(raw.rules),
        kept,
    )


def _distributions_issues(folder: Path | str | None, pack: Pack) -> list[Issue]:
    """The generator's ``distributions.yaml``, checked as ``generate`` reads it (an overlay's merged).

    A whole pack of its own without the file has nothing to check (``generate`` then needs
    ``--distributions``); the default pack and overlays use the default's file, and an overlay's own.
    """
    if folder is not None and pack.info.extends is None and not (Path(folder) / DISTRIBUTIONS_FILE).is_file():
        return []
    try:
        load_distributions(pack, folder=folder)
    except InputError as err:
        message = f"{err.field}: {err.message}" if err.field else err.message
        return [Issue(err.code or "HX001", message, err.file, err.line, err.column, err.hint)]
    return []


def _issue(found: PackIssue) -> Issue:
    """A reader issue as ``rules check`` lists it."""
    err = found.error
    return Issue(found.code, found.message, err.file, err.line, err.column, err.hint, found.rule)


# --- stage 3: semantic lints -----------------------------------------------------------------------------


class Context:
    """What every semantic lint needs: the pack, its positions and some indexes."""

    def __init__(self, raw: PackRead, pack: Pack, clean: bool) -> None:
        self.raw = raw
        self.pack = pack
        self.clean = clean  # no schema or reference errors: safe to compile
        vocab = pack.vocabulary
        self.findings = {f.id: f for f in vocab.findings}
        self.labs = {lab.id: lab for lab in vocab.labs}
        self.diagnoses = {d.id: d for d in pack.diagnoses}
        self.params = {k: p.value for k, p in pack.info.parameters.items()}
        self.evidence = [r for r in pack.rules if isinstance(r, EvidenceRule)]
        self.deriving = [
            r for r in pack.rules if not isinstance(r, EvidenceRule) and hasattr(r.then, "finding")
        ]

    @cached_property
    def rule_variants(self) -> list[tuple[Any, list[Variant] | InputError]]:
        """Each rule compiled on its own: its variants, or the error that refuses it (too many).

        A rule whose own alternatives exceed durable's limit for one shared pattern is refused too.
        """
        labs, out = self.labs, []
        for rule in self.pack.rules:
            try:
                variants = compile_rule(rule, labs, self.params)
            except InputError as exc:
                out.append((rule, exc))
                continue
            shared = shared_pattern_problem(variants)
            out.append((rule, variants if shared is None else InputError(shared[1], hint=shared[2])))
        return out

    @cached_property
    def compiled(self) -> CompiledPack | None:
        """What :func:`~hemedx.engine.compiler.compile_pack` makes of the pack, or None where it refuses it.

        Built from :attr:`rule_variants`, so a check compiles every rule once (:attr:`engine` reuses it).
        """
        variants: list[Variant] = []
        for _, compiled in self.rule_variants:
            if isinstance(compiled, InputError):
                return None
            variants += compiled
        if shared_pattern_problem(variants) is not None:
            return None
        unsatisfiable = tuple(rule.id for rule, compiled in self.rule_variants if not compiled)
        return CompiledPack(tuple(variants), unsatisfiable)

    @cached_property
    def engine(self) -> Engine | None:
        """One engine for the lints that run cases (HX306, HX108), or None where durable refuses the pack.

        The engine keeps its ruleset and what it derives under the pack's digest: a checked pack gets a
        name of its own, apart from the same content loaded to run it.
        """
        if self.compiled is None:
            return None  # a pack the compiler refuses (HX205 says why) has nothing to run
        pack = self.pack.model_copy(update={"digest": f"check-{self.pack.digest}"})
        try:
            return Engine(pack, compiled=self.compiled)
        except (InputError, EngineError):
            return None  # refused at registration: HX107 says why

    def issue(
        self, code: str, rule_id: str, sub: tuple[PathPart, ...], message: str, hint: str | None
    ) -> Issue:
        """An issue located at ``sub`` inside rule ``rule_id``."""
        return Issue(code, message, suggestion=hint, rule=rule_id, **self.raw.locate("rule", rule_id, sub))


Lint = Callable[[Context], Iterator[Issue]]
SEMANTIC_LINTS: list[Lint] = []


def semantic(fn: Lint) -> Lint:
    """Register a semantic lint (run in registration order)."""
    SEMANTIC_LINTS.append(fn)
    return fn


@semantic
def unsatisfiable(ctx: Context) -> Iterator[Issue]:
    """HX201/HX205/HX107: no consistent alternative, too many of them, or ids durable cannot tell apart."""
    if not ctx.clean:
        return
    variants = []
    for rule, compiled in ctx.rule_variants:
        if isinstance(compiled, InputError):
            yield ctx.issue("HX205", rule.id, ("when",), compiled.message, compiled.hint)
            continue
        variants += compiled
        if not compiled:
            yield ctx.issue(
                "HX201",
                rule.id,
                ("when",),
                f"rule '{rule.id}' can never fire: every alternative of its condition contradicts itself",
                "check the thresholds and states in 'when': a value cannot be both below and above a limit",
            )
    shared = shared_pattern_problem(variants)  # durable's limit across rules
    if shared is not None:
        rule_id, message, hint = shared
        yield ctx.issue("HX205", rule_id, ("when",), message, hint)
    collision = hash_collision(ctx.pack, CompiledPack(tuple(variants), ()))  # what the engine refuses
    if collision is not None:
        message, *names = collision
        yield Issue("HX107", message, **_entry_of(ctx.raw, names))


def _entry_of(raw: PackRead, names: list[str]) -> dict[str, Any]:
    """Where the entry behind one of durable's strings is defined (``f:x:present``, ``lab_x``, ``r#0``...)."""
    for name in reversed(names):
        idents = [name, name.split("#")[0], *name.split(":"), name.partition("_")[2]]
        for ident in idents:
            for section in ("finding", "lab", "test", "diagnosis", "rule"):
                if (section, ident) in raw.where:
                    return raw.locate(section, ident, ("id",))
    return raw.locate("pack", "info")


@semantic
def unreachable_finding(ctx: Context) -> Iterator[Issue]:
    """HX202: a rule needs a finding state that only rules could produce, and none does."""
    available = {(f.id, s) for f in ctx.findings.values() if f.observable for s in ("present", "absent")}
    changed = True
    while changed:  # fixpoint: a finding derived only by a rule that can never fire is unreachable too
        changed = False
        for rule in ctx.deriving:
            produced = (rule.then.finding, rule.then.state)
            if produced not in available and satisfiable(rule.when, available, ctx.findings):
                available.add(produced)
                changed = True
    for rule in ctx.pack.rules:
        if satisfiable(rule.when, available, ctx.findings):
            continue
        for path, leaf in leaves_about(rule.when, "finding"):
            if satisfiable(leaf, available, ctx.findings):
                continue
            state = "present or absent" if leaf.is_ == "known" else leaf.is_
            yield ctx.issue(
                "HX202",
                rule.id,
                (*path, "finding"),
                f"rule '{rule.id}' can never fire: it needs '{leaf.finding}' {state}, which no rule that can"
                " fire concludes and a case may not give (observable: false)",
                f"add a rule that concludes '{leaf.finding}' {state}, or make the finding observable",
            )
            break


@semantic
def derivation_cycle(ctx: Context) -> Iterator[Issue]:
    """HX203: findings derived from each other in a circle."""
    edges: dict[str, dict[str, str]] = {}  # from finding -> {to finding: first rule id}
    for rule in ctx.deriving:
        for finding in named(rule.when, "finding"):
            edges.setdefault(finding, {}).setdefault(rule.then.finding, rule.id)
    order = {r.id: i for i, r in enumerate(ctx.pack.rules)}
    reported: set[frozenset[str]] = set()
    for start in sorted(edges):
        cycle = _cycle_through(start, edges)
        if cycle is None or frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        rule_ids = [edges[a][b] for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True)]
        first = min(rule_ids, key=order.__getitem__)
        chain = " → ".join([*cycle, cycle[0]])
        yield ctx.issue(
            "HX203",
            first,
            ("then", "finding"),
            f"derivation cycle: {chain} (rules {', '.join(rule_ids)})",
            "a finding must not depend on itself; derive it from measured values instead",
        )


def _cycle_through(start: str, edges: dict[str, dict[str, str]]) -> list[str] | None:
    """Shortest path of findings from ``start`` back to itself, or None."""
    frontier: list[list[str]] = [[start]]
    seen = {start}
    while frontier:
        nxt = []
        for path in frontier:
            for target in sorted(edges.get(path[-1], {})):
                if target == start:
                    return path
                if target not in seen:
                    seen.add(target)
                    nxt.append([*path, target])
        frontier = nxt
    return None


@semantic
def implausible_threshold(ctx: Context) -> Iterator[Issue]:
    """HX204: a lab threshold outside the lab's plausible range (or an age outside 0-120)."""
    for rule in ctx.pack.rules:
        for path, leaf in walk(rule.when):
            kind, ident = subject(leaf)
            if kind == "lab" and ident in ctx.labs:
                lab = ctx.labs[ident]
                low, high, what, unit = lab.plausible.min, lab.plausible.max, f"lab '{lab.id}'", lab.unit
            elif (kind, ident) == ("patient", "age"):
                (low, high), what, unit = AGE_RANGE, "patient age", "years"
            else:
                continue
            for key, limit in thresholds(leaf).items():
                value = resolve(limit, ctx.params)  # no band: reference limits are checked on their own
                if value is None:
                    continue
                verdict = _threshold_verdict(key, value, low, high)
                if verdict is None:
                    continue
                shown = f"{limit.keyword} (= {value:g})" if isinstance(limit, Param) else f"{value:g}"
                yield ctx.issue(
                    "HX204",
                    rule.id,
                    (*path, key),
                    f"{key} {shown} is outside the plausible range of {what} ({low:g} to {high:g} {unit}):"
                    f" the condition is {verdict} true",
                    f"is the threshold in {unit}?",
                )


def _threshold_verdict(key: str, value: float, low: float, high: float) -> str | None:
    """'never' or 'always' when a comparison against ``value`` cannot discriminate plausible values."""
    if key == "below":
        return "never" if value <= low else "always" if value > high else None
    if key == "above":
        return "never" if value >= high else "always" if value < low else None
    if key == "at_least":
        return "never" if value > high else "always" if value < low else None
    return "never" if value < low else "always" if value > high else None  # at_most


@semantic
def double_counted_evidence(ctx: Context) -> Iterator[Issue]:
    """HX301: a derived finding and a finding it is derived from both weigh on one diagnosis."""
    ev_by_finding = ctx.pack.kb.evidence_for
    makers: dict[str, list[Any]] = {}
    for rule in ctx.deriving:
        if rule.then.state == "present":
            makers.setdefault(rule.then.finding, []).append(rule)
    reported: set[tuple[str, str]] = set()
    for top in ctx.evidence:
        if top.when.is_ == "absent" or _neutral(top):
            continue
        # Walk the findings that `top`'s finding is derived from, keeping the chain of derived findings.
        stack: list[tuple[str, tuple[str, ...]]] = [(top.when.finding, (top.when.finding,))]
        visited = {top.when.finding}
        while stack:
            node, chain = stack.pop()
            for maker in makers.get(node, []):
                for _, leaf in leaves_about(maker.when, "finding"):
                    if leaf.is_ == "known":
                        continue
                    part = leaf.finding
                    if part not in chain and not _replaced(part, chain, ev_by_finding):
                        for other in ev_by_finding(part):
                            if other.when.is_ not in (leaf.is_, "known") or (top.id, other.id) in reported:
                                continue
                            shared = [d for d in top.then.evidence if d in other.then.evidence]
                            if not shared:
                                continue
                            reported.add((top.id, other.id))
                            names = ", ".join(shared[:3]) + (
                                f" (+{len(shared) - 3})" if len(shared) > 3 else ""
                            )
                            via = " → ".join(reversed((*chain, part)))
                            yield ctx.issue(
                                "HX301",
                                top.id,
                                ("then", "replaces") if top.then.replaces else ("then",),
                                f"'{top.when.finding}' is derived from '{part}' {leaf.is_} ({via}, rule"
                                f" {maker.id}) and rules '{top.id}' and '{other.id}' both weigh on {names}:"
                                " the evidence is counted twice",
                                f"add '{part}' to replaces of '{top.id}'",
                            )
                    if leaf.is_ == "present" and part not in visited:
                        visited.add(part)
                        stack.append((part, (*chain, part)))


def _neutral(rule: EvidenceRule) -> bool:
    """A rule giving every hypothesis the same p changes no odds, so it cannot double-count."""
    values = {p.p if isinstance(p, Frequency) else p for p in rule.then.evidence.values()}
    return values <= {rule.then.otherwise}


def _replaced(
    part: str, chain: tuple[str, ...], ev_by_finding: Callable[[str], tuple[EvidenceRule, ...]]
) -> bool:
    """Whether a present finding on the chain has an evidence rule that replaces ``part``."""
    return any(
        part in rule.then.replaces
        for node in chain
        for rule in ev_by_finding(node)
        if rule.when.is_ in ("present", "known")
    )


@semantic
def unsupported_diagnosis(ctx: Context) -> Iterator[Issue]:
    """HX302: nothing can ever raise a diagnosis above its prior."""
    supported = set()
    for rule in ctx.pack.rules:
        if isinstance(rule, EvidenceRule):
            for dx, p in rule.then.evidence.items():
                value = p.p if isinstance(p, Frequency) else p
                if value > rule.then.otherwise:
                    supported.add(dx)
        elif hasattr(rule.then, "diagnosis"):
            supported.add(rule.then.diagnosis)
    for dx in ctx.pack.diagnoses:
        if dx.id not in supported:
            yield Issue(
                "HX302",
                f"no rule supports diagnosis '{dx.id}': no evidence rule gives it a higher p than"
                " 'otherwise' and no criteria rule concludes it",
                suggestion="add an evidence rule for one of its characteristic findings",
                **ctx.raw.locate("diagnosis", dx.id, ("id",)),
            )


@semantic
def silent_otherwise(ctx: Context) -> Iterator[Issue]:
    """HX303: an evidence rule on a diagnosis's own cardinal or criteria finding leaves it to `otherwise`."""
    relevant: dict[str, set[str]] = {d.id: set(d.cardinal) for d in ctx.pack.diagnoses}
    for rule in ctx.pack.rules:
        dx = getattr(rule.then, "diagnosis", None)
        if dx in relevant:
            relevant[dx] |= set(named(rule.when, "finding"))
    for rule in ctx.evidence:
        finding = rule.when.finding
        silent = [
            d.id for d in ctx.pack.diagnoses if finding in relevant[d.id] and d.id not in rule.then.evidence
        ]
        if silent:
            names = ", ".join(silent)
            yield ctx.issue(
                "HX303",
                rule.id,
                ("then", "evidence"),
                f"'{finding}' is a cardinal or criteria finding of {names}, but rule '{rule.id}' gives"
                f" {'it' if len(silent) == 1 else 'them'} no frequency: the 'otherwise' value"
                f" ({rule.then.otherwise:g}) is used silently",
                f"add '{silent[0]}: <p>' under then.evidence",
            )
