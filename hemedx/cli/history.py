"""Quiz progress in the user's data directory: one JSON line per quiz, appended; never fatal.

The folder is ``$HEMEDX_DATA_DIR`` if set (tests point it at a temporary folder), else
``$XDG_DATA_HOME/hemedx``, else ``~/.local/share/hemedx``. A file that cannot be written, or a line that
cannot be read, is a one-line warning on stderr: losing a score must never stop a quiz.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

import click

from hemedx.safetext import terminal_text

DATA_DIR_VARIABLE = "HEMEDX_DATA_DIR"
HISTORY_FILE = "quiz-history.jsonl"
MAX_HISTORY_BYTES = 10_000_000  # a history is a few hundred bytes a quiz; anything far larger is not ours


def data_dir() -> Path:
    """Where hemedx keeps a user's data (XDG base directory rules, with an override for tests)."""
    override = os.environ.get(DATA_DIR_VARIABLE)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "hemedx"


def history_path() -> Path:
    """The quiz history file."""
    return data_dir() / HISTORY_FILE


def warn(text: str, stderr: TextIO) -> None:
    """One warning line on stderr."""
    click.echo(terminal_text(f"hemedx: warning: {text}"), file=stderr)


def save(record: dict[str, Any], stderr: TextIO) -> Path | None:
    """Append one quiz record; the file's path, or ``None`` (after a warning) when it cannot be saved."""
    path = history_path()
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(line)
    except OSError as exc:
        warn(f"progress not saved to {path}: {exc.strerror or exc}", stderr)
        return None
    return path


def load(stderr: TextIO) -> list[dict[str, Any]]:
    """Every readable record, oldest first; unreadable lines or an unreadable file are warned about."""
    path = history_path()
    try:
        if not path.exists():
            return []
        if path.stat().st_size > MAX_HISTORY_BYTES:
            warn(f"{path} is larger than {MAX_HISTORY_BYTES} bytes; not read", stderr)
            return []
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        warn(f"cannot read {path}: {exc.strerror or exc}", stderr)
        return []
    records, bad = [], 0
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            bad += 1
            continue
        if isinstance(record, dict) and _valid(record):
            records.append(record)
        else:
            bad += 1
    if bad:
        warn(f"{path}: skipped {bad} unreadable line(s)", stderr)
    return records


def _valid(record: dict[str, Any]) -> bool:
    """A record has the fields the history view prints, with the right types."""
    numbers = ("points", "max", "percent", "stages", "stages_done")
    texts = ("when", "case", "title", "status")
    return all(
        isinstance(record.get(k), int | float) and not isinstance(record.get(k), bool) for k in numbers
    ) and all(isinstance(record.get(k), str) for k in texts)
