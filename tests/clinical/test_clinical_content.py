"""Clinical teaching content that learners rely on: current treatment, cited from verified sources.

TEACHING AID ONLY - not for clinical use.
"""

from __future__ import annotations

from hemedx import load_pack
from hemedx.cases.library import load_library
from hemedx.rules.checks import walk_cites

PACK = load_pack()
DX = {d.id: d for d in PACK.diagnoses}
SEEDS = {s.id for s in PACK.sources if s.kind == "reference_text"}


def _points(dx: str, topic: str) -> list[tuple[str, set[str]]]:
    return [
        (" ".join(tp.text.split()), {c.source for c in tp.cites})
        for tp in DX[dx].teaching_points
        if tp.topic == topic
    ]


def test_severe_aa_first_line_is_atg_ciclosporin_with_eltrombopag_from_a_published_source():
    hits = [
        (text, cites)
        for text, cites in _points("aplastic_anemia", "management")
        if "antithymocyte globulin" in text and "eltrombopag" in text and "same time" in text
    ]
    assert hits and all(cites - SEEDS for _, cites in hits)


def test_inherited_marrow_failure_is_looked_for_in_the_young():
    texts = [t for t, _ in _points("aplastic_anemia", "diagnosis")]
    assert any("Fanconi" in t and "telomere" in t for t in texts)


def test_itp_standard_treatment_follows_the_ash_2019_guideline():
    hits = [c for t, c in _points("itp", "management") if "corticosteroids" in t and "receptor agonists" in t]
    assert hits and all("neunert-2019-ash-itp" in c for c in hits)


def test_complement_inhibitors_are_taught_for_pnh_and_cold_agglutinin_disease():
    assert any("Complement inhibitors" in t for t, _ in _points("pnh", "management"))
    assert any(
        "complement inhibitors" in t and "cold agglutinin" in t for t, _ in _points("aiha", "management")
    )


def test_stem_cell_transplantation_for_autoimmune_cytopenias_is_labelled_experimental():
    for dx in ("aiha", "itp", "evans_syndrome"):
        transplant = [t for t, _ in _points(dx, "management") if "transplantation" in t]
        assert transplant, dx
        assert all("experiment" in t for t in transplant), dx


def _all_cites():
    for obj in [*PACK.rules, *PACK.diagnoses, *PACK.vocabulary.labs, PACK.info]:
        for _, cite in walk_cites(obj):
            yield cite
    for case in load_library(PACK):
        for _, cite in walk_cites(list(case.teaching_points)):
            yield cite


def test_every_source_in_the_bibliography_is_cited_somewhere():
    """An uncited source (the old 'hpo' entry) reads as evidence for something the pack never says."""
    cited = {c.source for c in _all_cites()}
    assert sorted(s.id for s in PACK.sources if s.id not in cited) == []


def test_auer_rod_frequency_is_cited_from_the_primary_study():
    rule = next(r for r in PACK.rules if r.id == "ev.auer_rods")
    assert "jain-1987-auer-rods" in {c.source for c in rule.cites}
    points = [c for t, c in _points("acute_leukemia", "diagnosis") if "Auer" in t]
    assert points and all("jain-1987-auer-rods" in c for c in points)


def test_haptoglobin_is_taught_with_its_caveats():
    """Acute-phase rise, liver disease, infancy and congenital absence all mislead a haptoglobin reading."""
    rules = {r.id: r for r in PACK.rules}
    low = " ".join(rules["interp.haptoglobin.low"].explanation.split())
    normal = " ".join(rules["interp.haptoglobin.not_low"].explanation.split())
    assert "liver disease" in low and "anhaptoglobinaemia" in low and "6 months" in low
    assert "acute-phase" in normal
    assert "mayo-hapt" in {c.source for c in rules["interp.haptoglobin.not_low"].cites}
    assert "omim-anhaptoglobinemia" in {c.source for c in rules["interp.haptoglobin.low"].cites}


def test_the_common_causes_of_macrocytosis_are_taught_beside_b12_and_folate():
    hits = [
        (t, c)
        for t, c in _points("megaloblastic_anemia", "pitfall")
        if all(word in t for word in ("Alcohol", "medications", "hypothyroidism", "liver disease", "MDS"))
    ]
    assert hits and all("afp-2009-macrocytosis" in c for _, c in hits)


def test_aplastic_anaemia_cites_the_current_bsh_guideline_and_the_eltrombopag_follow_up():
    cited = {s for _, c in _points("aplastic_anemia", "diagnosis") for s in c}
    assert "kulasekararaj-2024-bsh-aa" in cited
    follow_up = [c for t, c in _points("aplastic_anemia", "management") if "RACE" in t]
    assert follow_up and all("blood-2022-ist-eltrombopag-long-term" in c for c in follow_up)


def test_itp_management_cites_the_2019_international_consensus_report():
    hits = [c for t, c in _points("itp", "management") if "corticosteroids" in t]
    assert hits and all("provan-2019-icr-itp" in c for c in hits)
