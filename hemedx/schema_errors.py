"""Turn a pydantic ``ValidationError`` into one located, actionable :class:`InputError`."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from hemedx.errors import InputError, PathPart
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
    current: list[Any] = [model]
    for part in loc:
        following: list[Any] = []
        for annotation in current:
            for arm in _arms(annotation):
                origin = typing.get_origin(arm)
                if isinstance(arm, type) and issubclass(arm, BaseModel):
                    for name, info in arm.model_fields.items():
                        if part in (name, info.alias):
                            following.append(info.annotation)
                    if isinstance(part, str) and part not in _names(arm):
                        following.append(arm)  # a union tag in the location: stay on this model
                elif origin in (list, tuple) and isinstance(part, int):
                    following.extend(typing.get_args(arm)[:1])
                elif origin is dict:
                    following.extend(typing.get_args(arm)[1:2])
        current = following
    names: set[str] = set()
    for annotation in current:
        for arm in _arms(annotation):
            if isinstance(arm, type) and issubclass(arm, BaseModel):
                names |= _names(arm)
    return names


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
    errors = sorted(exc.errors(include_url=False), key=_rank)
    err = errors[0]
    loc = tuple(err["loc"])
    path = [*prefix, *data_path(loc, _at(doc.data, prefix))]
    kind = err["type"]
    hint = None
    if kind == "extra_forbidden":
        key = str(loc[-1])
        message = f"unknown field '{key}'"
        allowed = sorted(allowed_fields(model, loc[:-1]) - {key})
        hint = did_you_mean(key, allowed) or (f"allowed here: {', '.join(allowed)}" if allowed else None)
        if path and path[-1] != key:
            path.append(key)
    elif kind == "missing":
        message = f"missing required field '{loc[-1]}'"
        if path and path[-1] == loc[-1]:
            path.pop()
    else:
        message = _plain_message(err)
        given = err.get("input")
        if isinstance(given, bool):
            hint = "YAML reads yes/no/on/off/true/false as a boolean; write the value the field expects"
            message = f"{message} (got {str(given).lower()})"
        elif isinstance(given, (str, int, float)) and kind != "condition":
            message = f"{message} (got {given!r})"
    line, column = doc.where(path)
    return InputError(message, file=doc.file, line=line, column=column, field=path, hint=hint)


def _at(data: Any, prefix: tuple[PathPart, ...]) -> Any:
    for part in prefix:
        data = data[part]
    return data


def _rank(err: Any) -> tuple[int, int]:
    # Report the most specific error first: unknown keys, then missing keys, then the deepest value error.
    order = {"extra_forbidden": 0, "missing": 1}
    return (order.get(err["type"], 2), -len(err["loc"]))


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
    return str(err["msg"]).removeprefix("Value error, ")
