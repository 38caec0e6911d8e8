"""Quiz: reading answers, the hand-computable scoring rule, options, history, and a quiz fed through stdin."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hemedx import load_pack
from hemedx.cases.library import case_code, load_library, resolve_case
from hemedx.cli import cli
from hemedx.engine.quiz import match_diagnosis, parse_answer
from hemedx.engine.quizscore import hint, score_stage, score_subtype, total
from hemedx.engine.ranking import RankedDiagnosis, Ranking
from hemedx.engine.report import Citations
from hemedx.engine.walkthrough import ranked_walkthrough

CASE = "aa-severe-young-woman"
ODD = "aml-high-ldh-normal-haptoglobin"  # a probability whose shown rounding differs from the raw one


def dx(*pairs):
    """A ranking with these probabilities, best first (only what scoring reads is filled in)."""
    ranked = tuple(
        RankedDiagnosis(d, d.upper(), 0.0, p, 0.0, None, None, False, (), False, (), ()) for d, p in pairs
    )
    return Ranking(True, ranked, {}, (), ())


ENGINE = dx(("aa", 0.412), ("aml", 0.301), ("mds", 0.149), ("pnh", 0.051), ("itp", 0.049), ("aiha", 0.038))


@pytest.fixture(scope="module")
def pack():
    return load_pack()


@pytest.mark.parametrize(
    ("picks", "points", "rule"),
    [
        (["aa"], 10, "lead"),  # the leader first: full marks, nothing else needed
        (["aa", "itp", "aiha"], 10, "lead"),  # a long tail after it costs nothing
        (["aml", "mds"], 4, "differential"),  # 30.1 + 14.9 = 45.0 % -> 4
        (["mds", "pnh", "itp"], 2, "differential"),  # 14.9 + 5.1 = 20.0 (ITP 4.9 < 5) -> 2, no float drift
        (["aml", "aa"], 7, "differential"),  # 71.3 % -> 7: the cap, below the leader first
        (["itp", "aiha"], 0, "differential"),  # every pick under 5 %
        ([], 0, "differential"),  # no penalty beyond no points
    ],
)
def test_stage_score_by_hand(picks, points, rule):
    result = score_stage(picks, ENGINE)
    assert (result["points"], result["rule"], result["max"]) == (points, rule, 10)


def test_the_last_stage_scores_against_the_answer_key():
    assert score_stage(["mds"], ENGINE, key="mds")["points"] == 10
    led = score_stage(["aa"], ENGINE, key="mds")  # the engine's leader is not the key
    assert (led["rule"], led["points"], led["target_is"]) == ("differential", 4, "answer_key")


def test_subtype_and_total():
    assert score_subtype("severe", "severe")["points"] == 5
    assert score_subtype("very_severe", "severe")["points"] == 0
    assert score_subtype(None, "severe")["points"] == 0
    assert total([10, 4, 7, 10], 5, True) == {"points": 36, "max": 45, "percent": 80.0}
    assert total([10, 10], 0, False) == {"points": 20, "max": 20, "percent": 100.0}


def test_hint_is_the_finding_that_most_favours_the_target_over_your_pick(pack):
    ranking, stage = ranked_walkthrough(resolve_case(CASE, pack), pack)[-1]
    cite = Citations.continuing(pack, stage["references"]).cite
    found = hint(ranking, "aplastic_anemia", "mds", pack.kb.labels, cite)
    # worked out again from the evidence lines the walkthrough shows
    by = {d["diagnosis"]: d for d in stage["differential"]}
    mds = {(e["finding"], e["state"]): e["factor"] for e in by["mds"]["evidence"] if e["counted"]}
    shown = {
        (e["finding"], e["state"]): e
        for e in by["aplastic_anemia"]["evidence"]
        if e["counted"] and (e["finding"], e["state"]) in mds
    }
    ratios = {key: e["factor"] / mds[key] for key, e in shown.items()}
    best = max(ratios, key=ratios.__getitem__)
    assert found["over"] == "mds" and found["ratio"] == round(ratios[best], 2) > 1
    assert (found["finding"], found["state"]) == best
    assert (found["factor"], found["over_factor"]) == (shown[best]["factor"], mds[best])
    assert found["cites"] == shown[best]["cites"]  # the marks the walkthrough prints beside that line
    assert found["label"] == shown[best]["label"] and found["favours_label"] == by["aplastic_anemia"]["label"]
    assert hint(ranking, "aplastic_anemia", "aplastic_anemia", pack.kb.labels, cite) is None
    alone = hint(ranking, "aplastic_anemia", None, pack.kb.labels, cite)
    assert alone["over"] is None and alone["ratio"] > 1


def test_a_pick_counts_with_the_percentage_the_table_shows(pack):
    """Scored from the typed ranking, a pick still carries the rounded percentage the learner read.

    At stage 2 of this case, with uniform priors, ITP's probability is 0.0195002: the table shows 1.9 %
    (from the written 0.0195), while rounding the unrounded value would give 2.0 %.
    """
    case = resolve_case(ODD, pack)
    ranking, stage = ranked_walkthrough(case, pack, uniform_priors=True)[1]
    written = {d["diagnosis"]: d["probability"] for d in stage["differential"]}
    raw = next(d.probability for d in ranking.differential if d.id == "itp")
    assert f"{raw * 100:.1f}" == "2.0" and f"{written['itp'] * 100:.1f}" == "1.9"
    scored = score_stage(["itp"], ranking)
    assert scored["picks"][0]["percent"] == 1.9
    for d in ranking.differential[:3]:
        shown = float(f"{written[d.id] * 100:.1f}")
        assert score_stage([d.id], ranking)["picks"][0]["percent"] == shown
    feed = "aml\nitp\n" + "aml\n" * (len(case.stages) - 2) + "1\n"
    run = CliRunner().invoke(cli, ["quiz", ODD, "--uniform-priors", "--json"], input=feed)
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["stages"][1]["picks"][0]["percent"] == 1.9


def test_reading_answers(pack):
    shown = [d.id for d in pack.diagnoses]
    assert match_diagnosis("2", pack, shown).diagnosis == shown[1]
    assert match_diagnosis("AA", pack, shown).diagnosis == "aplastic_anemia"
    assert match_diagnosis("aml", pack, shown).diagnosis == "acute_leukemia"
    assert match_diagnosis("Immune thrombocytopenia", pack, shown).diagnosis == "itp"
    typo = match_diagnosis("aplstic anemia", pack, shown)
    assert (typo.diagnosis, typo.how) == ("aplastic_anemia", "nearest")
    assert match_diagnosis("zebra", pack, shown).diagnosis is None
    picks, matches = parse_answer("1, aml; 1 > mds, itp", pack, shown)
    assert picks == [shown[0], "acute_leukemia", "mds"]  # duplicate dropped, at most three
    assert len(matches) == 5


def test_quiz_fed_through_stdin_scores_as_computed_by_hand():
    rankings = [ranking for ranking, _ in ranked_walkthrough(resolve_case(CASE, load_pack()), load_pack())]
    answers = ["aa, aml", "", "2, 1", "aplstic anaemia, zebra", "aplastic_anemia", "mds, aa", "", "severe"]
    # the empty line is asked again; stage 3 has an unknown part, so it is asked again (the 5th line)
    result = CliRunner().invoke(cli, ["quiz", CASE], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    picks = [
        ["aplastic_anemia", "acute_leukemia"],
        ["acute_leukemia", "aplastic_anemia"],
        ["aplastic_anemia"],
        ["mds", "aplastic_anemia"],
    ]
    keys = [None, None, None, "aplastic_anemia"]
    points = [score_stage(p, r, k)["points"] for p, r, k in zip(picks, rankings, keys, strict=True)]
    expected = total(points, 5, True)
    out = result.stdout
    assert out.count("Type at least one diagnosis") == 1 and out.count("Stage score:") == 4
    assert "read 'aplstic anaemia' as Aplastic anaemia" in out
    assert "'zebra' is not in the list" in out
    assert "Target: Aplastic anaemia (the answer key)" in out and "Hint: " in out
    assert "Which subtype or severity?" in out and "Subtype score: 5 of 5" in out
    assert f"Score: {' + '.join(map(str, points))} + 5 = {expected['points']} of 45" in out
    assert "Teaching points" in out
    assert CASE not in out  # the id names the answer; the header shows the title only


def test_quiz_json_is_the_only_output_and_deterministic():
    feed = "aa\naa\naa\naa\n2\n"
    runs = [CliRunner().invoke(cli, ["quiz", CASE, "--json"], input=feed) for _ in range(2)]
    assert runs[0].exit_code == 0, runs[0].output
    assert runs[0].stdout == runs[1].stdout
    result = json.loads(runs[0].stdout)
    assert result["case"] == case_code(CASE) and CASE not in runs[0].stdout
    assert result["status"] == "finished" and result["subtype"]["chosen"] == "severe"
    rankings = [ranking for ranking, _ in ranked_walkthrough(resolve_case(CASE, load_pack()), load_pack())]
    for index, (scored, ranking) in enumerate(zip(result["stages"], rankings, strict=True)):
        key = "aplastic_anemia" if index == len(rankings) - 1 else None
        assert scored["points"] == score_stage(["aplastic_anemia"], ranking, key)["points"]
    assert result["score"]["max"] == 45 and result["answer"]["subtype"] == "severe"


def test_quiz_stopped_early_shows_no_answer_and_is_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("HEMEDX_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["quiz", CASE], input="aplastic anaemia\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    stage_points = int(out.split("Stage score: ")[1].split()[0])
    assert f"Stopped at the end of input after 1 of 4 stages: {stage_points} of 10 points so far" in out
    assert "Answer key" not in out and "Teaching points" not in out
    data = json.loads(CliRunner().invoke(cli, ["quiz", CASE, "--json"], input="").stdout)
    assert data["status"] == "stopped" and data["answer"] is None and data["stages"] == []
    history = json.loads(CliRunner().invoke(cli, ["quiz", "--history", "--json"]).stdout)
    assert [q["status"] for q in history["quizzes"]] == ["stopped", "stopped"]
    assert history["quizzes"][0]["points"] == stage_points and history["quizzes"][0]["case"] == case_code(
        CASE
    )


def test_history_survives_a_corrupt_file_and_an_unwritable_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HEMEDX_DATA_DIR", str(tmp_path))
    CliRunner().invoke(cli, ["quiz", CASE], input="aa\naa\naa\naa\n2\n")
    with (tmp_path / "quiz-history.jsonl").open("a") as f:
        f.write('{"broken\n[1, 2]\n')
    shown = CliRunner().invoke(cli, ["quiz", "--history"])
    assert shown.exit_code == 0
    assert "skipped 2 unreadable line(s)" in shown.stderr and "finished" in shown.stdout
    assert CASE not in shown.stdout and case_code(CASE) in shown.stdout
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("HEMEDX_DATA_DIR", str(blocked))
    result = CliRunner().invoke(cli, ["quiz", CASE], input="aa\n")
    assert result.exit_code == 0 and "progress not saved" in result.stderr
    assert "Traceback" not in result.output


def test_difficulty_and_tag_pick_among_fitting_cases(pack):
    by_code = {case_code(c.id): c for c in load_library(pack)}
    for seed in range(3):
        easy = json.loads(
            CliRunner()
            .invoke(cli, ["quiz", "--difficulty", "easy", "--seed", str(seed), "--json"], input="")
            .stdout
        )
        assert by_code[easy["case"]].difficulty == "introductory"
        child = json.loads(
            CliRunner()
            .invoke(cli, ["quiz", "--tag", "child", "--seed", str(seed), "--json"], input="")
            .stdout
        )
        assert "child" in by_code[child["case"]].tags
    bad = CliRunner().invoke(cli, ["quiz", "--tag", "childd"])
    assert bad.exit_code == 2 and "did you mean 'child'" in bad.stderr
    assert CliRunner().invoke(cli, ["quiz", CASE, "--tag", "child"]).exit_code == 2
    assert CliRunner().invoke(cli, ["quiz", "--history", CASE]).exit_code == 2


def test_quiz_random_seed_is_reproducible():
    runner = CliRunner()
    a = runner.invoke(cli, ["quiz", "--random", "--seed", "7"], input="")
    b = runner.invoke(cli, ["quiz", "--random", "--seed", "7"], input="")
    assert a.exit_code == 0, a.output
    assert a.stdout.splitlines()[0] == b.stdout.splitlines()[0]
    bad = runner.invoke(cli, ["quiz", CASE, "--random"])
    assert bad.exit_code == 2
