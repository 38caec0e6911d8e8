"""What ``hemedx rules check`` reports: located issues, and the catalogue of lint codes.

Every code has a short name, a severity and a paragraph saying why it matters; the generated docs list
them (``hemedx rules docs``), so an author can look a code up the way ``ruff rule`` works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class LintInfo:
    """One lint code: what it flags and why an author should care."""

    code: str
    name: str
    severity: Severity
    summary: str
    why: str


@dataclass(frozen=True)
class Issue:
    """One problem found in a pack, at ``file:line:column`` when the position is known."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    suggestion: str | None = None
    rule: str | None = None

    @property
    def info(self) -> LintInfo:
        """The catalogue entry of this issue's code."""
        return LINTS[self.code]

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Issues are listed by file, then line, then column (like a compiler)."""
        return (self.file or "", self.line or 0, self.column or 0, self.code, self.message)

    def location(self) -> str:
        """``file:line:col`` (or as much of it as is known)."""
        out = self.file or "<pack>"
        if self.line is not None:
            out += f":{self.line}"
            if self.column is not None:
                out += f":{self.column}"
        return out

    def text(self) -> str:
        """One line: ``path:line:col: HX201 message (suggestion)``."""
        out = f"{self.location()}: {self.code} {self.message}"
        if self.suggestion:
            out += f" ({self.suggestion})"
        return " ".join(out.split())

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with a fixed key order."""
        return {
            "code": self.code,
            "name": self.info.name,
            "severity": self.info.severity,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "rule": self.rule,
            "message": self.message,
            "suggestion": self.suggestion,
        }


def _lint(code: str, name: str, severity: Severity, summary: str, why: str) -> LintInfo:
    return LintInfo(code, name, severity, summary, " ".join(why.split()))


LINTS: dict[str, LintInfo] = {
    info.code: info
    for info in (
        _lint(
            "HX001",
            "schema",
            "error",
            "A file or an entry does not match the pack schema.",
            """Unknown keys, missing required keys, wrong types and out-of-range values. The loader refuses
            such a pack, so nothing else in the entry can be trusted until it is fixed. The JSON Schema from
            `hemedx rules schema` lets an editor flag these while typing.""",
        ),
        _lint(
            "HX101",
            "unknown-id",
            "error",
            "A rule, diagnosis or example names a finding, lab, test, diagnosis, subtype, parameter or test"
            " result the pack does not define.",
            """A typo in an id would make a rule that silently never fires; the pack refuses to load
            instead. The message suggests the nearest defined id.""",
        ),
        _lint(
            "HX102",
            "unknown-source",
            "error",
            "A citation names a source that is not in sources.yaml.",
            """Every statement a learner sees must point at a registered, verified reference. Add the
            source to sources.yaml or fix the id (the nearest match is suggested).""",
        ),
        _lint(
            "HX103",
            "missing-citation",
            "error",
            "A rule, teaching point or parameter has no citation.",
            """Rules, teaching points and documented parameters need at least one `cites` entry so the
            explanation can say where the knowledge comes from.""",
        ),
        _lint(
            "HX104",
            "duplicate-id",
            "error",
            "Two rules (or two findings, labs, tests, sources or diagnoses) share an id.",
            """Ids are stable names used in explanations, tests and overlays; a duplicate makes one entry
            shadow the other.""",
        ),
        _lint(
            "HX105",
            "bad-reference",
            "error",
            "A reference that resolves but cannot be used: `is: known` outside an evidence rule, a"
            " reference limit the lab does not define, an example value of the wrong type.",
            """The pack would not load; the message says what is allowed there.""",
        ),
        _lint(
            "HX106",
            "placeholder",
            "error",
            "A `TODO` is left in a label, title, explanation, description, teaching text or citation"
            " locator.",
            """`hemedx rules new` scaffolds every text with `TODO` so that nothing is forgotten; a pack that
            still has one would show it to learners (an explanation reading "TODO why this matters", a
            reference "TODO section"). Write the text and give the real locator.""",
        ),
        _lint(
            "HX107",
            "hash-collision",
            "error",
            "Two ids (or rule alternatives) have the same 32-bit hash in durable_rules.",
            """durable_rules compares fact ids and property names by a 32-bit hash, so two colliding names
            would be mistaken for each other; the engine refuses to run such a pack. Rename one of
            them.""",
        ),
        _lint(
            "HX108",
            "engine-limit",
            "error",
            "durable_rules cannot evaluate the pack: a probe case makes its matcher fail.",
            """durable_rules has limits no schema shows: its matcher keeps the conditions one fact
            matches on a stack of 64, so a fact that matches more distinct conditions at once (a test
            compared with `in:` in many rule alternatives, a lab compared with dozens of thresholds) makes
            every case fail with an internal error. `rules check` runs probe cases through the engine
            (each test result alone, each lab alone at its lowest and highest plausible value, and every
            test, finding and lab together). Write the shared condition once, as a derived finding, and
            use the finding in the rules.""",
        ),
        _lint(
            "HX201",
            "unsatisfiable",
            "error",
            "A rule's condition contradicts itself in every alternative, so the rule can never fire.",
            """For example `platelets below 20` together with `platelets at_least 150`, or a test that must
            be two different results at once. Usually a threshold or a state was typed the wrong way.""",
        ),
        _lint(
            "HX202",
            "unreachable-finding",
            "error",
            "A rule needs a finding state that nothing produces, so the rule can never fire.",
            """A finding with `observable: false` can only come from rules. If no rule (that can itself fire)
            concludes the state a condition asks for, the condition never holds.""",
        ),
        _lint(
            "HX203",
            "derivation-cycle",
            "error",
            "Interpretation or syndrome rules derive findings from each other in a circle.",
            """A finding that depends on itself has no well-founded explanation ("A because B because A"),
            and the result can depend on which rule happens to run first.""",
        ),
        _lint(
            "HX204",
            "implausible-threshold",
            "error",
            "A numeric threshold lies outside the lab's plausible range (or a patient age outside 0-120).",
            """Such a condition is always or never true for any value a case may contain, which almost
            always means a unit slip (g/L written where the pack uses g/dL, /uL where it uses 10^9/L).""",
        ),
        _lint(
            "HX205",
            "too-many-alternatives",
            "error",
            "A rule expands into more alternatives than the engine accepts, or too many share one condition.",
            """Deeply nested `any` and `at_least` groups multiply (and a reference limit counts once per
            reference band); split the rule into simpler ones. The count is computed before anything is
            built, so such a rule is refused at once. durable_rules also links at most 256 alternatives to
            one exact condition; merge rules that repeat the same condition beyond that.""",
        ),
        _lint(
            "HX301",
            "double-counted-evidence",
            "warning",
            "A finding and a finding derived from it both weigh on the same diagnosis without `replaces`.",
            """Naive Bayes multiplies the factors as if the findings were independent. When pancytopenia is
            present, thrombocytopenia is present by definition: counting both overstates the evidence.
            The evidence rule of the derived finding should list the component in `replaces`.""",
        ),
        _lint(
            "HX302",
            "unsupported-diagnosis",
            "warning",
            "No evidence rule gives the diagnosis a higher probability than `otherwise`, and no criteria rule"
            " concludes it.",
            """Such a diagnosis can only be ranked by its prior: nothing in a case can ever make it more
            likely, so a learner cannot reach it.""",
        ),
        _lint(
            "HX303",
            "silent-otherwise",
            "warning",
            "An evidence rule on one of a diagnosis's cardinal findings, or on a finding its criteria"
            " rules use, gives that diagnosis no explicit frequency.",
            """The diagnosis then inherits the rule's `otherwise` value, which was chosen for the diagnoses
            the finding says little about, and for a finding that defines the diagnosis it is almost always
            wrong:
            a new TTP diagnosis inheriting `otherwise` everywhere ranked below Evans syndrome on its own
            picture and first on a normal count. Give the diagnosis its own value in every such rule.""",
        ),
        _lint(
            "HX304",
            "draft-rule",
            "warning",
            "A rule has `status: draft`.",
            """The engine runs a draft rule exactly like a teaching rule (only `status: retired` drops a
            rule), so a draft already changes what learners see. The warning lists the drafts so that none
            ships unreviewed: review it, then set `status: reviewed` or `teaching`.""",
        ),
        _lint(
            "HX305",
            "unused-finding",
            "warning",
            "A finding that no rule's condition names (nor any `replaces`) and that is no diagnosis's"
            " cardinal finding.",
            """A case may give the finding, but it changes nothing: no evidence weighs it and no rule derives
            anything from it. Usually an evidence rule was forgotten or names the finding with a typo. A
            finding kept on purpose so that cases can record it says `context_only: true` (and is then
            flagged if a rule does use it).""",
        ),
        _lint(
            "HX306",
            "normal-cardinal",
            "warning",
            "A cardinal finding is present for a patient whose every lab lies inside its reference interval.",
            """Cardinal findings put a diagnosis "in play", and in this pack they are all abnormal findings,
            so that a normal blood count puts nothing in play ("nothing in this differential fits"). The
            check runs the pack on a 40-year-old woman with every lab at the middle of its reference
            interval; a cardinal finding derived there (a 'normal count' finding, a rule with its threshold
            the wrong way round) would make a diagnosis look supported on normal results.""",
        ),
    )
}
