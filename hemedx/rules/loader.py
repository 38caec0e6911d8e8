"""Read a pack folder into a validated :class:`Pack`, with errors that point at file:line.

A pack folder holds ``pack.yaml``, ``vocabulary.yaml``, ``sources.yaml``, ``diagnoses.yaml`` and any
number of ``rules/*.yaml`` files. A pack whose ``pack.yaml`` says ``extends: default`` is an overlay:
its entries replace same-id entries of the default pack and add the rest.
"""

from __future__ import annotations

import hashlib
import itertools
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hemedx.errors import InputError, PathPart
from hemedx.rules import pack_cache
from hemedx.rules.checks import check_references
from hemedx.rules.model import (
    RULE_KINDS,
    DiagnosesFile,
    Diagnosis,
    InvestigationsFile,
    InvestigationSpec,
    Pack,
    PackInfo,
    RulesFile,
    Source,
    SourcesFile,
    Vocabulary,
)
from hemedx.safeyaml import Document, load_file, read_bytes, refuse_special_file
from hemedx.schema_errors import field_label, to_input_error

MAX_PACK_FILES = 500
INVESTIGATIONS_FILE = "investigations.yaml"
MAX_PACK_BYTES = 5_000_000  # the default pack is about 0.2 MB


def default_pack_path() -> Path:
    """Folder of the pack that ships inside hemedx (the starting point for a teacher's own copy)."""
    return Path(str(resources.files("hemedx.rules") / "pack"))


def load_pack(path: Path | str | None = None) -> Pack:
    """Load, validate and cross-check a pack (the default one when ``path`` is None). Cached per content."""
    folder = Path(path) if path is not None else default_pack_path()
    if not folder.exists():
        raise InputError("no such rule pack folder", file=str(folder))
    if not folder.is_dir():
        raise InputError(
            "a rule pack is a folder (with pack.yaml, vocabulary.yaml, ...), not a file", file=str(folder)
        )
    return _load_cached(str(folder.resolve()), _digest(folder))


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for file in pack_files(folder):
        h.update(str(file.relative_to(folder)).encode())
        h.update(b"\0")
        h.update(read_bytes(file, "pack"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def pack_files(folder: Path) -> list[Path]:
    """The files of a pack folder, in load order; FIFOs and devices, too many or too big are refused."""
    files = [folder / name for name in ("pack.yaml", "vocabulary.yaml", "sources.yaml", "diagnoses.yaml")]
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


@lru_cache(maxsize=8)
def _load_cached(folder: str, digest: str) -> Pack:
    cached = pack_cache.load(folder, digest)  # validated by an earlier process for this very content
    if cached is not None:
        return cached
    raw = read_pack_folder(Path(folder))
    if raw.info.extends == "default":
        base = read_pack_folder(default_pack_path())
        raw = base.overlay(raw)
        digest = f"{_digest(default_pack_path())[:8]}{digest[:8]}"
        return raw.build(digest)  # not cached: its meaning depends on the default pack's files too
    pack = raw.build(digest)
    pack_cache.store(folder, digest, pack)
    return pack


class RawPack:
    """The parsed files of one pack folder, still with their documents for locating errors."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.info: PackInfo
        self.vocabulary: Vocabulary | None = None
        self.sources: list[Source] = []
        self.diagnoses: list[Diagnosis] = []
        self.rules: list[Any] = []
        self.investigations: list[InvestigationSpec] = []
        # (section, id) -> (document, path of the entry): to point errors at file:line
        self.where: dict[tuple[str, str], tuple[Document, tuple[PathPart, ...]]] = {}

    def overlay(self, top: RawPack) -> RawPack:
        """Entries of ``top`` replace same-id entries of ``self``; new ones are appended."""
        out = RawPack(top.folder)
        out.info = merge_info(self.info, top.info)
        out.where = {**self.where, **top.where}
        out.sources = merge_by_id(self.sources, top.sources)
        out.diagnoses = merge_by_id(self.diagnoses, top.diagnoses)
        out.rules = merge_by_id(self.rules, top.rules)
        out.investigations = merge_by_id(self.investigations, top.investigations)
        base_vocab, top_vocab = self.vocabulary, top.vocabulary
        if top_vocab is None:
            out.vocabulary = base_vocab
        elif base_vocab is None:
            out.vocabulary = top_vocab
        else:
            out.vocabulary = Vocabulary(
                findings=merge_by_id(base_vocab.findings, top_vocab.findings),
                labs=merge_by_id(base_vocab.labs, top_vocab.labs),
                tests=merge_by_id(base_vocab.tests, top_vocab.tests),
            )
        return out

    def build(self, digest: str) -> Pack:
        """Cross-check the parsed files and assemble the immutable :class:`Pack`."""
        if self.vocabulary is None:
            raise InputError("a pack needs a vocabulary.yaml", file=str(self.folder / "vocabulary.yaml"))
        _check_unique(self)
        origin = {}
        for (section, ident), (doc, path) in self.where.items():
            line, _ = doc.where(path)
            origin[f"{section}:{ident}"] = f"{doc.file}:{line}"
        pack = Pack(
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
        problem = check_references(pack)
        if problem is not None:
            section, ident, field, message, hint = problem
            located = self.where.get((section, ident))
            if located is None:
                raise InputError(message, field=field, hint=hint)
            doc, path = located
            full = (*path, *field)
            line, column = doc.where(full)
            field_text = field_label(doc.data, full)
            raise InputError(message, file=doc.file, line=line, column=column, field=field_text, hint=hint)
        return pack


def merge_info(base: PackInfo, top: PackInfo) -> PackInfo:
    """An overlay's own identity and settings, with the base pack's parameters it does not redefine."""
    return top.model_copy(update={"parameters": {**base.parameters, **top.parameters}})


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


def read_pack_folder(folder: Path) -> RawPack:
    """Parse and schema-check every file of a pack folder (no cross-references yet)."""
    raw = RawPack(folder)
    info_file = folder / "pack.yaml"
    if not info_file.is_file():
        raise InputError("a pack folder needs a pack.yaml (id, title, version)", file=str(info_file))
    info_doc = load_file(info_file)
    raw.info = _validate(info_doc, PackInfo)
    raw.where[("pack", "info")] = (info_doc, ())
    is_overlay = raw.info.extends is not None

    vocab_file = folder / "vocabulary.yaml"
    if vocab_file.is_file():
        doc = load_file(vocab_file)
        raw.vocabulary = _validate(doc, Vocabulary)
        for section in ("findings", "labs", "tests"):
            for i, item in enumerate(getattr(raw.vocabulary, section)):
                raw.where[(section.rstrip("s"), item.id)] = (doc, (section, i))
    elif not is_overlay:
        raise InputError("a pack needs a vocabulary.yaml", file=str(vocab_file))

    for name, model, section in (
        ("sources.yaml", SourcesFile, "source"),
        ("diagnoses.yaml", DiagnosesFile, "diagnosis"),
    ):
        file = folder / name
        if not file.is_file():
            if is_overlay:
                continue
            raise InputError(f"a pack needs a {name}", file=str(file))
        doc = load_file(file)
        items = getattr(
            _validate(doc, model), section.replace("diagnosis", "diagnoses").replace("source", "sources")
        )
        key = "sources" if section == "source" else "diagnoses"
        for i, item in enumerate(items):
            raw.where[(section, item.id)] = (doc, (key, i))
        if section == "source":
            raw.sources = items
        else:
            raw.diagnoses = items

    investigations_file = folder / INVESTIGATIONS_FILE
    if investigations_file.is_file():
        doc = load_file(investigations_file)
        raw.investigations = _validate(doc, InvestigationsFile).investigations
        for i, item in enumerate(raw.investigations):
            raw.where[("investigation", item.id)] = (doc, ("investigations", i))

    for file in pack_files(folder):
        if file.parent.name != "rules":
            continue
        doc = load_file(file)
        parsed = _validate(doc, RulesFile)
        for i, rule in enumerate(parsed.rules):
            if ("rule", rule.id) in raw.where:
                first_doc, first_path = raw.where[("rule", rule.id)]
                first_line = first_doc.where(first_path)[0]
                raise doc.error(
                    ("rules", i, "id"),
                    f"duplicate rule id '{rule.id}'",
                    f"first defined at {first_doc.file}:{first_line}; rule ids are stable and unique",
                )
            raw.where[("rule", rule.id)] = (doc, ("rules", i))
            raw.rules.append(rule)
    return raw


def _validate(doc: Document, model: type[BaseModel]) -> Any:
    if not isinstance(doc.data, dict):
        raise InputError(
            f"expected a mapping at the top of the file, got {type(doc.data).__name__}", file=doc.file
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise to_input_error(exc, doc, model) from None


def _check_unique(raw: RawPack) -> None:
    assert raw.vocabulary is not None
    seen: dict[str, str] = {}
    for section, items in (
        ("finding", raw.vocabulary.findings),
        ("lab", raw.vocabulary.labs),
        ("test", raw.vocabulary.tests),
    ):
        for item in items:
            if item.id in seen:
                doc, path = raw.where[(section, item.id)]
                raise doc.error(
                    (*path, "id"),
                    f"'{item.id}' is defined twice in the vocabulary (as a {seen[item.id]} and a {section})",
                    "ids must be unique across findings, labs and tests",
                )
            seen[item.id] = section
    for section, items in (("source", raw.sources), ("diagnosis", raw.diagnoses)):
        ids: set[str] = set()
        for item in items:
            if item.id in ids:
                doc, path = raw.where[(section, item.id)]
                raise doc.error((*path, "id"), f"duplicate {section} id '{item.id}'")
            ids.add(item.id)
