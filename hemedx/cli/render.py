"""Text renderers for the terminal (and a projector). They only read the report dicts of the engine."""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from hemedx.cli.environment import MIN_WIDTH, PIPE_WIDTH, Environment
from hemedx.cli.jsonout import emit_json  # noqa: F401  (re-exported: one JSON writer for every view)
from hemedx.engine.shown import percent
from hemedx.safetext import terminal_text

BAR_WIDTH = 24


class _Console(Console):
    """rich's console, with case and pack text made inert and closed pipes left to the exit-status map."""

    def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:
        """Render as rich does, then drop control characters from every segment of text.

        An ESC from a case title never reaches the terminal; rich's own control segments pass unchanged.
        """
        for segment in super().render(renderable, options):
            text = segment.text if segment.control else terminal_text(segment.text)
            yield segment if text == segment.text else Segment(text, segment.style)

    hanging = True  # prose wraps with a hanging indent; a listing prints as rich does

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Print as rich does; an indented or numbered line wraps under its own indent, two further in.

        ``   + Petechiae present: ×0.45 …`` continues under ``Petechiae``, so a wrapped statement still
        reads as one item at 60 or 80 columns, piped or not. Tables and other renderables pass unchanged.
        """
        if not self.hanging or len(objects) != 1 or kwargs or not isinstance(objects[0], str | Text):
            super().print(*objects, **kwargs)
            return
        text = objects[0] if isinstance(objects[0], Text) else Text(objects[0])
        plain = text.plain
        lead = len(plain) - len(plain.lstrip(" "))
        numbered = re.match(r"\d+\. ", plain) is not None
        hang = lead + 2 if lead or numbered else 0  # a paragraph wraps flush; an item under its own text
        if "\n" in plain or cell_len(plain) <= self.width or self.width - hang < MIN_WIDTH // 2:
            super().print(text)
            return
        body = text[lead:]
        for i, line in enumerate(body.wrap(self, self.width - hang)):
            line.rstrip()
            super().print(Text(" " * (lead if i == 0 else hang)) + line)

    def on_broken_pipe(self) -> None:
        """Rich exits with status 1 here; a reader that stopped early (``| head``) is success."""
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "closed pipe")


def console(env: Environment, stderr: bool = False, listing: bool = False) -> Console:
    """A console on ``env``'s stdout (or stderr) that styles only on a terminal and never with NO_COLOR.

    rich's own ``no_color`` drops colours but keeps bold, dim and italic; no colour system drops every code.
    A ``listing`` (``file:line: CODE message`` for editors and grep) keeps one line per item when piped.
    """
    tty, styled = env.isatty(stderr), env.styled(stderr)
    # Piped prose wraps at COLUMNS (80 when unset), like the terminal, each statement under its indent.
    # markup=False: brackets in case text or citations are text, never rich style tags.
    out = _Console(
        file=env.stream(stderr),
        force_terminal=tty or None,  # what the environment says, so a test's fake terminal is one too
        color_system="auto" if styled else None,
        no_color=not styled,
        highlight=False,
        markup=False,
        soft_wrap=listing and not tty,
        width=env.width(stderr),
    )
    out.hanging = not listing
    return out


def pct(p: float) -> str:
    """A probability as a percentage a learner can read (no false precision below 0.1 % or above 99.9 %)."""
    return percent(p)


def bar(p: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar for a probability, drawn with eighth blocks."""
    eighths = round(p * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")).ljust(width)


def cite_marks(cites: list[dict[str, Any]]) -> str:
    """Numbered citation marks, with locators: ``[1: Table 2][3]``."""
    return "".join(f"[{c['n']}: {c['locator']}]" if c.get("locator") else f"[{c['n']}]" for c in cites)


def header(out: Console, report: dict[str, Any], show_id: bool = True) -> None:
    """Case title, id and the teaching-aid notice.

    Teaching views pass ``show_id=False``: a library id names the answer (``aml-hypocellular-older-man``).
    """
    if show_id:
        case = f"(case {report['case']})"
        if len(report["title"]) + 3 + len(case) <= out.width:
            out.print(Text.assemble((report["title"], "bold"), "   ", (case, "dim")))
        else:  # never split "(case" from its id across lines
            out.print(Text(report["title"], style="bold"))
            out.print(Text(case, style="dim"), overflow="fold")
    else:
        out.print(Text(report["title"], style="bold"))
    out.print(Text(report["disclaimer"], style="italic dim"))
    from hemedx.engine.report import pack_line  # a report's module: not imported by commands that make none

    out.print(Text(pack_line(report["pack"]), style="dim"))


def alerts_block(out: Console, alerts: list[dict[str, Any]]) -> set[int]:
    """Alerts before anything else: what to think of, why, and the test that settles it."""
    numbers: set[int] = set()
    for a in alerts:
        out.print(alert_title(a, cite_marks(a["cites"])))
        out.print(f"   because: {'; '.join(a['because'])}")
        out.print(f"   next test: {a['next_test']}")
        numbers |= _cited_numbers(a["cites"])
    if alerts:
        out.print()
    return numbers


def alert_title(alert: dict[str, Any], marks: str) -> Text:
    """``EMERGENCY: TTP [15]`` (red) or ``Consider: …`` (yellow): an alert's first line."""
    emergency = alert["urgency"] == "emergency"
    tag = "EMERGENCY" if emergency else "Consider"
    where = " (outside this differential)" if alert["outside"] else ""
    return Text(f"{tag}: {alert['label']}{where} {marks}", style="bold red" if emergency else "bold yellow")


LEGEND = (
    (
        "×factor",
        "how often this diagnosis shows the finding in that state (p if present, 1 − p if absent);"
        " it multiplies the diagnosis's score, so ×0.97 means 'almost always', not a loss",
    ),
    (
        "LR",
        "likelihood ratio: that factor against the rest of the differential; above 1 speaks for the"
        " diagnosis, below 1 against (it sorts For from Against)",
    ),
    ("pp", "percentage points: the change in a probability from the previous stage"),
    ("bits", "how much a test is expected to narrow the differential (1 bit halves the uncertainty)"),
    ("teaching estimate", "a number set for teaching, not taken from a published source"),
)


def legend(out: Console) -> None:
    """How to read the numbers, printed once per view (before the first number it explains)."""
    out.print(Text("How to read the numbers", style="bold dim"))
    for term, meaning in LEGEND:
        out.print(Text(f"  {term}: {meaning}", style="dim"))


def verdict(out: Console, summary: str, supported: bool) -> None:
    """The one-line verdict, always printed before the table it summarises."""
    out.print(Text(summary, style="bold" if supported else "bold yellow"))


CHANGE_WIDTH = 10  # "▼ -12.3 pp"
PCT_WIDTH = 6  # " 97.6%"
NAME_ROOM = 24  # a diagnosis name is given this much before a subtype gets more than its longest word
MIN_BAR = 6  # below this width a bar says nothing; it is dropped (at 60 columns) rather than names cut


def bar_width(width: int, fixed: int, flexible: int) -> int:
    """The bar that fits beside the other columns: full width when there is room, shrinking first.

    ``fixed`` is what the non-wrapping columns and the padding need, ``flexible`` what the wrapping text
    columns (names, subtypes) need to stay on one line. At 80 columns a short bar stays; below, it goes.
    """
    spare = width - fixed - flexible - PCT_WIDTH - 1
    if spare >= MIN_BAR:
        return min(BAR_WIDTH, spare)
    return MIN_BAR if width >= 80 else 0


def _longest_word(texts: Iterable[str]) -> int:
    return max((len(w) for t in texts for w in t.split()), default=1)


def differential_table(
    report: dict[str, Any],
    limit: int | None = None,
    previous: dict[str, float] | None = None,
    width: int = PIPE_WIDTH,
) -> Table:
    """The ranked differential as a table with probability bars (and changes since ``previous``).

    Sized for ``width``: the bars shrink first, then names and subtypes wrap at spaces, never cut.
    """
    rows = report["differential"] if limit is None else report["differential"][:limit]
    labels = [d["label"] for d in rows]
    subtypes = [d["subtype_label"] or "" for d in rows]
    numbers = len(str(len(rows)))
    columns = 5 + (previous is not None)
    fixed = numbers + len("Criteria") + (CHANGE_WIDTH if previous is not None else 0) + 2 * (columns - 1)
    flexible = max(map(len, labels), default=9) + max(len("Subtype"), *map(len, subtypes))
    bars = bar_width(width, fixed, flexible)
    heading = "Probability" if bars else "Prob."
    room = width - fixed - max(len(heading), bars + 1 + PCT_WIDTH)
    # Explicit widths (rich would narrow the widest column, the names, first): a name keeps at least
    # NAME_ROOM characters, subtypes take what is left, and both wrap at spaces, never cut.
    name_natural = max(map(len, labels), default=9)
    subtype_natural = max(len("Subtype"), *map(len, subtypes))
    subtype_min = max(_longest_word(subtypes), len("Subtype"))
    name_floor = max(_longest_word(labels), min(name_natural, NAME_ROOM))
    subtype_width = max(subtype_min, min(subtype_natural, room - name_floor))
    name_width = max(_longest_word(labels), min(name_natural, room - subtype_width))
    table = Table(show_edge=False, box=None, pad_edge=False, padding=(0, 1))
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("Diagnosis", style="bold", width=name_width)
    table.add_column(heading, no_wrap=True)
    if previous is not None:
        table.add_column("Change", justify="right", no_wrap=True)
    table.add_column("Subtype", width=subtype_width)
    table.add_column("Criteria", no_wrap=True)
    for i, d in enumerate(rows, 1):
        style = "green" if i == 1 and report["supported"] else ""
        outside = d.get("hypothesis") == "outside"
        cells: list[Any] = [
            str(i),
            Text(d["label"], style="italic" if outside else ""),
            Text(_bar_and_pct(d["probability"], bars), style=style),
        ]
        if previous is not None:
            cells.append(change(d["probability"], previous.get(d["diagnosis"])))
        cells.append(d["subtype_label"] or "")
        cells.append("met" if d["criteria_met"] else "")
        table.add_row(*cells)
    return table


def _bar_and_pct(p: float, bars: int) -> str:
    return f"{bar(p, bars)} {pct(p):>6}" if bars else f"{pct(p):>6}"


def change(now: float, before: float | None) -> Text:
    """Arrow and percentage-point delta between two stages."""
    if before is None:
        return Text("new", style="cyan")
    delta = (now - before) * 100
    if abs(delta) < 0.05:
        return Text("·", style="dim")
    arrow, style = ("▲", "green") if delta > 0 else ("▼", "red")
    return Text(f"{arrow} {delta:+.1f} pp", style=style)


def render_rank(report: dict[str, Any], out: Console, again: str | None = None) -> None:
    """``hemedx rank``: the ranked differential, a one-line verdict and the command for the reasons.

    ``again`` is what names the case on the command line (a file's path, a library case's code).
    """
    header(out, report)
    out.print()
    alerts_block(out, report["alerts"])
    verdict(out, report["summary"], report["supported"])
    out.print()
    out.print(differential_table(report, width=out.width))
    out.print()
    if report["priors"] == "uniform":
        out.print(Text("Priors: uniform (every diagnosis started equally likely).", style="dim"))
    out.print(Text(f"Reasons and references: hemedx explain {again or report['case']}", style="dim"))


def render_explain(
    report: dict[str, Any], out: Console, top: int = 3, with_legend: bool = True, show_id: bool = True
) -> None:
    """``hemedx explain``: per diagnosis the evidence for and against, criteria, unknowns, references.

    The reference list names only the sources cited on the lines printed (the top diagnoses, not the
    whole report), with the report's numbers.
    """
    header(out, report, show_id)
    out.print()
    numbers = alerts_block(out, report["alerts"])
    verdict(out, report["summary"], report["supported"])
    if with_legend:
        out.print()
        legend(out)
    for rank_no, d in enumerate(report["differential"][:top], 1):
        if d.get("hypothesis") == "outside":
            numbers |= _outside_block(out, rank_no, d)
            continue
        out.print()
        prior = (
            f"prior {pct(d['prior'])} ({d['prior_basis'].replace('_', ' ')}){cite_marks(d['prior_cites'])}"
        )
        sub = f" — {d['subtype_label']}" if d["subtype_label"] else ""
        out.print(
            Text.assemble(
                (f"{rank_no}. {d['label']}{sub}: {pct(d['probability'])}", "bold"), " ", (f"  {prior}", "dim")
            )
        )
        numbers |= _cited_numbers(d["prior_cites"], *(c["cites"] for c in d["criteria"]))
        for c in d["criteria"]:
            out.print(f"   Criteria met: {c['title']} {cite_marks(c['cites'])}  ({c['rule']})")
        if d["subtype_rule"] and d["subtype_rule"]["rule"] not in {c["rule"] for c in d["criteria"]}:
            s = d["subtype_rule"]
            out.print(f"   Subtype: {s['title']} {cite_marks(s['cites'])}  ({s['rule']})")
            numbers |= _cited_numbers(s["cites"])
        if not d["criteria"]:
            out.print(Text("   Criteria: not met with what is known", style="dim"))
        numbers |= _evidence_block(out, d)
        if d["expected_unknown"]:
            names = ", ".join(e["label"] for e in d["expected_unknown"][:8])
            more = len(d["expected_unknown"]) - 8
            out.print(
                Text(
                    f"   Expected but not yet known: {names}{f' (+{more} more)' if more > 0 else ''}",
                    style="cyan",
                )
            )
    derived = [f for f in report["findings"] if f["origin"] == "derived"]
    if derived:
        out.print()
        out.print(Text("How the findings were derived", style="bold"))
        for f in derived:
            because = "; ".join(f.get("because", []))
            marks = cite_marks(f.get("cites", []))
            out.print(f"   {f['label']} {f['state']} ← {because} {marks}  ({f.get('rule', '')})")
            numbers |= _cited_numbers(f.get("cites", []))
    numbers |= _lab_notes(out, report)
    if numbers:
        out.print()
    references_for(out, report["references"], numbers)


def _outside_block(out: Console, rank_no: int, d: dict[str, Any]) -> set[int]:
    """The open-world hypothesis: what points away from the listed diagnoses (never a diagnosis)."""
    out.print()
    prior = f"prior {pct(d['prior'])} ({d['prior_basis'].replace('_', ' ')}){cite_marks(d['prior_cites'])}"
    out.print(
        Text.assemble(
            (f"{rank_no}. {d['label']}: {pct(d['probability'])}", "bold yellow"), " ", (f"  {prior}", "dim")
        )
    )
    out.print(Text("   Not a diagnosis: the findings below fit the listed diagnoses badly.", style="dim"))
    return _cited_numbers(d["prior_cites"]) | _evidence_block(out, d)


def _lab_notes(out: Console, report: dict[str, Any]) -> set[int]:
    """Derived labs with their arithmetic, measured-vs-derived conflicts, and undetermined cut-offs."""
    derived = [lab for lab in report.get("labs", []) if lab["origin"] == "derived"]
    if derived:
        out.print()
        out.print(Text("Derived labs", style="bold"))
        for lab in derived:
            out.print(f"   {lab['label']} {lab['shown']} (derived: {lab['arithmetic']})")
    for conflict in report.get("lab_conflicts", []):
        out.print(Text(f"   Conflict: {conflict}", style="yellow"))
    notes = report.get("undetermined", [])
    if notes:
        out.print()
        out.print(Text("Undetermined (a censored value on both sides of a cut-off)", style="bold"))
        for note in notes:
            out.print(f"   {note['text']} {cite_marks(note['cites'])}")
    return _cited_numbers(*(note["cites"] for note in notes))


def _evidence_block(out: Console, d: dict[str, Any]) -> set[int]:
    """The counted evidence for and against one diagnosis; returns the citation numbers printed."""
    groups = {"for": [], "against": [], "neutral": []}
    for e in d["evidence"]:
        groups[e["direction"]].append(e)
    for key, title, sign, style in (("for", "For", "+", "green"), ("against", "Against", "−", "red")):
        if not groups[key]:
            continue
        out.print(Text(f"   {title}:", style=style))
        for e in sorted(groups[key], key=lambda e: -abs(e["log10_lr"])):
            out.print(_evidence_line(e, sign))
    replaced = [e for e in groups["neutral"] if not e["counted"]]
    if replaced:
        labels = {e["finding"]: e["label"] for e in d["evidence"]}  # the replacing finding is present
        names = ", ".join(
            f"{e['label']} (within {labels.get(e['replaced_by'], e['replaced_by'])})" for e in replaced
        )
        out.print(Text(f"   Not counted twice: {names}", style="dim"))
    return _cited_numbers(*(e["cites"] for e in groups["for"] + groups["against"]))


def _evidence_line(e: dict[str, Any], sign: str) -> str:
    estimate = " teaching estimate" if e["basis"] == "teaching_estimate" else ""
    return (
        f"     {sign} {e['label']} {e['state']}: ×{e['factor']:.3g} (LR {e['lr']:.2g},"
        f" p={e['p']:g}{estimate}) {cite_marks(e['cites'])}  ({e['rule']})"
    )


# --- teaching views: walkthrough, next test, why not, what if ------------------------------------------


def _cited_numbers(*groups: list[dict[str, Any]]) -> set[int]:
    return {c["n"] for group in groups for c in group}


def references_for(out: Console, references: list[dict[str, Any]], numbers: set[int]) -> None:
    """Only the references whose numbers were printed above (a stage cites few of the report's sources)."""
    shown = [r for r in references if r["n"] in numbers]
    if not shown:
        return
    out.print(Text("References", style="bold dim"))
    for ref in shown:
        out.print(Text(f"  [{ref['n']}] {ref['citation']}", style="dim"))


def next_test_lines(out: Console, nt: dict[str, Any], title: str = "Next best test") -> set[int]:
    """The most informative investigation and why, with its citations; returns the numbers cited."""
    if nt["investigation"] is None:
        out.print(Text(f"{title}: {nt['why']}", style="cyan"))
        return set()
    out.print(Text(f"{title}: {nt['label']}", style="bold cyan"))
    out.print(f"   {nt['why']} {cite_marks(nt['cites'])}")
    numbers = _cited_numbers(nt["cites"])
    for alt in nt.get("alternatives", [])[:2]:
        out.print(Text(f"   then: {alt['label']} ({alt['expected_gain_bits']:.2f} bits)", style="dim"))
    return numbers


def render_stage(out: Console, stage: dict[str, Any], limit: int = 5, show_ranking: bool = True) -> set[int]:
    """One walkthrough stage: revealed values and derived findings, then (optionally) the ranking.

    The quiz hides the ranking until the learner has answered. Returns the citation numbers printed.
    """
    out.print()
    out.rule(Text(f"Stage {stage['index'] + 1} of {stage['of']}: {stage['stage']}", style="bold"))
    if stage.get("note"):
        out.print(Text(stage["note"], style="italic"))
    out.print(Text("Revealed:", style="bold"))
    for item in stage["revealed"]:
        out.print(f"   {item['display']}")
    numbers: set[int] = set()
    if stage["derived"]:
        out.print(Text("Derived from them:", style="bold"))
        for f in stage["derived"]:
            because = "; ".join(f.get("because", []))
            marks = cite_marks(f.get("cites", []))
            numbers |= _cited_numbers(f.get("cites", []))
            out.print(f"   {f['label']} {f['state']} ← {because} {marks}".rstrip())
    if show_ranking:
        numbers |= render_stage_ranking(out, stage, limit)
    return numbers


def render_stage_ranking(out: Console, stage: dict[str, Any], limit: int = 5) -> set[int]:
    """The differential of a stage with arrows and deltas since the previous stage, and the next test."""
    numbers = alerts_block(out, stage["alerts"])
    verdict(out, stage["summary"], stage["supported"])
    out.print(stage_table(out, stage, limit))
    return numbers | next_test_lines(out, stage["next_test"])


def stage_table(out: Console, stage: dict[str, Any], limit: int = 5) -> Table:
    """A stage's differential (its first ``limit`` rows) with the change since the stage before."""
    previous = None
    if stage["index"] > 0:
        previous = {s["diagnosis"]: s["previous"] for s in stage["shift"] if s["previous"] is not None}
    return differential_table(
        {"differential": stage["differential"], "supported": stage["supported"]},
        limit=limit,
        previous=previous,
        width=out.width,
    )


def render_why_not(report: dict[str, Any], out: Console) -> None:
    """``explain --why-not DX``: against, expected but unknown, criteria missed, the settling test."""
    header(out, report, show_id=False)
    w = report["why_not"]
    out.print()
    out.print(Text(f"Why not {w['label']}?", style="bold"))
    out.print(w["headline"])
    out.print(Text("Against it:", style="red"))
    if not w["against"]:
        out.print("   nothing known speaks against it")
    for line in w["against"]:
        out.print(f"   − {line['text']} {cite_marks(line['cites'])}  ({line['rule']})")
    out.print(Text("It would need (expected, not yet known):", style="cyan"))
    if not w["expected_unknown"]:
        out.print("   nothing: every finding it usually has is already known")
    for line in w["expected_unknown"]:
        out.print(f"   ? {line['text']} {cite_marks(line['cites'])}  ({line['rule']})")
    out.print(Text("Criteria:", style="bold"))
    if not w["criteria"]:
        out.print("   this diagnosis has no criterion set in the pack")
    for c in w["criteria"]:
        out.print(f"   {'✓' if c['met'] else '✗'} {c['text']} {cite_marks(c['cites'])}  ({c['rule']})")
    numbers = next_test_lines(out, w["settle"], title="Test that would settle it")
    for part in ("against", "expected_unknown", "criteria"):
        numbers |= {n for line in w[part] for n in _cited_numbers(line["cites"])}
    references_for(out, report["references"], numbers)  # only what this answer cited, numbers unchanged


def render_what_if(before: dict[str, Any], after: dict[str, Any], out: Console) -> None:
    """``rank --set/--unset``: the changes, then a before/after table of the differential."""
    header(out, after, show_id=False)
    out.print()
    changes = after["what_if"]["changes"]
    for c in changes:
        if c["action"] == "unset":
            out.print(Text(f"What if: {c['id']} were unknown", style="bold cyan"))
        else:
            unit = f" {c['unit']}" if c["unit"] else ""
            value = f"{c['value']:g}" if isinstance(c["value"], float) else c["value"]
            out.print(Text(f"What if: {c['id']} = {value}{unit}", style="bold cyan"))
    rows = after["what_if"]["deltas"]
    labels = [d["label"] for d in rows]
    fixed = len(str(len(rows))) + len("Before") + CHANGE_WIDTH + len("10→10") + 2 * 5
    longest = max(map(len, labels), default=9)
    bars = bar_width(out.width, fixed, longest)
    after_width = max(len("After"), bars + 1 + PCT_WIDTH)
    name_width = max(_longest_word(labels), min(longest, out.width - fixed - after_width))
    table = Table(show_edge=False, box=None, pad_edge=False, padding=(0, 1))
    for name, justify in (
        ("#", "right"),
        ("Diagnosis", "left"),
        ("Before", "right"),
        ("After", "left"),
        ("Change", "right"),
        ("Rank", "right"),
    ):
        table.add_column(
            name,
            justify=justify,  # type: ignore[arg-type]
            no_wrap=name != "Diagnosis",
            width=name_width if name == "Diagnosis" else None,
        )
    for d in rows:
        moved = d["rank_before"] - d["rank_after"]
        rank_text = f"{d['rank_before']}→{d['rank_after']}" if moved else str(d["rank_after"])
        table.add_row(
            str(d["rank_after"]),
            d["label"],
            pct(d["before"]),
            _bar_and_pct(d["after"], bars),
            change(d["after"], d["before"]),
            rank_text,
        )
    out.print(table)
    out.print()
    out.print(Text(f"Before: {before['summary']}", style="dim"))
    out.print(Text(f"After:  {after['summary']}", style="bold" if after["supported"] else "bold yellow"))
