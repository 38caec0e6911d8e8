"""Where sessions, students and answers live: a small storage interface and its SQLite implementation.

Every write commits before the call returns, so an answer acknowledged to a phone survives the server
being killed. The interface is what a PostgreSQL store for several workers would implement instead.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hemedx.errors import InputError

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed on phones
CODE_LENGTH = 5


@dataclass(frozen=True)
class Session:
    """A class session: its join code, teacher token, deck of case ids and where the teacher is."""

    id: str
    code: str
    token: str
    cases: tuple[str, ...]
    mode: str  # "class" (teacher gates) or "self" (one student walks alone)
    case_index: int
    step: int
    created: float


@dataclass(frozen=True)
class Student:
    """A participant: public id (in URLs), nickname, and the session they joined."""

    id: str
    session: str
    nickname: str


@dataclass(frozen=True)
class Answer:
    """One student's picks (best first) and optional subtype for one stage of one case."""

    student: str
    case_index: int
    stage: int
    picks: tuple[str, ...]
    subtype: str | None
    at: float


class Store(Protocol):
    """What the web layer needs from storage; SQLite here, PostgreSQL behind several workers later."""

    def create_session(self, cases: list[str], mode: str) -> Session:
        """A new session with a fresh join code and teacher token, at the start of its first case."""
        ...

    def session(self, session_id: str) -> Session | None:
        """The session with this id, or None."""
        ...

    def session_by_code(self, code: str) -> Session | None:
        """The class session with this join code, or None."""
        ...

    def latest_session(self, cases: list[str]) -> Session | None:
        """The newest class session over exactly this deck (to resume after a restart), or None."""
        ...

    def set_position(self, session_id: str, case_index: int, step: int) -> None:
        """Move the session to a case and step (committed before returning)."""
        ...

    def add_student(self, session_id: str, nickname: str) -> tuple[Student, str]:
        """A new student and the secret for their cookie (only its hash is stored)."""
        ...

    def student_by_secret(self, session_id: str, secret: str) -> Student | None:
        """The student whose cookie secret this is, in this session, or None."""
        ...

    def students(self, session_id: str) -> list[Student]:
        """Every student of a session, in joining order."""
        ...

    def save_answer(self, session_id: str, answer: Answer) -> None:
        """Insert or replace a student's answer for a stage (committed before returning)."""
        ...

    def answers(
        self, session_id: str, case_index: int | None = None, student: str | None = None
    ) -> list[Answer]:
        """A session's answers (optionally of one case, one student), ordered by student, case and stage."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, code TEXT NOT NULL, token TEXT NOT NULL, cases TEXT NOT NULL,
    mode TEXT NOT NULL, case_index INTEGER NOT NULL, step INTEGER NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_code ON sessions(code);
CREATE TABLE IF NOT EXISTS students (
    id TEXT PRIMARY KEY, session TEXT NOT NULL REFERENCES sessions(id), nickname TEXT NOT NULL,
    secret_hash TEXT NOT NULL, joined REAL NOT NULL);
CREATE INDEX IF NOT EXISTS students_session ON students(session);
CREATE TABLE IF NOT EXISTS answers (
    session TEXT NOT NULL, student TEXT NOT NULL REFERENCES students(id), case_index INTEGER NOT NULL,
    stage INTEGER NOT NULL, picks TEXT NOT NULL, subtype TEXT, at REAL NOT NULL,
    PRIMARY KEY (session, student, case_index, stage));
"""


def _hash(secret: str) -> str:
    import hashlib

    return hashlib.sha256(secret.encode()).hexdigest()


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/hemedx/classroom.sqlite3`` (``~/.local/share`` when XDG_DATA_HOME is unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hemedx" / "classroom.sqlite3"


class SQLiteStore:
    """The embedded store: one file, WAL journal, ``synchronous=FULL`` so a commit is on disk."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise InputError(f"cannot use {self.path} as the classroom database: {exc}") from None

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        with self._db:  # BEGIN ... COMMIT (or ROLLBACK on error)
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(sql, args)

    def create_session(self, cases: list[str], mode: str) -> Session:
        """A new session with a fresh join code and teacher token, at the start of its first case."""
        live = {row[0] for row in self._db.execute("SELECT code FROM sessions")}
        code = ""
        while not code or code in live:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        s = Session(
            secrets.token_hex(6), code, secrets.token_urlsafe(24), tuple(cases), mode, 0, 0, time.time()
        )
        self._write(
            "INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?)",
            (s.id, s.code, s.token, json.dumps(list(s.cases)), s.mode, 0, 0, s.created),
        )
        return s

    @staticmethod
    def _session(row: tuple[object, ...] | None) -> Session | None:
        if row is None:
            return None
        sid, code, token, cases, mode, case_index, step, created = row
        return Session(
            str(sid), str(code), str(token), tuple(json.loads(str(cases))), str(mode),
            int(case_index), int(step), float(created),  # type: ignore[arg-type]
        )  # fmt: skip

    def session(self, session_id: str) -> Session | None:
        """The session with this id, or None."""
        return self._session(self._db.execute("SELECT * FROM sessions WHERE id=?", (session_id,)).fetchone())

    def session_by_code(self, code: str) -> Session | None:
        """The class session with this join code, or None."""
        row = self._db.execute(
            "SELECT * FROM sessions WHERE code=? AND mode='class' ORDER BY created DESC", (code,)
        ).fetchone()
        return self._session(row)

    def latest_session(self, cases: list[str]) -> Session | None:
        """The newest class session over exactly this deck (to resume after a restart), or None."""
        row = self._db.execute(
            "SELECT * FROM sessions WHERE cases=? AND mode='class' ORDER BY created DESC",
            (json.dumps(list(cases)),),
        ).fetchone()
        return self._session(row)

    def set_position(self, session_id: str, case_index: int, step: int) -> None:
        """Move the session to a case and step (committed before returning)."""
        self._write("UPDATE sessions SET case_index=?, step=? WHERE id=?", (case_index, step, session_id))

    def add_student(self, session_id: str, nickname: str) -> tuple[Student, str]:
        """A new student and the secret for their cookie (only its hash is stored)."""
        student = Student(secrets.token_hex(6), session_id, nickname)
        secret = secrets.token_urlsafe(24)
        self._write(
            "INSERT INTO students VALUES (?,?,?,?,?)",
            (student.id, session_id, nickname, _hash(secret), time.time()),
        )
        return student, secret

    def student_by_secret(self, session_id: str, secret: str) -> Student | None:
        """The student whose cookie secret this is, in this session, or None."""
        row = self._db.execute(
            "SELECT id, session, nickname FROM students WHERE session=? AND secret_hash=?",
            (session_id, _hash(secret)),
        ).fetchone()
        return Student(*row) if row else None

    def students(self, session_id: str) -> list[Student]:
        """Every student of a session, in joining order."""
        rows = self._db.execute(
            "SELECT id, session, nickname FROM students WHERE session=? ORDER BY joined, id", (session_id,)
        )
        return [Student(*row) for row in rows]

    def save_answer(self, session_id: str, answer: Answer) -> None:
        """Insert or replace a student's answer for a stage (committed before returning)."""
        self._write(
            "INSERT OR REPLACE INTO answers VALUES (?,?,?,?,?,?,?)",
            (
                session_id, answer.student, answer.case_index, answer.stage,
                json.dumps(list(answer.picks)), answer.subtype, answer.at,
            ),
        )  # fmt: skip

    def answers(
        self, session_id: str, case_index: int | None = None, student: str | None = None
    ) -> list[Answer]:
        """A session's answers (optionally of one case, one student), ordered by student, case and stage."""
        sql = "SELECT student, case_index, stage, picks, subtype, at FROM answers WHERE session=?"
        args: list[object] = [session_id]
        if case_index is not None:
            sql += " AND case_index=?"
            args.append(case_index)
        if student is not None:
            sql += " AND student=?"
            args.append(student)
        rows = self._db.execute(sql + " ORDER BY student, case_index, stage", args)
        return [Answer(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5]) for r in rows]

    def close(self) -> None:
        """Release the connection."""
        self._db.close()
