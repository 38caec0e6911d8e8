"""Turn a pydantic ``ValidationError`` into one located, actionable :class:`InputError`."""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from hemedx.errors import InputError, PathPart, format_path
from hemedx.safeyaml import Document
from hemedx.suggest import did_you_mean


def data_path(loc: tuple[Any, ...], data: Any) -> list[PathPart]:
    """Follow a pydantic ``loc`` through ``data``, dropping union tags that are not real keys."""
    path: list[PathPart] = []
    node = data
    for i, part in enumerate(loc):
        following = loc[i + 1] if i + 1 < len(loc) else None
        if (
            isinstance(node, dict)
            and part in node
            and following in node
            and not isinstance(node[part], (dict, list))
        ):
            continue  # a union tag that happens to equal a key ("lab"); the error is at the next key
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and "," not in part and not isinstance(node, (dict, list)):
            break
    return path


def allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> set[str]:
    """Field names (aliases where given) that are allowed at ``loc`` inside ``model``.

    Follows the pydantic error location through nested models, lists, dicts and unions; a part that is
    not a field (a union tag) keeps every arm in play. Used so that a "did you mean" only ever offers a
    key that would be accepted where the unknown one stands.
    """
    current = _annotations_at(model, loc, keep_on_miss=False)
    names: set[str] = set()
    for annotation in current:
        for arm in _arms(annotation):
            if isinstance(arm, type) and issubclass(arm, BaseModel):
                names |= _names(arm)
    return names


def _annotations_at(model: type[BaseModel], loc: tuple[Any, ...], keep_on_miss: bool) -> list[Any]:
    """The annotations (with their constraints) a pydantic error location can point at inside ``model``.

    Follows the location through nested models, lists, dicts and unions; a part that is not a field (a
    union tag) keeps every arm in play, and pydantic's names of union arms ('constrained-float') are
    skipped. ``keep_on_miss`` stays at the last place found when a part leads nowhere.
    """
    current: list[Any] = [model]
    for part in loc:
        if isinstance(part, str) and ("-" in part or "[" in part):
            continue  # pydantic's name of a union arm, not a place in the data
        following: list[Any] = []
        for annotation in current:
            for arm in _arms(annotation):
                origin = typing.get_origin(arm)
                if isinstance(arm, type) and issubclass(arm, BaseModel):
                    for name, info in arm.model_fields.items():
                        if part in (name, info.alias):
                            following.append(_with_metadata(info))
                    if isinstance(part, str) and part not in _names(arm):
                        following.append(arm)  # a union tag in the location: stay on this model
                elif origin in (list, tuple) and isinstance(part, int):
                    following.extend(typing.get_args(arm)[:1])
                elif origin is dict:
                    following.extend(typing.get_args(arm)[1:2])
        current = following or current if keep_on_miss else following
    return current


def _names(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _arms(annotation: Any) -> list[Any]:
    """Unwrap Annotated and unions into the concrete types a value could have."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _arms(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [arm for sub in typing.get_args(annotation) for arm in _arms(sub)]
    return [annotation]


def to_input_error(
    exc: ValidationError, doc: Document, model: type[BaseModel], prefix: tuple[PathPart, ...] = ()
) -> InputError:
    """Describe the first validation error at its place in ``doc``."""
    err = first_error(exc)
    loc = tuple(err["loc"])
    path = [*prefix, *data_path(loc, _at(doc.data, prefix))]
    kind = err["type"]
    hint = None
    if kind == "extra_forbidden":
        key = str(loc[-1])
        message = f"unknown field '{key}'"
        allowed = sorted(allowed_fields(model, loc[:-1]) - {key})
        hint = did_you_mean(key, allowed) or (f"allowed here: {', '.join(allowed)}" if allowed else None)
        if not _KEY_LIKE.fullmatch(key):  # 'HUS)' from {alert: TMA (TTP, HUS)}: a comma split the value
            hint = "a comma or ': ' in an unquoted value splits it; put the whole value in quotes"
        if path and path[-1] != key:
            path.append(key)
    elif kind == "missing":
        message = f"missing required field '{loc[-1]}'"
        if path and path[-1] == loc[-1]:
            path.pop()
    elif kind in _BOUNDS:
        message, hint = _range_message(model, loc, err)
    else:
        message = _plain_message(err)
        given = err.get("input")
        if isinstance(given, bool):
            hint = "YAML reads yes/no/on/off/true/false as a boolean; write the value the field expects"
            message = f"{message} (got {str(given).lower()})"
        elif isinstance(given, (str, int, float)) and kind != "condition":
            message = f"{message} (got {given!r})"
    line, column = doc.where(path)
    return InputError(
        message, file=doc.file, line=line, column=column, field=field_label(doc.data, path), hint=hint
    )


# Top-level lists of a pack file whose entries have ids: an author finds "rule 'ev.x'", not "rules[41]".
_ENTRY_NAMES = {
    "rules": "rule",
    "diagnoses": "diagnosis",
    "findings": "finding",
    "labs": "lab",
    "tests": "test",
    "sources": "source",
    "investigations": "investigation",
}


def first_error(exc: ValidationError) -> Any:
    """The error reported of all pydantic found: unknown keys, then missing keys, then the deepest value."""
    return min(exc.errors(include_url=False), key=_rank)


def field_label(data: Any, path: tuple[PathPart, ...] | list[PathPart]) -> str | None:
    """``rule 'ev.petechiae' then.otherwise`` for ``rules[3].then.otherwise``: entries named by their id.

    Anything else (a case's ``stages[1].labs``, an entry without a text id) keeps its plain path.
    """
    path = list(path)
    if not path:
        return None
    if len(path) >= 2 and path[0] in _ENTRY_NAMES and isinstance(path[1], int) and isinstance(data, dict):
        items = data.get(path[0])
        item = items[path[1]] if isinstance(items, list) and 0 <= path[1] < len(items) else None
        ident = item.get("id") if isinstance(item, dict) else None
        if isinstance(ident, str) and ident:
            rest = format_path(path[2:])
            return f"{_ENTRY_NAMES[str(path[0])]} '{ident}'" + (f" {rest}" if rest else "")
    return format_path(path)


def _at(data: Any, prefix: tuple[PathPart, ...]) -> Any:
    for part in prefix:
        data = data[part]
    return data


def _rank(err: Any) -> tuple[int, int]:
    # Report the most specific error first: unknown keys, then missing keys, then the deepest value error.
    order = {"extra_forbidden": 0, "missing": 1}
    return (order.get(err["type"], 2), -len(err["loc"]))


_KEY_LIKE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BOUNDS = {"less_than_equal", "less_than", "greater_than_equal", "greater_than"}
_WORD = {"ge": "at least", "gt": "above", "le": "at most", "lt": "below"}


def _range_message(model: type[BaseModel], loc: tuple[Any, ...], err: Any) -> tuple[str, str | None]:
    """``probability must be between 0.001 and 0.999; got 98`` with ``did you mean 0.98?`` for a percentage.

    Both limits are read from the field's own constraints (the error names only the one broken).
    """
    given = err.get("input")
    limits = dict(err.get("ctx") or {})
    limits |= _field_limits(model, loc)
    low = next(((k, limits[k]) for k in ("ge", "gt") if k in limits), None)
    high = next(((k, limits[k]) for k in ("le", "lt") if k in limits), None)
    name = "probability" if low and high and high[1] < 1 and low[1] > 0 else "value"
    if low and high:
        message = f"{name} must be between {low[1]:g} and {high[1]:g}"
    else:
        key, value = low or high or ("", 0)
        message = f"{name} must be {_WORD.get(key, '')} {value:g}"
    message += f"; got {given!r}" if not isinstance(given, float) else f"; got {given:g}"
    hint = None
    if name == "probability" and isinstance(given, (int, float)) and 1 < given <= 100:
        hint = f"did you mean {given / 100:g}?"
    return message, hint


def _field_limits(model: type[BaseModel], loc: tuple[Any, ...]) -> dict[str, float]:
    """The ge/gt/le/lt constraints of the field at ``loc`` (empty when it cannot be found)."""
    current = _annotations_at(model, loc, keep_on_miss=True)
    out: dict[str, float] = {}
    for annotation in current:
        for meta in _metadata(annotation):
            for key in ("ge", "gt", "le", "lt"):
                value = getattr(meta, key, None)
                if isinstance(value, (int, float)):
                    out.setdefault(key, float(value))
    return out


def _with_metadata(info: Any) -> Any:
    return typing.Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _metadata(annotation: Any) -> list[Any]:
    """Constraint objects of an annotation and of the constrained arms of its unions."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        args = typing.get_args(annotation)
        found = list(args[1:])
        for meta in args[1:]:
            found += list(getattr(meta, "metadata", []))
        return found + _metadata(args[0])
    if origin in (typing.Union, types.UnionType):
        return [m for sub in typing.get_args(annotation) for m in _metadata(sub)]
    return []


def _plain_message(err: Any) -> str:
    """Pydantic's message, reworded where its jargon would puzzle a case author."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return f"needs at least {n} item{'s' if n != 1 else ''}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "expected a mapping (key: value pairs)"
    if kind == "list_type":
        return "expected a list"
    if kind == "string_type":
        return "expected text"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing", "int_from_float"):
        return "expected a number" if kind.startswith("float") else "expected a whole number"
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the allowed values')}"
    return str(err["msg"]).removeprefix("Value error, ")
