"""``hemedx rules test|coverage|diff|docs|show|schema|new|path``: the rest of the authoring workflow."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hemedx import load_pack
from hemedx.authoring import check_pack
from hemedx.authoring.diffing import diff_packs
from hemedx.authoring.docs import catalogue, rule_markdown
from hemedx.authoring.runner import coverage, run_tests
from hemedx.authoring.scaffold import new_rule
from hemedx.authoring.schema import SCHEMAS, render, schema_dir, stale_schemas
from hemedx.cli import cli
from hemedx.errors import InputError
from hemedx.rules import default_pack_path
from hemedx.rules.model import RULE_KINDS, RulesFile
from hemedx.safeyaml import parse_yaml

from support.helpers import MINI_PACK, ROOT, write_case

DEFAULT = load_pack()
RUNNER = CliRunner()


def invoke(*args: str):
    return RUNNER.invoke(cli, ["rules", *args])


def _mini_cases(tmp_path: Path) -> Path:
    """A case folder for the mini pack: one severe aplastic anaemia with its answer key."""
    folder = tmp_path / "cases"
    folder.mkdir()
    write_case(
        folder,
        [
            {
                "labs": {"hemoglobin": 7, "anc": 0.3, "platelets": 10, "reticulocytes": 20},
                "findings": {"petechiae": "present"},
            }
        ],
        case_id="mini-aa",
        answer={"diagnosis": "aplastic_anemia", "subtype": "severe"},
        name="mini-aa.yaml",
    )
    return folder


# --- rules test ------------------------------------------------------------------------------------------


def test_default_pack_passes_every_example_and_answer_key() -> None:
    report = run_tests(DEFAULT)
    assert [f"{o.name}: {o.detail}" for o in report.failures] == []
    kinds = {o.kind for o in report.outcomes}
    assert kinds == {"example", "case"}


def test_rules_test_reports_failures_like_a_test_runner(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(MINI_PACK, pack)
    rules = pack / "rules" / "interpretation.yaml"
    rules.write_text(
        rules.read_text().replace(
            "    then: {finding: anemia}\n",
            "    then: {finding: anemia}\n    examples:\n      fires: [{labs: {hemoglobin: 13}}]\n"
            "      does_not_fire: [{labs: {hemoglobin: 13}}]\n",
            1,
        )
    )
    cases = _mini_cases(tmp_path)
    result = invoke("test", "--rules", str(pack), "--cases", str(cases))
    assert result.exit_code == 1
    assert "FAILED example interp.anemia[fires 1]" in result.stdout
    assert (
        "expected to fire, but it did not; rules that fired: ev.pancytopenia, interp.no_anemia"
        in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "2 rule examples, 1 case answer keys: 2 passed, 1 failed"
    verbose = invoke("test", "-v", "--rules", str(pack), "--cases", str(cases))
    assert "PASSED case mini-aa" in verbose.stdout
    data = json.loads(invoke("test", "--json", "--rules", str(pack), "--cases", str(cases)).stdout)
    assert (data["passed"], data["failed"]) == (2, 1)


def test_a_wrong_answer_key_and_an_unloadable_case_fail(tmp_path: Path) -> None:
    cases = _mini_cases(tmp_path)
    path = cases / "mini-aa.yaml"
    path.write_text(path.read_text().replace("subtype: severe", "subtype: non_severe"))
    (cases / "broken.yaml").write_text("id: broken\n")
    report = run_tests(load_pack(MINI_PACK), cases)
    details = {o.name: o.detail for o in report.failures}
    assert details["mini-aa"] == "expected aplastic_anemia (non_severe); subtype: severe"
    assert details["broken"].startswith("does not load: ")


# --- rules coverage --------------------------------------------------------------------------------------


def test_every_default_rule_fires_in_an_example_or_a_case() -> None:
    cov = coverage(DEFAULT)
    assert cov.never_fired == []
    assert cov.percent == 100.0
    assert cov.no_negative_example == [] and cov.no_positive_example == []


def test_coverage_json_and_fail_under(tmp_path: Path) -> None:
    cases = _mini_cases(tmp_path)
    result = invoke("coverage", "--json", "--rules", str(MINI_PACK), "--cases", str(cases))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    fired = {r["id"]: r["fired"] for r in data["rules"]}
    assert fired["crit.aa.severe"] == 1 and fired["crit.aiha.warm"] == 0
    assert 0 < data["percent"] < 100
    assert "crit.aiha.warm" in data["never_fired"]
    assert "crit.aa.severe" in data["no_does_not_fire_example"]
    gate = invoke("coverage", "--fail-under", "100", "--rules", str(MINI_PACK), "--cases", str(cases))
    assert gate.exit_code == 1
    assert "Never fired" in gate.stdout and "below --fail-under 100%" in gate.stderr


@pytest.mark.parametrize("width", [60, 80, 120])
def test_coverage_text_never_cuts_a_rule_id(width: int) -> None:
    """The id is what an author greps for: whole at every width (a table when it fits, else blocks)."""
    result = RUNNER.invoke(cli, ["rules", "coverage"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    table = result.stdout.split("\n\n")[0]
    assert max(len(line) for line in table.splitlines()) <= width
    tokens = set(table.split())
    assert {r.id for r in DEFAULT.rules} <= tokens
    assert ("Fires/not" in table) == (width >= 80)  # the table at 80 and wider, blocks below


# --- rules diff ------------------------------------------------------------------------------------------


def test_diff_shows_changed_cases_and_rules(tmp_path: Path) -> None:
    cases = _mini_cases(tmp_path)
    new = tmp_path / "new"
    shutil.copytree(MINI_PACK, new)
    evidence = new / "rules" / "evidence.yaml"
    evidence.write_text(
        evidence.read_text().replace(
            "evidence: {aplastic_anemia: 0.6, acute_leukemia: 0.5}",
            "evidence: {aplastic_anemia: 0.01, acute_leukemia: 0.9}",
        )
    )
    crit = new / "rules" / "criteria.yaml"
    crit.write_text(crit.read_text().replace("- {lab: anc, below: 0.2}", "- {lab: anc, below: 0.4}"))
    result = diff_packs(load_pack(MINI_PACK), load_pack(new), cases_folder=cases)
    assert result["rules"] == {
        "added": [],
        "removed": [],
        "modified": ["crit.aa.very_severe", "ev.petechiae"],
    }
    (change,) = result["cases"]
    assert change["case"] == "mini-aa"
    assert change["subtypes"] == [{"diagnosis": "aplastic_anemia", "old": "severe", "new": "very_severe"}]
    assert {p["diagnosis"] for p in change["probabilities"]} >= {"aplastic_anemia", "acute_leukemia"}
    assert change["rules_now_firing"] == ["crit.aa.very_severe"]
    text = invoke("diff", str(MINI_PACK), str(new), "--cases", str(cases))
    assert text.exit_code == 0
    assert "Rules modified (2): crit.aa.very_severe, ev.petechiae" in text.stdout
    assert "aplastic_anemia subtype: severe → very_severe" in text.stdout
    assert text.stdout.splitlines()[-1] == "1 of 1 cases changed (probability threshold 0.5 pp)."
    assert invoke("diff", str(MINI_PACK), str(new), "--cases", str(cases), "--exit-code").exit_code == 1
    big = invoke("diff", str(MINI_PACK), str(new), "--cases", str(cases), "--threshold", "100", "--json")
    assert "probabilities" not in json.loads(big.stdout)["cases"][0]


def test_diff_reports_criteria_that_are_no_longer_met(tmp_path: Path) -> None:
    # "criteria met" reads as a diagnosis made: a rule change that takes it away is a change to review
    cases = _mini_cases(tmp_path)
    new = tmp_path / "new"
    shutil.copytree(MINI_PACK, new)
    crit = new / "rules" / "criteria.yaml"
    text = crit.read_text()
    severe = "then: {diagnosis: aplastic_anemia, criteria: true, subtype: severe}"
    assert severe in text
    crit.write_text(text.replace(severe, "then: {diagnosis: aplastic_anemia, subtype: severe}"))
    result = diff_packs(load_pack(MINI_PACK), load_pack(new), cases_folder=cases)
    (change,) = result["cases"]
    assert change["criteria"] == [{"diagnosis": "aplastic_anemia", "old": True, "new": False}]
    shown = invoke("diff", str(MINI_PACK), str(new), "--cases", str(cases)).stdout
    assert "aplastic_anemia criteria: met → not met" in shown


def test_diff_reports_a_reference_band_change_that_moves_no_probability(tmp_path: Path) -> None:
    # a changed reference-band locator alters what a learner reads beside a limit, not the ranking: the
    # review still has to show it, as a lab change and as a case explained differently
    cases = _mini_cases(tmp_path)
    new = tmp_path / "new"
    shutil.copytree(MINI_PACK, new)
    vocab = new / "vocabulary.yaml"
    text = vocab.read_text()
    band = "{sex: female, age_min: 15, low: 12.0, high: 15.0, cites: [{source: src-a}]}"
    assert band in text
    vocab.write_text(text.replace(band, band.replace("{source: src-a}", "{source: src-a, locator: Table 2}")))
    result = diff_packs(load_pack(MINI_PACK), load_pack(new), cases_folder=cases)
    assert result["labs"]["modified"] == ["hemoglobin"] and result["rules"]["modified"] == []
    assert result["cases"] == [] and result["explanations_changed"] == ["mini-aa"]
    shown = invoke("diff", str(MINI_PACK), str(new), "--cases", str(cases)).stdout
    assert "Labs modified (1): hemoglobin" in shown
    assert "1 more ranked alike but explained differently" in shown and "mini-aa" in shown


def test_diff_of_a_pack_with_itself_is_empty() -> None:
    result = invoke("diff", "default", str(default_pack_path()), "--json")
    data = json.loads(result.stdout)
    assert data["cases"] == [] and data["cases_compared"] >= 36
    assert data["rules"] == {"added": [], "removed": [], "modified": []}
    assert data["labs"] == data["sources"] == {"added": [], "removed": [], "modified": []}
    assert data["explanations_changed"] == []


# --- rules docs / show -----------------------------------------------------------------------------------


def test_docs_catalogue_covers_every_rule_and_is_deterministic(tmp_path: Path) -> None:
    files = catalogue(DEFAULT)
    assert set(files) == {"index.md", "lints.md", "evidence-matrix.md", *(f"{k}.md" for k in RULE_KINDS)}
    assert catalogue(DEFAULT) == files
    for rule in DEFAULT.rules:
        page = files[f"{rule.kind}.md"]
        assert f'<a id="{rule.id}"></a>' in page
        assert f"(#{rule.id})" in files["index.md"] or f"#{rule.id})" in files["index.md"]
    assert str(default_pack_path()) not in "".join(files.values())  # no machine-specific paths
    result = invoke("docs", "--out", str(tmp_path / "docs"))
    assert result.exit_code == 0
    assert (tmp_path / "docs" / "evidence.md").read_text() == files["evidence.md"]


def test_a_rule_page_says_what_why_conditions_examples_references() -> None:
    text = rule_markdown(load_pack(MINI_PACK), "crit.aa.severe")
    for heading in ("**What it detects.**", "**Why it matters.**", "**Conditions.**", "**References.**"):
        assert heading in text
    assert "Concludes that the criteria for **Aplastic anaemia** are met" in text
    assert "- Pancytopenia is present\n- at least 2 of:\n  - Neutrophils below 0.5 10^9/L" in text
    assert "Reticulocytes below 60 10^9/L (pack parameter `retic_cutoff`)" in text
    assert "1. Author A. A guideline." in text
    evidence = rule_markdown(load_pack(MINI_PACK), "ev.pancytopenia")
    assert "| Acute leukaemia | 0.5 | published [2: Table 3] |" in evidence
    assert "| every other diagnosis | 0.1 | teaching estimate |" in evidence
    assert "While present it replaces (is not counted again with): Thrombocytopenia." in evidence


def test_show_prints_a_rule_and_suggests_for_an_unknown_id() -> None:
    result = invoke("show", "ev.petechiae", "--rules", str(MINI_PACK))
    assert result.exit_code == 0 and result.stdout.startswith("# `ev.petechiae` — Petechiae\n")
    wrong = invoke("show", "ev.petechia", "--rules", str(MINI_PACK))
    assert wrong.exit_code == 2
    assert (
        wrong.stderr == "hemedx: error: no rule 'ev.petechia' in pack 'mini' (did you mean 'ev.petechiae'?)\n"
    )


@pytest.mark.parametrize(
    ("ident", "kind", "words"),
    [
        (
            "interp.anemia",
            "rule",
            ["Concludes that **Anaemia** is present", "**Used by.**", "- `syn.hemolysis`"],
        ),
        (
            "aplastic_anemia",
            "diagnosis",
            ["*diagnosis* · prior", "**Cardinal findings.**", "`crit.aa.severe`"],
        ),
        ("thrombocytopenia", "finding", ["**Derived by.**", "`interp.no_thrombocytopenia` (absent)"]),
        (
            "hemoglobin",
            "lab",
            ["female, age 15+: 12 to 15 g/dL (published)", "below the lower reference limit", "g/L"],
        ),
        ("dat", "test", ["**Results.**", "`crit.aiha.warm` (criteria): DAT is one of: igg, igg_c3d"]),
        ("src-a", "source", ["*source* · guideline", "diagnosis `aplastic_anemia` — para 3"]),
    ],
)
def test_show_explains_every_kind_of_id(ident: str, kind: str, words: list[str]) -> None:
    result = invoke("show", ident, "--rules", str(MINI_PACK))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"# `{ident}` — ")
    for word in words:
        assert word in result.stdout
    data = json.loads(invoke("show", ident, "--rules", str(MINI_PACK), "--json").stdout)
    assert (data["id"], data["kind"]) == (ident, kind)
    assert data["where"].split(":")[0].endswith(".yaml") and str(MINI_PACK) not in json.dumps(data)
    assert (
        invoke("show", ident, "--rules", str(MINI_PACK), "--json").stdout == json.dumps(data, indent=2) + "\n"
    )


def test_show_json_says_what_uses_an_entry_and_where_numbers_come_from() -> None:
    lab = json.loads(invoke("show", "hemoglobin", "--rules", str(MINI_PACK), "--json").stdout)
    assert {
        "rule": "interp.anemia",
        "kind": "interpretation",
        "condition": "Haemoglobin below the lower reference limit (for the patient's sex, age and pregnancy)",
    } in lab["used_by"]
    assert lab["cites"][0] == {
        "source": "src-a",
        "locator": None,
        "title": None,
        "citation": "Author A. A guideline. J Test 2020;1:1-2.",
    }
    finding = json.loads(invoke("show", "thrombocytopenia", "--rules", str(MINI_PACK), "--json").stdout)
    assert finding["cardinal_of"] == ["aplastic_anemia"]
    assert [u["rule"] for u in finding["used_by"]] == [
        "syn.pancytopenia",
        "syn.no_pancytopenia",
        "ev.thrombocytopenia",
    ]
    rule = json.loads(invoke("show", "crit.aa.severe", "--rules", str(MINI_PACK), "--json").stdout)
    assert rule["rule_kind"] == "criteria" and "pancytopenia" in rule["uses"]["findings"]
    assert any("pack parameter retic_cutoff" in line for line in rule["conditions"])


def test_show_of_an_unknown_id_is_one_line_with_the_nearest_id() -> None:
    wrong = invoke("show", "hemoglobn", "--rules", str(MINI_PACK))
    assert wrong.exit_code == 2 and wrong.stdout == ""
    assert wrong.stderr == (
        "hemedx: error: no rule, diagnosis, finding, lab, test or source 'hemoglobn' in pack 'mini'"
        " (did you mean 'hemoglobin'?)\n"
    )
    kind = invoke("show", "diagnosis:anemia", "--rules", str(MINI_PACK), "--json")
    assert kind.exit_code == 2 and kind.stderr.startswith("hemedx: error: no diagnosis 'anemia'")
    assert invoke("show", "finding:anemia", "--rules", str(MINI_PACK)).exit_code == 0


def test_show_names_every_kind_an_id_has_and_kind_prefix_picks_one(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(MINI_PACK, pack)
    vocab = pack / "vocabulary.yaml"
    vocab.write_text(
        vocab.read_text().replace(
            "findings:\n",
            "findings:\n  - {id: aiha, label: AIHA suspected, category: history, context_only: true}\n",
        )
    )
    shown = invoke("show", "aiha", "--rules", str(pack))
    assert shown.exit_code == 0 and "*diagnosis*" in shown.stdout
    assert "Also a finding with this id: `hemedx rules show KIND:aiha`." in shown.stdout
    data = json.loads(invoke("show", "finding:aiha", "--rules", str(pack), "--json").stdout)
    assert (data["kind"], data["label"], data["also"]) == ("finding", "AIHA suspected", [])


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
def test_show_on_a_terminal_is_rendered_not_raw_markdown() -> None:
    import os
    import pty

    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80", "TERM": "xterm", "PYTHONPATH": str(ROOT)}
    pid, fd = pty.fork()
    if pid == 0:  # the child: hemedx on a terminal of its own
        os.execve(
            sys.executable,
            [sys.executable, "-m", "hemedx", "rules", "show", "aiha", "--rules", str(MINI_PACK)],
            env,
        )
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    text = seen.decode()
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "aiha — Autoimmune haemolytic anaemia" in text and "Cardinal findings." in text
    assert "**" not in text and "# `" not in text and "\x1b" not in text  # rendered, and NO_COLOR honoured


# --- rules schema ----------------------------------------------------------------------------------------


def test_committed_json_schemas_are_up_to_date() -> None:
    assert stale_schemas() == [], "run: hemedx rules schema --out hemedx/schema --force"
    assert invoke("schema", "--check").exit_code == 0


def test_schema_command_prints_and_writes(tmp_path: Path) -> None:
    printed = json.loads(invoke("schema", "case").stdout)
    assert printed["$schema"].endswith("2020-12/schema") and "stages" in printed["properties"]
    assert invoke("schema").stdout == render("rule-file")
    assert invoke("schema", "--out", str(tmp_path)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.schema.json" for n in SCHEMAS)
    (tmp_path / "case.schema.json").write_text("{}")
    stale = invoke("schema", "--check", "--out", str(tmp_path))
    assert stale.exit_code == 1 and "case" in stale.stderr
    assert (schema_dir() / "rule-file.schema.json").is_file()


# --- rules new / path ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", RULE_KINDS)
def test_scaffold_is_schema_valid_and_check_points_at_every_placeholder(tmp_path: Path, kind: str) -> None:
    text = new_rule("syn.teaching_new", kind)
    RulesFile.model_validate(parse_yaml("rules:\n" + text, "new.yaml").data)
    pack = tmp_path / "pack"
    shutil.copytree(MINI_PACK, pack)
    out = pack / "rules" / "new.yaml"
    result = invoke("new", "syn.teaching_new", "--kind", kind, "--out", str(out), "--rules", str(pack))
    assert result.exit_code == 0, result.stderr
    issues = [i for i in check_pack(pack).issues if i.rule == "syn.teaching_new"]
    assert {i.code for i in issues} >= {"HX101", "HX102", "HX106"}
    todo = [i for i in issues if i.code == "HX106"]
    assert {i.message.split(": ")[1].split()[0] for i in todo} >= {"title", "explanation"}
    assert all(Path(i.file or "").name == "new.yaml" and i.line for i in issues)


def test_new_appends_to_an_existing_file_and_refuses_clashes(tmp_path: Path) -> None:
    out = tmp_path / "mine.yaml"
    assert invoke("new", "ev.first", "--out", str(out)).exit_code == 0
    assert invoke("new", "ev.second", "--out", str(out)).exit_code == 0
    data = parse_yaml(out.read_text(), str(out)).data
    assert [r["id"] for r in data["rules"]] == ["ev.first", "ev.second"]
    assert [r["kind"] for r in data["rules"]] == ["evidence", "evidence"]
    again = invoke("new", "ev.first", "--out", str(out))
    assert again.exit_code == 2 and "already in this file" in again.stderr
    taken = invoke("new", "crit.aa.severe")
    assert taken.exit_code == 2 and "already exists in pack" in taken.stderr
    bad = invoke("new", "Not An Id")
    assert bad.exit_code == 2 and "not a valid rule id" in bad.stderr
    with pytest.raises(InputError, match="not a rules file"):
        (tmp_path / "other.yaml").write_text("cases: []\n")
        from hemedx.authoring.scaffold import write_rule

        write_rule(new_rule("ev.x"), tmp_path / "other.yaml")


def test_path_prints_the_default_pack_folder() -> None:
    result = invoke("path")
    assert result.exit_code == 0 and result.stdout == f"{default_pack_path()}\n"
    assert (Path(result.stdout.strip()) / "pack.yaml").is_file()


def test_the_evidence_matrix_marks_published_estimated_and_implicit_cells():
    from hemedx.authoring.docs import evidence_matrix
    from hemedx.rules.model import EvidenceRule, Frequency

    pack = load_pack()
    text = evidence_matrix(pack)
    rows = {line.split("`")[1]: line for line in text.splitlines() if line.startswith("| [`ev.")}
    evidence = [r for r in pack.rules if isinstance(r, EvidenceRule)]
    assert set(rows) == {r.id for r in evidence}
    header = next(line for line in text.splitlines() if line.startswith("| Rule |"))
    assert header.count("|") - 4 == len(pack.diagnoses)  # one column per hypothesis, outside included
    rule = next(r for r in evidence if any(isinstance(v, Frequency) for v in r.then.evidence.values()))
    dx, freq = next((d, v) for d, v in rule.then.evidence.items() if isinstance(v, Frequency))
    cells = [c.strip() for c in rows[rule.id].strip("|").split("|")][3:]
    ids = [d.id for d in pack.diagnoses]
    assert cells[ids.index(dx)] == f"{freq.p:g}*"
    implicit = next((r, d) for r in evidence for d in ids if d not in r.then.evidence)
    cells = [c.strip() for c in rows[implicit[0].id].strip("|").split("|")][3:]
    assert cells[ids.index(implicit[1])] == f"({implicit[0].then.otherwise:g})"
    estimate = next(
        (r, d, v) for r in evidence for d, v in r.then.evidence.items() if not isinstance(v, Frequency)
    )
    cells = [c.strip() for c in rows[estimate[0].id].strip("|").split("|")][3:]
    assert cells[ids.index(estimate[1])] == f"{estimate[2]:g}"  # a teaching estimate: no mark, no brackets
    assert "teaching estimate" in text.split("| Rule |")[0]  # the legend says what each form means
