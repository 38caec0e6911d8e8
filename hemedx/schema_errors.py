"""Turn a pydantic ``ValidationError`` into one located, actionable :class:`InputError`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from hemedx.errors import InputError, PathPart
from hemedx.safeyaml import Document
from hemedx.suggest import did_you_mean


def data_path(loc: tuple[Any, ...], data: Any) -> list[PathPart]:
    """Follow a pydantic ``loc`` through ``data``, dropping union tags that are not real keys."""
    path: list[PathPart] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and "," not in part and not isinstance(node, (dict, list)):
            break
    return path


def field_names(model: type[BaseModel]) -> set[str]:
    """Names (and aliases) of a model's fields and of the models nested in it, for suggestions."""
    seen: set[type[BaseModel]] = set()
    names: set[str] = set()

    def walk(m: type[BaseModel]) -> None:
        if m in seen:
            return
        seen.add(m)
        for name, info in m.model_fields.items():
            names.add(info.alias or name)
            for sub in _models_in(info.annotation):
                walk(sub)

    walk(model)
    return names


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    out: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        out.extend(_models_in(arg))
    meta = getattr(annotation, "__metadata__", None)
    if meta is not None:
        out.extend(_models_in(getattr(annotation, "__origin__", None)))
    return out


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
        hint = did_you_mean(key, field_names(model))
        if path and path[-1] != key:
            path.append(key)
    elif kind == "missing":
        message = f"missing required field '{loc[-1]}'"
        if path and path[-1] == loc[-1]:
            path.pop()
    else:
        message = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        if isinstance(given, (str, int, float)) and not isinstance(given, bool) and kind != "condition":
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
