"""The ``hemedx`` click group: a thin shell over the library (no domain logic), its commands loaded lazily."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from typing import Any

import click

from hemedx import __version__
from hemedx.cli.environment import Environment
from hemedx.cli.status import ExitStatus, is_closed_pipe, run_command, silence_stdout
from hemedx.lifetime import long_lived

# Commands that live in a module not named after them; any other command is in commands/<name>.py.
_HOMES = {
    "explain": "rank",
    "demo": "rank",
    "walkthrough": "teach",
    "present": "teach",
    "import": "fhir",
    "export": "fhir",
}


class HemedxGroup(click.Group):
    """Maps every failure to one exit status (:mod:`hemedx.cli.status`), and loads command modules lazily.

    A command's module is imported only when that command runs, so ``hemedx rank`` does not pay for
    the presenter, the authoring tools or the generator. ``--help`` loads them all to list them.
    """

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, standalone_mode: bool = True, **extra: Any
    ) -> Any:
        """Run click without its own error printing; :func:`run_command` prints and picks the status.

        The :class:`Environment` is made here, once, and becomes the context object every command gets
        (a test may pass its own as ``obj``).
        """
        env = extra.pop("obj", None) or Environment.from_process()
        status = run_command(
            lambda: super(HemedxGroup, self).main(args, prog_name, standalone_mode=False, obj=env, **extra),
            env,
        )
        if standalone_mode:
            sys.exit(int(status))
        return int(status)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a closed pipe is caught here, every other failure in :func:`run_command`."""
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if not is_closed_pipe(exc):
                raise
            # Caught here because click turns a closed pipe into exit status 1 itself.
            silence_stdout(ctx.find_object(Environment) or Environment.from_process())
            raise click.exceptions.Exit(ExitStatus.OK) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the command's own module first; fall back to importing every command module."""
        # A command's modules (and the pack models, engine and libraries they import) live as long as
        # the process: the collector pauses while they are imported, and the command line freezes them.
        with long_lived():
            if cmd_name not in self.commands:
                _load(_HOMES.get(cmd_name, cmd_name))
            if cmd_name not in self.commands:
                _load_all()
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, for ``--help``."""
        _load_all()
        return sorted(self.commands)


def _load(module: str) -> None:
    name = f"hemedx.cli.commands.{module}"
    if module.isidentifier() and importlib.util.find_spec(name) is not None:
        importlib.import_module(name)


def _load_all() -> None:
    from hemedx.cli import commands

    for module in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        _load(module)


@click.group(cls=HemedxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hemedx")
def cli() -> None:
    """hemedx: a rule-based differential-diagnosis teaching aid for haematology.

    Synthetic cases only. Not for clinical use.
    """
