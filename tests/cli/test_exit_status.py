"""Every command maps an unexpected exception to exit 3: one line asking for a report, no traceback unless
the environment says HEMEDX_DEBUG=1 (then the traceback, then the same line).

The failure is a bug on hemedx's own output path (stdout's ``write`` raises), so it reaches each command
where it really runs; commands that write little or nothing to stdout fail in a function they call.
"""

from __future__ import annotations

import io
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from hemedx.cli import cli
from hemedx.cli.environment import Environment
from hemedx.cli.status import ExitStatus
from hemedx.errors import EngineError

from support.helpers import FIXTURES, MINI_PACK, ROOT

CASE = "aa-non-severe-older-man"
LIBRARY_FILE = ROOT / "hemedx" / "cases" / "library" / f"{CASE}.yaml"
FHIR_BUNDLE = FIXTURES / "fhir" / "hl7-cbc-f001-r4.json"


class BrokenStream(io.StringIO):
    """A stream whose every write is a bug: stands in for a fault anywhere on the way to the output."""

    def write(self, text: str) -> int:
        raise RuntimeError("boom")


def _boom(*_: object, **__: object) -> None:
    raise RuntimeError("boom")


# command path -> (arguments after it, a function to break instead of stdout, when it writes none)
COMMANDS: dict[str, tuple[list[str], str | None]] = {
    "cases check": ([str(LIBRARY_FILE)], "hemedx.engine.consistency.case_problems"),
    "cases list": ([], None),
    "cases new": (["x-case", "--out", "{tmp}/x.yaml"], None),
    "cases show": ([CASE], None),
    "demo": (["--case", CASE], None),
    "evaluate": ([CASE, "--jobs", "1"], None),
    "explain": ([CASE], None),
    "export fhir": ([CASE], None),
    "generate": (["--diagnosis", "normal", "--n", "1", "--out", "{tmp}/gen"], None),
    "import fhir": ([str(FHIR_BUNDLE)], "hemedx.cli.commands.fhir.import_bundle"),
    "present": ([CASE, "--out", "{tmp}/deck.html"], "hemedx.present.render_html"),
    "quiz": ([CASE], None),
    "rank": ([CASE], None),
    "rules check": (["--rules", str(MINI_PACK)], None),
    "rules coverage": (["--rules", str(MINI_PACK), "--cases", "{tmp}"], None),
    "rules diff": ([str(MINI_PACK), str(MINI_PACK), "--cases", "{tmp}"], None),
    "rules docs": (["--rules", str(MINI_PACK), "--out", "{tmp}/docs"], None),
    "rules new": (["ddx_x"], None),
    "rules path": ([], None),
    "rules schema": ([], None),
    "rules show": (["anemia"], None),
    "rules test": (["--rules", str(MINI_PACK), "--cases", "{tmp}"], None),
    "serve export": (["S1", "--csv", "--db", "{tmp}/db"], "hemedx.cli.commands.serve.SQLiteStore"),
    "serve run": (["--port", "1"], "hemedx.cli.commands.serve._deck"),
    "vocab": ([], None),
    "walkthrough": ([CASE, "--auto"], None),
}


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[str]:
    ctx = click.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += leaf_commands(command, (*path, name))
        else:
            found.append(" ".join((*path, name)))
    return found


def test_the_table_names_every_command():
    assert sorted(COMMANDS) == sorted(leaf_commands(cli))


def run_broken(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug: bool) -> str:
    args, target = COMMANDS[command]
    if target is not None:
        monkeypatch.setattr(target, _boom)
    (tmp_path / "db").touch()
    env = Environment(
        stdin=io.StringIO(),
        stdout=io.StringIO() if target else BrokenStream(),
        stderr=io.StringIO(),
        debug=debug,
    )
    argv = [*command.split(), *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    result = CliRunner().invoke(cli, argv, obj=env)
    assert isinstance(env.stderr, io.StringIO)
    assert result.exit_code == ExitStatus.INTERNAL, (command, env.stderr.getvalue())
    return env.stderr.getvalue()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unexpected_exception_in_any_command_is_exit_3_and_one_line(command, tmp_path, monkeypatch):
    stderr = run_broken(command, tmp_path, monkeypatch, debug=False)
    (line,) = stderr.splitlines()
    assert line.startswith("hemedx: internal error, please report it with the command you ran")
    assert "RuntimeError: boom" in line and line.endswith("set HEMEDX_DEBUG=1 for the traceback")


@pytest.mark.parametrize("command", ["rank", "rules check", "walkthrough", "serve run", "present"])
def test_the_traceback_appears_only_with_debug(command, tmp_path, monkeypatch):
    stderr = run_broken(command, tmp_path, monkeypatch, debug=True)
    assert stderr.startswith("Traceback (most recent call last)")
    assert stderr.splitlines()[-1].startswith("hemedx: internal error, please report it")


def test_an_engine_error_is_an_internal_error_with_its_traceback_under_debug(monkeypatch):
    def failing(*_: object, **__: object) -> None:
        raise EngineError("durable_rules failed: code 201")

    monkeypatch.setattr("hemedx.cli.commands.rank.rank_case", failing)
    for debug in (False, True):
        env = Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(), debug=debug)
        assert CliRunner().invoke(cli, ["rank", CASE], obj=env).exit_code == 3
        stderr = env.stderr.getvalue()  # type: ignore[attr-defined]
        assert stderr.splitlines()[-1] == (
            "hemedx: internal error, please report it with the command you ran"
            " (EngineError: durable_rules failed: code 201); set HEMEDX_DEBUG=1 for the traceback"
        )
        assert ("Traceback (most recent call last)" in stderr) == debug
