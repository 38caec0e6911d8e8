"""The ``hemedx`` command line: a thin click shell over the library. No domain logic lives here."""

from __future__ import annotations

import sys
from typing import Any

import click

from hemedx import __version__
from hemedx.errors import EngineError, InputError


class InputFailure(click.ClickException):
    """Bad input: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print the one-line message."""
        click.echo(f"hemedx: error: {self.message}", err=True)


class InternalFailure(click.ClickException):
    """A bug in hemedx or its pack (never the user's input): one line, exit status 3."""

    exit_code = 3

    def show(self, file: Any = None) -> None:
        """Print the one-line message."""
        click.echo(f"hemedx: internal error: {self.message} (please report this)", err=True)


class HemedxGroup(click.Group):
    """Maps hemedx's own errors to exit codes in one place, so no command prints a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, translating hemedx errors into click exceptions with our exit codes."""
        try:
            return super().invoke(ctx)
        except InputError as exc:
            raise InputFailure(str(exc)) from None
        except EngineError as exc:
            raise InternalFailure(str(exc)) from None
        except BrokenPipeError:  # output piped into `head` and closed early
            sys.stderr.close()
            raise click.exceptions.Exit(0) from None


@click.group(cls=HemedxGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hemedx")
def cli() -> None:
    """hemedx: a rule-based differential-diagnosis teaching aid for haematology.

    Synthetic cases only. Not for clinical use.
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="hemedx")


def _register_commands() -> None:
    """Import every module of ``hemedx.cli.commands``; each adds its commands to the group."""
    import importlib
    import pkgutil

    from hemedx.cli import commands

    for module in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"hemedx.cli.commands.{module}")


_register_commands()
