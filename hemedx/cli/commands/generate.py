"""generate: write synthetic cases with coupled labs, reproducibly from a seed."""

from __future__ import annotations

from pathlib import Path

import click

from hemedx.cases.generator import generate_case, load_distributions, plan, to_case, to_yaml
from hemedx.cli.app import cli
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import distributions_option, force_option, out_dir_option, pack_from, rules_option
from hemedx.outfiles import write_files

_BATCH = 500  # cases held in memory at once


@cli.command()
@click.option(
    "--diagnosis",
    required=True,
    metavar="DX",
    help="A diagnosis id of the pack, 'normal' (nothing should fit) or 'all' (every one in turn).",
)
@click.option("--subtype", default=None, metavar="S", help="Only this subtype of the diagnosis.")
@click.option(
    "--n", "n", default=10, show_default=True, type=click.IntRange(1, 1_000_000), help="How many cases."
)
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, byte-identical files.")
@out_dir_option("Folder to write the case files into (created if needed).", dest="out")
@force_option
@rules_option
@distributions_option
@pass_env
def generate(
    env: Environment,
    diagnosis: str,
    subtype: str | None,
    n: int,
    seed: int,
    out: Path,
    force: bool,
    rules_dir: Path | None,
    distributions_file: Path | None,
) -> None:
    """Write N synthetic cases of DX whose labs are physiologically coupled, in the library's case format.

    Each file is checked against the same schema as a hand-written case before it is written. The generator
    shares the pack's assumptions: it tests the rules, it is not a benchmark of clinical truth.
    """
    pack = pack_from(rules_dir)
    dist = load_distributions(pack, distributions_file, rules_dir)
    items = plan(dist, diagnosis, subtype, n)  # a bad --diagnosis or --subtype fails before any file
    for start in range(0, len(items), _BATCH):  # each batch is checked whole before any file is written
        batch = {}
        for item in items[start : start + _BATCH]:
            doc = generate_case(dist, pack, item, seed)
            to_case(doc, pack)  # the same schema and vocabulary checks as a hand-written case
            batch[f"{doc['id']}.yaml"] = to_yaml(doc)
        write_files(out, batch, force=force)
    env.echo(f"wrote {len(items)} case{'s' if len(items) != 1 else ''} to {out}")
