"""Next-best test: the pure evidence model matches the engine, and the obvious test wins where it is clear."""

from __future__ import annotations

import pytest

from hemedx import load_pack
from hemedx.cases.library import load_library, resolve_case
from hemedx.cases.loader import load_case
from hemedx.engine import get_engine, rank_case
from hemedx.engine.next_test import _model, entropy, investigations, suggest

from support.helpers import write_case


@pytest.fixture(scope="module")
def pack():
    return load_pack()


def test_model_posterior_equals_the_engine_on_every_library_stage(pack):
    engine = get_engine(pack)
    model = _model(pack, engine.compiled, False)
    for case in load_library(pack):
        for k in range(len(case.stages)):
            ranking = engine.rank(case.snapshot(k))
            states = {f: s for f, (s, _) in ranking.findings.items()}
            post = model.posterior(states, case.snapshot(k).age)
            probs = {d.id: d.probability for d in ranking.differential}
            assert post == pytest.approx([probs[dx] for dx in model.dx], abs=1e-12), (case.id, k)


def test_pancytopenia_without_a_marrow_suggests_a_marrow(pack):
    case = resolve_case("pancytopenia-awaiting-marrow-incomplete", pack)
    report = rank_case(case, pack, next_test=True)
    nt = report["next_test"]
    assert nt["investigation"] == "marrow_exam"
    assert "Aplastic anaemia" in nt["why"] and "Acute leukaemia" in nt["why"]
    assert {"hypocellular_marrow", "excess_blasts"} <= {r["finding"] for r in nt["reveals"]}
    assert nt["cites"] and nt["expected_gain_bits"] > 0.3


HAEMOLYSIS = [
    {"findings": {"pallor": "present", "jaundice": "present", "splenomegaly": "absent"}},
    {
        "labs": {
            "hemoglobin": 8.4,
            "wbc": 7.2,
            "anc": 4.1,
            "platelets": 260,
            "mcv": 96,
            "reticulocytes": 310,
            "ldh": 640,
            "haptoglobin": 5,
            "bilirubin_indirect": 2.8,
        }
    },
]


def test_haemolysis_without_a_dat_suggests_the_dat(pack, tmp_path):
    case = load_case(write_case(tmp_path, HAEMOLYSIS, age=35), pack)
    report = rank_case(case, pack, next_test=True)
    assert any(f["finding"] == "hemolysis" and f["state"] == "present" for f in report["findings"])
    assert report["next_test"]["investigation"] == "dat"
    assert "Autoimmune haemolytic anaemia" in report["next_test"]["why"]


def test_a_done_investigation_is_not_suggested_again(pack, tmp_path):
    stages = [*HAEMOLYSIS, {"tests": {"dat": "negative"}}]
    case = load_case(write_case(tmp_path, stages, age=35), pack)
    report = rank_case(case, pack, next_test=True)
    offered = [report["next_test"]["investigation"]] + [
        a["investigation"] for a in report["next_test"]["alternatives"]
    ]
    assert "dat" not in offered


def test_next_test_citations_resolve_and_are_numbered_after_the_report(pack):
    case = resolve_case("aa-severe-young-woman", pack)
    plain = rank_case(case, pack, upto=1)
    with_nt = rank_case(case, pack, upto=1, next_test=True)
    # additive: the plain report is a prefix of the extended one
    assert with_nt["references"][: len(plain["references"])] == plain["references"]
    assert {k: v for k, v in with_nt.items() if k not in ("next_test", "references")} == {
        k: v for k, v in plain.items() if k != "references"
    }
    numbers = {r["n"] for r in with_nt["references"]}
    assert all(c["n"] in numbers for c in with_nt["next_test"]["cites"])


def test_complete_work_up_says_nothing_left(pack):
    case = resolve_case("aa-severe-young-woman", pack)
    nt = rank_case(case, pack, next_test=True)["next_test"]
    assert nt["investigation"] is None and "Nothing still unknown" in nt["why"]


def test_target_mode_measures_the_yes_no_question(pack):
    engine = get_engine(pack)
    case = resolve_case("pancytopenia-awaiting-marrow-incomplete", pack)
    snap = case.snapshot()
    ranking = engine.rank(snap)
    best = suggest(pack, engine.compiled, snap, ranking, target="acute_leukemia")[0]
    p = next(d.probability for d in ranking.differential if d.id == "acute_leukemia")
    assert best.investigation.id == "marrow_exam"
    assert 0 < best.gain <= entropy([p, 1 - p]) + 1e-9


def test_investigation_table_uses_only_pack_ids(pack):
    vocab = pack.vocabulary
    ids = {x.id for x in (*vocab.findings, *vocab.labs, *vocab.tests)}
    for inv in investigations(pack):
        assert set(inv.reveals) <= ids and set(inv.orders) <= ids, inv.id
        for a, b in (*inv.exclusive, *inv.implies):
            assert a in inv.reveals and b in inv.reveals, inv.id


def test_neither_marrow_nor_film_is_suggested_before_the_blood_count():
    """Work-up order is data (investigations.yaml 'after'): history alone asks for the count first."""
    from hemedx import get_engine, load_pack
    from hemedx.cases.library import resolve_case
    from hemedx.engine.next_test import suggest

    pack = load_pack()
    engine = get_engine(pack)
    case = resolve_case("aa-severe-young-woman", pack)
    history = case.snapshot(0)
    ids = [
        s.investigation.id for s in suggest(pack, engine.compiled, history, engine.rank(history), limit=20)
    ]
    assert "marrow_exam" not in ids and "cytogenetics" not in ids
    assert ids[0] == "blood_count" and "blood_film" not in ids  # the film is read after the count
    after_count = case.snapshot(1)
    best = suggest(pack, engine.compiled, after_count, engine.rank(after_count))[0]
    assert best.investigation.id == "marrow_exam"


def test_dat_negative_haemolysis_with_low_platelets_suggests_adamts13_or_the_film(pack, tmp_path):
    """Before ADAMTS13 is back, the tests that settle a thrombotic microangiopathy come first."""
    counts = {**HAEMOLYSIS[1]["labs"], "platelets": 12}
    stages = [HAEMOLYSIS[0], {"labs": counts}, {"tests": {"dat": "negative"}}]
    case = load_case(write_case(tmp_path, stages, age=38), pack)
    report = rank_case(case, pack, next_test=True)
    nt = report["next_test"]
    offered = [nt["investigation"]] + [a["investigation"] for a in nt["alternatives"]]
    assert {"adamts13", "film_review"} & set(offered[:3]), offered
    assert "dat" not in offered and "marrow_exam" not in offered[:2]
    assert "Thrombotic microangiopathy" in nt["why"] or any(
        "Thrombotic microangiopathy" in a.get("why", "") for a in nt["alternatives"]
    )


def test_the_new_investigations_are_offered_for_the_new_findings(pack):
    table = {inv.id: inv for inv in investigations(pack)}
    assert table["adamts13"].reveals == ("severe_adamts13_deficiency",)
    assert {"prolonged_pt", "low_fibrinogen", "high_d_dimer"} <= set(table["coagulation_screen"].reveals)
    assert {"low_ferritin", "high_ferritin"} <= set(table["iron_studies"].reveals)
    assert "schistocytes" in table["film_review"].reveals
    assert table["bcr_abl1"].reveals == ("bcr_abl1_detected",)
    assert "hemophagocytosis" in table["marrow_exam"].reveals


def test_a_next_test_line_says_which_frequencies_are_teaching_estimates(pack):
    # the first stage of the demo case: the count would separate leukaemia from aplasia by leukocytosis,
    # whose frequencies are bare numbers in the pack; the line says so, so its cite mark is not read as
    # the source of "35 %"
    case = resolve_case("aa-severe-young-woman", pack)
    nt = rank_case(case, pack, upto=0, next_test=True)["next_test"]
    rule = pack.kb.rules[nt["contrast"]["rule"]]
    a, b = nt["contrast"]["a"]["diagnosis"], nt["contrast"]["b"]["diagnosis"]
    assert all(pack.kb.frequency(rule, dx)[1] == "teaching_estimate" for dx in (a, b))
    assert "(both teaching estimates; expected gain" in nt["why"]


def test_a_published_frequency_is_not_called_a_teaching_estimate():
    from hemedx.engine.next_test import Contrast, Suggestion, why
    from hemedx.rules.model import InvestigationSpec

    test = InvestigationSpec(id="dat", label="DAT", orders={"tests": ["dat"]}, reveals=["dat_positive"])
    labels, dx = {"dat_positive": "DAT positive"}, {"aiha": "AIHA", "hs": "HS"}

    def line(estimated: tuple[bool, bool]) -> str:
        c = Contrast("dat_positive", "ev.dat", "aiha", "hs", 0.95, 0.02, (), estimated)
        return why(Suggestion(test, 0.9, ("dat_positive",), c), labels, dx)

    assert "teaching estimate" not in line((False, False))
    assert "(the second a teaching estimate; expected gain 0.90 bits)" in line((False, True))
    assert "(the first a teaching estimate;" in line((True, False))
