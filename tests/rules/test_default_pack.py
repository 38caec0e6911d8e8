"""The default pack: complete, cited, and every rule's examples behave."""

from __future__ import annotations

import pytest

from hemedx import get_engine, load_pack
from hemedx.engine.compiler import compile_pack
from hemedx.engine.examples import run_examples
from hemedx.rules.checks import walk_cites

PACK = load_pack()
CORE = {"aplastic_anemia", "acute_leukemia", "aiha"}
LOOK_ALIKES = {"mds", "pnh", "megaloblastic_anemia", "itp", "evans_syndrome", "hereditary_spherocytosis"}
MINIMUM_FINDINGS = """
fatigue pallor fever petechiae bleeding jaundice dark_urine splenomegaly hepatomegaly lymphadenopathy
bone_pain gum_hypertrophy acrocyanosis thrombosis neuropathy spherocytes auer_rods hypersegmented_neutrophils
rbc_agglutination dysplasia autoimmune_disease recent_viral_hepatitis mycoplasma_infection marrow_toxic_drug
beta_lactam_antibiotic family_history_hemolysis
""".split()  # noqa: SIM905 (DESIGN.md section 5, as written there)
MINIMUM_LABS = """
hemoglobin wbc anc lymphocytes platelets mcv reticulocytes ldh haptoglobin bilirubin_indirect b12
peripheral_blasts marrow_cellularity marrow_blasts pnh_clone cold_agglutinin_titer
""".split()  # noqa: SIM905


def test_minimum_vocabulary_and_diagnoses_are_defined():
    vocab = PACK.vocabulary
    assert set(MINIMUM_FINDINGS) <= {f.id for f in vocab.findings}
    assert set(MINIMUM_LABS) <= {lab.id for lab in vocab.labs}
    tests = {t.id: set(t.values) for t in vocab.tests}
    assert tests["dat"] == {"negative", "igg", "c3d", "igg_c3d"}
    # DESIGN.md section 5 gives normal | abnormal; mds_defining extends it, and every old case still loads
    assert tests["cytogenetics"] == {"normal", "abnormal", "mds_defining"}
    assert tests["blast_lineage"] == {"myeloid", "lymphoid"}
    dx = {d.id: {s.id for s in d.subtypes} for d in PACK.diagnoses}
    assert set(dx) >= CORE | LOOK_ALIKES | {"outside"}
    assert [d.id for d in PACK.diagnoses if d.is_outside] == ["outside"]
    assert dx["aplastic_anemia"] == {"non_severe", "severe", "very_severe"}
    assert dx["acute_leukemia"] == {"apl", "aml", "all"}
    assert dx["aiha"] >= {"warm", "cold"}


def test_every_rule_cites_and_every_citation_resolves():
    sources = {s.id for s in PACK.sources}
    for rule in PACK.rules:
        assert rule.cites, rule.id
    for obj in (*PACK.rules, *PACK.diagnoses, *PACK.vocabulary.labs):
        for path, cite in walk_cites(obj):
            assert cite.source in sources, (getattr(obj, "id", obj), path)


def test_the_seed_texts_are_registered_sources():
    seeds = {s.id for s in PACK.sources if s.kind == "reference_text"}
    assert seeds == {
        "seed-aa-pathophysiology",
        "seed-aa-treatment-resistance",
        "seed-aiha-causes",
        "seed-leukaemia-marrow",
        "seed-hsct-autoimmune",
    }


def test_every_lab_has_an_interpretation_rule():
    named = set()
    for rule in PACK.rules:
        if rule.kind == "interpretation":
            named |= {leaf.lab for _, leaf in _leaves(rule.when) if hasattr(leaf, "lab")}
    assert set(MINIMUM_LABS) <= named


def test_every_rule_kind_is_present_for_the_core_diagnoses():
    kinds = {r.kind for r in PACK.rules}
    assert kinds == {"interpretation", "syndrome", "criteria", "evidence", "alert"}
    evidence_for = {dx for r in PACK.rules if r.kind == "evidence" for dx in r.then.evidence}
    assert evidence_for >= CORE
    criteria_for = {r.then.diagnosis for r in PACK.rules if r.kind == "criteria"}
    assert criteria_for >= CORE


def test_every_rule_compiles_to_something_that_can_fire():
    assert compile_pack(PACK).unsatisfiable == ()


@pytest.mark.parametrize("result", run_examples(get_engine(PACK)), ids=lambda r: r.label)
def test_rule_example(result):
    assert result.passed, f"{result.label}: expected {'to fire' if result.expect_fire else 'not to fire'}"


def test_every_rule_has_both_kinds_of_example():
    missing = [r.id for r in PACK.rules if not (r.examples and r.examples.fires and r.examples.does_not_fire)]
    assert missing == []


def _leaves(cond):
    from hemedx.rules.conditions import walk

    return list(walk(cond))
