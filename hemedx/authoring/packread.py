"""Read a pack folder tolerantly: every schema error becomes an issue instead of stopping at the first.

:func:`hemedx.rules.load_pack` refuses a pack at its first problem, which is right for running it. An
author fixing a pack wants every problem at once, so this reader validates entry by entry (each rule,
finding, lab, source, diagnosis on its own), keeps the entries that are valid, and records where each
one came from. Only a file that is not YAML at all (or a folder that is not a pack) raises
:class:`~hemedx.errors.InputError` (exit status 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model

from hemedx.authoring.issues import Issue
from hemedx.errors import InputError, PathPart
from hemedx.rules.loader import INVESTIGATIONS_FILE, default_pack_path, merge_by_id, merge_info, pack_files
from hemedx.rules.model import (
    RULE_KINDS,
    DiagnosesFile,
    Diagnosis,
    Finding,
    InvestigationsFile,
    InvestigationSpec,
    Lab,
    Pack,
    PackInfo,
    Rule,
    RulesFile,
    Source,
    SourcesFile,
    Test,
    Vocabulary,
)
from hemedx.safeyaml import Document, load_file
from hemedx.schema_errors import field_label, to_input_error
from hemedx.suggest import did_you_mean

Where = tuple[Document, tuple[PathPart, ...]]


_RULE = TypeAdapter(Rule)


@dataclass
class ReadPack:
    """The valid entries of a pack folder, where each came from, and the schema issues found."""

    folder: Path
    info: PackInfo | None = None
    vocabulary: Vocabulary | None = None
    sources: list[Source] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    rules: list[Any] = field(default_factory=list)
    investigations: list[InvestigationSpec] = field(default_factory=list)
    where: dict[tuple[str, str], Where] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def locate(self, section: str, ident: str, sub: tuple[PathPart, ...] = ()) -> dict[str, Any]:
        """``file``, ``line`` and ``column`` of an entry (or of a path inside it), for an :class:`Issue`."""
        found = self.where.get((section, ident))
        if found is None:
            return {"file": None, "line": None, "column": None}
        doc, path = found
        line, column = doc.where((*path, *sub))
        return {"file": doc.file, "line": line, "column": column}

    def build(self) -> Pack | None:
        """The pack made of the valid entries, or ``None`` when pack.yaml or the vocabulary is unusable."""
        if self.info is None or self.vocabulary is None:
            return None
        return Pack(
            info=self.info,
            vocabulary=self.vocabulary,
            sources=self.sources,
            diagnoses=self.diagnoses,
            rules=sorted(
                (r for r in self.rules if r.status != "retired"), key=lambda r: RULE_KINDS.index(r.kind)
            ),
            investigations=self.investigations,
            digest="authoring",
            origin={},
        )


def read_pack(folder: Path | str | None = None) -> ReadPack:
    """Read ``folder`` (the default pack when None); overlays are merged onto the default pack."""
    path = Path(folder) if folder is not None else default_pack_path()
    if not path.exists():
        raise InputError("no such rule pack folder", file=str(path))
    if not path.is_dir():
        raise InputError(
            "a rule pack is a folder (with pack.yaml, vocabulary.yaml, ...), not a file", file=str(path)
        )
    top = _read_folder(path)
    if top.info is not None and top.info.extends == "default":
        base = _read_folder(default_pack_path())
        return _overlay(base, top)
    return top


def issue_from_error(code: str, err: InputError, rule: str | None = None) -> Issue:
    """An :class:`Issue` from a located :class:`InputError` (field path kept in the message)."""
    message = f"{err.field}: {err.message}" if err.field else err.message
    return Issue(code, message, err.file, err.line, err.column, err.hint, rule)


def _schema_issue(err: InputError, rule: str | None = None) -> Issue:
    field_path = err.field or ""
    last = field_path.rsplit(".", 1)[-1]
    cites = err.message == "missing required field 'cites'" or (
        last.startswith("cites") and "at least 1" in err.message
    )
    return issue_from_error("HX103" if cites else "HX001", err, rule)


def _read_folder(folder: Path) -> ReadPack:
    raw = ReadPack(folder)
    info_file = folder / "pack.yaml"
    if not info_file.is_file():
        raise InputError("a pack folder needs a pack.yaml (id, title, version)", file=str(info_file))
    raw.files = pack_files(folder)
    docs = {file: load_file(file) for file in raw.files}  # not YAML at all: InputError, exit status 2

    info_doc = docs[info_file]
    raw.info = _validate_whole(raw, info_doc, PackInfo)
    raw.where[("pack", "info")] = (info_doc, ())
    overlay = raw.info is not None and raw.info.extends is not None

    def missing(name: str) -> None:
        raw.issues.append(Issue("HX001", f"a pack needs a {name}", str(folder / name)))

    vocab_file = folder / "vocabulary.yaml"
    if vocab_file in docs:
        lists = _validate_lists(
            raw, docs[vocab_file], {"findings": Finding, "labs": Lab, "tests": Test}, required=True
        )
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
        items = _validate_lists(raw, docs[file], {key: model}, required=True).get(key, [])
        setattr(raw, key, items)

    file = folder / INVESTIGATIONS_FILE
    if file in docs:
        found = _validate_lists(raw, docs[file], {"investigations": InvestigationSpec}, required=True)
        raw.investigations = found.get("investigations", [])

    for file in raw.files:
        if file.parent.name == "rules":
            raw.rules += _validate_lists(raw, docs[file], {"rules": _RULE}, required=True).get("rules", [])
    _check_unique(raw)
    return raw


_SECTION_OF = {
    "findings": "finding",
    "labs": "lab",
    "tests": "test",
    "sources": "source",
    "investigations": "investigation",
}
_SECTION_OF |= {"diagnoses": "diagnosis", "rules": "rule"}


def _validate_whole(raw: ReadPack, doc: Document, model: type[BaseModel]) -> Any:
    if not isinstance(doc.data, dict):
        raw.issues.append(
            Issue(
                "HX001", f"expected a mapping at the top of the file, got {type(doc.data).__name__}", doc.file
            )
        )
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raw.issues.append(_schema_issue(to_input_error(exc, doc, model)))
        return None


def _validate_lists(
    raw: ReadPack, doc: Document, sections: dict[str, Any], required: bool
) -> dict[str, list[Any]]:
    """Validate each item of each list section on its own; record positions of the valid ones."""
    out: dict[str, list[Any]] = {}
    data = doc.data
    if not isinstance(data, dict):
        raw.issues.append(
            Issue("HX001", f"expected a mapping at the top of the file, got {type(data).__name__}", doc.file)
        )
        return out
    for key in data:
        if key not in sections:
            line, column = doc.where((key,))
            raw.issues.append(
                Issue(
                    "HX001",
                    f"unknown field '{key}'",
                    doc.file,
                    line,
                    column,
                    did_you_mean(key, sections) or f"this file takes {', '.join(sections)}",
                )
            )
    for key, model in sections.items():
        section = _SECTION_OF[key]
        if key not in data:
            if required:
                line, column = doc.where(())
                raw.issues.append(Issue("HX001", f"missing required field '{key}'", doc.file, line, column))
            continue
        items = data[key]
        if not isinstance(items, list):
            line, column = doc.where((key,))
            raw.issues.append(Issue("HX001", f"{key}: expected a list", doc.file, line, column))
            continue
        valid: list[Any] = []
        for i, item in enumerate(items):
            try:
                obj = (
                    model.validate_python(item)
                    if isinstance(model, TypeAdapter)
                    else model.model_validate(item)
                )
            except ValidationError:
                ident = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
                err = _item_error(doc, key, i, _WRAPPERS[key])
                raw.issues.append(_schema_issue(err, ident if section == "rule" else None))
                continue
            if (section, obj.id) in raw.where and section in ("rule", "source", "diagnosis"):
                first_doc, first_path = raw.where[(section, obj.id)]
                line, column = doc.where((key, i, "id"))
                raw.issues.append(
                    Issue(
                        "HX104",
                        f"duplicate {section} id '{obj.id}'",
                        doc.file,
                        line,
                        column,
                        f"first defined at {first_doc.file}:{first_doc.where(first_path)[0]}",
                        obj.id if section == "rule" else None,
                    )
                )
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
        key: create_model(f"_{key.capitalize()}File", __config__=ConfigDict(extra="forbid"), **{key: list[m]})
        for key, m in (("findings", Finding), ("labs", Lab), ("tests", Test))
    },
}


def _item_error(doc: Document, key: str, index: int, wrapper: type[BaseModel]) -> InputError:
    """Validate item ``index`` of ``doc[key]`` alone, as if it were the file's only item.

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
        err = to_input_error(exc, view, wrapper)
        field_path = err.field or ""
        kind = item.get("kind") if isinstance(item, dict) else None
        if "found using 'kind'" in err.message and isinstance(kind, str):
            # A wrong rule kind: point at the kind itself and name the kinds there are.
            line, column = view.where((key, 0, "kind"))
            return InputError(
                f"unknown rule kind '{kind}'",
                file=doc.file,
                line=line,
                column=column,
                field=field_label(doc.data, (key, index, "kind")),
                hint=did_you_mean(kind, RULE_KINDS) or f"one of {', '.join(RULE_KINDS)}",
            )
        if field_path.startswith(f"{key}[0]"):
            field_path = f"{key}[{index}]" + field_path.removeprefix(f"{key}[0]")
        return InputError(
            err.message, file=err.file, line=err.line, column=err.column, field=field_path, hint=err.hint
        )
    raise AssertionError("an item that failed on its own validated inside its file")  # pragma: no cover


def _check_unique(raw: ReadPack) -> None:
    """Findings, labs and tests share one id space (a case names them side by side)."""
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
                line, column = doc.where(
                    (key, _index_of(doc, key, item.id, i, seen[item.id] == section), "id")
                )
                raw.issues.append(
                    Issue(
                        "HX104",
                        f"'{item.id}' is defined twice in the vocabulary"
                        f" (as a {seen[item.id]} and a {section})",
                        doc.file,
                        line,
                        column,
                        "ids must be unique across findings, labs and tests",
                    )
                )
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


def _overlay(base: ReadPack, top: ReadPack) -> ReadPack:
    """Entries of the overlay replace same-id entries of the default pack (as the loader does)."""
    info = merge_info(base.info, top.info) if base.info is not None and top.info is not None else top.info
    out = ReadPack(top.folder, info=info)
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
    _check_unique(out)  # an overlay's lab may reuse a default finding's id: refused, as load_pack does
    return out
