"""walkthrough and present: the teaching commands (stage-by-stage reveal, HTML slides); quiz is in quiz.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console
from rich.text import Text

from hemedx.cases.library import resolve_case
from hemedx.cases.model import Case
from hemedx.cli.app import cli
from hemedx.cli.card import rendered, short_labels, stage_card
from hemedx.cli.commands.rank import stage_index
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import (
    case_view,
    force_option,
    out_file_option,
    pack_from,
    rules_option,
    uniform_option,
    upto_option,
)
from hemedx.cli.render import (
    cite_marks,
    console,
    emit_json,
    legend,
    pct,
    references_for,
    render_stage,
    render_stage_ranking,
)
from hemedx.cli.screen import Quit, Screen
from hemedx.engine.quiz import match_diagnosis
from hemedx.engine.ranking import Ranking
from hemedx.engine.report import disclaimer_for, pack_line, pack_stamp
from hemedx.engine.shown import probability_shown
from hemedx.engine.walkthrough import ranked_walkthrough
from hemedx.engine.walkthrough import walkthrough as walkthrough_stages
from hemedx.errors import InputError
from hemedx.outfiles import write_file
from hemedx.rules.model import Pack
from hemedx.rules.vocab import diagnosis_aliases
from hemedx.suggest import did_you_mean

MAX_ANSWER = 4096


class EndOfInput(Exception):
    """The learner pressed Ctrl-D (or piped input ran out) at a prompt: stop without revealing more."""


class Prompter:
    """Reads one line per question from ``answers`` (stdin); at end of input it raises :class:`EndOfInput`.

    Without ``answers`` (``--auto``, the demo) it never asks.
    """

    def __init__(self, out: Console, answers: TextIO | None) -> None:
        self.out = out
        self.answers = answers

    def ask(self, prompt: str) -> str | None:
        """The learner's line (stripped), or ``None`` when not interactive; :class:`EndOfInput` at EOF."""
        if self.answers is None:
            return None
        self.out.print(Text(prompt, style="bold magenta"), end="")
        self.out.file.flush()
        try:
            line = self.answers.readline(MAX_ANSWER + 1)
        except UnicodeDecodeError:
            raise InputError("the answer typed on stdin is not UTF-8 text", field="stdin") from None
        if len(line) > MAX_ANSWER:  # /dev/zero on stdin has no line end: never read it whole
            raise InputError(f"an answer line is longer than {MAX_ANSWER} characters", field="stdin")
        if not line:
            self.out.print()
            raise EndOfInput
        return line.strip()


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def intro(out: Console, case: Case, pack: Pack) -> None:
    """The case's title (never its id), the teaching-aid notice, the pack that ranks it, the presentation."""
    out.print(Text(case.title, style="bold"))  # never the id: a library id names the answer
    out.print(Text(disclaimer_for(case), style="italic dim"))
    out.print(Text(pack_line(pack_stamp(pack)), style="dim"))
    if case.presentation:
        out.print()
        out.print(" ".join(case.presentation.split()))


def compare_guess(guess: str, ranking: Ranking, pack: Pack) -> str:
    """Tell the learner how their leading diagnosis compares with the engine's ranking at this stage."""
    m = match_diagnosis(guess, pack)
    if m.diagnosis is None:
        hint = did_you_mean(guess, [d.id for d in pack.diagnoses], diagnosis_aliases(pack))
        return f"'{guess}' is not a diagnosis in this differential{f' ({hint})' if hint else ''}."
    order = [d.id for d in ranking.differential]
    place = order.index(m.diagnosis) + 1
    mine, top = ranking.differential[place - 1], ranking.differential[0]
    shown = pct(probability_shown(mine.probability))  # the percentage the table above shows
    read = f" (read as {mine.label})" if m.how == "nearest" else ""
    if mine.id == top.id:
        return f"You agree with the engine{read}: {mine.label} leads at {shown}."
    return (
        f"You: {mine.label}{read}, which the engine ranks {_ordinal(place)} at {shown};"
        f" it leads with {top.label} at {pct(probability_shown(top.probability))}."
    )


def run_walkthrough(
    case: Case,
    staged: list[tuple[Ranking, dict[str, Any]]],
    pack: Pack,
    out: Console,
    answers: TextIO | None,
) -> bool:
    """Reveal stage by stage; with ``answers`` the learner may name a leading diagnosis before each ranking.

    Ctrl-D at a prompt stops the walkthrough there: the answer is shown only to a learner who asks for
    it. Returns whether it ran to the end. (The demo on a terminal shows screens instead: run_screens.)
    """
    try:
        _walk(case, staged, pack, Prompter(out, answers))
    except EndOfInput:
        out.print()
        out.print(Text("Stopped at the end of input; the answer was not shown.", style="dim"))
        return False
    return True


def _walk(case: Case, staged: list[tuple[Ranking, dict[str, Any]]], pack: Pack, ask: Prompter) -> None:
    out = ask.out
    intro(out, case, pack)
    out.print()
    legend(out)
    for ranking, stage in staged:
        ask.ask(f"\n[Enter] reveal stage {stage['index'] + 1}: {stage['stage']} ")
        numbers = render_stage(out, stage, show_ranking=False)
        guess = ask.ask("Your leading diagnosis? (type it, or Enter to see the engine's ranking) ")
        numbers |= render_stage_ranking(out, stage)
        if guess:
            out.print(Text(compare_guess(guess, ranking, pack), style="magenta"))
        references_for(out, stage["references"], numbers)
    last = staged[-1][1]
    ask.ask("\n[Enter] show the answer ")
    render_answer(out, last)


def run_screens(
    case: Case,
    staged: list[tuple[Ranking, dict[str, Any]]],
    pack: Pack,
    screen: Screen,
    closing: Callable[[Console], None],
) -> None:
    """The demo on a terminal: the case, each stage's card, the answer, then ``closing``, a screen each.

    At a stage's prompt ``d`` shows the full stage (as the piped walkthrough prints it); q or Ctrl-D
    stops without showing the answer, Ctrl-C too (and the command exits 130).
    """
    out, short = screen.out, short_labels(pack)
    answered = False
    try:
        first = staged[0][1]
        screen.show(
            rendered(out, lambda o: (intro(o, case, pack), o.print(), legend(o))),
            _prompt(f"stage 1 of {first['of']}: {first['stage']}", details=False),
        )
        for _, stage in staged:
            last = stage["index"] + 1 == stage["of"]
            after = "the answer" if last else f"stage {stage['index'] + 2} of {stage['of']}"
            prompt = _prompt(after, details=True)
            key = screen.show(stage_card(out, stage, screen.rows, short), prompt)
            while key in ("d", "D"):
                key = screen.show(rendered(out, lambda o, s=stage: full_stage(o, s)), prompt)
        answered = True
        screen.show(
            rendered(out, lambda o: render_answer(o, staged[-1][1])),
            _prompt("why the engine ranks its leader first", details=False),
        )
        screen.show(rendered(out, closing), None)
    except Quit:
        out.print(Text("Stopped." if answered else "Stopped; the answer was not shown.", style="dim"))
    except KeyboardInterrupt:
        out.print()
        out.print(Text("Interrupted." if answered else "Interrupted; the answer was not shown.", style="dim"))
        raise


def _prompt(after: str, details: bool) -> str:
    return f"[any key] {after}{' · [d] the full stage' if details else ''} · [q] quit"


def full_stage(out: Console, stage: dict[str, Any]) -> None:
    """A stage in full, as the walkthrough and the piped demo print it (``d`` on the demo's card)."""
    numbers = render_stage(out, stage, show_ranking=False)
    numbers |= render_stage_ranking(out, stage)
    references_for(out, stage["references"], numbers)


def render_answer(out: Console, last: dict[str, Any]) -> None:
    """The answer key, whether the engine agrees, and the cited teaching points."""
    a = last["answer"]
    out.print()
    out.rule(Text("Answer", style="bold"))
    if a["diagnosis"]:
        sub = f" — {a['subtype_label']}" if a["subtype_label"] else ""
        out.print(Text(f"Answer key: {a['label']}{sub}", style="bold green"))
        verdict = "agrees" if a["engine_agrees"] else "does not agree"
        out.print(f"The engine {verdict}: its final leader is {last['differential'][0]['label']}.")
    else:
        out.print("This case has no answer key.")
    numbers: set[int] = set()
    if a["teaching_points"]:
        out.print(Text("Teaching points", style="bold"))
        for p in a["teaching_points"]:
            numbers |= {c["n"] for c in p["cites"]}
            out.print(f"  • {p['text']} {cite_marks(p['cites'])}")
    references_for(out, last["references"], numbers)


@cli.command()
@case_view
@click.option("--auto", is_flag=True, help="Run without pausing for input (a projected demo).")
@pass_env
def walkthrough(
    env: Environment, case: str, rules_dir: Path | None, as_json: bool, uniform_priors: bool, auto: bool
) -> None:
    """Reveal CASE stage by stage with the differential's shift and the next best test."""
    pack = pack_from(rules_dir)
    c = resolve_case(case, pack)
    staged = ranked_walkthrough(c, pack, uniform_priors)
    if as_json:
        emit_json([stage for _, stage in staged], env.stdout)
        return
    run_walkthrough(c, staged, pack, console(env), answers=None if auto else env.stdin)


@cli.command()
@click.argument("case")
@out_file_option(
    "HTML file to write (self-contained: open it from a USB stick, no network needed).", required=True
)
@force_option
@rules_option
@uniform_option
@upto_option
@pass_env
def present(
    env: Environment,
    case: str,
    out_file: Path,
    force: bool,
    rules_dir: Path | None,
    uniform_priors: bool,
    upto: int | None,
) -> None:
    """Write CASE as one self-contained HTML presentation: stage reveal, bars, citations, hidden answer."""
    from hemedx.present import render_html

    pack = pack_from(rules_dir)
    c = resolve_case(case, pack)
    stages = walkthrough_stages(c, pack, uniform_priors, upto=stage_index(upto, c))
    html = render_html(c, stages, pack)
    write_file(out_file, html, force=force)
    env.echo(f"wrote {out_file} ({len(stages)} stages)", err=True)
