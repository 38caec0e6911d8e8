"""Helpers for the classroom-server tests: a room over library cases and a TestClient per person."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hemedx import load_pack
from hemedx.cases.library import resolve_case
from hemedx.serve.app import Classroom, create_app
from hemedx.serve.guard import Limits
from hemedx.serve.store import SQLiteStore

CASE = "aa-severe-young-woman"


def make_room(db: Path, cases: list[str], session_mode: str | None = "class") -> tuple[Classroom, object]:
    pack = load_pack()
    deck = {c: resolve_case(c, pack) for c in cases}
    store = SQLiteStore(db)
    session = store.create_session(cases, session_mode) if session_mode else None
    room = Classroom(store=store, pack=pack, cases=deck, self_study=list(cases), join_url="http://127.0.0.1/")
    return room, session


def client(room: Classroom, limits: Limits | None = None):
    from starlette.testclient import TestClient

    return TestClient(create_app(room, limits), raise_server_exceptions=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port, db, *cases):
    cmd = [sys.executable, "-c", "from hemedx.cli import main; main()", "serve", *cases,
           "--host", "127.0.0.1", "--port", str(port), "--db", str(db)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C" in line:
            break
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    return proc, "".join(lines)


def stop(proc) -> tuple[float, str]:
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    elapsed = time.monotonic() - began
    rest = proc.stdout.read()
    proc.stdout.close()
    return elapsed, rest
