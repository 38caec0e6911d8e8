"""Errors a user can cause, and errors that are the program's own fault.

Every :class:`InputError` renders as one line naming the file, the position, the field and what
would be right; the CLI prints that line and exits with status 2. :class:`EngineError` marks a broken
invariant inside hemedx (a bug), never something a user typed.
"""

from __future__ import annotations

from collections.abc import Sequence

PathPart = str | int


def format_path(path: Sequence[PathPart]) -> str:
    """Render a field path the way a case author reads it: ``stages[1].labs.hemoglobin``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class HemedxError(Exception):
    """Base of every error hemedx raises on purpose."""


class InputError(HemedxError):
    """Bad input in a file or on the command line: exit status 2, one line, no traceback."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: Sequence[PathPart] | str | None = None,
        hint: str | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.field = field if isinstance(field, str) or field is None else format_path(field)
        self.hint = hint
        self.code = code  # the ``rules check`` code, where the error is a pack problem (HX101, ...)
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file or ""
        if self.file and self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [p for p in (where, self.field) if p]
        text = ": ".join([*parts, self.message])
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split())  # always one line

    def located(self, **changes: object) -> InputError:
        """Return a copy with position details filled in where they were missing."""
        fields = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "hint": self.hint,
        }
        for key, value in changes.items():
            if fields.get(key) is None:
                fields[key] = value
        return InputError(self.message, code=self.code, **fields)  # type: ignore[arg-type]


class EngineError(HemedxError):
    """An internal invariant failed (for example a rule action raised): a bug in hemedx or its pack."""
