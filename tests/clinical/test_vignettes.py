"""Minimal teaching vignettes that pin the default pack's clinical behaviour.

Each vignette is a small, synthetic fact set (canonical units: Hb g/dL, counts 10^9/L, LDH U/L, haptoglobin
and bilirubin mg/dL, B12 pg/mL, folate ng/mL) with the diagnosis and subtype a teacher expects at the top,
plus a few probability bounds that say what the case is meant to teach (for example: blasts beat
cellularity, so hypocellular AML is leukaemia with more than 80 %). The table covers every trap of the
teaching brief, each look-alike, each aplastic anaemia severity grade, AML versus ALL, warm versus cold
AIHA, secondary causes, incomplete work-ups and normal counts. TEACHING AID ONLY - not for clinical use.

The vignettes are data, in ``vignettes.yaml`` beside this file, so a clinician-educator can review and add
them without reading Python; this module loads them and asserts what each one expects. A vignette modelled
on a published case report (id ``report-*``) must name that report in ``source`` (authors, title, journal,
year, volume and pages, PMID or DOI, as far as they were verified), so a reviewer can check the facts
against it. Its labs are what the report gives, in the report's own form where the pack derives the rest (a
differential in per cent with the white count gives the absolute counts, as in a case file). A vignette
whose clinically correct expectation the engine does not meet yet carries ``xfail: "<what is wrong>"``: it
runs as a strict expected failure, so the defect stays visible and a fix that makes it pass must remove
the mark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from hemedx import get_engine, load_pack
from hemedx.cases.model import Snapshot

PACK = load_pack()
ENGINE = get_engine(PACK)

ANY = "<any subtype>"  # the subtype is not part of what the vignette teaches


@dataclass(frozen=True)
class Vignette:
    id: str
    age: float
    sex: str
    top: str | None  # expected top diagnosis (None: only the bounds and `supported` are asserted)
    subtype: str | None = None  # expected subtype of the top diagnosis; ANY = not asserted
    labs: dict[str, float] = field(default_factory=dict)
    findings: dict[str, str] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)  # diagnosis -> (low, high)
    criteria: dict[str, bool] = field(default_factory=dict)  # diagnosis -> criteria met?
    supported: bool | None = True  # None: not what the vignette teaches, so not asserted
    pregnancy: str = "none"
    source: str | None = None  # the published case report a `report-*` vignette is modelled on
    xfail: str | None = None  # what the engine gets wrong, while the expectation stays the clinical one

    def snapshot(self) -> Snapshot:
        """The fact set as a case file gives it: percentages become absolute counts, as in `hemedx rank`."""
        return Snapshot.with_derived(
            self.age,
            self.sex,
            dict(self.findings),
            dict(self.labs),
            dict(self.tests),
            pregnancy=self.pregnancy,
        )


def _load(path: Path) -> tuple[dict[str, dict[str, dict[str, Any]]], list[Vignette]]:
    """Blocks and vignettes of ``vignettes.yaml``: a vignette's blocks in order, then its own values win."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    blocks = data["blocks"]
    out = []
    for item in data["vignettes"]:
        sections: dict[str, dict[str, Any]] = {"labs": {}, "findings": {}, "tests": {}}
        for name in item.get("use", []):
            for section, values in blocks[name].items():
                sections[section].update(values)
        for section in sections:
            sections[section].update(item.get(section, {}))
        expect, patient = item["expect"], item["patient"]
        subtype = expect.get("subtype")
        out.append(
            Vignette(
                item["id"],
                patient["age"],
                patient["sex"],
                expect["top"],
                ANY if subtype == "any" else subtype,
                bounds={k: (low, high) for k, (low, high) in expect.get("bounds", {}).items()},
                criteria=expect.get("criteria", {}),
                supported=expect.get("supported", True),
                pregnancy=patient.get("pregnancy", "none"),
                source=item.get("source"),
                xfail=item.get("xfail"),
                **sections,
            )
        )
    return blocks, out


BLOCKS, VIGNETTES = _load(Path(__file__).with_name("vignettes.yaml"))
AA_MARROW = BLOCKS["aa_marrow"]["labs"]
CLEAN_MARROW = BLOCKS["clean_marrow"]["findings"]


def _rank(vig: Vignette):
    return ENGINE.rank(vig.snapshot())


def test_the_table_is_large_enough_and_ids_are_unique():
    ids = [x.id for x in VIGNETTES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)
    tops = {x.top for x in VIGNETTES}
    assert {d.id for d in PACK.diagnoses} <= tops  # every diagnosis is the answer of at least one vignette


def _param(vig: Vignette):
    """A vignette as a test case; a known engine defect runs as a strict expected failure."""
    marks = [pytest.mark.xfail(reason=vig.xfail, strict=True)] if vig.xfail else []
    return pytest.param(vig, id=vig.id, marks=marks)


def test_every_case_report_vignette_names_its_source():
    """A `report-*` vignette is checkable only against the report it was modelled on."""
    missing = [x.id for x in VIGNETTES if x.id.startswith("report-") and not (x.source or "").strip()]
    assert not missing, f"report vignettes without a source: {missing}"
    assert all(x.xfail is None or x.xfail.strip() for x in VIGNETTES)  # an xfail says what is wrong


@pytest.mark.parametrize("vig", [_param(x) for x in VIGNETTES])
def test_vignette(vig: Vignette):
    ranking = _rank(vig)
    by_id = {d.id: d for d in ranking.differential}
    summary = ", ".join(f"{d.id}={d.probability:.3f}/{d.subtype}" for d in ranking.differential[:4])
    if vig.supported is not None:
        assert ranking.supported is vig.supported, summary
    top = ranking.differential[0]
    if vig.top is not None:
        assert top.id == vig.top, summary
        if vig.subtype != ANY:
            assert top.subtype == vig.subtype, summary
    for dx, (low, high) in vig.bounds.items():
        assert low <= by_id[dx].probability <= high, (
            f"{dx}: {by_id[dx].probability:.3f} not in [{low}, {high}]"
        )
    for dx, met in vig.criteria.items():
        assert by_id[dx].criteria_met is met, f"{dx} criteria_met={by_id[dx].criteria_met}"
    if vig.supported is False:
        assert not any(d.criteria_met for d in ranking.differential)


def test_before_the_marrow_the_marrow_is_what_the_leaders_expect():
    """With pancytopenia and no marrow yet, the marrow findings are the unknowns that would decide."""
    vig = next(x for x in VIGNETTES if x.id == "incomplete-pancytopenia-young-adult-no-marrow")
    ranking = _rank(vig)
    by_id = {d.id: d for d in ranking.differential}
    assert "hypocellular_marrow" in by_id["aplastic_anemia"].expected_unknown
    assert "excess_blasts" in by_id["acute_leukemia"].expected_unknown


def test_the_marrow_then_settles_it_either_way():
    """The same blood picture becomes aplastic anaemia or leukaemia depending only on the marrow."""
    base = next(x for x in VIGNETTES if x.id == "incomplete-pancytopenia-young-adult-no-marrow").snapshot()
    empty = ENGINE.rank(
        base.with_changes(labs=AA_MARROW, findings=CLEAN_MARROW, tests={"cytogenetics": "normal"})
    )
    full = ENGINE.rank(
        base.with_changes(
            labs={"marrow_blasts": 45, "marrow_cellularity": 85}, tests={"blast_lineage": "myeloid"}
        )
    )
    assert (empty.differential[0].id, empty.differential[0].subtype) == ("aplastic_anemia", "severe")
    assert empty.differential[0].probability > 0.95
    assert (full.differential[0].id, full.differential[0].subtype) == ("acute_leukemia", "aml")
    assert full.differential[0].probability > 0.95


def test_uniform_priors_do_not_change_the_answer_of_a_complete_case():
    vig = next(x for x in VIGNETTES if x.id == "aa-severe-classic")
    ranking = ENGINE.rank(vig.snapshot(), uniform_priors=True)
    assert (ranking.differential[0].id, ranking.differential[0].subtype) == ("aplastic_anemia", "severe")


def test_a_four_year_olds_normal_white_count_and_lymphocytes_are_not_raised():
    """Children have higher white-cell and lymphocyte intervals: WBC 12 and lymphocytes 7 are normal at 4."""
    child = ENGINE.rank(Snapshot(4, "female", {}, {"wbc": 12.0, "lymphocytes": 7.0, "anc": 4.0}, {}))
    adult = ENGINE.rank(Snapshot(40, "female", {}, {"wbc": 12.0, "lymphocytes": 7.0, "anc": 4.0}, {}))
    assert child.findings["leukocytosis"][0] == "absent"
    assert child.findings["lymphocytosis"][0] == "absent"
    assert adult.findings["leukocytosis"][0] == "present"
    assert adult.findings["lymphocytosis"][0] == "present"


def test_a_pregnancy_neutrophilia_is_not_leukocytosis():
    """Pregnancy raises the white count: 13.8 is inside the third-trimester interval, not the first's."""
    counts = {"wbc": 13.8, "anc": 10.4, "hemoglobin": 11.6, "platelets": 210.0}

    def leukocytosis(pregnancy: str) -> str:
        snap = Snapshot(31, "female", {}, dict(counts), {}, pregnancy=pregnancy)  # type: ignore[arg-type]
        return ENGINE.rank(snap).findings["leukocytosis"][0]

    assert leukocytosis("trimester_3") == "absent"
    assert leukocytosis("trimester_1") == "present"  # above 13.6
    assert leukocytosis("trimester_unstated") == "absent"  # 14.4 from six weeks
    assert leukocytosis("none") == "present"


def test_an_infants_ldh_and_haptoglobin_are_read_against_infant_intervals():
    """LDH runs higher in infancy, and haptoglobin is physiologically low before 6 months (no interval)."""
    infant = ENGINE.rank(Snapshot(0.25, "male", {}, {"ldh": 300.0, "haptoglobin": 10.0}, {}))
    adult = ENGINE.rank(Snapshot(40, "male", {}, {"ldh": 300.0, "haptoglobin": 10.0}, {}))
    assert infant.findings["high_ldh"][0] == "absent"
    assert "low_haptoglobin" not in infant.findings
    assert adult.findings["high_ldh"][0] == "present"
    assert adult.findings["low_haptoglobin"][0] == "present"


def test_a_one_year_olds_haemoglobin_uses_the_who_2024_cut_off_for_6_to_23_months():
    """WHO 2024: anaemia below 10.5 g/dL at 6-23 months (11.0 at 24-59 months), so 10.8 is normal at 1."""
    one = ENGINE.rank(Snapshot(1, "male", {}, {"hemoglobin": 10.8}, {}))
    three = ENGINE.rank(Snapshot(3, "male", {}, {"hemoglobin": 10.8}, {}))
    assert one.findings["anemia"][0] == "absent"
    assert three.findings["anemia"][0] == "present"


def test_priors_follow_the_age_band():
    """The same counts give a child the childhood priors: leukaemia before aplastic anaemia."""
    by_id = {d.id: d for d in PACK.diagnoses}
    assert by_id["acute_leukemia"].prior.at_age(5) > by_id["aplastic_anemia"].prior.at_age(5)
    assert by_id["acute_leukemia"].prior.at_age(17.9) == by_id["acute_leukemia"].prior.by_age[0].value
    assert by_id["acute_leukemia"].prior.at_age(18) == by_id["acute_leukemia"].prior.value
    child = {
        d.id: d.prior for d in ENGINE.rank(Snapshot(5, "male", {"pallor": "present"}, {}, {})).differential
    }
    adult = {
        d.id: d.prior for d in ENGINE.rank(Snapshot(40, "male", {"pallor": "present"}, {}, {})).differential
    }
    assert (
        child["acute_leukemia"] / child["aplastic_anemia"]
        > adult["acute_leukemia"] / adult["aplastic_anemia"]
    )
