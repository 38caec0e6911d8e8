"""cases list/show, generate and evaluate as a user meets them: output, JSON contracts, exit codes."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from hemedx.cases.library import case_code, library_ids, library_path
from hemedx.cli import cli


@pytest.fixture
def runner():
    return CliRunner()


def test_new_commands_have_help(runner):
    for args in (["cases", "list"], ["cases", "show"], ["generate"], ["evaluate"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_cases_list_json(runner):
    result = runner.invoke(cli, ["cases", "list", "--json", "--answers"])
    assert result.exit_code == 0
    entries = json.loads(result.stdout)
    assert [e["id"] for e in entries] == library_ids()
    for e in entries:
        assert {"code", "id", "title", "diagnosis", "subtype", "tags", "difficulty", "stages"} <= set(e)
    first = next(e for e in entries if e["id"] == "aa-severe-young-woman")
    assert (first["diagnosis"], first["subtype"], first["stages"]) == ("aplastic_anemia", "severe", 4)
    assert any(e["diagnosis"] is None for e in entries)


def test_cases_list_json_has_no_spoilers_without_answers(runner):
    entries = json.loads(runner.invoke(cli, ["cases", "list", "--json"]).stdout)
    assert len(entries) == len(library_ids())
    for e in entries:
        assert not {"id", "diagnosis", "subtype", "tags"} & set(e)
    assert [e["code"] for e in entries] == sorted(case_code(i) for i in library_ids())  # code order
    text = json.dumps(entries)
    assert not any(i in text for i in library_ids())


def test_case_codes_are_unique_stable_and_never_an_id():
    codes = [case_code(i) for i in library_ids()]
    assert len(set(codes)) == len(codes) and not set(codes) & set(library_ids())
    assert (
        case_code("aa-severe-young-woman") == "02375"
    )  # depends on the id alone: adding cases moves nothing


@pytest.mark.parametrize("width", [60, 80, 120])
def test_cases_list_answers_shows_whole_ids_and_labelled_answer_keys(runner, width):
    """The teacher's view: every id whole (never cut with '…'), answer keys and subtypes as labels."""
    result = runner.invoke(cli, ["cases", "list", "--answers"], env={"COLUMNS": str(width)})
    assert result.exit_code == 0
    out = result.stdout
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= width
    words = set(out.split())
    assert set(library_ids()) <= words
    assert "Aplastic anaemia — Severe:" in out and "Aplastic anaemia — Non-severe:" in out
    keys = "\n".join(line for line in out.splitlines() if "tags:" not in line)  # tags are ids on purpose
    assert "non severe" not in keys and "non_severe" not in keys and "aplastic_anemia" not in keys
    assert "tags: incomplete, pancytopenia, adult" in out  # what quiz --tag takes


def test_cases_list_hides_ids_and_answer_keys_unless_asked(runner):
    result = runner.invoke(cli, ["cases", "list"])
    assert result.exit_code == 0
    out = result.stdout
    assert "answer keys hidden (add --answers" in out and case_code("aa-severe-young-woman") in out
    assert "Diagnosis" not in out.splitlines()[0]
    assert "Aplastic anaemia (severe)" not in out and "(no answer key)" not in out
    assert not any(i in out for i in library_ids())


@pytest.mark.parametrize(
    "args",
    [
        ["rank", "{}", "--json"],
        ["walkthrough", "{}", "--json"],
        ["cases", "show", "{}", "--json", "--answer"],
    ],
)
def test_every_command_takes_the_code_as_the_id(runner, args):
    by_id = runner.invoke(cli, [a.format("aa-severe-young-woman") for a in args])
    by_code = runner.invoke(cli, [a.format(case_code("aa-severe-young-woman").upper()) for a in args])
    assert by_code.exit_code == 0 and by_code.stdout == by_id.stdout


def test_teaching_headers_name_no_case_id(runner):
    case = "aml-hypocellular-older-man"
    for args in (
        ["demo", "--case", case, "--no-pause"],
        ["walkthrough", case, "--auto"],
        ["cases", "show", case],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0 and case not in result.stdout, args
    assert f"(case {case_code(case)})" in runner.invoke(cli, ["cases", "show", case]).stdout
    assert f"(case {case})" in runner.invoke(cli, ["rank", case]).stdout  # rank is not a quiz: the id


def test_a_mistyped_code_suggests_a_code(runner):
    code = case_code("aa-severe-young-woman")
    result = runner.invoke(cli, ["rank", code[:-1] + ("x" if code[-1] != "x" else "y")])
    assert result.exit_code == 2 and "did you mean" in result.stderr
    assert not any(i in result.stderr for i in library_ids())


def test_cases_show_hides_the_answer_by_default(runner):
    result = runner.invoke(cli, ["cases", "show", "aa-severe-young-woman"])
    assert result.exit_code == 0
    out = result.stdout
    assert "bleeding gums" in out  # the presentation
    assert "Stage 2 of 4: Blood count and film" in out
    assert (
        "Haemoglobin: 6.8 g/dL" in out and "Platelets: 11000 /uL (11 10^9/L)" in out
    )  # as written, canonical beside
    assert "Direct antiglobulin test (monospecific): negative" in out
    assert "Answer:" not in out and "--answer" in out and "References" not in out


def test_cases_show_answer_with_numbered_citations(runner):
    result = runner.invoke(cli, ["cases", "show", "aa-severe-young-woman", "--answer"])
    assert result.exit_code == 0
    out = result.stdout
    assert "Answer: Aplastic anaemia — Severe" in out
    assert "Teaching points" in out and "[1: para 6]" in out
    assert "References" in out and "  [1] " in out


def test_cases_show_by_path_and_json(runner):
    path = str(library_path() / "aiha-cold-mycoplasma.yaml")
    result = runner.invoke(cli, ["cases", "show", path, "--json", "--answer"])
    assert result.exit_code == 0
    sheet = json.loads(result.stdout)
    assert sheet["id"] == "aiha-cold-mycoplasma" and sheet["answer"]["subtype"] == "cold_agglutinin_syndrome"
    hidden = json.loads(runner.invoke(cli, ["cases", "show", path, "--json"]).stdout)
    assert "answer" not in hidden and "teaching_points" not in hidden
    assert "id" not in hidden and "tags" not in hidden and hidden["code"] == case_code("aiha-cold-mycoplasma")


def test_cases_show_unknown_id_is_exit_2(runner):
    result = runner.invoke(cli, ["cases", "show", "aa-sever-young-woman"])
    assert result.exit_code == 2 and "aa-severe-young-woman" in result.output


def test_evaluate_library_json_contract(runner):
    result = runner.invoke(cli, ["evaluate", "--library", "--json", "--jobs", "1"])
    assert result.exit_code == 0
    s = json.loads(result.stdout)
    assert {"cases", "top1", "top3", "brier", "misses"} <= set(s)
    assert s["cases"] + len(s["not_scored"]) == len(library_ids()) and s["top1"] >= 0.95
    assert all({"case", "expected", "top3", "why"} <= set(m) for m in s["misses"])


def test_evaluate_text_is_quiet_when_piped(runner):
    result = runner.invoke(cli, ["evaluate", "--library", "--jobs", "1"])
    assert result.exit_code == 0
    assert "top-1" in result.stdout and "Confusion matrix" in result.stdout and "Misses:" in result.stdout
    assert "evaluating" not in result.output  # no progress bar off a terminal


def test_evaluate_needs_something_and_fail_under(runner, tmp_path):
    assert runner.invoke(cli, ["evaluate"]).exit_code == 2
    miss = _demo_with_answer(tmp_path, {"diagnosis": "itp"})
    result = runner.invoke(cli, ["evaluate", str(miss), "aa-severe-young-woman", "--fail-under", "0.9"])
    assert result.exit_code == 1, result.output
    result = runner.invoke(cli, ["evaluate", str(miss), "aa-severe-young-woman", "--fail-under", "0.5"])
    assert result.exit_code == 0, result.output


def _demo_with_answer(tmp_path, answer):
    """The demo case with another answer key: a deliberate miss."""
    data = yaml.safe_load((library_path() / "aa-severe-young-woman.yaml").read_text())
    data["id"], data["answer"] = "deliberate-miss", answer
    path = tmp_path / f"miss-{'-'.join(answer.values())}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_evaluate_misses_name_diagnoses_subtypes_and_findings_by_label(runner, tmp_path):
    """A teacher reads the miss lines: labels, never raw ids (the ids stay in --json)."""
    miss = _demo_with_answer(tmp_path, {"diagnosis": "itp"})
    text = " ".join(runner.invoke(cli, ["evaluate", str(miss), "--misses", "5"]).stdout.split())
    assert "deliberate-miss: expected Immune thrombocytopenia; got Aplastic anaemia (Severe) " in text
    assert "why: Aplastic anaemia " in text and "over Immune thrombocytopenia" in text
    for raw in ("aplastic_anemia", "itp ", "acute_leukemia", "severe_anemia", "hypocellular_marrow"):
        assert raw not in text, raw
    sub = _demo_with_answer(tmp_path, {"diagnosis": "aplastic_anemia", "subtype": "very_severe"})
    text = " ".join(runner.invoke(cli, ["evaluate", str(sub)]).stdout.split())
    assert "deliberate-miss: Aplastic anaemia Very severe -> Severe" in text, text
    data = json.loads(runner.invoke(cli, ["evaluate", str(miss), "--json"]).stdout)
    assert data["misses"][0]["expected"] == "itp"  # ids for tools
    assert data["misses"][0]["top3"][0]["diagnosis"] == "aplastic_anemia"


def test_evaluate_library_does_not_score_the_incomplete_case_just_as_rules_test(runner):
    """The deliberately unfinished case has no key: shown as not scored, never counted as a miss."""
    evaluated = json.loads(runner.invoke(cli, ["evaluate", "--library", "--json", "--jobs", "1"]).stdout)
    assert evaluated["not_scored"] == ["pancytopenia-awaiting-marrow-incomplete"]
    assert "pancytopenia-awaiting-marrow-incomplete" not in {m["case"] for m in evaluated["misses"]}
    tested = json.loads(runner.invoke(cli, ["rules", "test", "--json"]).stdout)
    assert tested["failed"] == 0
    assert "pancytopenia-awaiting-marrow-incomplete" not in {t["name"] for t in tested["tests"]}
    text = runner.invoke(cli, ["evaluate", "--library", "--jobs", "1"]).stdout
    assert "Not scored: 1" in text


def test_generate_then_evaluate_the_folder_equals_in_memory(runner, tmp_path):
    out = tmp_path / "gen"
    made = runner.invoke(
        cli, ["generate", "--diagnosis", "all", "--n", "20", "--seed", "4", "--out", str(out)]
    )
    assert made.exit_code == 0 and "wrote 20 cases" in made.output
    from_files = json.loads(runner.invoke(cli, ["evaluate", str(out), "--json", "--jobs", "1"]).stdout)
    in_memory = json.loads(
        runner.invoke(cli, ["evaluate", "--generated", "20", "--seed", "4", "--json", "--jobs", "1"]).stdout
    )
    # files come sorted by name, generated cases by index: the figures agree, the order may not
    for key in ("cases", "top1", "top3", "brier", "subtype"):
        assert from_files[key] == pytest.approx(in_memory[key])
    assert sorted(m["case"] for m in from_files["misses"]) == sorted(m["case"] for m in in_memory["misses"])
    assert from_files["confusion"] == in_memory["confusion"]
