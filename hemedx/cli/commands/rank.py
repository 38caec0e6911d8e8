"""rank, explain and demo: evaluate a case and show the explained differential (and what-ifs)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from hemedx.cases.library import DEMO_CASE, case_handle, resolve_case
from hemedx.cases.model import Case
from hemedx.cli.app import cli
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.jsonout import emit_json
from hemedx.cli.options import case_view, pack_from, rules_option, upto_option
from hemedx.engine import rank_case
from hemedx.engine.report import ranked_report
from hemedx.errors import InputError
from hemedx.rules.model import Pack
from hemedx.rules.vocab import diagnosis_aliases
from hemedx.suggest import did_you_mean

if TYPE_CHECKING:
    from rich.console import Console


@cli.command()
@case_view
@click.option(
    "--set",
    "set_values",
    multiple=True,
    metavar="ID=VALUE",
    help="What if: set a finding (present/absent), a lab (250, or 250000/uL) or a test result. Repeatable.",
)
@click.option("--unset", "unset_ids", multiple=True, metavar="ID", help="What if: make a value unknown.")
@upto_option
@pass_env
def rank(
    env: Environment,
    case: str,
    rules_dir: Path | None,
    as_json: bool,
    uniform_priors: bool,
    set_values: tuple[str, ...],
    unset_ids: tuple[str, ...],
    upto: int | None,
) -> None:
    """Rank the differential for CASE (a case file, or a library case id)."""
    pack = pack_from(rules_dir)
    changes = []
    if set_values or unset_ids:  # imported only when asked for, like the renderers (cold start)
        from hemedx.engine.whatif import apply, deltas, parse_set, parse_unset

        changes = [parse_set(v, pack) for v in set_values] + [parse_unset(v, pack) for v in unset_ids]
    c = resolve_case(case, pack)
    stage = stage_index(upto, c)
    if not changes:
        report = rank_case(c, pack, upto=stage, uniform_priors=uniform_priors)
        if as_json:
            emit_json(report, env.stdout)
        else:
            from hemedx.cli.render import console, render_rank

            render_rank(report, console(env), again=case_handle(c)[0])
        return
    ranking, report = ranked_report(c, pack, c.snapshot(stage), stage, uniform_priors)
    changed, after = ranked_report(c, pack, apply(c.snapshot(stage), changes), stage, uniform_priors)
    after["what_if"] = {"changes": [ch.as_dict() for ch in changes], "deltas": deltas(ranking, changed)}
    if as_json:
        emit_json(after, env.stdout)
    else:
        from hemedx.cli.render import console, render_what_if

        render_what_if(report, after, console(env))


def stage_index(upto: int | None, case: Case) -> int | None:
    """``--upto N`` (the first N stages) as the engine's 0-based index; N beyond the case is bad input."""
    if upto is None:
        return None
    if upto > len(case.stages):
        raise InputError(
            f"--upto {upto}: {case_handle(case)[1]} has {len(case.stages)} stages",
            hint=f"use 1 to {len(case.stages)}",
        )
    return upto - 1


def resolve_diagnosis(text: str, pack: Pack) -> str:
    """A diagnosis id from an id, label or abbreviation; anything else is an input error with a hint."""
    from hemedx.engine.quiz import match_diagnosis

    m = match_diagnosis(text, pack)
    if m.diagnosis is not None and m.how != "nearest":
        return m.diagnosis
    ids = [d.id for d in pack.diagnoses]
    nearest = did_you_mean(text, ids, diagnosis_aliases(pack))
    hint = f"did you mean '{m.diagnosis}'?" if m.diagnosis else nearest
    raise InputError(f"--why-not: unknown diagnosis '{text}'", hint=hint or f"one of: {', '.join(ids)}")


@cli.command()
@case_view
@click.option(
    "--top", default=3, show_default=True, type=click.IntRange(1, 50), help="How many diagnoses to explain."
)
@click.option(
    "--why-not",
    "why_not",
    metavar="DX",
    default=None,
    help="Explain one diagnosis instead: what speaks against it, what it would need, what would settle it.",
)
@upto_option
@pass_env
def explain(
    env: Environment,
    case: str,
    rules_dir: Path | None,
    as_json: bool,
    uniform_priors: bool,
    top: int,
    why_not: str | None,
    upto: int | None,
) -> None:
    """Explain the ranking for CASE: evidence for and against, criteria, unknowns, references."""
    pack = pack_from(rules_dir)
    dx = resolve_diagnosis(why_not, pack) if why_not is not None else None
    c = resolve_case(case, pack)
    report = rank_case(c, pack, upto=stage_index(upto, c), uniform_priors=uniform_priors, why_not=dx)
    if as_json:
        emit_json(report, env.stdout)
        return
    from hemedx.cli.render import console, render_explain, render_why_not

    if dx is not None:
        render_why_not(report, console(env))
    else:
        render_explain(report, console(env), top=top)


@cli.command()
@rules_option
@click.option("--case", "case", default=DEMO_CASE, show_default=True, help="The case to demonstrate.")
@click.option(
    "--no-pause",
    is_flag=True,
    help="Print every stage in full straight through (on a terminal it shows one stage per screen).",
)
@pass_env
def demo(env: Environment, rules_dir: Path | None, case: str, no_pause: bool) -> None:
    """Walk through a case stage by stage, as a teacher would project it (a key moves on).

    On a terminal (stdin and stdout both) each stage is one screen: a key moves on, d shows the stage
    in full, q stops without the answer. Piped (CI, tests) it prints everything and never waits.
    """
    from hemedx.cli.commands.teach import run_screens, run_walkthrough
    from hemedx.cli.render import console, render_explain
    from hemedx.engine.report import Citations
    from hemedx.engine.walkthrough import ranked_walkthrough, renumber

    pack = pack_from(rules_dir)
    c = resolve_case(case, pack)
    out = console(env)
    staged = ranked_walkthrough(c, pack)

    def closing(out: Console) -> None:
        """Why the engine ranks its leader first, with the walkthrough's reference numbers."""
        report = rank_case(c, pack)
        renumber([report], pack, Citations.continuing(pack, staged[-1][1]["references"]))  # [n] as above
        render_explain(report, out, top=1, with_legend=False, show_id=False)

    if not no_pause and env.interactive:  # one screen per stage, a key moves on
        from hemedx.cli.screen import Screen, terminal_keys

        with terminal_keys(env.stdin) as key:
            run_screens(c, staged, pack, Screen(out, env.height(), key), closing)
        return
    if not run_walkthrough(c, staged, pack, out, answers=None):
        return
    out.print()
    closing(out)
