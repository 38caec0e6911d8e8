"""Helpers for the classroom-server tests: a room over library cases and a TestClient per person."""

from __future__ import annotations

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
