"""quiz: rank the differential at every stage of a case, scored by :mod:`hemedx.engine.quizscore`.

Ctrl-D (or the end of piped input) stops without showing the answer; Ctrl-C stops too, and exits 130.
Both report and save the score so far; an empty line asks again.
"""

from __future__ import annotations

import difflib
import io
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from hemedx.cases.library import case_code, library_ids, load_library, resolve_case
from hemedx.cases.model import Case
from hemedx.cli import history
from hemedx.cli.app import cli
from hemedx.cli.commands.teach import EndOfInput, Prompter, intro, render_answer
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import json_option, pack_from, rules_option, uniform_option
from hemedx.cli.render import alerts_block, cite_marks, console, emit_json, pct, render_stage, verdict
from hemedx.cli.status import ExitStatus
from hemedx.engine.quiz import PICKS, parse_answer
from hemedx.engine.quizscore import (
    CREDIT_FLOOR,
    DIFFERENTIAL_CAP,
    POINT_PER_PERCENT,
    STAGE_MAX,
    SUBTYPE_MAX,
    hint,
    score_stage,
    score_subtype,
    total,
)
from hemedx.engine.ranking import Ranking
from hemedx.engine.report import Citations, pack_stamp
from hemedx.engine.shown import probability_shown
from hemedx.engine.walkthrough import ranked_walkthrough
from hemedx.errors import InputError
from hemedx.rules.model import Pack
from hemedx.suggest import did_you_mean

TRIES = 3  # an answer with an unrecognised part is asked again, this many times in all
DIFFICULTIES = {  # the case format's words, and the everyday ones
    "easy": "introductory",
    "introductory": "introductory",
    "intermediate": "intermediate",
    "hard": "advanced",
    "advanced": "advanced",
}

QUIZ_RULE = (
    f"Scoring, per stage ({STAGE_MAX} points): list up to {PICKS} diagnoses, best first. Name the target"
    f" first - the engine's leading diagnosis; at the last stage the answer key's - for all {STAGE_MAX}."
    f" Otherwise your picks earn 1 point per full {POINT_PER_PERCENT}% of the engine's probability they"
    f" carry together (each as shown; a pick under {CREDIT_FLOOR:g}% carries nothing), at most"
    f" {DIFFERENTIAL_CAP}. Listing fewer costs nothing. Where the answer key has a subtype or severity, a"
    f" last question is worth {SUBTYPE_MAX}. Ctrl-D stops without the answer; Ctrl-C stops and saves."
)


@cli.command()
@click.argument("case", required=False)
@click.option("--random", "pick_random", is_flag=True, help="Pick a library case at random (the default).")
@click.option("--seed", type=int, default=None, help="Seed for the random pick (same seed, same case).")
@click.option(
    "--difficulty",
    type=click.Choice(sorted(DIFFICULTIES), case_sensitive=False),
    help="Pick among library cases of this difficulty (easy = introductory, hard = advanced).",
)
@click.option("--tag", help="Pick among library cases with this tag (see cases list --answers).")
@click.option("--history", "show_history", is_flag=True, help="Show your past quiz scores and stop.")
@json_option
@rules_option
@uniform_option
@pass_env
def quiz(
    env: Environment,
    case: str | None,
    pick_random: bool,
    seed: int | None,
    difficulty: str | None,
    tag: str | None,
    show_history: bool,
    as_json: bool,
    rules_dir: Path | None,
    uniform_priors: bool,
) -> None:
    """Quiz yourself on CASE (a library code or id, or a file; default a random library case).

    With --json nothing is printed but the result: the answers are read from stdin, one line per
    stage (then one for the subtype question), exactly as they would be typed.
    """
    if show_history:
        if case or pick_random or seed is not None or difficulty or tag:
            raise InputError("--history takes no case and no case options", hint="run: hemedx quiz --history")
        render_history(env, history.load(env.stderr), as_json)
        return
    pack = pack_from(rules_dir)
    c = choose_case(case, pick_random, seed, difficulty, tag, pack)
    ranked = ranked_walkthrough(c, pack, uniform_priors)
    stages = [stage for _, stage in ranked]
    out = Console(file=io.StringIO()) if as_json else console(env)  # --json: the result is the only output
    result = new_result(c, pack)
    interrupted = False
    try:
        run_quiz(c, ranked, pack, out, Prompter(out, env.stdin), result)
    except EndOfInput:
        result["status"] = "stopped"
    except KeyboardInterrupt:
        result["status"] = "interrupted"
        interrupted = True
    result["score"] = total(
        [s["points"] for s in result["stages"]],
        result["subtype"]["points"] if result["subtype"] else 0,
        result["subtype"] is not None,
    )
    saved = history.save(history_record(result), env.stderr)
    if as_json:
        emit_json(result, env.stdout)
    else:
        render_end(out, result, stages, saved)
    if interrupted:
        click.get_current_context().exit(ExitStatus.INTERRUPTED)


def choose_case(
    case: str | None, pick_random: bool, seed: int | None, difficulty: str | None, tag: str | None, pack: Pack
) -> Case:
    """The case named, or a (seeded) random library case among those of the difficulty and tag asked."""
    if case and (pick_random or difficulty or tag):
        raise InputError("give a CASE, or --random/--difficulty/--tag to pick one, not both")
    if seed is not None and case:
        raise InputError("--seed goes with a random pick", hint="drop CASE or drop --seed")
    if case:
        return resolve_case(case, pack)
    if not difficulty and not tag:
        return resolve_case(random.Random(seed).choice(library_ids()), pack)
    cases = load_library(pack)
    level = DIFFICULTIES[difficulty.lower()] if difficulty else None
    tags = sorted({t for x in cases for t in x.tags})
    if tag and tag not in tags:
        raise InputError(f"no library case has the tag '{tag}'", hint=did_you_mean(tag, tags) or "see tags")
    fitting = [x for x in cases if (level is None or x.difficulty == level) and (not tag or tag in x.tags)]
    if not fitting:
        raise InputError("no library case has both that difficulty and that tag", hint="drop one of them")
    return random.Random(seed).choice(fitting)


def new_result(case: Case, pack: Pack) -> dict[str, Any]:
    """The ``quiz --json`` result before any answer: the case by its neutral code, never its id."""
    return {
        "case": case_code(case.id),
        "title": case.title,
        "difficulty": case.difficulty,
        "stage_count": len(case.stages),
        "status": "finished",
        "stages": [],
        "subtype": None,
        "score": None,
        "answer": None,
        "pack": pack_stamp(pack),
    }


def run_quiz(
    case: Case,
    stages: list[tuple[Ranking, dict[str, Any]]],
    pack: Pack,
    out: Console,
    ask: Prompter,
    result: dict[str, Any],
) -> None:
    """Ask and score every stage, then the subtype question; ``result`` grows as each is scored.

    Each stage comes with the typed ranking it shows: the score and the hint are taken on that.
    """
    intro(out, case, pack)
    out.print()
    out.print(Text(QUIZ_RULE, style="dim"))
    key = stages[-1][1]["answer"]
    for ranking, stage in stages:
        last = stage["index"] == len(stages) - 1
        result["stages"].append(
            quiz_stage(ranking, stage, pack, out, ask, key["diagnosis"] if last else None)
        )
    if key["diagnosis"] and key["subtype"]:
        chosen = ask_subtype(ask, out, pack, key["diagnosis"])
        result["subtype"] = {**score_subtype(chosen, key["subtype"]), "key_label": key["subtype_label"]}
        _say_subtype(out, result["subtype"], pack, key["diagnosis"])
    result["answer"] = {k: key[k] for k in ("diagnosis", "label", "subtype", "subtype_label")}
    render_answer(out, stages[-1][1])


def quiz_stage(
    ranking: Ranking, stage: dict[str, Any], pack: Pack, out: Console, ask: Prompter, key: str | None
) -> dict[str, Any]:
    """One stage: its findings, the learner's picks, the engine's view, the score and (if wrong) a hint."""
    render_stage(out, stage, show_ranking=False)
    out.print(Text("  ".join(f"{i}. {d.label}" for i, d in enumerate(pack.diagnoses, 1)), style="dim"))
    picks = read_picks(ask, out, pack, [d.id for d in pack.diagnoses])
    scored = score_stage(picks, ranking, key)
    labels = {d.id: d.label for d in ranking.differential}
    for row in scored["picks"]:
        row["label"] = labels[row["diagnosis"]]
    alerts_block(out, stage["alerts"])  # revealed with the engine's view, after the learner commits
    verdict(out, stage["summary"], stage["supported"])
    top = ", ".join(
        f"{i}. {d.label} {pct(probability_shown(d.probability))}"
        for i, d in enumerate(ranking.differential[:3], 1)
    )
    out.print(Text(f"Engine: {top}", style="bold"))
    say_score(out, scored, labels)
    found = None
    if scored["rule"] != "lead":  # cited with the stage's numbers (the whole case's, as shown)
        cite = Citations.continuing(pack, stage["references"]).cite
        found = hint(ranking, scored["target"], next(iter(picks), None), pack.kb.labels, cite)
    if found:
        out.print(Text(f"Hint: {hint_text(found)}", style="cyan"))
    return {
        "index": stage["index"],
        "stage": stage["stage"],
        **scored,
        "target_label": labels[scored["target"]],
        "hint": found,
    }


def say_score(out: Console, scored: dict[str, Any], labels: dict[str, str]) -> None:
    """The stage's points, spelled out so the learner can redo them from what is on the screen."""
    whose = "the answer key" if scored["target_is"] == "answer_key" else "the engine's leader"
    out.print(f"   Target: {labels[scored['target']]} ({whose})")
    if scored["rule"] == "lead":
        out.print(f"   Your first pick is the target: full marks, {STAGE_MAX}.")
    elif not scored["picks"]:
        out.print("   No pick was recognised: 0.")
    else:
        for row in scored["picks"]:
            note = "" if row["credited"] else f" (under {CREDIT_FLOOR:g}%: no credit)"
            out.print(f"   {labels[row['diagnosis']]}: {row['percent']:.1f}%{note}")
        counted = [f"{r['percent']:.1f}%" for r in scored["picks"] if r["credited"]]
        out.print(
            f"   {' + '.join(counted) or '0%'} = {scored['credited_percent']:.1f}% → {scored['points']}"
            f" (1 per full {POINT_PER_PERCENT}%, at most {DIFFERENTIAL_CAP} without the target first)"
        )
    out.print(Text(f"Stage score: {scored['points']} of {scored['max']}", style="bold magenta"))


def hint_text(found: dict[str, Any]) -> str:
    """The hint in words, with the factors as ``explain`` shows them and the evidence's citations."""
    finding = f"{found['label']} {found['state']}"
    marks = cite_marks(found["cites"])
    if found["over"] is None:
        return (
            f"{finding} speaks most for {found['favours_label']}: likelihood ratio ×{found['ratio']:g}"
            f" {marks}".rstrip()
        )
    return (
        f"{finding} favours {found['favours_label']} over {found['over_label']}: factor"
        f" {found['factor']:g} against {found['over_factor']:g}, ×{found['ratio']:g} {marks}".rstrip()
    )


def read_picks(ask: Prompter, out: Console, pack: Pack, shown: list[str]) -> list[str]:
    """Ask until every part is recognised (typos read as the nearest); an empty line asks again."""
    labels = {d.id: d.label for d in pack.diagnoses}
    picks: list[str] = []
    tries = 0
    while tries < TRIES:
        line = ask.ask("Your differential, best first (numbers, ids or names, comma-separated): ")
        if not line:
            out.print(Text("   Type at least one diagnosis (Ctrl-D stops the quiz).", style="yellow"))
            continue
        tries += 1
        picks, matches = parse_answer(line, pack, shown)
        for m in matches:
            if m.how == "nearest" and m.diagnosis:
                out.print(Text(f"   read '{m.text.strip()}' as {labels[m.diagnosis]}", style="dim"))
        missing = [m for m in matches if m.diagnosis is None]
        if not missing:
            return picks
        for m in missing:
            hint_ = did_you_mean(m.text.strip(), [*shown, *labels.values()])
            out.print(
                Text(
                    f"   '{m.text.strip()}' is not in the list{f' ({hint_})' if hint_ else ''}",
                    style="yellow",
                )
            )
    return picks


def ask_subtype(ask: Prompter, out: Console, pack: Pack, diagnosis: str) -> str | None:
    """The last question: which of the key diagnosis' subtypes (by number, id or name; typos read)."""
    dx = next(d for d in pack.diagnoses if d.id == diagnosis)
    options = list(dx.subtypes)
    out.print()
    out.print(
        Text(
            f"Last question ({SUBTYPE_MAX} points): the answer key's diagnosis is {dx.label}."
            " Which subtype or severity?",
            style="bold",
        )
    )
    out.print(Text("  ".join(f"{i}. {s.label}" for i, s in enumerate(options, 1)), style="dim"))
    names = {s.label.lower(): s.id for s in options} | {s.id: s.id for s in options}
    names |= {s.id.replace("_", " "): s.id for s in options}
    tries = 0
    while tries < TRIES:
        line = (ask.ask("Subtype or severity: ") or "").lower()
        if not line:
            out.print(Text("   Type a number or a name (Ctrl-D stops the quiz).", style="yellow"))
            continue
        tries += 1
        if line.isdigit() and 1 <= int(line) <= len(options):
            return options[int(line) - 1].id
        close = difflib.get_close_matches(line, sorted(names), n=1, cutoff=0.6)
        if line in names or close:
            return names[line if line in names else close[0]]
        out.print(Text(f"   '{line}' is not one of the {len(options)} listed", style="yellow"))
    return None


def _say_subtype(out: Console, scored: dict[str, Any], pack: Pack, diagnosis: str) -> None:
    dx = next(d for d in pack.diagnoses if d.id == diagnosis)
    chosen = next((s.label for s in dx.subtypes if s.id == scored["chosen"]), "no answer")
    out.print(f"   Yours: {chosen}; the key: {scored['key_label']}")
    out.print(Text(f"Subtype score: {scored['points']} of {scored['max']}", style="bold magenta"))


def history_record(result: dict[str, Any]) -> dict[str, Any]:
    """What the history keeps of a quiz: when, which case (by code), how far, and the score."""
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "case": result["case"],
        "title": result["title"],
        "difficulty": result["difficulty"],
        "status": result["status"],
        "stages": result["stage_count"],
        "stages_done": len(result["stages"]),
        **result["score"],
    }


def render_end(
    out: Console, result: dict[str, Any], stages: list[dict[str, Any]], saved: Path | None
) -> None:
    """The final score (or the score so far, without the answer), and where it was saved."""
    score = result["score"]
    parts = [str(s["points"]) for s in result["stages"]]
    if result["subtype"]:
        parts.append(str(result["subtype"]["points"]))
    out.print()
    if result["status"] == "finished":
        line = f"Score: {' + '.join(parts)} = {score['points']} of {score['max']} ({score['percent']:g}%)"
    else:
        why = "Interrupted" if result["status"] == "interrupted" else "Stopped at the end of input"
        line = (
            f"{why} after {len(result['stages'])} of {len(stages)} stages: {score['points']} of"
            f" {score['max']} points so far; the answer was not shown."
        )
    out.print(Text(line, style="bold magenta"))
    if saved is not None:
        out.print(Text(f"Saved to {saved}; past scores: hemedx quiz --history", style="dim"))


def render_history(env: Environment, records: list[dict[str, Any]], as_json: bool) -> None:
    """``quiz --history``: every saved quiz, oldest first, by case code and title (never the id)."""
    if as_json:
        emit_json({"file": str(history.history_path()), "quizzes": records}, env.stdout)
        return
    out = console(env)
    if not records:
        out.print(f"No quizzes saved yet (they go to {history.history_path()}).")
        return
    table = Table(show_edge=False, box=None, pad_edge=False, padding=(0, 1))
    for column in ("When (UTC)", "Case", "Score", "Status", "Title"):
        table.add_column(column, no_wrap=column != "Title")
    for r in records:
        done = "finished" if r["status"] == "finished" else f"{r['status']} after {r['stages_done']} stage(s)"
        score = f"{r['points']:g}/{r['max']:g} ({r['percent']:g}%)"
        table.add_row(r["when"].replace("T", " ").rstrip("Z"), r["case"], score, done, r["title"])
    out.print(table)
    finished = [r["percent"] for r in records if r["status"] == "finished"]
    mean = f"; mean {sum(finished) / len(finished):.1f}% over {len(finished)} finished" if finished else ""
    out.print(Text(f"{len(records)} quiz(zes){mean}. File: {history.history_path()}", style="dim"))
