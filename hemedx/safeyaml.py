"""Strict, data-only YAML and JSON reading that remembers where every value came from.

YAML is composed into nodes (never constructed into arbitrary objects), so a ``!!python/...`` tag
cannot execute anything: every explicit tag other than the plain core types is refused. Duplicate
keys, anchors/aliases (the "billion laughs" expansion) and merge keys are errors too. Each value's
path is mapped to its ``line:column`` so schema errors can point at the right place.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hemedx.errors import InputError, PathPart

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null")}
_constructor = yaml.constructor.SafeConstructor()
MAX_BYTES = 2_000_000
MAX_DEPTH = 64
MAX_INT_DIGITS = 15  # beyond any count, age or threshold; and far below Python's 4,300-digit limit

# What YAML 1.2's core schema reads as a number. PyYAML implements YAML 1.1, which also reads 020 as 16
# (octal), 1:20 as 80 (base 60), 1_000 as 1000 and 0x1F as 31: those spellings are refused, never
# silently converted. (1e5 stays text, as YAML 1.1 reads it; a field that needs a number refuses it.)
_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DECIMAL_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NOT_YAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_BASED_INT = re.compile(r"[-+]?0([oO][0-7_]+|[xX][0-9a-fA-F_]+|[bB][01_]+)")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


@dataclass(frozen=True)
class Document:
    """Parsed data plus the source position of every mapping key and list item."""

    data: Any
    file: str
    positions: dict[tuple[PathPart, ...], tuple[int, int]] = field(default_factory=dict)

    def where(self, path: tuple[PathPart, ...] | list[PathPart]) -> tuple[int | None, int | None]:
        """Line and column of the deepest known prefix of ``path`` (1-based)."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (None, None))

    def error(
        self,
        path: tuple[PathPart, ...] | list[PathPart],
        message: str,
        hint: str | None = None,
        code: str | None = None,
    ) -> InputError:
        """Build an :class:`InputError` located at ``path`` in this document."""
        line, column = self.where(path)
        return InputError(
            message, file=self.file, line=line, column=column, field=list(path), hint=hint, code=code
        )


def read_text(path: Path, label: str) -> str:
    """Read a UTF-8 file with errors a user can act on (missing, a directory, binary, huge)."""
    raw = read_bytes(path, label)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None


def read_bytes(path: Path, label: str, limit: int | None = None) -> bytes:
    """Read at most ``limit`` bytes of a regular file; refuse FIFOs, devices and folders before reading.

    The file is opened without blocking and checked on the open descriptor, so a FIFO cannot stall the
    open and a file swapped for ``/dev/zero`` after a check is still refused; reading stops at the limit.
    """
    limit = MAX_BYTES if limit is None else limit
    folder = f"is a directory, expected a {label} file (.yaml or .json)"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"no such {label} file", file=str(path)) from None
    except IsADirectoryError:
        raise InputError(folder, file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read {label} file: {exc.strerror}", file=str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(folder, file=str(path))
        if not stat.S_ISREG(mode):
            raise _not_regular(mode, path, label)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        raise InputError(f"cannot read {label} file: {exc.strerror}", file=str(path)) from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise InputError(f"file is larger than {limit / 1_000_000:g} MB", file=str(path))
    return raw


def refuse_special_file(path: Path, label: str) -> None:
    """Refuse a FIFO, device or socket where a file of a folder is expected (a folder lists names first)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: the reader says which, if the file is needed
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise _not_regular(mode, path, label)


def _not_regular(mode: int, path: Path, label: str) -> InputError:
    if stat.S_ISFIFO(mode):
        kind = "named pipe (FIFO)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "device"
    elif stat.S_ISSOCK(mode):
        kind = "socket"
    else:
        kind = "special file"
    return InputError(f"is a {kind}, not a regular file; expected a {label} file", file=str(path))


def load_file(path: Path, label: str = "YAML") -> Document:
    """Parse ``path`` as JSON (``.json``) or YAML (anything else)."""
    text = read_text(path, label)
    if path.suffix.lower() == ".json":
        return parse_json(text, str(path))
    return parse_yaml(text, str(path))


class _Recheck(Exception):
    """The direct read met something the full read must judge (and report exactly as it always has)."""


# libyaml 0.2.5 and later refuse nesting beyond 1000 levels while parsing, so composing before the
# prescan cannot overflow the C stack; an older libyaml always gets the prescan first.
_BOUNDED_NESTING = getattr(getattr(yaml, "_yaml", None), "get_version", lambda: (0, 0, 0))() >= (0, 2, 5)


def parse_yaml(text: str, file: str) -> Document:
    """Parse one YAML document strictly; raise :class:`InputError` with a position on any problem.

    A well-formed file is composed once, without the prescan's separate pass over its events (a third
    of the time of reading a pack). Anything the prescan exists for shows in the composed nodes too (an
    alias is a node met twice, nesting is the depth, a complex key is not a scalar), and it or any other
    problem sends the text through the full read, which finds the first problem in document order and
    words it exactly as before.
    """
    if _BOUNDED_NESTING:
        try:
            return _parse_direct(text, file)
        except Exception:  # whatever it is, the full read below raises it in its own words
            pass
    try:
        _prescan(text, file)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if "another document" in problem:
            problem = "a file holds one YAML document, but another document starts here (---)"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        lines = text.splitlines()
        problem, hint = _likely_mistake(problem, lines[mark.line] if mark and mark.line < len(lines) else "")
        raise InputError(
            f"not valid YAML: {problem}", file=file, line=line, column=column, hint=hint
        ) from None
    except yaml.reader.ReaderError as exc:
        raise _bad_character(text, file, exc.position, exc.character) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=file) from None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _CORE + "null"):
        raise InputError("file is empty", file=file)
    positions: dict[tuple[PathPart, ...], tuple[int, int]] = {}
    data = _convert(node, (), positions, set(), file)
    return Document(data=data, file=file, positions=positions)


def _parse_direct(text: str, file: str) -> Document:
    """:func:`parse_yaml` of a text the prescan would pass, composed without it (raises to recheck)."""
    node = yaml.compose(text, Loader=_Loader)
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _CORE + "null"):
        raise _Recheck
    positions: dict[tuple[PathPart, ...], tuple[int, int]] = {}
    data = _convert(node, (), positions, set(), file)
    return Document(data=data, file=file, positions=positions)


def entry_ids(text: str, key: str) -> list[str | None]:
    """The ``id`` of each item of the top-level list ``key``, read from the YAML nodes alone.

    A file refused while it is read as data (a duplicate key, a tag, ``.nan``) can still have the item
    named by its id ("rule 'ev.x'") instead of its index. Nothing is constructed; a file the prescan
    refuses (aliases, deep nesting) gives no ids.
    """
    try:
        _prescan(text, "")
        root = yaml.compose(text, Loader=_Loader)
    except (InputError, yaml.YAMLError):
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    items = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
    if not isinstance(items, yaml.SequenceNode):
        return []
    out: list[str | None] = []
    for item in items.value:
        ident = None
        if isinstance(item, yaml.MappingNode):
            ident = next(
                (v.value for k, v in item.value if k.value == "id" and isinstance(v, yaml.ScalarNode)), None
            )
        out.append(ident or None)
    return out


def _likely_mistake(problem: str, line: str) -> tuple[str, str | None]:
    """Name the usual cause of PyYAML's parser messages, which describe the parser rather than the text."""
    indentation = (
        "the indentation does not match the keys above (a line indented too far, or a '- ' missing)",
        "line each key up with the other keys of its entry",
    )
    if "did not find expected key" in problem or "expected '-' indicator" in problem:
        return indentation
    if "mapping values are not allowed" in problem:
        value = line.split(": ", 1)[1] if ": " in line.lstrip("- ") else ""
        if ": " not in value and not value.rstrip().endswith(":"):
            return indentation  # a key on a line of its own, deeper than its neighbours
        return (
            "a ': ' inside an unquoted value (YAML reads it as a new key)",
            'quote the value, e.g. title: "Note: ..."',
        )
    return problem, None


def _bad_character(text: str, file: str, position: int, character: Any) -> InputError:
    """A control character (a NUL in a title) at its line, column and, where it can be found, field."""
    code = character if isinstance(character, int) else ord(str(character)[:1] or "\0")
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    field: tuple[PathPart, ...] = ()
    cleaned = _NOT_YAML.sub(" ", text)
    if cleaned != text:  # parse once more without the characters YAML refuses, only to learn the field
        try:
            positions = parse_yaml(cleaned, file).positions
        except InputError:
            positions = {}
        before = [(pos, path) for path, pos in positions.items() if pos <= (line, column)]
        if before:
            field = max(before, key=lambda item: (item[0], len(item[1])))[1]
    return InputError(
        f"control character U+{code:04X} is not allowed in YAML",
        file=file,
        line=line,
        column=column,
        field=list(field) or None,
        hint="remove it; write plain text",
    )


def _prescan(text: str, file: str) -> None:
    """Check the event stream before composing: no aliases, and no nesting deep enough to crash.

    The composer forgets where an alias stood, so aliases are refused here, at their own position
    and field. PyYAML's C composer recurses per nesting level and overflows the C stack (a segfault)
    on deeply nested input, so depth is bounded before it ever composes.
    """
    # One frame per open collection: [is_mapping, current key or index, expecting a key next]
    stack: list[list[Any]] = []

    def advance() -> None:
        if stack:
            if stack[-1][0]:
                stack[-1][2] = True
            else:
                stack[-1][1] += 1

    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            stack.pop()
            advance()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue  # stream and document markers
        line, column = event.start_mark.line + 1, event.start_mark.column + 1
        path = [frame[1] for frame in stack]
        if stack and stack[-1][0] and stack[-1][2]:  # this node is a mapping key
            if isinstance(event, yaml.ScalarEvent) and not (event.value == "<<" and not event.style):
                stack[-1][1], stack[-1][2] = event.value, False
                continue
            raise InputError(
                "only plain text keys are allowed (no merge keys or complex keys)",
                file=file,
                line=line,
                column=column,
                field=path[:-1],
            )
        if isinstance(event, yaml.AliasEvent):
            raise InputError(
                "YAML anchors and aliases are not allowed",
                file=file,
                line=line,
                column=column,
                field=path,
                hint="write the value out in full",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise InputError(
                    f"nested more than {MAX_DEPTH} levels deep",
                    file=file,
                    line=line,
                    column=column,
                )
            is_mapping = isinstance(event, yaml.MappingStartEvent)
            stack.append([is_mapping, None if is_mapping else 0, True])
        else:
            advance()


def _convert(
    node: yaml.Node,
    path: tuple[PathPart, ...],
    positions: dict[tuple[PathPart, ...], tuple[int, int]],
    seen: set[int],
    file: str,
) -> Any:
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    positions.setdefault(path, (line, column))

    def fail(message: str, hint: str | None = None) -> InputError:
        return InputError(message, file=file, line=line, column=column, field=list(path), hint=hint)

    if isinstance(node, yaml.ScalarNode):
        if id(node) in seen:
            raise fail("YAML anchors and aliases are not allowed", "write the value out in full")
        seen.add(id(node))
        if node.tag not in _SCALAR_TAGS:
            if node.tag == _CORE + "timestamp":
                return node.value  # dates are plain text here
            raise fail(f"YAML tag '{_short(node.tag)}' is not allowed", "write plain values only")
        value = _number(node, fail) if not node.style else _constructor.construct_object(node)
        if isinstance(value, float) and not math.isfinite(value):
            raise fail(f"'{node.value}' is not a finite number")
        return value
    if id(node) in seen:  # unreachable after _refuse_aliases; kept as a guard against expansion
        raise fail("YAML anchors and aliases are not allowed", "write the value out in full")
    seen.add(id(node))
    if len(path) >= MAX_DEPTH:  # the prescan refuses it first; a direct read hands it back to it
        raise _Recheck
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _CORE + "seq":
            raise fail(f"YAML tag '{_short(node.tag)}' is not allowed", "write plain values only")
        return [_convert(item, (*path, i), positions, seen, file) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        if node.tag != _CORE + "map":
            raise fail(f"YAML tag '{_short(node.tag)}' is not allowed", "write plain values only")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line, key_col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            # The prescan refuses every such key first; a direct read finds an aliased key (a node met
            # twice) and a plain << with an explicit tag here, and hands the text back to it.
            shared = id(key_node) in seen
            seen.add(id(key_node))
            plain_merge = key_node.value == "<<" and not getattr(key_node, "style", None)
            if (
                shared
                or plain_merge
                or not isinstance(key_node, yaml.ScalarNode)
                or key_node.tag == _CORE + "merge"
            ):
                raise InputError(
                    "only plain text keys are allowed (no merge keys or complex keys)",
                    file=file,
                    line=key_line,
                    column=key_col,
                    field=list(path),
                )
            key = key_node.value
            if key in out:
                first = positions.get((*path, key), (None, None))[0]
                if path and isinstance(path[-1], int) and key == next(iter(out)):
                    raise InputError(  # an entry's first key again: the next entry's '- ' is missing
                        f"two entries share one list item ('{key}' first given on line {first}):"
                        f" did you forget '- ' before '{key}:'?",
                        file=file,
                        line=key_line,
                        column=key_col,
                        field=list(path),
                        hint=f"start each entry with '- {key}: ...'",
                    )
                raise InputError(
                    f"duplicate key '{key}', first given on line {first}",
                    file=file,
                    line=key_line,
                    column=key_col,
                    field=list(path),
                    hint="keep one of them",
                )
            positions[(*path, key)] = (key_line, key_col)
            out[key] = _convert(value_node, (*path, key), positions, seen, file)
        return out
    raise fail("unsupported YAML node")  # pragma: no cover - the composer yields only the three kinds


def _number(node: yaml.ScalarNode, fail: Any) -> Any:
    """Construct a plain scalar, holding numbers to what YAML 1.2 would read (see ``_DECIMAL_INT``)."""
    text = node.value
    if node.tag == _CORE + "str" and _BASED_INT.fullmatch(text):
        return _refuse_spelling(text, None, text, fail)  # 0o17: 15 in YAML 1.2
    if node.tag not in (_CORE + "int", _CORE + "float"):
        return _constructor.construct_object(node)
    digits = sum(ch.isdigit() for ch in text)
    if node.tag == _CORE + "int" and _DECIMAL_INT.fullmatch(text):
        if digits > MAX_INT_DIGITS:
            raise fail(
                f"a {digits}-digit integer is out of range",
                f"write at most {MAX_INT_DIGITS} digits; quote it if it is text",
            )
        return int(text)
    if node.tag == _CORE + "float" and _DECIMAL_FLOAT.fullmatch(text):
        return float(text)
    if node.tag == _CORE + "float" and _SPECIAL_FLOAT.fullmatch(text):
        return _constructor.construct_object(node)  # refused by the caller: not finite
    if digits > MAX_INT_DIGITS:
        raise fail(f"'{text[:20]}...' is not a plain decimal number", "write digits, optionally with a point")
    meant = _meant(text)
    yaml11 = _constructor.construct_object(node)
    return _refuse_spelling(text, meant, yaml11, fail)


def _meant(text: str) -> str | None:
    """The decimal a writer of ``020`` or ``1_000`` most likely meant (None for 0x1F or 1:20)."""
    if ":" in text or re.match(r"[-+]?0[xXoObB]", text):
        return None
    sign = text[0] if text[0] in "+-" else ""
    body = text.lstrip("+-").replace("_", "")
    whole, dot, fraction = body.partition(".")
    whole = whole.lstrip("0") or "0"
    return f"{'-' if sign == '-' else ''}{whole}{dot}{fraction}"


def _refuse_spelling(text: str, meant: str | None, yaml11: Any, fail: Any) -> Any:
    if isinstance(yaml11, str):
        raise fail(
            f"'{text}' is not a plain decimal number (YAML 1.1 reads it as text, YAML 1.2 as a number)",
            "write the number in decimal digits, or quote it if it is text",
        )
    if meant is not None:
        raise fail(
            f"'{text}' is not a plain decimal number (YAML 1.1 reads it as {yaml11})",
            f"write {meant}, not {text}; quote it if it is text",
        )
    raise fail(
        f"'{text}' is not a plain decimal number (YAML 1.1 reads it as {yaml11})",
        f"write the number in decimal digits, e.g. {yaml11}; quote it if it is text",
    )


def _short(tag: str) -> str:
    return tag.replace(_CORE, "!!")


def parse_json(text: str, file: str) -> Document:
    """Parse JSON strictly (duplicate keys, NaN/Infinity and overflowing numbers are errors).

    JSON is also composed as YAML, only to learn where each value stands, so errors can name the
    field and line; when that fails the data still loads, without positions.
    """
    if not text.strip():
        raise InputError("file is empty", file=file)
    located: Document | None = None
    located_error: InputError | None = None
    try:
        located = parse_yaml(text, file)
    except InputError as exc:
        located_error = exc

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                if located_error is not None and "duplicate key" in located_error.message:
                    raise located_error
                raise InputError(f"duplicate key '{key}'", file=file, hint="keep one of them")
            out[key] = value
        return out

    def not_finite(name: str) -> Any:
        path = _find_constant(located.data, name) if located is not None else None
        if path is not None and located is not None:
            raise located.error(path, f"'{name}' is not a finite number")
        raise InputError(f"'{name}' is not a finite number", file=file)

    def finite_float(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            not_finite(literal)
        return value

    def bounded_int(literal: str) -> int:
        if len(literal.lstrip("-")) > MAX_INT_DIGITS:
            if located_error is not None and "-digit integer" in located_error.message:
                raise located_error
            raise InputError(f"a {len(literal.lstrip('-'))}-digit integer is out of range", file=file)
        return int(literal)

    try:
        data = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=not_finite,
            parse_float=finite_float,
            parse_int=bounded_int,
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise InputError("not valid JSON: nested too deeply", file=file) from None
    positions = located.positions if located is not None else {}
    return Document(data=data, file=file, positions=positions)


def _find_constant(data: Any, literal: str, path: tuple[PathPart, ...] = ()) -> tuple[PathPart, ...] | None:
    """Where a JSON constant such as NaN (read by YAML as text, or as a float) stands in the data."""
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        hit = (
            data == literal
            or (isinstance(data, float) and not math.isfinite(data))
            or (isinstance(data, (int, float)) and not isinstance(data, bool) and str(data) == literal)
        )
        return path if hit else None
    for key, value in items:
        found = _find_constant(value, literal, (*path, key))
        if found is not None:
            return found
    return None
