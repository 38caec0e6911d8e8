"""``hemedx rules check``: one broken pack per lint code, YAML error classes, overlays, the CLI.

Each lint case of tests/fixtures/lint_cases.yaml is tests/fixtures/packs/mini with a few edits (data, not
a copied pack) making one deliberate problem; the test asserts the code, file, line and message reported.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hemedx.authoring import LINTS, check_pack
from hemedx.authoring.docs import lints_markdown
from hemedx.authoring.issues import Issue
from hemedx.cli import cli
from hemedx.errors import InputError

from support.helpers import LINT_CASES, MINI_PACK, ROOT, broken_pack

MINI = MINI_PACK


def _rel(issue: Issue, folder: Path) -> str:
    return Path(issue.file or "").resolve().relative_to(folder.resolve()).as_posix()


@pytest.mark.parametrize("fixture", sorted(LINT_CASES))
def test_each_lint_has_a_broken_pack_that_triggers_exactly_it(fixture: str, tmp_path: Path) -> None:
    expect = LINT_CASES[fixture]["expect"]
    code, file, line, column = expect["code"], expect["file"], expect["line"], expect["column"]
    message, suggestion = expect["message"], expect.get("suggestion")
    folder = broken_pack(tmp_path, fixture)
    result = check_pack(folder)
    assert [i.code for i in result.issues] == [code], [i.text() for i in result.issues]
    issue = result.issues[0]
    assert (_rel(issue, folder), issue.line, issue.column) == (file, line, column)
    assert message in issue.message
    if suggestion:
        assert suggestion in (issue.suggestion or "")
    assert issue.text().startswith(f"{issue.file}:{line}:{column}: {code} ")


def test_every_lint_code_has_a_fixture_and_docs() -> None:
    assert {c["expect"]["code"] for c in LINT_CASES.values()} == set(LINTS)
    docs = lints_markdown()
    for code, info in LINTS.items():
        assert f"## {code} {info.name}" in docs


def test_the_mini_pack_is_clean() -> None:
    assert check_pack(MINI).issues == []


def test_the_default_pack_passes_check_with_zero_findings() -> None:
    result = check_pack()
    assert [i.text() for i in result.issues] == []


def test_a_default_pack_diagnosis_that_inherits_otherwise_is_flagged(tmp_path: Path) -> None:
    """The known trap: TTP left to 'otherwise' on the thrombocytopenia that defines it."""
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "hemedx" / "rules" / "pack", pack)
    _edit(pack / "rules" / "evidence.yaml", "        tma: 0.99\n", "")
    issues = check_pack(pack).issues
    assert [(i.code, i.rule) for i in issues] == [("HX303", "ev.thrombocytopenia")]
    assert "finding of tma" in issues[0].message and "otherwise' value (0.1)" in issues[0].message


def _copy(tmp_path: Path, source: Path = MINI) -> Path:
    dest = tmp_path / "pack"
    shutil.copytree(source, dest)
    return dest


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))


def test_all_issues_are_reported_sorted_by_file_and_line(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    _edit(
        pack / "rules" / "syndrome.yaml",
        "- {finding: anemia}\n        - {lab: ldh",
        "- {finding: anaemia}\n        - {lab: ldh",
    )
    _edit(
        pack / "rules" / "evidence.yaml",
        "cites: [{source: src-b}]\n  - id: ev.petechiae",
        "cites: [{source: src-z}]\n  - id: ev.petechiae",
    )
    _edit(
        pack / "rules" / "interpretation.yaml",
        "{lab: marrow_blasts, below: 20}",
        "{lab: marrow_blasts, below: -5}",
    )
    result = check_pack(pack)
    assert [(Path(i.file or "").name, i.code) for i in result.issues] == [
        ("evidence.yaml", "HX102"),
        ("interpretation.yaml", "HX204"),
        ("syndrome.yaml", "HX101"),
    ]
    assert "never true" in result.issues[1].message
    assert result.summary() == "Found 3 issues (3 errors, 0 warnings) in pack 'mini' (21 rules)."


def test_several_schema_errors_in_one_file_are_all_reported(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    rules = pack / "rules" / "interpretation.yaml"
    _edit(rules, "    then: {finding: anemia}\n", "    then: {finding: anemia, sate: absent}\n")
    _edit(rules, "    title: Platelets in range\n", "    title: [Platelets in range]\n")
    codes = [(i.code, i.line, i.message) for i in check_pack(pack).issues]
    assert codes == [
        ("HX001", 7, "rule 'interp.anemia' then.sate: unknown field 'sate'"),
        ("HX001", 25, "rule 'interp.no_thrombocytopenia' title: expected text"),
    ]


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        (
            "missing field",
            "rules:\n  - id: interp.x\n    kind: interpretation\n    title: T\n",
            2,
            "missing required field",
        ),
        (
            "wrong type",
            "rules:\n  - id: interp.x\n    kind: interpretation\n    title: T\n    explanation: E\n"
            "    when: {lab: hemoglobin, below: [1]}\n    then: {finding: anemia}\n"
            "    cites: [{source: src-a}]\n",
            6,
            "expected a number",
        ),
        (
            "bad value",
            "rules:\n  - id: interp.x\n    kind: interpretation\n    title: T\n    explanation: E\n"
            "    when: {lab: hemoglobin, below: 1}\n    then: {finding: anemia, state: maybe}\n"
            "    cites: [{source: src-a}]\n",
            7,
            "then.state: must be 'present' or 'absent'",
        ),
        (
            "unknown kind",
            "rules:\n  - id: interp.x\n    kind: interpolation\n",
            3,
            "unknown rule kind 'interpolation'",
        ),
        ("not a list", "rules: {id: x}\n", 1, "rules: expected a list"),
        ("unknown top key", "rule:\n  - id: x\n", 1, "unknown field 'rule'"),
    ],
)
def test_schema_error_classes_are_issues_at_the_right_line(
    tmp_path: Path, name: str, text: str, line: int, message: str
) -> None:
    pack = _copy(tmp_path)
    (pack / "rules" / "extra.yaml").write_text(text)
    issues = [i for i in check_pack(pack).issues if i.file and i.file.endswith("extra.yaml")]
    found = [i for i in issues if message in i.message]
    assert found, [i.text() for i in issues]
    assert found[0].code == "HX001"
    assert found[0].line == line, found[0].text()


@pytest.mark.parametrize(
    ("name", "text", "line", "message"),
    [
        ("syntax", "rules:\n  - id: x\n   kind: syndrome\n", 3, "not valid YAML"),
        ("unclosed flow", "rules:\n  - {id: x, kind: syndrome\n", 3, "not valid YAML"),
        ("tab indent", "rules:\n\t- id: x\n", 2, "not valid YAML"),
        ("missing dash", "rules:\n  - id: x\n    id: y\n", 3, "did you forget '- ' before 'id:'?"),
        ("duplicate key", "rules:\n  - id: x\n    title: a\n    title: b\n", 4, "duplicate key 'title'"),
        ("python tag", "rules:\n  - !!python/object:os.system {}\n", 2, "YAML tag"),
        ("alias", "rules:\n  - &a {id: x}\n  - *a\n", 3, "anchors and aliases"),
        ("empty file", "", None, "file is empty"),
    ],
)
def test_yaml_that_cannot_be_read_is_exit_2_at_the_right_line(
    tmp_path: Path, name: str, text: str, line: int | None, message: str
) -> None:
    pack = _copy(tmp_path)
    bad = pack / "rules" / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(InputError) as info:
        check_pack(pack)
    assert info.value.file == str(bad)
    assert info.value.line == line, str(info.value)
    assert message in info.value.message
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(pack)])
    assert result.exit_code == 2, name
    where = f"{bad}:{line}:" if line else f"{bad}: "
    assert result.stderr.startswith(f"hemedx: error: {where}")
    assert result.stderr.count("\n") == 1


def test_not_utf8_is_exit_2(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    (pack / "rules" / "bad.yaml").write_bytes(b"rules: \xff\xfe\n")
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(pack)])
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def test_a_folder_that_is_not_a_pack_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(tmp_path)])
    assert result.exit_code == 2 and "needs a pack.yaml" in result.stderr
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such rule pack folder" in result.stderr


def test_an_invalid_pack_yaml_is_an_issue_not_a_crash(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    _edit(pack / "pack.yaml", 'version: "1"', "version: 1\nauthor: me")
    issues = check_pack(pack).issues
    assert [(i.code, Path(i.file or "").name, i.line) for i in issues] == [("HX001", "pack.yaml", 5)]
    assert "unknown field 'author'" in issues[0].message


def test_a_missing_vocabulary_is_an_issue(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    (pack / "vocabulary.yaml").unlink()
    issues = check_pack(pack).issues
    assert [(i.code, i.message) for i in issues] == [("HX001", "a pack needs a vocabulary.yaml")]


def test_duplicate_vocabulary_ids_are_reported_at_the_second_definition(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    _edit(
        pack / "vocabulary.yaml",
        "tests:\n",
        "  - {id: anc, label: Again, category: blood_count, unit: x, plausible: {min: 0, max: 1}}\ntests:\n",
    )
    issues = check_pack(pack).issues
    assert [(i.code, i.line) for i in issues] == [("HX104", 51)]
    assert "'anc' is defined twice" in issues[0].message


def test_an_overlay_is_checked_together_with_the_default_pack(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    (overlay / "rules").mkdir(parents=True)
    (overlay / "pack.yaml").write_text("id: my_overlay\ntitle: Mine\nversion: '1'\nextends: default\n")
    (overlay / "rules" / "mine.yaml").write_text(
        "rules:\n  - id: syn.mine\n    kind: syndrome\n    title: Mine\n    explanation: Mine.\n"
        "    when: {finding: pancytopenai}\n    then: {finding: pancytopenia}\n"
        "    cites: [{source: statpearls-pancytopenia}]\n"
    )
    issues = [i for i in check_pack(overlay).issues if i.rule == "syn.mine"]
    assert [(i.code, Path(i.file or "").name, i.line) for i in issues] == [("HX101", "mine.yaml", 6)]
    assert issues[0].suggestion == "did you mean 'pancytopenia'?"


def test_ignore_skips_a_code_and_rejects_unknown_codes(tmp_path: Path) -> None:
    assert check_pack(broken_pack(tmp_path, "double_counted"), ignore={"HX301"}).issues == []
    with pytest.raises(InputError, match="unknown lint code 'HX999'"):
        check_pack(MINI, ignore={"HX999"})


def test_cli_check_text_json_and_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(cli, ["rules", "check", "--rules", str(MINI)])
    assert clean.exit_code == 0 and clean.stdout.startswith("All checks passed: pack 'mini'")
    broken = runner.invoke(cli, ["rules", "check", "--rules", str(broken_pack(tmp_path, "unknown_source"))])
    assert broken.exit_code == 1
    first = broken.stdout.splitlines()[0]
    assert first.endswith("evidence.yaml:31:14: HX102 unknown source 'src-c' (did you mean 'src-b'?)")
    assert broken.stdout.splitlines()[-1].startswith("Found 1 issue (1 error, 0 warnings)")
    unknown_id = str(broken_pack(tmp_path, "unknown_id"))
    data = json.loads(runner.invoke(cli, ["rules", "check", "--json", "--rules", unknown_id]).stdout)
    assert data["summary"] == {"issues": 1, "errors": 1, "warnings": 0}
    issue = data["issues"][0]
    assert (issue["code"], issue["name"], issue["line"], issue["column"], issue["rule"]) == (
        "HX101",
        "unknown-id",
        30,
        12,
        "syn.hemolysis",
    )
    ignored = runner.invoke(
        cli, ["rules", "check", "--ignore", "hx301", "--rules", str(broken_pack(tmp_path, "double_counted"))]
    )
    assert ignored.exit_code == 0


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "rules:\n  - id: x\n    kind: syndrome\n    id: y\n",
            4,
            "two entries share one list item ('id' first given on line 2): did you forget '- ' before 'id:'?",
        ),
        (
            "rules:\n  - id: x\n    title: x\n      kind: y\n",
            4,
            "not valid YAML: the indentation does not match the keys above",
        ),
        ("rules:\n  - id: x\n    title: Note: x\n", 3, "not valid YAML: a ': ' inside an unquoted value"),
    ],
)
def test_yaml_messages_name_the_likely_mistake(tmp_path: Path, text: str, line: int, message: str) -> None:
    pack = _copy(tmp_path)
    (pack / "rules" / "bad.yaml").write_text(text)
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(pack)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and f"bad.yaml:{line}:" in result.stderr
    assert message in result.stderr
    as_json = CliRunner().invoke(cli, ["rules", "check", "--json", "--rules", str(pack)])
    assert as_json.exit_code == 2
    error = json.loads(as_json.stdout)["error"]
    assert error["line"] == line and message in error["message"]


def test_unquoted_comma_and_percentage_probability_are_explained(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    (pack / "rules" / "extra.yaml").write_text(
        "rules:\n  - id: ev.extra\n    kind: evidence\n    title: T\n    explanation: E\n"
        "    cites: [{source: src-a}]\n    when: {finding: anemia}\n"
        "    then: {evidence: {aplastic_anemia: 98}, otherwise: 0.1}\n"
        "  - id: alert.extra\n    kind: alert\n    title: T\n    explanation: E\n"
        "    cites: [{source: src-a}]\n    when: {finding: anemia}\n"
        "    then: {alert: TMA (TTP, HUS), urgency: consider, next_test: film}\n"
    )
    texts = [i.text() for i in check_pack(pack).issues if i.file and i.file.endswith("extra.yaml")]
    assert any(
        "rule 'ev.extra' then.evidence.aplastic_anemia: probability must be between 0.001 and 0.999;"
        " got 98 (did you mean 0.98?)" in t
        for t in texts
    ), texts
    assert any("rule 'alert.extra'" in t and "put the whole value in quotes" in t for t in texts), texts


def test_todo_anywhere_a_learner_reads_is_an_error_and_context_only_must_be_true(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(MINI, pack)
    dx = pack / "diagnoses.yaml"
    dx.write_text(dx.read_text().replace("Immune attack on stem cells.", "TODO pathophysiology"))
    vocab = pack / "vocabulary.yaml"
    vocab.write_text(
        vocab.read_text().replace(
            "{id: petechiae, label: Petechiae, category: examination}",
            "{id: petechiae, label: Petechiae, category: examination, context_only: true}",
        )
    )
    result = check_pack(pack)
    assert [(i.code, i.line) for i in result.issues] == [("HX106", 12), ("HX305", 2)], [
        i.text() for i in result.issues
    ]
    assert (
        "diagnosis 'aplastic_anemia': teaching_points[0].text is a TODO placeholder"
        in result.issues[0].message
    )
    assert "says context_only: true, but a rule or a diagnosis uses it" in result.issues[1].message
    cli_result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(pack), "--json"])
    assert cli_result.exit_code == 1
    assert [i["name"] for i in json.loads(cli_result.stdout)["issues"]] == ["placeholder", "unused-finding"]


def test_a_draft_rule_is_reported_and_still_runs(tmp_path: Path) -> None:
    from hemedx.engine.engine import get_engine
    from hemedx.engine.examples import example_snapshot
    from hemedx.rules import load_pack
    from hemedx.rules.model import ExampleFacts

    draft = broken_pack(tmp_path, "draft_rule")
    pack = load_pack(draft)
    assert next(r for r in pack.rules if r.id == "syn.pancytopenia").status == "draft"
    low = ExampleFacts(labs={"hemoglobin": 7, "platelets": 20, "anc": 0.3})
    ranking = get_engine(pack).rank(example_snapshot(pack, low))
    assert "syn.pancytopenia" in ranking.fired_rules  # a draft changes what learners see
    check = CliRunner().invoke(cli, ["rules", "check", "--rules", str(draft)])
    assert check.exit_code == 1 and "HX304 rule 'syn.pancytopenia' is a draft" in check.stdout


def test_an_overlay_whose_pack_yaml_is_invalid_is_named_by_its_folder(tmp_path: Path) -> None:
    """Without a readable pack.yaml there is no pack id: the summary names the folder, never "pack '?'"."""
    folder = tmp_path / "my-overlay"
    folder.mkdir()
    (folder / "pack.yaml").write_text("extends: default\nbogus: 1\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(folder)])
    assert result.exit_code == 1, result.output
    assert "pack.yaml:2:1: HX001 bogus: unknown field 'bogus'" in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last == f"Found 1 issue (1 error, 0 warnings) in {folder} (its pack.yaml could not be read)."
    assert "'?'" not in result.stdout and "0 rules" not in result.stdout


def test_a_pack_over_durables_matcher_limit_is_an_input_error_not_a_crash(tmp_path: Path) -> None:
    """rank with such a pack exits 2 with one line pointing at `rules check`; the process does not crash."""
    folder = broken_pack(tmp_path, "engine_limit")
    case = tmp_path / "case.yaml"
    case.write_text(
        "id: over-limit\ntitle: LDH alone\npatient: {age: 40, sex: female}\n"
        "stages:\n  - name: Blood\n    labs: {ldh: 900}\n"
    )
    for _ in range(2):  # a second case after the failure gets a fresh session, and fails the same way
        done = CliRunner().invoke(cli, ["rank", str(case), "--rules", str(folder)])
        assert done.exit_code == 2, done.output
        lines = done.output.strip().splitlines()
        assert len(lines) == 1 and "durable_rules cannot evaluate it" in lines[0]
        assert "hemedx rules check" in lines[0] and "Traceback" not in done.output
