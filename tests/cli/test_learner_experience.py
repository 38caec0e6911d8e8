"""What a learner or teacher sees first on the command line (issue 16): verdicts, labels and work-up order.

TEACHING AID ONLY - not for clinical use.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hemedx.cli import cli

from support.helpers import write_case

DEMO = "aa-severe-young-woman"


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, *args, input=None):
    return runner.invoke(cli, list(args), input=input, env={"COLUMNS": "100"})


def test_history_alone_says_the_differential_waits_for_the_count_not_that_nothing_fits(runner):
    """Bleeding and petechiae before any count: 'nothing fits' would read as 'not a blood disease'."""
    result = run(runner, "rank", DEMO, "--upto", "1")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "Nothing in this differential fits" not in out
    assert "waits for the full blood count with reticulocytes" in out
    assert out.index("Too early to judge") < out.index("Diagnosis")  # the verdict before the table
    summary = json.loads(run(runner, "rank", DEMO, "--upto", "1", "--json").stdout)["summary"]
    assert summary.startswith("Too early to judge") and "full blood count" in summary


def test_demo_stage_one_waits_for_the_count_and_offers_the_count_first(runner):
    result = run(runner, "demo", "--no-pause")
    assert result.exit_code == 0, result.output
    stage1 = result.stdout.split("Stage 2 of")[0].split("Stage 1 of")[1]
    flat = " ".join(stage1.split())
    assert "waits for the full blood count" in flat and "Nothing in this differential fits" not in flat
    assert "Next best test: Full blood count with reticulocytes" in flat


def test_once_the_count_is_known_the_verdict_is_no_longer_too_early(runner):
    """A normal count is a result: the verdict then judges it (outside / nothing fits), never 'too early'."""
    first = " ".join(run(runner, "rank", "normal-fatigue-young-woman", "--upto", "1").stdout.split())
    after = " ".join(run(runner, "rank", "normal-fatigue-young-woman", "--upto", "2").stdout.split())
    assert "Too early to judge" in first
    assert "Too early" not in after and "point outside this differential" in after


def test_a_white_count_of_38_is_not_pancytopenia(runner, tmp_path):
    """Few neutrophils in a raised white count are not a low white line: never both 'present'."""
    labs = {"hemoglobin": 8.1, "wbc": 38, "anc": 0.8, "platelets": 40, "peripheral_blasts": 60}
    path = write_case(tmp_path, [{"labs": labs}], age=45, sex="male")
    report = json.loads(run(runner, "rank", str(path), "--json").stdout)
    states = {f["finding"]: f["state"] for f in report["findings"]}
    assert states["leukocytosis"] == "present" and states["pancytopenia"] == "absent"
    text = " ".join(run(runner, "explain", str(path)).stdout.split())
    assert "Pancytopenia present" not in text and "Leukocytosis present" in text


def test_no_library_case_shows_pancytopenia_beside_leukocytosis():
    from hemedx import get_engine, load_pack
    from hemedx.cases.library import load_library

    pack = load_pack()
    engine = get_engine(pack)
    for case in load_library(pack):
        for k in range(len(case.stages)):
            found = engine.rank(case.snapshot(k)).findings
            both = found.get("pancytopenia", ("",))[0] == found.get("leukocytosis", ("",))[0] == "present"
            assert not both, (case.id, k)


def test_no_false_certainty_before_the_marrow(runner):
    """A leader at 0.9999 after the blood count is shown as '>99.9%', never '100.0%'."""
    from hemedx.engine.shown import percent

    assert (percent(0.99996), percent(0.0001), percent(0.298), percent(0.0)) == (
        ">99.9%",
        "<0.1%",
        "29.8%",
        "0.0%",
    )
    text = run(runner, "rank", "aml-child-auer-rods", "--upto", "2").stdout
    assert "100.0%" not in text and ">99.9%" in text
    walk = run(runner, "walkthrough", "aml-child-auer-rods", "--auto").stdout
    assert "100.0%" not in walk
    assert "Most probable: Acute leukaemia (acute myeloid leukaemia), >99.9%." in " ".join(walk.split())


def test_synthetic_false_is_refused_without_a_provenance_and_labelled_with_one(runner, tmp_path):
    """A tool for synthetic cases: a real record must say where it came from, and says so on every output."""
    path = write_case(tmp_path, [{"labs": {"hemoglobin": 9}}])
    text = path.read_text()
    path.write_text(text.replace("title: A test case\n", "title: A test case\nsynthetic: false\n"))
    result = run(runner, "rank", str(path))
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "synthetic" in lines[0] and "provenance" in lines[0]
    path.write_text(path.read_text() + "provenance: de-identified record from a teaching archive\n")
    result = run(runner, "rank", str(path))
    assert result.exit_code == 0
    assert "came from a real patient record (de-identified)" in " ".join(result.stdout.split())
    left_out = write_case(tmp_path, [{"labs": {"hemoglobin": 9}}], name="plain.yaml")  # no key: synthetic
    assert "synthetic cases only" in run(runner, "rank", str(left_out)).stdout


def _pack_ids() -> tuple[set[str], set[str]]:
    """Every id a learner must never read, and the short ones that read like words ('aml', 'igg')."""
    from hemedx import load_pack

    pack = load_pack()
    vocab = pack.vocabulary
    ids = {x.id for x in (*vocab.findings, *vocab.labs, *vocab.tests)}
    values = {v for t in vocab.tests for v in t.values if t.value_labels.get(v, v) != v}
    named = [*pack.diagnoses, *(s for d in pack.diagnoses for s in d.subtypes)]
    short = {x.id for x in named if x.id != x.label.lower()} | values  # 'aml', 'igg'; not 'severe'
    return ids | short, short


def test_learner_text_of_every_library_case_names_no_raw_id():
    """Labels, never ids, in what a learner reads: explain and walkthrough over the whole library.

    Rule ids in brackets ('(ev.pancytopenia)') are shown on purpose for authors and carry a dot;
    citation locators quote their sources. An id that is also a word ('ferritin', 'aml') counts only
    where an id would stand: alone in brackets ('Acute leukaemia (aml)') or as a test result (': igg').
    """
    import re

    from hemedx.cases.library import library_ids

    ids, short = _pack_ids()
    runner = CliRunner()
    found = []
    for case in library_ids():
        for args in (["explain", case], ["walkthrough", case, "--auto"]):
            out = runner.invoke(cli, args, env={"COLUMNS": "1000"}).stdout
            for line in out.splitlines():
                line = re.sub(r"\[[^\]]*\]", "", line)
                for token in re.findall(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*", line):
                    if "." in token or token not in ids:
                        continue
                    if "_" in token or (token in short and (f"({token})" in line or f": {token}" in line)):
                        found.append((case, args[0], token, line.strip()))
    assert not found, found[:5]


def test_why_not_lists_only_the_references_it_cites(runner):
    """`--why-not` used to print every reference of the report; now only those its lines cite."""
    import re

    out = run(runner, "explain", DEMO, "--why-not", "itp").stdout
    body, refs = out.split("\nReferences\n")
    cited = {int(n) for n in re.findall(r"\[(\d+):", body)}
    listed = {int(n) for n in re.findall(r"^  \[(\d+)\]", refs, re.MULTILINE)}
    assert cited and listed == cited
    full = json.loads(run(runner, "explain", DEMO, "--why-not", "itp", "--json").stdout)
    assert len(full["references"]) > len(listed)  # the JSON keeps the report's whole list


def test_a_titre_reads_as_a_dilution_not_as_a_unit(runner):
    """'1:1024', as a laboratory reports it, never '1024 titre'; other units unchanged."""
    import re

    from hemedx.rules.units import with_unit

    assert (with_unit("1024", "titre"), with_unit("<10", "titre")) == ("1:1024", "<1:10")
    assert with_unit("9.1", "g/dL") == "9.1 g/dL"
    for args in (["walkthrough", "aiha-cold-mycoplasma", "--auto"], ["explain", "aiha-cold-mycoplasma"]):
        text = " ".join(run(runner, *args).stdout.split())
        assert not re.search(r"\d titre", text), args
        assert "Cold agglutinin titre (reciprocal, 4 °C)" in text and re.search(r"\b1:\d+", text), args
