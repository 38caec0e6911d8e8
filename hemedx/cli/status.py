"""One exit-status map for the whole command line, and the one place that turns a failure into it.

Every way a run can end is mapped here: success, findings, bad input or usage (one line), an internal
error (one line asking for a report; the traceback only with ``HEMEDX_DEBUG=1``), Ctrl-C and a closed
pipe. Nothing else in the CLI prints an error or picks an exit status for one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import traceback
from collections.abc import Callable
from enum import IntEnum
from typing import Any

import click

from hemedx.cli.environment import DEBUG_VARIABLE, Environment
from hemedx.errors import InputError
from hemedx.safetext import terminal_text


class ExitStatus(IntEnum):
    """What ``hemedx``'s exit status means (docs/reference/json.md, "Exit status")."""

    OK = 0
    FINDINGS = 1  # the work ran and found something: rule check issues, failing tests, stale schemas
    BAD_INPUT = 2  # a file, option or environment the user can fix; one line on stderr
    INTERNAL = 3  # a bug in hemedx: "please report"
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


PREFIX = "hemedx: error: "


def run_command(main: Callable[[], Any], env: Environment) -> int:
    """Run ``main`` (click in non-standalone mode) and map whatever happens to an :class:`ExitStatus`."""
    _replace_unencodable(env.stdout)
    _replace_unencodable(env.stderr)
    try:
        code = main()
        _flush_stdout(env)
        return _status_of(code)
    except click.exceptions.Exit as exc:  # raised outside a context, e.g. by --version
        return _status_of(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:  # a bare `hemedx` or `hemedx rules`: the help
        exc.show(env.stderr)
        return ExitStatus.BAD_INPUT
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "hemedx"
        _say(f"{PREFIX}{_one_line(exc.format_message())} (try '{command} --help')", env)
        return ExitStatus.BAD_INPUT
    except click.ClickException as exc:  # click's own (a file it cannot open, ...): its line, its status
        exc.show(env.stderr)
        return _status_of(exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__cause__, EOFError):
            _say(f"{PREFIX}input ended before the command finished", env)
            return ExitStatus.BAD_INPUT
        return ExitStatus.INTERRUPTED
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except InputError as exc:  # bad input, in a command or outside one (lazy import of a broken module)
        _say(f"{PREFIX}{exc}", env)
        return ExitStatus.BAD_INPUT
    except OSError as exc:
        if is_closed_pipe(exc):
            silence_stdout(env)
            return ExitStatus.OK
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS):
            silence_stdout(env)
            _say(f"{PREFIX}cannot write the output: {exc.strerror or exc}", env)
            return ExitStatus.BAD_INPUT
        return _internal(exc, env)
    except Exception as exc:  # EngineError and every bug: one line, the traceback only when debugging
        return _internal(exc, env)


def _status_of(code: Any) -> int:
    """A command's ``ctx.exit(N)`` is its status; any other return value (None, data) is success."""
    if isinstance(code, int) and not isinstance(code, bool):
        return ExitStatus(code) if code in ExitStatus._value2member_map_ else code
    return ExitStatus.OK


def _internal(exc: BaseException, env: Environment) -> int:
    if env.debug:
        traceback.print_exception(exc, file=env.stderr)
    detail = _one_line(f"{type(exc).__name__}: {exc}")[:300]
    _say(
        f"hemedx: internal error, please report it with the command you ran ({detail});"
        f" set {DEBUG_VARIABLE}=1 for the traceback",
        env,
    )
    return ExitStatus.INTERNAL


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _say(line: str, env: Environment) -> None:
    with contextlib.suppress(OSError, ValueError):  # stderr itself gone: the status is all that is left
        click.echo(terminal_text(line), file=env.stderr)


def is_closed_pipe(exc: OSError) -> bool:
    """The reader of our output went away (``hemedx rank X | head -1``): not a failure."""
    return isinstance(exc, BrokenPipeError) or exc.errno in (errno.EPIPE, errno.ECONNRESET)


def _flush_stdout(env: Environment) -> None:
    """Flush now, inside the error handling, rather than at interpreter exit (where it would trace)."""
    with contextlib.suppress(ValueError):  # already closed
        env.stdout.flush()


def silence_stdout(env: Environment) -> None:
    """Point stdout at /dev/null so the interpreter's own flush at exit cannot fail a second time."""
    try:
        fd = env.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a real file (a test runner's buffer): nothing will be flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _replace_unencodable(stream: Any) -> None:
    """Characters the terminal's encoding cannot show (█ on latin-1) become '?' instead of a crash."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) == "strict":
        with contextlib.suppress(OSError, ValueError):
            reconfigure(errors="replace")
