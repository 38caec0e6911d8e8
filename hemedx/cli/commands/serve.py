"""serve: the live classroom server, and ``serve export`` for a session's results.

``hemedx serve CASE...`` runs a session (``serve run`` spelled out); ``hemedx serve export SESSION``
writes its results. Starlette, uvicorn and segno come with the ``serve`` extra and are imported only
when the server starts, so ``--help`` and ``export`` work without them.
"""

from __future__ import annotations

import errno
import json
import socket
from pathlib import Path
from typing import Any

import click

from hemedx.cases.library import library_files, library_ids, resolve_cases
from hemedx.cases.loader import load_case
from hemedx.cases.model import Case
from hemedx.cli.app import cli
from hemedx.cli.environment import Environment, pass_env
from hemedx.cli.options import pack_from, rules_option, uniform_option
from hemedx.errors import InputError
from hemedx.outfiles import write_file
from hemedx.rules.model import Pack
from hemedx.serve.store import SQLiteStore, default_db_path

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help="SQLite file for sessions and answers (default: $XDG_DATA_HOME/hemedx/classroom.sqlite3).",
)


class ServeGroup(click.Group):
    """``serve CASE...`` means ``serve run CASE...``; ``serve export ...`` is the export subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Route anything that is not a subcommand (or help) to ``run``."""
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=ServeGroup)
def serve() -> None:
    """Live classroom: students answer each stage on their phones; the class is compared with the engine.

    hemedx serve [CASE...] [--host H] [--port P] [--db PATH] runs a session over the cases (a deck);
    with no CASE it serves self-study over the library. hemedx serve export SESSION writes results.
    """


def _deck(refs: tuple[str, ...], pack: Pack) -> list[Case]:
    cases = resolve_cases(list(refs), pack)
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"case '{dup}' is given twice; a deck lists each case once")
    return cases


def _library_lookup(pack: Pack) -> Any:
    files = {p.stem: p for p in library_files()}

    def lookup(case_id: str) -> Case | None:
        return load_case(files[case_id], pack) if case_id in files else None

    return lookup


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port before anything is printed, so a port in use is one clear line (exit 2)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (socket.gaierror, UnicodeError) as exc:
        sock.close()
        raise InputError(f"--host {host}: not an address of this machine ({exc})") from None
    except OSError as exc:
        sock.close()
        hint = "pick another --port" if exc.errno == errno.EADDRINUSE else None
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}", hint=hint) from None
    sock.set_inheritable(True)
    return sock


@serve.command("run")
@click.argument("cases", nargs=-1)
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on (0.0.0.0 = LAN).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="TCP port.")
@db_option
@click.option("--new", "fresh", is_flag=True, help="Start a new session even if this deck has one in --db.")
@click.option(
    "--address-rate",
    type=click.FloatRange(1, 100000),
    default=100.0,
    show_default=True,
    help="Requests per second allowed from one network address (raise it when a class shares one NAT).",
)
@rules_option
@uniform_option
@pass_env
def run(
    env: Environment,
    cases: tuple[str, ...],
    host: str,
    port: int,
    db_path: Path | None,
    fresh: bool,
    address_rate: float,
    rules_dir: Path | None,
    uniform_priors: bool,
) -> None:
    """Serve CASE... to a class (teacher link + join code), or self-study when no CASE is given."""
    try:
        import uvicorn

        from hemedx.serve.app import Classroom, create_app
        from hemedx.serve.guard import Limits
        from hemedx.serve.netinfo import public_host, terminal_qr
    except ImportError as exc:
        raise InputError(
            f"hemedx serve needs the 'serve' extra ({exc.name} is missing)",
            hint="pip install 'hemedx[serve]'",
        ) from None
    pack = pack_from(rules_dir)
    deck = _deck(cases, pack)
    store = SQLiteStore(db_path or default_db_path())
    try:
        listener = _listen(host, port)
    except InputError:
        store.close()
        raise
    ids = [c.id for c in deck]
    session = None
    if deck:
        session = None if fresh else store.latest_session(ids)
        resumed = session is not None
        session = session or store.create_session(ids, "class")
    base = f"http://{public_host(host)}:{port}"
    join_url = f"{base}/?code={session.code}" if session else f"{base}/"
    room = Classroom(
        store=store,
        pack=pack,
        cases={c.id: c for c in deck},
        self_study=ids or library_ids(),
        join_url=join_url,
        uniform_priors=uniform_priors,
        library=_library_lookup(pack),
    )
    for case_id in ids:  # rank every stage now, so the first page is instant and errors show here
        room.material(case_id)
    out = env.echo
    out(f"hemedx classroom on {base}/  (database {store.path})")
    if session:
        out(f"{'Resumed' if resumed else 'New'} session {session.id} over {len(ids)} case(s)")
        out(f"Students: open {join_url}  or go to {base}/ and enter code {session.code}")
        out(terminal_qr(join_url), nl=False)
        out(f"Teacher (keep private): {base}/teacher/{session.id}#t={session.token}")
    else:
        out(f"Self-study over {len(room.self_study)} library cases: {base}/")
    if host in ("0.0.0.0", "::") and public_host(host).startswith("127."):
        out("No network address found for this machine: phones need its address from the network settings.")
    if host in ("127.0.0.1", "localhost", "::1"):
        out("Listening on loopback only: phones on the network cannot reach it (use --host 0.0.0.0).")
    out("Press Ctrl-C to stop.")
    env.stdout.flush()
    config = uvicorn.Config(
        create_app(room, Limits(address_rate=address_rate, address_burst=3 * address_rate)),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
        limit_concurrency=2000,  # beyond that, 503 rather than unbounded memory
        server_header=False,
        access_log=False,
    )
    try:
        uvicorn.Server(config).run(sockets=[listener])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: for a server that is the way to stop
        pass
    finally:
        store.close()
        listener.close()
    out("Stopped; every acknowledged answer is in the database.")


@serve.command("export")
@click.argument("session_id", metavar="SESSION")
@click.argument("case_files", nargs=-1, metavar="[CASE...]")
@click.option("--csv", "fmt", flag_value="csv", help="One row per student, case and stage (gradebook).")
@click.option("--json", "fmt", flag_value="json", help="The full record with the class summary.")
@click.option("--summary", is_flag=True, help="With --csv: the class summary, one row per case and stage.")
@db_option
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File to write."
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@rules_option
@uniform_option
@pass_env
def export_command(
    env: Environment,
    session_id: str,
    case_files: tuple[str, ...],
    fmt: str | None,
    summary: bool,
    db_path: Path | None,
    out_file: Path | None,
    force: bool,
    rules_dir: Path | None,
    uniform_priors: bool,
) -> None:
    """Write SESSION's picks and scores per student and stage, and the class summary.

    Library cases are found by id; give the CASE files again if the session served files of its own.
    """
    from hemedx.serve import export
    from hemedx.serve.deck import build_case

    if fmt is None:
        raise InputError("give --csv or --json")
    if summary and fmt != "csv":
        raise InputError("--summary goes with --csv (the JSON always has the summary)")
    path = db_path or default_db_path()
    if not path.exists():
        raise InputError(f"no classroom database at {path}", hint="pass the --db the server used")
    store = SQLiteStore(path)
    session = store.session(session_id)
    if session is None:
        raise InputError(f"no session '{session_id}' in {path}", hint="the server printed its id at start")
    pack = pack_from(rules_dir)
    lookup = _library_lookup(pack)
    given = {c.id: c for c in _deck(case_files, pack)}
    deck = []
    for case_id in session.cases:
        case = given.get(case_id) or lookup(case_id)
        if case is None:
            raise InputError(
                f"session {session_id} used case '{case_id}', which is not in the library",
                hint="give its case file after SESSION",
            )
        deck.append(build_case(case, pack, uniform_priors))
    data = export.session_results(session, deck, store)
    if fmt == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = export.to_summary_csv(data) if summary else export.to_csv(data)
    if out_file is None:
        env.echo(text, nl=False)
        return
    write_file(out_file, text, force=force)
    env.echo(f"wrote {out_file}", err=True)
