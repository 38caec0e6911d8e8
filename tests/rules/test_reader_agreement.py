"""``rules check`` reports an error exactly when the pack cannot be loaded, run or generated from.

One reader, one verdict: "generated from" is the generator's distributions.yaml, which ``rules check``
reads as ``generate`` does (a mutation that drops a subtype or a lab's alternative unit breaks it).

Random mutations of the default pack and of small overlays (a key deleted, an id duplicated, a reference
broken, a number out of range, a rule that expands too far, rules that overflow one durable condition,
ids whose durable hashes collide, the differential emptied, harmless edits) are checked with
``check_pack`` and loaded with ``load_pack`` + ``get_engine`` + ``load_distributions``. The semantic
lints HX201-HX204 flag rules that load but teach badly, so they are left out of the comparison. Example
counts are small so the file runs in a few seconds; hypothesis keeps a failing example if one is ever
found.
"""

from __future__ import annotations

import copy
import os
import random
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hemedx import get_engine, load_pack
from hemedx.authoring.lints import check_pack
from hemedx.cases.generator import load_distributions
from hemedx.errors import EngineError, InputError
from hemedx.rules import default_pack_path

TEACHING_ONLY = {"HX201", "HX202", "HX203", "HX204"}  # errors of teaching quality: the pack still runs
COLLIDING = ("spot_723999", "spot_1127660")  # fnv1a32 gives both the same 32-bit hash

Files = dict[str, Any]
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _default_files() -> Files:
    root = default_pack_path()
    files = {p.relative_to(root).as_posix(): yaml.safe_load(p.read_text()) for p in root.rglob("*.yaml")}
    return files


DEFAULT = _default_files()
FINDINGS = [f["id"] for f in DEFAULT["vocabulary.yaml"]["findings"]]
DIAGNOSES = [d["id"] for d in DEFAULT["diagnoses.yaml"]["diagnoses"]]
RULE_FILES = sorted(k for k in DEFAULT if k.startswith("rules/"))
ALL_RULES = [r for k in RULE_FILES for r in DEFAULT[k]["rules"]]


def _lists(files: Files) -> list[list[Any]]:
    """Every list of entries in the pack files (findings, labs, tests, sources, diagnoses, rules, ...)."""
    out = []
    for data in files.values():
        for value in data.values() if isinstance(data, dict) else ():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                out.append(value)
    return out


def _rules(files: Files) -> list[dict[str, Any]]:
    return [r for k, data in files.items() if k.startswith("rules/") for r in data.get("rules", [])]


def _leaves(cond: Any) -> list[dict[str, Any]]:
    if not isinstance(cond, dict):
        return []
    for key in ("all", "any", "of"):
        if key in cond:
            return [leaf for sub in cond[key] for leaf in _leaves(sub)]
    return [cond]


def _rule(rule_id: str, when: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rule_id,
        "kind": "syndrome",
        "title": "Added by the agreement test",
        "explanation": "Generated.",
        "when": when,
        "then": {"finding": "pancytopenia"},
        "cites": [{"source": "statpearls-pancytopenia"}],
    }


def _add_rules(files: Files, rules: list[dict[str, Any]]) -> None:
    files.setdefault("rules/zz_added.yaml", {"rules": []})["rules"].extend(rules)


# --- mutations: each edits the files in place --------------------------------------------------------


def drop_key(files: Files, rnd: random.Random) -> None:
    lists = _lists(files)
    entry = rnd.choice(rnd.choice(lists)) if lists else None
    if entry:
        del entry[rnd.choice(sorted(entry))]


def duplicate_id(files: Files, rnd: random.Random) -> None:
    lists = _lists(files)
    if lists:
        entries = rnd.choice(lists)
        entries.append(copy.deepcopy(rnd.choice(entries)))


def break_reference(files: Files, rnd: random.Random) -> None:
    rules = _rules(files)
    if not rules:
        return
    rule = rnd.choice(rules)
    leaves = _leaves(rule.get("when"))
    if not leaves:
        return
    leaf = rnd.choice(leaves)
    key = next((k for k in ("finding", "lab", "test") if k in leaf), None)
    if key is not None:
        leaf[key] = rnd.choice([leaf[key] + "x", rnd.choice(FINDINGS), "hemoglobin", "dat"])


def bad_cite(files: Files, rnd: random.Random) -> None:
    rules = _rules(files)
    if rules:
        rnd.choice(rules)["cites"] = [{"source": rnd.choice(["no-such-source", "statpearls-pancytopenia"])}]


def number(files: Files, rnd: random.Random) -> None:
    evidence = [r for r in _rules(files) if r.get("kind") == "evidence"]
    value = rnd.choice([-0.1, 0, 0.0005, 0.2, 0.5, 0.999, 1, 1.5, 50])
    if evidence and rnd.random() < 0.7:
        then = rnd.choice(evidence)["then"]
        then[rnd.choice([*sorted(then.get("evidence", {})), "otherwise"])] = value
    elif "diagnoses.yaml" in files:
        rnd.choice(files["diagnoses.yaml"]["diagnoses"])["prior"]["value"] = value


def retarget_evidence(files: Files, rnd: random.Random) -> None:
    evidence = [r for r in _rules(files) if r.get("kind") == "evidence"]
    if evidence:
        then = rnd.choice(evidence)["then"]
        then.setdefault("evidence", {})[rnd.choice([*DIAGNOSES, "nope"])] = 0.3


def empty_differential(files: Files, rnd: random.Random) -> None:
    if "diagnoses.yaml" in files:
        files["diagnoses.yaml"]["diagnoses"] = [
            d for d in files["diagnoses.yaml"]["diagnoses"] if d.get("kind") == "outside"
        ]


def colliding_ids(files: Files, rnd: random.Random) -> None:
    vocab = files.setdefault("vocabulary.yaml", {"findings": [], "labs": [], "tests": []})
    for ident in COLLIDING[: rnd.choice([1, 2])]:
        vocab["findings"].append({"id": ident, "label": "A spot", "category": "examination"})


def shared_condition(files: Files, rnd: random.Random) -> None:
    n = rnd.choice([5, 300])  # durable links at most 256 alternatives to one condition
    _add_rules(files, [_rule(f"syn.shared_{i}", {"finding": "petechiae"}) for i in range(n)])


def expansion(files: Files, rnd: random.Random) -> None:
    groups = rnd.choice([3, 9])  # 2**9 = 512 alternatives: over the limit of 256
    when = {"all": [{"any": [{"finding": FINDINGS[i]}, {"finding": FINDINGS[i + 1]}]} for i in range(groups)]}
    _add_rules(files, [_rule("syn.expanding", when)])


def harmless(files: Files, rnd: random.Random) -> None:
    rules = _rules(files)
    if rules:
        rnd.choice(rules)["title"] = "Retitled by the agreement test"


MUTATIONS = [
    drop_key,
    duplicate_id,
    break_reference,
    bad_cite,
    number,
    retarget_evidence,
    empty_differential,
    colliding_ids,
    shared_condition,
    expansion,
    harmless,
]


# --- the property ------------------------------------------------------------------------------------


def _write(folder: Path, files: Files) -> None:
    """Unchanged default files are copied as they are (dumping YAML is the slow part)."""
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if DEFAULT.get(name) == data:
            path.write_bytes((default_pack_path() / name).read_bytes())
        else:
            path.write_text(yaml.dump(data, Dumper=DUMPER, sort_keys=False, allow_unicode=True))


def _verdicts(files: Files) -> tuple[list[str], str | None]:
    """(the errors rules check reports that mean "cannot run", why loading, compiling, generating failed)."""
    with tempfile.TemporaryDirectory() as tmp, mock.patch.dict(os.environ, {"HEMEDX_NO_CACHE": "1"}):
        folder = Path(tmp) / "pack"
        _write(folder, files)
        try:
            issues = check_pack(folder).issues
        except InputError as exc:  # unreadable: loading must refuse it the same way
            issues, checked = [], str(exc)
        else:
            checked = None
        errors = [i.text() for i in issues if i.info.severity == "error" and i.code not in TEACHING_ONLY]
        if checked is not None:
            errors.append(checked)
        try:
            pack = load_pack(folder)
            get_engine(pack)
            load_distributions(pack, folder=folder)
        except (InputError, EngineError) as exc:
            return errors, str(exc)
        return errors, None


def _assert_agree(files: Files) -> None:
    errors, refused = _verdicts(files)
    if refused is None:
        assert not errors, f"rules check reports errors for a pack that loads and runs: {errors[:3]}"
    else:
        assert errors, f"rules check passed a pack that cannot run: {refused}"


mutation_lists = st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2)
FAST = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(mutation_lists, st.randoms(use_true_random=False))
def test_a_mutated_default_pack_checks_clean_exactly_when_it_runs(mutations, rnd):
    files = copy.deepcopy(DEFAULT)
    for mutate in mutations:
        mutate(files, rnd)
    _assert_agree(files)


def _overlay(rnd: random.Random) -> Files:
    """A small overlay: its pack.yaml, and perhaps a few default rules, findings or diagnoses replaced."""
    files: Files = {"pack.yaml": {"id": "mine", "title": "Mine", "version": "1", "extends": "default"}}
    if rnd.random() < 0.6:
        files["rules/mine.yaml"] = {"rules": copy.deepcopy(rnd.sample(ALL_RULES, 3))}
    if rnd.random() < 0.4:
        vocab = DEFAULT["vocabulary.yaml"]
        files["vocabulary.yaml"] = {
            "findings": copy.deepcopy(rnd.sample(vocab["findings"], 2)),
            "labs": copy.deepcopy(rnd.sample(vocab["labs"], 1)),
            "tests": [],
        }
        if rnd.random() < 0.3:  # a lab that reuses a default finding's id
            files["vocabulary.yaml"]["labs"][0]["id"] = rnd.choice(FINDINGS)
    if rnd.random() < 0.3:
        files["diagnoses.yaml"] = {
            "diagnoses": copy.deepcopy(rnd.sample(DEFAULT["diagnoses.yaml"]["diagnoses"], 2))
        }
    return files


@FAST
@given(st.lists(st.sampled_from(MUTATIONS), max_size=2), st.randoms(use_true_random=False))
def test_a_mutated_overlay_checks_clean_exactly_when_it_runs(mutations, rnd):
    files = _overlay(rnd)
    for mutate in mutations:
        mutate(files, rnd)
    _assert_agree(files)


def test_each_refusal_the_engine_makes_is_reported_by_rules_check():
    """Hash collisions, an overflowing durable condition, an expansion and an empty differential."""
    for mutate in (colliding_ids, shared_condition, expansion, empty_differential):
        files = copy.deepcopy(DEFAULT)
        mutate(files, _Always(-1))
        errors, refused = _verdicts(files)
        assert refused is not None and errors, mutate.__name__


class _Always(random.Random):
    """Always picks the last choice (the refused variant of each mutation above)."""

    def __init__(self, index: int) -> None:
        super().__init__(0)
        self.index = index

    def choice(self, seq: Any) -> Any:
        return seq[self.index]
