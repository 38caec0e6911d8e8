"""walkthrough, explain --why-not, rank --set/--unset and demo through the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hemedx.cases.library import library_ids
from hemedx.cli import cli


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, *args, input=None):
    return runner.invoke(cli, list(args), input=input)


def one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_every_library_case_walks_through_as_json_and_auto(runner):
    for case in library_ids():
        result = run(runner, "walkthrough", case, "--json")
        assert result.exit_code == 0, (case, result.output)
        stages = json.loads(result.stdout)
        assert isinstance(stages, list) and stages
        for i, stage in enumerate(stages):
            assert {"stage", "differential", "next_test", "revealed", "derived", "shift"} <= set(stage)
            assert stage["index"] == i and stage["of"] == len(stages)
            assert abs(sum(d["probability"] for d in stage["differential"]) - 1) < 1e-4
            assert "why" in stage["next_test"]
            numbers = {r["n"] for r in stage["references"]}
            cited = [c["n"] for c in stage["next_test"]["cites"]]
            cited += [c["n"] for f in stage["derived"] for c in f.get("cites", [])]
            assert set(cited) <= numbers, case
        assert "answer" in stages[-1]
        auto = run(runner, "walkthrough", case, "--auto")
        assert auto.exit_code == 0, (case, auto.output)
        assert f"Stage {len(stages)} of {len(stages)}" in auto.stdout
        assert "Next best test" in auto.stdout


def test_walkthrough_json_is_deterministic(runner):
    a = run(runner, "walkthrough", "aa-severe-young-woman", "--json").stdout
    b = run(runner, "walkthrough", "aa-severe-young-woman", "--json").stdout
    assert a == b


def test_walkthrough_shows_revealed_values_with_units_and_shift(runner):
    stages = json.loads(run(runner, "walkthrough", "aa-severe-young-woman", "--json").stdout)
    blood = stages[1]
    hb = next(r for r in blood["revealed"] if r["id"] == "hemoglobin")
    assert hb["unit"] == "g/dL" and hb["display"] == "Haemoglobin: 6.8 g/dL"
    assert any(f["finding"] == "pancytopenia" for f in blood["derived"])
    assert all(s["delta"] is None for s in stages[0]["shift"])
    aa = next(s for s in blood["shift"] if s["diagnosis"] == "aplastic_anemia")
    assert aa["delta"] == pytest.approx(aa["probability"] - aa["previous"], abs=1e-6)


def test_interactive_walkthrough_compares_the_learners_guess(runner):
    # Enter (stage 1), guess, Enter (stage 2), guess, then Enter through the rest and the answer.
    feed = "\nacute leukemia\n\naplstic anaemia\n\n\n\n\n\n"
    result = run(runner, "walkthrough", "aa-severe-young-woman", input=feed)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "You agree with the engine: Acute leukaemia leads" in out
    assert "read as Aplastic anaemia" in out and "You agree with the engine" in out
    assert "Answer key: Aplastic anaemia" in out
    assert "Teaching points" in out


def test_interactive_walkthrough_stops_at_end_of_input_without_the_answer(runner):
    """Ctrl-D at a prompt quits there: no further stage and no answer key (no spoiler)."""
    result = run(runner, "walkthrough", "aa-severe-young-woman", input="\nzebra\n")
    assert result.exit_code == 0, result.output
    assert "'zebra' is not a diagnosis" in result.stdout
    assert "Stage 1 of 4" in result.stdout and "Stage 2 of 4" not in result.stdout
    assert "Answer key" not in result.stdout and "Teaching points" not in result.stdout
    assert "Stopped at the end of input; the answer was not shown." in result.stdout


def test_teaching_headers_show_the_title_never_the_case_id(runner):
    case = "aml-hypocellular-older-man"
    views = [
        run(runner, "walkthrough", case, "--auto"),
        run(runner, "quiz", case, input=""),
        run(runner, "explain", case, "--why-not", "aiha"),
        run(runner, "rank", case, "--set", "platelets=250"),
    ]
    title = json.loads(run(runner, "rank", case, "--json").stdout)["title"]
    for result in views:
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] == title
        assert case not in result.stdout


def test_demo_reuses_the_walkthrough(runner):
    result = run(runner, "demo")
    assert result.exit_code == 0, result.output
    assert "Stage 4 of 4" in result.stdout and "Next best test" in result.stdout
    assert "References" in result.stdout


# --- why not ---------------------------------------------------------------------------------------------


def test_why_not_lists_against_needs_criteria_and_settling_test(runner):
    result = run(runner, "explain", "pancytopenia-awaiting-marrow-incomplete", "--why-not", "acute_leukemia")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Why not Acute leukaemia?" in out
    assert "Against it:" in out and "Blasts in the blood is absent" in out
    assert "expected in 95% of Acute leukaemia, not yet known" in out
    assert "✗ Acute leukaemia: 20 % or more blasts" in out
    assert "Test that would settle it: Bone marrow aspirate and trephine" in out
    for line in out.splitlines():
        if line.strip().startswith(("−", "?", "✗", "✓")):
            assert "[" in line, line  # every reason line carries citations


def test_why_not_json_citations_resolve(runner):
    result = run(runner, "explain", "aa-severe-young-woman", "--why-not", "AIHA", "--json")
    report = json.loads(result.stdout)
    w = report["why_not"]
    assert w["diagnosis"] == "aiha" and w["rank"] > 1
    numbers = {r["n"] for r in report["references"]}
    for section in ("against", "expected_unknown", "criteria"):
        for item in w[section]:
            assert item["cites"] and {c["n"] for c in item["cites"]} <= numbers


def test_why_not_unknown_diagnosis_is_exit_2_with_suggestion(runner):
    one_line_error(
        run(runner, "explain", "aa-severe-young-woman", "--why-not", "aplastc_anemia"),
        "unknown diagnosis 'aplastc_anemia'",
        "did you mean 'aplastic_anemia'?",
    )
    one_line_error(run(runner, "explain", "aa-severe-young-woman", "--why-not", "zzzz"), "unknown diagnosis")


# --- what if ---------------------------------------------------------------------------------------------


def test_what_if_json_has_changes_and_deltas(runner):
    base = json.loads(run(runner, "rank", "itp-young-woman-petechiae", "--json").stdout)
    result = run(
        runner,
        "rank",
        "itp-young-woman-petechiae",
        "--json",
        "--set",
        "splenomegaly=present",
        "--set",
        "platelets=250",
    )
    assert result.exit_code == 0, result.output
    after = json.loads(result.stdout)
    w = after["what_if"]
    assert [c["id"] for c in w["changes"]] == ["splenomegaly", "platelets"]
    assert w["changes"][1]["value"] == 250.0 and w["changes"][1]["unit"] == "10^9/L"
    before = {d["diagnosis"]: d["probability"] for d in base["differential"]}
    for d in w["deltas"]:
        assert d["before"] == before[d["diagnosis"]]
        assert d["delta"] == pytest.approx(d["after"] - d["before"], abs=1e-6)
    assert [d["diagnosis"] for d in w["deltas"]] == [d["diagnosis"] for d in after["differential"]]
    itp = next(d for d in w["deltas"] if d["diagnosis"] == "itp")
    assert itp["delta"] < 0  # a normal platelet count argues against ITP


def test_what_if_units_are_converted(runner):
    a = json.loads(
        run(runner, "rank", "itp-young-woman-petechiae", "--json", "--set", "platelets=250").stdout
    )
    b = json.loads(
        run(runner, "rank", "itp-young-woman-petechiae", "--json", "--set", "platelets=250000/uL").stdout
    )
    assert a["differential"] == b["differential"]


def test_what_if_unset_and_text_table(runner):
    result = run(runner, "rank", "aa-severe-young-woman", "--unset", "marrow_cellularity", "--set", "dat=igg")
    assert result.exit_code == 0, result.output
    assert "What if: marrow_cellularity were unknown" in result.stdout
    assert "Before" in result.stdout and "After" in result.stdout and "pp" in result.stdout


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            ["--set", "splenomegally=present"],
            ["unknown finding, lab or test 'splenomegally'", "splenomegaly"],
        ),
        (["--set", "splenomegaly=presnt"], ["present, absent or unknown", "did you mean 'present'?"]),
        (["--set", "platelets=lots"], ["expected a number for platelets"]),
        (["--set", "platelets=250furlongs"], ["unknown unit 'furlongs'"]),
        (["--set", "platelets=250000"], ["implausible platelets", "/uL"]),
        (["--set", "dat=posative"], ["not a result of dat"]),
        (["--set", "splenomegaly"], ["expected ID=VALUE"]),
        (["--unset", "hemoglobn"], ["--unset hemoglobn", "did you mean 'hemoglobin'?"]),
    ],
)
def test_what_if_bad_input_is_one_line_exit_2(runner, args, needles):
    one_line_error(run(runner, "rank", "aa-severe-young-woman", *args), *needles)


def _marks(node):
    """Every citation mark (n, source) anywhere in a stage object."""
    if isinstance(node, list):
        for item in node:
            yield from _marks(item)
    elif isinstance(node, dict):
        if "n" in node and "source" in node:
            yield node["n"], node["source"]
        for value in node.values():
            yield from _marks(value)


def test_reference_numbers_are_stable_for_a_whole_walkthrough(runner):
    for case in ("aa-severe-young-woman", "aml-hypocellular-older-man"):
        stages = json.loads(run(runner, "walkthrough", case, "--json").stdout)
        number_of: dict[str, int] = {}
        for stage in stages:
            refs = stage["references"]
            assert [r["n"] for r in refs] == sorted(r["n"] for r in refs)
            for ref in refs:
                assert number_of.setdefault(ref["id"], ref["n"]) == ref["n"], (case, ref)
            by_number = {r["n"]: r["id"] for r in refs}
            for n, source in _marks(stage):
                assert by_number[n] == source, (case, stage["stage"], n, source)
        assert sorted(number_of.values()) == list(range(1, len(number_of) + 1))  # 1..N, no gaps
        assert len({r["n"] for s in stages for r in s["references"]}) > len(stages[0]["references"])


def test_explain_and_walkthrough_print_the_legend_once(runner):
    for args in (["explain", "aa-severe-young-woman"], ["walkthrough", "aa-severe-young-woman", "--auto"]):
        out = run(runner, *args).stdout
        assert out.count("How to read the numbers") == 1, args
        for term in ("×factor:", "LR:", "pp:", "bits:", "teaching estimate:"):
            assert f"  {term}" in out, (args, term)
    explain = run(runner, "explain", "aa-severe-young-woman").stdout
    assert explain.index("Most probable") < explain.index("How to read the numbers") < explain.index("For:")


def test_rank_and_explain_upto_use_only_the_first_n_stages(runner):
    stages = json.loads(run(runner, "walkthrough", "aa-severe-young-woman", "--json").stdout)
    for n in (1, 2):
        report = json.loads(run(runner, "rank", "aa-severe-young-woman", "--json", "--upto", str(n)).stdout)
        assert report["stage"]["index"] == n - 1
        ranked = [(d["diagnosis"], d["probability"]) for d in report["differential"]]
        assert ranked == [(d["diagnosis"], d["probability"]) for d in stages[n - 1]["differential"]]
        explained = json.loads(
            run(runner, "explain", "aa-severe-young-woman", "--json", "--upto", str(n)).stdout
        )
        assert explained["differential"][0]["diagnosis"] == stages[n - 1]["differential"][0]["diagnosis"]
    full = json.loads(run(runner, "rank", "aa-severe-young-woman", "--json").stdout)
    assert full["differential"] != stages[0]["differential"]
    one_line_error(run(runner, "rank", "aa-severe-young-woman", "--upto", "9"), "--upto 9", "has 4 stages")
    assert run(runner, "explain", "aa-severe-young-woman", "--upto", "0").exit_code == 2
