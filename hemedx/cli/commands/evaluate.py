"""evaluate: run many cases (files, the library, or generated ones) and report accuracy and calibration."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from hemedx.cases.generator import load_distributions, plan
from hemedx.cases.library import load_library, resolve_cases
from hemedx.cases.model import Case
from hemedx.cli.app import cli
from hemedx.cli.confusion import NONE_LABEL, render_confusion
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import distributions_option, fail_under_option, json_option, pack_from, rules_option
from hemedx.cli.render import console, emit_json
from hemedx.cli.status import ExitStatus
from hemedx.engine.evaluate import (
    NONE,
    NORMAL,
    GeneratedItem,
    Item,
    Workers,
    evaluate_cases,
    scored,
    summarise,
)
from hemedx.engine.report import pack_line
from hemedx.errors import InputError
from hemedx.rules.vocab import table_labels


@cli.command()
@click.argument("paths", nargs=-1, metavar="[PATHS]...")
@click.option("--library", is_flag=True, help="Evaluate every case of the built-in library.")
@click.option(
    "--generated",
    type=click.IntRange(1, 10_000_000),
    default=None,
    metavar="N",
    help="Generate N cases in memory.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the generated cases.")
@click.option(
    "--diagnosis",
    default="all",
    show_default=True,
    metavar="DX",
    help="Diagnosis of the generated cases ('all' mixes every diagnosis and normal).",
)
@click.option(
    "--jobs", type=click.IntRange(1, 512), default=None, help="Worker processes [default: every core]."
)
@fail_under_option(1, "FRACTION", "Exit with status 1 when top-1 accuracy is below this (for CI).")
@click.option(
    "--misses",
    "show_misses",
    type=click.IntRange(0),
    default=50,
    show_default=True,
    help="How many misses to list in the text output (JSON lists them all).",
)
@rules_option
@distributions_option
@json_option
@pass_env
def evaluate(
    env: Environment,
    paths: tuple[str, ...],
    library: bool,
    generated: int | None,
    seed: int,
    diagnosis: str,
    jobs: int | None,
    fail_under: float | None,
    show_misses: int,
    rules_dir: Path | None,
    distributions_file: Path | None,
    as_json: bool,
) -> None:
    """Run many cases and report accuracy, confusion, Brier score, calibration and every miss.

    Top-1, top-3 and subtype accuracy; each miss with its top three and why. PATHS are case files,
    folders of case files or library ids. A case without an answer key tagged 'normal' counts as correct
    when nothing in the differential fits; one without a key for another reason (tagged 'incomplete') is
    listed as not scored, as rules test skips it. Uses every core; --jobs 1 gives the same numbers serially.
    """
    if not (paths or library or generated):
        raise InputError("nothing to evaluate", hint="give case files or folders, --library or --generated N")
    jobs = jobs or os.cpu_count() or 1
    # Generated cases go to worker processes: start them first, before this process holds any durable
    # state, so they may be forked copies (no import of their own) and start while the pack loads.
    early = Workers(min(jobs, generated), fork=True) if generated and generated > 1 and jobs > 1 else None
    with early or nullcontext():
        pack = pack_from(rules_dir)
        items: list[Item] = []
        if paths:
            items.extend(resolve_cases(list(paths), pack))
        if library:
            items.extend(load_library(pack))
        not_scored = [i.id for i in items if isinstance(i, Case) and not scored(i)]
        items = [i for i in items if not isinstance(i, Case) or scored(i)]
        dist = None
        if generated:
            dist = load_distributions(pack, distributions_file, rules_dir)
            items.extend(GeneratedItem(p, seed) for p in plan(dist, diagnosis, None, generated))
        with _progress(env, len(items)) as advance:
            results = evaluate_cases(items, pack, dist, jobs=jobs, progress=advance, workers=early)
    summary = summarise(results, pack, not_scored)
    if as_json:
        emit_json(summary, env.stdout)
    else:
        render_summary(
            summary,
            pack_labels=pack.kb.diagnosis_labels,
            shorts=table_labels(pack.diagnoses, reserved=[NONE_LABEL]),
            out=console(env),
            show_misses=show_misses,
            subtype_label=pack.kb.subtype_label,
        )
    if fail_under is not None and summary["top1"] < fail_under:
        raise click.exceptions.Exit(ExitStatus.FINDINGS)


@contextmanager
def _progress(env: Environment, total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing at all when piped."""
    if not env.stderr_isatty or total < 2:
        yield None
        return
    bar = Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(env, stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task("evaluate", total=total)
        yield lambda k: bar.advance(task, k)


def _table(title: str) -> Table:
    """A borderless table with its title on the left: how every part of the evaluation is laid out."""
    return Table(title=title, show_edge=False, box=None, padding=(0, 1), title_justify="left")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def render_summary(
    s: dict[str, Any],
    pack_labels: dict[str, str],
    out: Console,
    show_misses: int = 50,
    shorts: dict[str, str] | None = None,
    subtype_label: Callable[[str, str | None], str | None] | None = None,
) -> None:
    """The evaluation as text: headline figures, per diagnosis, confusion matrix, calibration, misses.

    Diagnoses and subtypes by their labels (a teacher reads this); ids stay in ``--json``.
    """

    def dx(d: str | None) -> str:
        return "Normal (nothing should fit)" if d == NORMAL else pack_labels.get(d or "", d or "")

    def sub(d: str | None, s: str | None) -> str | None:
        return (subtype_label(d or "", s) if subtype_label else None) or s

    out.print(
        Text(
            "Evaluation (synthetic teaching cases; the figures test the pack, not clinical truth)",
            style="bold",
        )
    )
    out.print(Text(pack_line(s["pack"]), style="dim"))
    out.print(
        f"Cases {s['cases']}   top-1 {_pct(s['top1'])}   top-3 {_pct(s['top3'])}   "
        f"subtype {_pct(s['subtype'])} (of {s['subtype_cases']})   "
        f"Brier {s['brier']:.4f} (of {s['brier_cases']} with an answer key; 0 is perfect, 2 worst)"
    )
    out.print()
    table = _table("Per diagnosis (expected)")
    table.add_column("Diagnosis", overflow="fold")  # wraps at spaces, a word too long folds: never cut
    for col in ("Cases", "Top-1", "Top-3"):
        table.add_column(col, justify="right", no_wrap=True)
    for row in s["per_diagnosis"]:
        table.add_row(dx(row["diagnosis"]), str(row["cases"]), _pct(row["top1"]), _pct(row["top3"]))
    out.print(table)
    out.print()
    render_confusion(s["confusion"]["matrix"], shorts or {}, dx, out, normal=NORMAL, none=NONE)
    out.print()
    cal = _table("Calibration by decile (every diagnosis of every answered case)")
    for col in ("Predicted", "Pairs", "Mean predicted", "Observed"):
        cal.add_column(col, justify="right")
    for b in s["calibration"]:
        cal.add_row(b["bin"], str(b["n"]), _pct(b["mean_predicted"]), _pct(b["observed"]))
    out.print(cal)
    misses: Sequence[dict[str, Any]] = s["misses"]
    if s.get("not_scored"):
        out.print()
        out.print(
            Text(
                f"Not scored: {len(s['not_scored'])} (no answer key and not tagged normal, as in"
                f" rules test): {', '.join(s['not_scored'])}",
                style="dim",
            )
        )
    out.print()
    out.print(Text(f"Misses: {len(misses)}", style="bold"))
    for m in misses[:show_misses]:
        expected = dx(m["expected"]) if m["expected"] else "nothing fits (no answer key)"
        if m["expected_subtype"]:
            expected += f" ({sub(m['expected'], m['expected_subtype'])})"
        top3 = ", ".join(
            dx(t["diagnosis"])
            + (f" ({sub(t['diagnosis'], t['subtype'])})" if t["subtype"] else "")
            + f" {_pct(t['probability'])}"
            for t in m["top3"]
        )
        out.print(f"  {m['case']}: expected {expected}; got {top3}")
        out.print(Text(f"    why: {m['why']}", style="dim"))
    if len(misses) > show_misses:
        out.print(
            Text(f"  ... {len(misses) - show_misses} more (--misses N, or --json for all)", style="dim")
        )
    if s["subtype_misses"]:
        out.print(Text(f"Subtype misses: {len(s['subtype_misses'])}", style="bold"))
        for m in s["subtype_misses"][:show_misses]:
            out.print(
                f"  {m['case']}: {dx(m['diagnosis'])} {sub(m['diagnosis'], m['expected_subtype'])}"
                f" -> {sub(m['diagnosis'], m['predicted_subtype']) or 'none'}"
            )
