"""The one pack reader: every issue at once, located; load_pack raises the first, rules check lists all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hemedx import load_pack
from hemedx.authoring.lints import check_pack
from hemedx.errors import InputError
from hemedx.rules.reader import read_pack

from support.helpers import MINI_PACK


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(MINI_PACK, folder)
    return folder


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_clean_pack_reads_with_no_issue_and_the_loaded_pack_is_the_read_one():
    read = read_pack(MINI_PACK)
    assert read.issues == [] and read.first_error() is None
    assert read.pack == load_pack(MINI_PACK)  # digest, origin and all


def test_every_problem_is_found_in_one_read_and_load_pack_raises_the_first(tmp_path):
    folder = _copy(tmp_path)
    _replace(folder / "pack.yaml", "title:", "titel:")
    _replace(folder / "rules" / "evidence.yaml", "source: src-b", "source: src-c")
    _replace(folder / "sources.yaml", "citation:", "citaton:")
    read = read_pack(folder)
    assert read.pack is None  # pack.yaml is unusable
    assert [i.code for i in read.issues] == ["HX001", "HX001"]  # references need a pack to check
    with pytest.raises(InputError) as err:
        load_pack(folder)
    assert str(err.value) == str(read.issues[0].error)
    assert "unknown field 'titel'" in str(err.value)


def test_a_wrong_rule_kind_is_worded_the_same_by_load_pack_and_rules_check(tmp_path):
    """Bug fix: load_pack used to print pydantic's 'Input tag ... found using kind' at the rule's line."""
    folder = _copy(tmp_path)
    _replace(folder / "rules" / "interpretation.yaml", "kind: interpretation", "kind: interpretaton")
    with pytest.raises(InputError) as err:
        load_pack(folder)
    assert "unknown rule kind 'interpretaton' (did you mean 'interpretation'?)" in str(err.value)
    issue = check_pack(folder).issues[0]
    assert (issue.code, issue.line) == ("HX001", err.value.line)
    assert issue.message.endswith("unknown rule kind 'interpretaton'")


def test_an_overlay_repeating_an_id_in_its_own_file_is_refused_by_both(tmp_path):
    folder = tmp_path / "overlay"
    (folder / "rules").mkdir(parents=True)
    (folder / "pack.yaml").write_text("id: mine\ntitle: Mine\nversion: '1'\nextends: default\n")
    rule = (
        "  - id: syn.mine\n    kind: syndrome\n    title: Mine\n    explanation: Mine.\n"
        "    when: {finding: petechiae}\n    then: {finding: pancytopenia}\n"
        "    cites: [{source: statpearls-pancytopenia}]\n"
    )
    (folder / "rules" / "mine.yaml").write_text("rules:\n" + rule + rule)
    issues = check_pack(folder).issues
    assert [(i.code, i.line) for i in issues if i.info.severity == "error"] == [("HX104", 9)]
    with pytest.raises(InputError, match=r"duplicate rule id 'syn\.mine'"):
        load_pack(folder)


def test_the_overlay_digest_depends_on_both_folders(tmp_path):
    folder = tmp_path / "overlay"
    folder.mkdir()
    (folder / "pack.yaml").write_text("id: mine\ntitle: Mine\nversion: '1'\nextends: default\n")
    first = read_pack(folder).pack
    (folder / "pack.yaml").write_text("id: mine\ntitle: Mine too\nversion: '1'\nextends: default\n")
    second = read_pack(folder).pack
    assert first is not None and second is not None
    assert first.digest[:8] == second.digest[:8] == load_pack().digest[:8]
    assert first.digest[8:] != second.digest[8:]
