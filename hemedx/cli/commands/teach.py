"""walkthrough, quiz and present: the teaching commands (stage-by-stage reveal, scored quiz, HTML slides)."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from hemedx.cases.library import library_ids, resolve_case
from hemedx.cases.model import Case
from hemedx.cli import cli
from hemedx.cli.options import force_option, json_option, pack_from, rules_option, uniform_option
from hemedx.cli.render import (
    alerts_block,
    cite_marks,
    console,
    emit_json,
    legend,
    pct,
    references_for,
    render_stage,
    render_stage_ranking,
    verdict,
)
from hemedx.cli.status import ExitStatus
from hemedx.engine.quiz import STAGE_MAX, answer_bonus, match_diagnosis, parse_answer, score_stage, total
from hemedx.engine.report import disclaimer_for
from hemedx.engine.walkthrough import walkthrough as walkthrough_stages
from hemedx.errors import InputError
from hemedx.outfiles import write_file
from hemedx.rules.model import Pack
from hemedx.suggest import did_you_mean

MAX_ANSWER = 4096


class EndOfInput(Exception):
    """The learner pressed Ctrl-D (or piped input ran out) at a prompt: stop without revealing more."""


class Prompter:
    """Reads one line per question from stdin; at end of input it raises :class:`EndOfInput`."""

    def __init__(self, out: Console, interactive: bool) -> None:
        self.out = out
        self.interactive = interactive

    def ask(self, prompt: str) -> str | None:
        """The learner's line (stripped), or ``None`` when not interactive; :class:`EndOfInput` at EOF."""
        if not self.interactive:
            return None
        self.out.print(Text(prompt, style="bold magenta"), end="")
        self.out.file.flush()
        try:
            line = sys.stdin.readline(MAX_ANSWER + 1)
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


def _intro(out: Console, case: Case) -> None:
    out.print(Text(case.title, style="bold"))  # never the id: a library id names the answer
    out.print(Text(disclaimer_for(case), style="italic dim"))
    if case.presentation:
        out.print()
        out.print(" ".join(case.presentation.split()))


def compare_guess(guess: str, stage: dict[str, Any], pack: Pack) -> str:
    """Tell the learner how their leading diagnosis compares with the engine at this stage."""
    m = match_diagnosis(guess, pack)
    if m.diagnosis is None:
        hint = did_you_mean(guess, [d.id for d in pack.diagnoses])
        return f"'{guess}' is not a diagnosis in this differential{f' ({hint})' if hint else ''}."
    order = [d["diagnosis"] for d in stage["differential"]]
    mine = stage["differential"][order.index(m.diagnosis)]
    top = stage["differential"][0]
    read = f" (read as {mine['label']})" if m.how == "nearest" else ""
    if m.diagnosis == top["diagnosis"]:
        return f"You agree with the engine{read}: {mine['label']} leads at {pct(mine['probability'])}."
    place = order.index(m.diagnosis) + 1
    return (
        f"You: {mine['label']}{read}, which the engine ranks {_ordinal(place)} at {pct(mine['probability'])};"
        f" it leads with {top['label']} at {pct(top['probability'])}."
    )


Pause = Callable[[str], None]


def key_pause(out: Console) -> Pause:
    """Wait for one key on the terminal (Ctrl-D stops, Ctrl-C interrupts): the demo's stage break."""

    def pause(what: str) -> None:
        out.print(Text(f"[any key] {what}  (Ctrl-C quits) ", style="bold magenta"), end="")
        out.file.flush()
        click.getchar()  # EOFError on Ctrl-D, KeyboardInterrupt on Ctrl-C (click translates both)
        out.print()

    return pause


def run_walkthrough(
    case: Case,
    stages: list[dict[str, Any]],
    pack: Pack,
    out: Console,
    interactive: bool,
    pause: Pause | None = None,
) -> bool:
    """Reveal stage by stage; interactively the learner may name a leading diagnosis before each ranking.

    ``pause`` (the demo on a terminal) waits between stages. Ctrl-D at a prompt or a pause stops the
    walkthrough there: the answer is shown only to a learner who asks for it. Returns whether it ran to
    the end.
    """
    try:
        _walk(case, stages, pack, out, Prompter(out, interactive), pause)
    except (EndOfInput, EOFError):
        out.print()
        out.print(Text("Stopped at the end of input; the answer was not shown.", style="dim"))
        return False
    return True


def _walk(
    case: Case, stages: list[dict[str, Any]], pack: Pack, out: Console, ask: Prompter, pause: Pause | None
) -> None:
    _intro(out, case)
    out.print()
    legend(out)
    for stage in stages:
        if pause is not None and stage["index"] > 0:
            out.print()
            pause(f"stage {stage['index'] + 1} of {stage['of']}: {stage['stage']}")
        ask.ask(f"\n[Enter] reveal stage {stage['index'] + 1}: {stage['stage']} ")
        numbers = render_stage(out, stage, show_ranking=False)
        guess = ask.ask("Your leading diagnosis? (type it, or Enter to see the engine's ranking) ")
        numbers |= render_stage_ranking(out, stage)
        if guess:
            out.print(Text(compare_guess(guess, stage, pack), style="magenta"))
        references_for(out, stage["references"], numbers)
    last = stages[-1]
    if pause is not None:
        out.print()
        pause("the answer")
    ask.ask("\n[Enter] show the answer ")
    render_answer(out, last)


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
@click.argument("case")
@rules_option
@json_option
@uniform_option
@click.option("--auto", is_flag=True, help="Run without pausing for input (a projected demo).")
def walkthrough(case: str, rules_dir: Path | None, as_json: bool, uniform_priors: bool, auto: bool) -> None:
    """Reveal CASE stage by stage with the differential's shift and the next best test."""
    pack = pack_from(rules_dir)
    c = resolve_case(case, pack)
    stages = walkthrough_stages(c, pack, uniform_priors)
    if as_json:
        emit_json(stages)
        return
    run_walkthrough(c, stages, pack, console(), interactive=not auto)


QUIZ_RULE = (
    "Scoring: list up to 3 diagnoses, best first. A pick in your place i that the engine ranks at place j"
    " earns max(0, 3 − |i − j|) points (9 per stage at most). After the last stage the answer key adds 3 if"
    " your first pick is right, 1 if it is elsewhere in your list."
)


@cli.command()
@click.argument("case", required=False)
@click.option("--random", "pick_random", is_flag=True, help="Pick a library case at random.")
@click.option("--seed", type=int, default=None, help="Seed for --random (the same seed picks the same case).")
@rules_option
@uniform_option
def quiz(
    case: str | None, pick_random: bool, seed: int | None, rules_dir: Path | None, uniform_priors: bool
) -> None:
    """Quiz yourself on CASE (or a random library case): rank the differential at every stage."""
    if case and pick_random:
        raise InputError("give a CASE or --random, not both")
    if seed is not None and case:
        raise InputError("--seed goes with --random", hint="drop CASE or drop --seed")
    pack = pack_from(rules_dir)
    if not case:
        case = random.Random(seed).choice(library_ids())
    c = resolve_case(case, pack)
    stages = walkthrough_stages(c, pack, uniform_priors)
    out = console()
    ask = Prompter(out, interactive=True)
    _intro(out, c)
    out.print()
    out.print(Text(QUIZ_RULE, style="dim"))
    points: list[int] = []
    try:
        picks = _quiz_stages(stages, pack, out, ask, points)
    except EndOfInput:
        _score_so_far(out, points, len(stages), "Stopped at the end of input")
        return
    except KeyboardInterrupt:
        _score_so_far(out, points, len(stages), "Interrupted")
        click.get_current_context().exit(ExitStatus.INTERRUPTED)
    answer = stages[-1]["answer"]
    bonus = answer_bonus(picks, answer["diagnosis"])
    score = total(points, bonus, answer["diagnosis"] is not None)
    render_answer(out, stages[-1])
    out.print()
    if answer["diagnosis"]:
        out.print(f"Answer bonus: {bonus} (3 if your final first pick is the answer, 1 if listed)")
    out.print(
        Text(
            f"Score: {' + '.join(map(str, points))} + {bonus} = {score['points']} of {score['max']}"
            f" ({score['percent']:g}%)",
            style="bold magenta",
        )
    )


def _quiz_stages(
    stages: list[dict[str, Any]], pack: Pack, out: Console, ask: Prompter, points: list[int]
) -> list[str]:
    """Ask and score every stage, appending each stage's points as it is scored; the last stage's picks."""
    shown = [d.id for d in pack.diagnoses]
    menu = "  ".join(f"{i}. {d.label}" for i, d in enumerate(pack.diagnoses, 1))
    picks: list[str] = []
    for stage in stages:
        render_stage(out, stage, show_ranking=False)
        out.print(Text(menu, style="dim"))
        picks = _read_picks(ask, out, pack, shown)
        order = [d["diagnosis"] for d in stage["differential"]]
        result = score_stage(picks, order)
        alerts_block(out, stage["alerts"])  # revealed with the engine's view, after the learner commits
        verdict(out, stage["summary"], stage["supported"])
        top = ", ".join(
            f"{i}. {d['label']} {pct(d['probability'])}" for i, d in enumerate(stage["differential"][:3], 1)
        )
        out.print(Text(f"Engine: {top}", style="bold"))
        for row in result["picks"]:
            label = stage["differential"][order.index(row["diagnosis"])]["label"]
            out.print(
                f"   {label}: yours {_ordinal(row['yours'])}, engine {_ordinal(row['engine'])}"
                f" → 3 − {abs(row['yours'] - row['engine'])} = {row['points']}"
                if row["points"]
                else f"   {label}: yours {_ordinal(row['yours'])}, engine {_ordinal(row['engine'])} → 0"
            )
        out.print(Text(f"Stage score: {result['points']} of {result['max']}", style="bold magenta"))
        points.append(result["points"])
    return picks


def _score_so_far(out: Console, points: list[int], stages: int, why: str) -> None:
    """A quiz left early: the stages scored so far, and no answer (it is still a quiz for next time)."""
    got = sum(points)
    done = len(points)
    out.print()
    out.print(
        Text(
            f"{why} after {done} of {stages} stages: {got} of {STAGE_MAX * done} points so far;"
            " the answer was not shown.",
            style="bold magenta",
        )
    )


def _read_picks(ask: Prompter, out: Console, pack: Pack, shown: list[str]) -> list[str]:
    """Ask until every part of the answer is recognised (at most 3 tries); typos read as the nearest."""
    for _ in range(3):
        line = ask.ask("Your differential, best first (numbers, ids or names, comma-separated): ")
        if line is None:
            return []
        picks, matches = parse_answer(line, pack, shown)
        labels = {d.id: d.label for d in pack.diagnoses}
        for m in matches:
            if m.how == "nearest" and m.diagnosis:
                out.print(Text(f"   read '{m.text.strip()}' as {labels[m.diagnosis]}", style="dim"))
        missing = [m for m in matches if m.diagnosis is None]
        if not missing:
            return picks
        for m in missing:
            hint = did_you_mean(m.text.strip(), [*shown, *labels.values()])
            out.print(
                Text(
                    f"   '{m.text.strip()}' is not in the list{f' ({hint})' if hint else ''}", style="yellow"
                )
            )
    return picks


@cli.command()
@click.argument("case")
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HTML file to write (self-contained: open it from a USB stick, no network needed).",
)
@force_option
@rules_option
@uniform_option
def present(case: str, out_file: Path, force: bool, rules_dir: Path | None, uniform_priors: bool) -> None:
    """Write CASE as one self-contained HTML presentation: stage reveal, bars, citations, hidden answer."""
    from hemedx.present import render_html

    pack = pack_from(rules_dir)
    c = resolve_case(case, pack)
    html = render_html(c, walkthrough_stages(c, pack, uniform_priors))
    write_file(out_file, html, force=force)
    click.echo(f"wrote {out_file} ({len(c.stages)} stages)", err=True)
