"""The demo's stage card: one walkthrough stage in one terminal screen, from the same stage dict.

The full stage (``render_stage``) lists every revealed value, every derived finding with its reasons
and every reference: over a hundred lines, which scroll off a projected screen. The card shows the same
stage packed (revealed values comma-joined, derived findings that are present, the top of the table, the
next test in two lines, the sources by number) and drops detail step by step until it fits; ``d`` at the
demo's prompt shows the full stage. Citation numbers are the stage dict's, so they match the full view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from rich.console import Console
from rich.text import Text

from hemedx.cli.render import alert_title, alerts_block, stage_table, verdict
from hemedx.rules.model import Pack

INDENT = 2  # a packed group ("  Present: …") wraps under its own text, two further in
MIN_WRAP = 10  # narrower than this a wrapped line says nothing; it is cut instead
SOURCE_NAME = 24  # a source's short name ("QuickTakes", "Rodeghiero F…") is cut to this many characters


@dataclass(frozen=True)
class Fit:
    """How much of a stage a card shows; :data:`FITS` loosens nothing and tightens one thing a step."""

    note_lines: int | None = None  # the stage's note: all of it, its first lines, or none (0)
    derived_each: bool = True  # one line per present derived finding, or all of them comma-joined
    top: int = 5  # rows of the differential
    named_sources: bool = True  # "[3] QuickTakes, [7] …" (when that fits two lines), or "[3] [7] …"
    group_lines: int | None = None  # lines per revealed group (Present, Absent, Results), or all
    alerts: Literal["full", "short", "brief"] = "full"  # as in the full stage; 3 lines each; 2 (no because)


_TIGHT = Fit(named_sources=False, note_lines=1, derived_each=False, top=3)
FITS = (
    Fit(),
    Fit(named_sources=False),
    Fit(named_sources=False, note_lines=1),
    Fit(named_sources=False, note_lines=1, derived_each=False),
    _TIGHT,
    replace(_TIGHT, note_lines=0),
    replace(_TIGHT, note_lines=0, alerts="short"),
    replace(_TIGHT, note_lines=0, alerts="short", group_lines=2),
    replace(_TIGHT, note_lines=0, alerts="short", group_lines=1),
    replace(_TIGHT, note_lines=0, alerts="brief", group_lines=1),
)


def short_labels(pack: Pack) -> dict[str, str]:
    """Lab and test ids to their short labels (Hb, WBC, DAT): what a packed result line names them by."""
    kb = pack.kb
    return {i.id: i.short for i in (*kb.labs.values(), *kb.tests.values()) if i.short}


def rendered(out: Console, draw: Callable[[Console], object]) -> str:
    """What ``draw`` prints on ``out``, as text (with the escape codes ``out`` would send)."""
    with out.capture() as captured:
        draw(out)
    return captured.get()


def stage_card(out: Console, stage: dict[str, Any], rows: int, short: Mapping[str, str]) -> str:
    """The stage as a card of at most ``rows - 1`` lines (the last line is the prompt's), as text.

    The first :data:`FITS` step that fits wins; a stage too big even at the tightest step is returned
    at that step, for the screen to page.
    """
    text = ""
    for fit in FITS:
        text = rendered(out, lambda o, fit=fit: draw_card(o, stage, fit, short))
        if len(text.splitlines()) <= rows - 1:
            break
    return text


def draw_card(out: Console, stage: dict[str, Any], fit: Fit, short: Mapping[str, str]) -> set[int]:
    """Print one card: rule, note, revealed, derived, alerts and verdict, table, next test, sources.

    Alerts and the verdict come before the table, as in the full stage. Returns the numbers cited.
    """
    out.rule(Text(f"Stage {stage['index'] + 1} of {stage['of']}: {stage['stage']}", style="bold"))
    if stage.get("note") and fit.note_lines != 0:
        _lines(out, Text(" ".join(stage["note"].split()), style="italic"), fit.note_lines, lead=0, hang=0)
    for title, items in _revealed_groups(stage["revealed"], short):
        _lines(out, Text.assemble((f"{title}: ", "bold"), ", ".join(items)), fit.group_lines)
    numbers = _derived(out, stage["derived"], fit.derived_each)
    numbers |= _alerts(out, stage["alerts"], fit.alerts)
    verdict(out, stage["summary"], stage["supported"])
    out.print(stage_table(out, stage, fit.top))
    numbers |= _next_test(out, stage["next_test"])
    _sources(out, stage["references"], numbers, fit.named_sources)
    return numbers


def _revealed_groups(revealed: list[dict[str, Any]], short: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """The revealed values in groups: findings present, absent, withdrawn; lab and test results."""
    groups: dict[str, list[str]] = {"Present": [], "Absent": [], "Withdrawn": [], "Results": []}
    for item in revealed:
        if item["kind"] == "finding":
            title = {"present": "Present", "absent": "Absent"}.get(item["value"], "Withdrawn")
            groups[title].append(item["label"])
        else:
            value = item["display"].removeprefix(f"{item['label']}: ")  # the value as the full view says it
            groups["Results"].append(f"{short.get(item['id'], item['label'])} {value}")
    return [(title, items) for title, items in groups.items() if items]


def _derived(out: Console, derived: list[dict[str, Any]], each: bool) -> set[int]:
    """The present derived findings with their citation numbers (their reasons are in the full stage)."""
    present = [f for f in derived if f["state"] == "present"]
    if not present:
        return set()
    items = [f"{f['label']} {_numbers(f.get('cites', []))}".rstrip() for f in present]
    if each:
        out.print(Text("Derived, present:", style="bold"))
        for item in items:
            _lines(out, Text(item), 1)
    else:
        _lines(out, Text.assemble(("Derived, present: ", "bold"), ", ".join(items)), None)
    return {c["n"] for f in present for c in f.get("cites", [])}


def _alerts(out: Console, alerts: list[dict[str, Any]], how: str) -> set[int]:
    """The stage's alerts, in full or in two or three lines each (title, because, next test)."""
    if how == "full":
        return alerts_block(out, alerts)
    for a in alerts:
        _lines(out, alert_title(a, _numbers(a["cites"])), 1, lead=0)
        if how == "short":
            _lines(out, Text(f"because: {'; '.join(a['because'])}"), 1, lead=3)
        _lines(out, Text(f"next test: {a['next_test']}"), 1, lead=3)
    return {c["n"] for a in alerts for c in a["cites"]}


def _next_test(out: Console, nt: dict[str, Any]) -> set[int]:
    """The next best test in at most two lines: what, with its sources; then what it would separate."""
    if nt["investigation"] is None:
        _lines(out, Text(f"Next best test: {nt['why']}", style="cyan"), 2, lead=0)
        return set()
    head = Text.assemble(
        ("Next best test: ", "bold cyan"),
        (nt["label"], "bold cyan"),
        f" ({nt['expected_gain_bits']:.2f} bits) {_numbers(nt['cites'])}".rstrip(),
    )
    _lines(out, head, 1, lead=0)
    why = nt["why"].removeprefix(f"{nt['label']} ")  # "would best separate A from B: …"
    _lines(out, Text(why), 1)
    return {c["n"] for c in nt["cites"]}


def _sources(out: Console, references: list[dict[str, Any]], numbers: set[int], named: bool) -> None:
    """The sources cited on the card: by number and short name when two lines hold them, else by number."""
    cited = [r for r in references if r["n"] in numbers]
    if not cited:
        return
    names = ", ".join(f"[{r['n']}] {_source_name(r['citation'])}" for r in cited)
    if not named or len(Text(f"Sources: {names}").wrap(out, out.width - INDENT)) > 2:
        names = " ".join(f"[{r['n']}]" for r in cited) + " (d: the full references)"
    _lines(out, Text.assemble(("Sources: ", "bold dim"), (names, "dim")), None, lead=0)


def _source_name(citation: str) -> str:
    """A reference's first words: its organisation or first author ("QuickTakes", "Rodeghiero F…")."""
    first = citation.split(". ", 1)[0]  # "QuickTakes", "Rodeghiero F, Stasi R, …", "World Health …"
    name, more = first.split(", ", 1)[0], ", " in first
    if len(name) > SOURCE_NAME:  # cut at a word: "The Aplastic Anemia…"
        name, more = name[:SOURCE_NAME].rsplit(" ", 1)[0].rstrip(",;:"), True
    return f"{name}…" if more else name


def _numbers(cites: list[dict[str, Any]]) -> str:
    """Citation marks without locators, ``[29][35]``: the numbers of the full view, shorter."""
    return "".join(f"[{c['n']}]" for c in cites)


def _lines(out: Console, text: Text, most: int | None, lead: int = INDENT, hang: int | None = None) -> None:
    """Print ``text`` from column ``lead``, wrapped at ``hang`` (two further in), in at most ``most`` lines.

    A cut line ends in an ellipsis: the rest is in the full stage.
    """
    hang = lead + INDENT if hang is None else hang
    width = max(out.width - hang, MIN_WRAP)
    wrapped = list(text.wrap(out, width)) or [Text("")]
    if most is not None and len(wrapped) > most:
        wrapped = wrapped[:most]
        wrapped[-1].rstrip()
        wrapped[-1].append(" …")
        wrapped[-1].truncate(width, overflow="ellipsis")
    for i, line in enumerate(wrapped):
        line.rstrip()
        out.print(Text(" " * (lead if i == 0 else hang)) + line, no_wrap=True, overflow="ellipsis")
