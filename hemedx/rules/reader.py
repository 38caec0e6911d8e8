"""The one reader of a pack folder: the pack (or None) plus every issue found, each at file:line.

A pack folder holds ``pack.yaml``, ``vocabulary.yaml``, ``sources.yaml``, ``diagnoses.yaml``, an optional
``investigations.yaml`` and any number of ``rules/*.yaml`` files. A pack whose ``pack.yaml`` says
``extends: default`` is an overlay: its entries replace same-id entries of the default pack, its
parameters replace same-name parameters, and the rest is added.

The reader is tolerant: each entry (rule, finding, lab, test, source, diagnosis, investigation) is
validated on its own, the valid ones are kept, and every problem becomes a :class:`PackIssue` - schema,
duplicate ids, then broken references and expansion limits, in that order. :func:`hemedx.rules.load_pack`
raises the first issue; ``hemedx rules check`` reports them all, so the two cannot disagree. Only what
cannot be read at all (no folder, no pack.yaml, a file that is not YAML, too many or too big files)
raises :class:`~hemedx.errors.InputError` at once.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model

from hemedx.errors import InputError, PathPart
from hemedx.rules.checks import iter_problems
from hemedx.rules.model import (
    RULE_KINDS,
    DiagnosesFile,
    Diagnosis,
    Finding,
    InvestigationsFile,
    InvestigationSpec,
    Lab,
    OverlayInfo,
    Pack,
    PackInfo,
    Rule,
    RulesFile,
    Source,
    SourcesFile,
    Test,
    Vocabulary,
)
from hemedx.rules.yaml_cache import load_pack_file
from hemedx.safeyaml import Document, entry_ids, read_bytes, read_text, refuse_special_file
from hemedx.schema_errors import field_label, first_error, to_input_error
from hemedx.suggest import did_you_mean

MAX_PACK_FILES = 500
MAX_PACK_BYTES = 5_000_000  # the default pack is about 0.2 MB
INVESTIGATIONS_FILE = "investigations.yaml"
REQUIRED_FILES = ("pack.yaml", "vocabulary.yaml", "sources.yaml", "diagnoses.yaml")

Where = tuple[Document, tuple[PathPart, ...]]


def default_pack_path() -> Path:
    """Folder of the pack that ships inside hemedx (the starting point for a teacher's own copy)."""
    return Path(str(resources.files("hemedx.rules") / "pack"))


def pack_files(folder: Path) -> list[Path]:
    """The files of a pack folder, in load order; FIFOs and devices, too many or too big are refused."""
    files = [folder / name for name in REQUIRED_FILES]
    files.append(folder / INVESTIGATIONS_FILE)  # optional: next-best-test's orderable investigations
    rules_dir = folder / "rules"
    if rules_dir.is_dir():
        entries = list(itertools.islice(rules_dir.iterdir(), MAX_PACK_FILES + 1))
        if len(entries) > MAX_PACK_FILES:
            raise InputError(f"more than {MAX_PACK_FILES} entries in the rules folder", file=str(rules_dir))
        files += sorted(p for p in entries if p.suffix in (".yaml", ".yml"))
    for file in files:
        refuse_special_file(file, "pack")
    files = [f for f in files if f.is_file()]
    if sum(f.stat().st_size for f in files) > MAX_PACK_BYTES:
        raise InputError(
            f"the pack's files add up to more than {MAX_PACK_BYTES // 1_000_000} MB", file=str(folder)
        )
    return files


def pack_digest(folder: Path) -> str:
    """Content hash of one pack folder's files (names and bytes): the key of everything derived from it."""
    return _digest(folder, ((file, read_bytes(file, "pack")) for file in pack_files(folder)))


def _digest(folder: Path, contents: Iterable[tuple[Path, bytes]]) -> str:
    """:func:`pack_digest` of files already read: (file, bytes) in :func:`pack_files` order."""
    h = hashlib.sha256()
    for file, raw in contents:
        h.update(str(file.relative_to(folder)).encode())
        h.update(b"\0")
        h.update(raw)
        h.update(b"\0")
    return h.hexdigest()[:16]


def pack_folder(path: Path | str | None) -> Path:
    """The folder ``path`` names (the default pack when None), refused unless it is a folder."""
    folder = Path(path) if path is not None else default_pack_path()
    if not folder.exists():
        raise InputError("no such rule pack folder", file=str(folder))
    if not folder.is_dir():
        raise InputError(
            "a rule pack is a folder (with pack.yaml, vocabulary.yaml, ...), not a file", file=str(folder)
        )
    return folder


@dataclass(frozen=True)
class PackIssue:
    """One problem of a pack: its ``rules check`` code, the error ``load_pack`` raises, the check's text.

    ``error`` names the field apart (``file:line:col: rule 'x' when: message``); ``message`` is what
    ``rules check`` lists after the code, which carries the field only for schema errors.
    """

    code: str
    error: InputError
    message: str
    rule: str | None = None


@dataclass
class PackRead:
    """What reading a pack folder found: the valid entries, where each came from, and every issue."""

    folder: Path
    info: PackInfo | None = None
    vocabulary: Vocabulary | None = None
    sources: list[Source] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    rules: list[Any] = field(default_factory=list)
    investigations: list[InvestigationSpec] = field(default_factory=list)
    where: dict[tuple[str, str], Where] = field(default_factory=dict)
    issues: list[PackIssue] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    pack: Pack | None = None
    digest: str | None = None  # of this folder's own files (pack_digest), from the bytes that were parsed

    def locate(self, section: str, ident: str, sub: tuple[PathPart, ...] = ()) -> dict[str, Any]:
        """``file``, ``line`` and ``column`` of an entry (or of a path inside it)."""
        found = self.where.get((section, ident))
        if found is None:
            return {"file": None, "line": None, "column": None}
        doc, path = found
        line, column = doc.where((*path, *sub))
        return {"file": doc.file, "line": line, "column": column}

    def first_error(self) -> InputError | None:
        """The error :func:`~hemedx.rules.load_pack` raises: the first issue found, or None."""
        return self.issues[0].error if self.issues else None

    def _add(self, code: str, error: InputError, rule: str | None = None, with_field: bool = True) -> None:
        message = f"{error.field}: {error.message}" if with_field and error.field else error.message
        self.issues.append(PackIssue(code, error, message, rule))

    def _build(self, digest: str) -> Pack | None:
        """The pack made of the valid entries, or None when pack.yaml or the vocabulary is unusable."""
        if self.info is None or self.vocabulary is None:
            return None
        origin = {}
        for (section, ident), (doc, path) in self.where.items():
            origin[f"{section}:{ident}"] = f"{doc.file}:{doc.where(path)[0]}"
        # Every part is an entry validated on its own above (or the digest and origin made here):
        # validating them once more would only build Pack's own schema (~6 ms of rules check).
        return Pack.model_construct(
            info=self.info,
            vocabulary=self.vocabulary,
            sources=self.sources,
            diagnoses=self.diagnoses,
            # Pack order: interpretation, syndrome, criteria, evidence (the direction of inference).
            rules=sorted(
                (r for r in self.rules if r.status != "retired"), key=lambda r: RULE_KINDS.index(r.kind)
            ),
            investigations=self.investigations,
            digest=digest,
            origin=origin,
        )


def read_pack(path: Path | str | None = None, digest: str | None = None) -> PackRead:
    """Read a pack folder (the default pack when None), an overlay merged onto the default pack.

    ``digest`` is the folder's :func:`pack_digest` when the caller has it already.
    """
    folder = pack_folder(path)
    top = _read_folder(folder)
    digest = digest or top.digest or pack_digest(folder)
    read = top
    if top.info is not None and top.info.extends == "default":
        base_folder = default_pack_path()
        base = _read_folder(base_folder)
        read = _overlay(base, top)
        digest = f"{(base.digest or pack_digest(base_folder))[:8]}{digest[:8]}"
        _check_unique(read)  # an overlay's lab may reuse a default finding's id
    read.pack = read._build(digest)
    if read.pack is not None:
        _reference_issues(read, read.pack)
    return read


# --- one folder ------------------------------------------------------------------------------------------

# Validates (and, for ``rules check``, dumps) a rule of any kind: one schema for all five rule classes.
RULE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Rule, config=ConfigDict(defer_build=True))
_SECTION_OF = {
    "findings": "finding",
    "labs": "lab",
    "tests": "test",
    "sources": "source",
    "diagnoses": "diagnosis",
    "investigations": "investigation",
    "rules": "rule",
}


_ENTRY_AT = re.compile(r"^([a-z_]+)\[(\d+)\](.*)$")


def _load(file: Path) -> tuple[Document, bytes]:
    """Read one pack file and its bytes; an entry YAML refuses is named by its id, not ``rules[2]``.

    A parse of the same bytes cached by an earlier process is used (:mod:`hemedx.rules.yaml_cache`).
    """
    try:
        return load_pack_file(file)
    except InputError as err:
        m = _ENTRY_AT.match(err.field or "")
        if m:
            ids = entry_ids(read_text(file, "YAML"), m[1])
            index = int(m[2])
            if index < len(ids) and ids[index]:
                named = field_label({m[1]: [{"id": i} for i in ids]}, [m[1], index])
                rest = m[3][1:] if m[3].startswith(".") else m[3]
                err.field = f"{named} {rest}" if rest else named
        raise


def _read_folder(folder: Path) -> PackRead:
    raw = PackRead(folder)
    info_file = folder / "pack.yaml"
    if not info_file.is_file():
        raise InputError("a pack folder needs a pack.yaml (id, title, version)", file=str(info_file))
    raw.files = pack_files(folder)
    loaded = {file: _load(file) for file in raw.files}  # not YAML at all: InputError, exit status 2
    docs = {file: doc for file, (doc, _) in loaded.items()}
    raw.digest = _digest(folder, ((file, content) for file, (_, content) in loaded.items()))

    info_doc = docs[info_file]
    # Decided from the document itself, so an overlay whose pack.yaml has a mistake is still read as an
    # overlay (and not also told that it lacks the files the default pack provides).
    overlay = isinstance(info_doc.data, dict) and "extends" in info_doc.data
    raw.info = _validate_whole(raw, info_doc, OverlayInfo if overlay else PackInfo)
    raw.where[("pack", "info")] = (info_doc, ())

    def missing(name: str) -> None:
        raw._add("HX001", InputError(f"a pack needs a {name}", file=str(folder / name)))

    vocab_file = folder / "vocabulary.yaml"
    if vocab_file in docs:
        lists = _validate_lists(raw, docs[vocab_file], {"findings": Finding, "labs": Lab, "tests": Test})
        raw.vocabulary = Vocabulary(
            findings=lists.get("findings", []), labs=lists.get("labs", []), tests=lists.get("tests", [])
        )
    elif not overlay:
        missing("vocabulary.yaml")

    for name, key, model in (("sources.yaml", "sources", Source), ("diagnoses.yaml", "diagnoses", Diagnosis)):
        file = folder / name
        if file not in docs:
            if not overlay:
                missing(name)
            continue
        setattr(raw, key, _validate_lists(raw, docs[file], {key: model}).get(key, []))

    file = folder / INVESTIGATIONS_FILE
    if file in docs:
        found = _validate_lists(raw, docs[file], {"investigations": InvestigationSpec})
        raw.investigations = found.get("investigations", [])

    for file in raw.files:
        if file.parent.name == "rules":
            raw.rules += _validate_lists(raw, docs[file], {"rules": RULE_ADAPTER}).get("rules", [])
    _check_unique(raw)
    return raw


def _schema_code(exc: ValidationError) -> str:
    """HX103 for a missing or empty ``cites``, HX001 for any other schema error (the one reported)."""
    err = first_error(exc)
    cites = bool(err["loc"]) and err["loc"][-1] == "cites" and err["type"] in ("missing", "too_short")
    return "HX103" if cites else "HX001"


def _not_a_mapping(raw: PackRead, doc: Document) -> None:
    message = f"expected a mapping at the top of the file, got {type(doc.data).__name__}"
    raw._add("HX001", InputError(message, file=doc.file))


def _validate_whole(raw: PackRead, doc: Document, model: type[BaseModel]) -> Any:
    if not isinstance(doc.data, dict):
        _not_a_mapping(raw, doc)
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raw._add(_schema_code(exc), to_input_error(exc, doc, model))
        return None


def _validate_lists(raw: PackRead, doc: Document, sections: dict[str, Any]) -> dict[str, list[Any]]:
    """Validate each item of each (required) list section on its own; record where the valid ones are."""
    out: dict[str, list[Any]] = {}
    data = doc.data
    if not isinstance(data, dict):
        _not_a_mapping(raw, doc)
        return out
    for key in data:
        if key not in sections:
            line, column = doc.where((key,))
            hint = did_you_mean(key, sections) or f"this file takes {', '.join(sections)}"
            err = InputError(f"unknown field '{key}'", file=doc.file, line=line, column=column, hint=hint)
            raw._add("HX001", err)
    for key, model in sections.items():
        section = _SECTION_OF[key]
        if key not in data:
            line, column = doc.where(())
            message = f"missing required field '{key}'"
            raw._add("HX001", InputError(message, file=doc.file, line=line, column=column))
            continue
        items = data[key]
        if not isinstance(items, list):
            line, column = doc.where((key,))
            err = InputError("expected a list", file=doc.file, line=line, column=column, field=key)
            raw._add("HX001", err)
            continue
        valid: list[Any] = []
        for i, item in enumerate(items):
            try:
                adapter = model if isinstance(model, TypeAdapter) else None
                obj = adapter.validate_python(item) if adapter else model.model_validate(item)
            except ValidationError:
                ident = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
                code, err = _item_error(doc, key, i, _WRAPPERS[key])
                raw._add(code, err, ident if section == "rule" else None)
                continue
            if (section, obj.id) in raw.where and section in ("rule", "source", "diagnosis"):
                first_doc, first_path = raw.where[(section, obj.id)]
                first = f"first defined at {first_doc.file}:{first_doc.where(first_path)[0]}"
                hint = f"{first}; rule ids are stable and unique" if section == "rule" else first
                err = doc.error((key, i, "id"), f"duplicate {section} id '{obj.id}'", hint)
                raw._add("HX104", err, obj.id if section == "rule" else None, with_field=False)
                continue
            if (section, obj.id) not in raw.where:
                raw.where[(section, obj.id)] = (doc, (key, i))
            valid.append(obj)
        out[key] = valid
    return out


_WRAPPERS: dict[str, type[BaseModel]] = {
    "rules": RulesFile,
    "sources": SourcesFile,
    "diagnoses": DiagnosesFile,
    "investigations": InvestigationsFile,
    **{
        key: create_model(
            f"_{key.capitalize()}File",
            __config__=ConfigDict(extra="forbid", defer_build=True),
            **{key: list[m]},
        )
        for key, m in (("findings", Finding), ("labs", Lab), ("tests", Test))
    },
}


def _item_error(doc: Document, key: str, index: int, wrapper: type[BaseModel]) -> tuple[str, InputError]:
    """Validate item ``index`` of ``doc[key]`` alone, as if it were the file's only item: (code, error).

    The schema-error helper then sees a document of the shape its model expects (so its hints name the
    fields allowed at that place), and positions are mapped back to the item's real place in the file.
    """
    item = doc.data[key][index]
    positions = {(): doc.positions.get((), (1, 1)), (key,): doc.where((key,))}
    for path, pos in doc.positions.items():
        if path[:2] == (key, index):
            positions[(key, 0, *path[2:])] = pos
    view = Document(data={key: [item]}, file=doc.file, positions=positions)
    try:
        wrapper.model_validate(view.data)
    except ValidationError as exc:
        code, err, first = _schema_code(exc), to_input_error(exc, view, wrapper), first_error(exc)
        field_path = err.field or ""
        kind = item.get("kind") if isinstance(item, dict) else None
        wrong_kind = first["type"] == "union_tag_invalid" and first["ctx"]["discriminator"] == "'kind'"
        if wrong_kind and isinstance(kind, str):
            # A wrong rule kind: point at the kind itself and name the kinds there are.
            line, column = view.where((key, 0, "kind"))
            return code, InputError(
                f"unknown rule kind '{kind}'",
                file=doc.file,
                line=line,
                column=column,
                field=field_label(doc.data, (key, index, "kind")),
                hint=did_you_mean(kind, RULE_KINDS) or f"one of {', '.join(RULE_KINDS)}",
            )
        if field_path.startswith(f"{key}[0]"):
            field_path = f"{key}[{index}]" + field_path.removeprefix(f"{key}[0]")
        return code, InputError(
            err.message, file=err.file, line=err.line, column=err.column, field=field_path, hint=err.hint
        )
    raise AssertionError("an item that failed on its own validated inside its file")  # pragma: no cover


# --- the whole pack --------------------------------------------------------------------------------------


def merge_info(base: PackInfo, top: PackInfo, folder: Path) -> PackInfo:
    """An overlay's own identity and settings, with the base pack's parameters it does not redefine.

    Identity an overlay leaves out is derived, so output stamps never pass it off as the default pack:
    the id from the folder name, the title naming the base, the base's version.
    """
    return PackInfo(
        **{
            **top.model_dump(exclude_unset=True),
            "id": top.id or _overlay_id(folder),
            "title": top.title or f"{base.title} (overlay {folder.name})",
            "version": top.version or base.version,
            "extends": top.extends,
            "parameters": {**base.parameters, **top.parameters},
        }
    )


def _overlay_id(folder: Path) -> str:
    """A valid pack id made from a folder name: ``My Pack-2`` → ``my_pack_2``, ``2024`` → ``overlay_2024``."""
    slug = "_".join(re.findall(r"[a-z0-9]+", folder.resolve().name.lower()))
    return slug if re.match(r"[a-z]", slug) else f"overlay_{slug}".rstrip("_")


def merge_by_id(base: list[Any], top: list[Any]) -> list[Any]:
    """Overlay semantics: entries of ``top`` replace same-id entries of ``base``; new ones are appended."""
    index = {item.id: i for i, item in enumerate(base)}
    out = list(base)
    for item in top:
        if item.id in index:
            out[index[item.id]] = item
        else:
            out.append(item)
    return out


def _overlay(base: PackRead, top: PackRead) -> PackRead:
    """Entries of the overlay replace same-id entries of the default pack; the rest are added."""
    info = top.info
    if base.info is not None and top.info is not None:
        info = merge_info(base.info, top.info, top.folder)
    out = PackRead(top.folder, info=info)
    out.where = {**base.where, **top.where}
    out.issues = [*base.issues, *top.issues]
    out.files = [*base.files, *top.files]
    out.sources = merge_by_id(base.sources, top.sources)
    out.diagnoses = merge_by_id(base.diagnoses, top.diagnoses)
    out.rules = merge_by_id(base.rules, top.rules)
    out.investigations = merge_by_id(base.investigations, top.investigations)
    if top.vocabulary is None or base.vocabulary is None:
        out.vocabulary = top.vocabulary or base.vocabulary
    else:
        out.vocabulary = Vocabulary(
            findings=merge_by_id(base.vocabulary.findings, top.vocabulary.findings),
            labs=merge_by_id(base.vocabulary.labs, top.vocabulary.labs),
            tests=merge_by_id(base.vocabulary.tests, top.vocabulary.tests),
        )
    return out


def _check_unique(raw: PackRead) -> None:
    """Findings, labs and tests share one id space (a case names them side by side).

    Run on the merged pack, so an overlay's lab that reuses a default finding's id is refused too.
    """
    if raw.vocabulary is None:
        return
    seen: dict[str, str] = {}
    for section, items in (
        ("finding", raw.vocabulary.findings),
        ("lab", raw.vocabulary.labs),
        ("test", raw.vocabulary.tests),
    ):
        keep = []
        for i, item in enumerate(items):
            if item.id in seen:
                doc, _ = raw.where[(section, item.id)]
                key = f"{section}s"
                path = (key, _index_of(doc, key, item.id, i, seen[item.id] == section), "id")
                message = (
                    f"'{item.id}' is defined twice in the vocabulary (as a {seen[item.id]} and a {section})"
                )
                err = doc.error(path, message, "ids must be unique across findings, labs and tests")
                raw._add("HX104", err, with_field=False)
                continue
            seen[item.id] = section
            keep.append(item)
        raw.vocabulary = raw.vocabulary.model_copy(update={f"{section}s": keep})


def _index_of(doc: Document, key: str, ident: str, fallback: int, same_section: bool) -> int:
    """Position of the second definition of ``ident`` in ``doc[key]`` (the one being reported)."""
    items = doc.data.get(key, []) if isinstance(doc.data, dict) else []
    hits = [i for i, item in enumerate(items) if isinstance(item, dict) and item.get("id") == ident]
    if same_section and len(hits) > 1:
        return hits[1]
    return hits[0] if hits else fallback


def _reference_issues(raw: PackRead, pack: Pack) -> None:
    """Every broken reference and expansion limit of the assembled pack, located in its file."""
    for section, ident, sub, message, hint, code in iter_problems(pack):
        located = raw.where.get((section, ident))
        if located is None:
            err = InputError(message, field=sub or None, hint=hint)
        else:
            doc, path = located
            full = (*path, *sub)
            line, column = doc.where(full)
            err = InputError(
                message, file=doc.file, line=line, column=column, field=field_label(doc.data, full), hint=hint
            )
        raw._add(code, err, ident if section == "rule" else None, with_field=False)
