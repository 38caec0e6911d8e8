"""The case generator: schema-valid files, byte-identical per seed, labs coupled as the diagnosis implies."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hemedx import load_case, load_pack
from hemedx.cases.generator import (
    distributions_path,
    generate_case,
    load_distributions,
    plan,
    to_case,
    to_yaml,
)
from hemedx.cli import cli
from hemedx.errors import InputError


def generate(dist, pack, diagnosis, subtype, n, seed):
    """Case documents for a run, in index order (what `hemedx generate` writes)."""
    return [generate_case(dist, pack, item, seed) for item in plan(dist, diagnosis, subtype, n)]


PACK = load_pack()
DIST = load_distributions(PACK)


def _cases(diagnosis: str, n: int = 80, seed: int = 5, subtype: str | None = None):
    return [to_case(doc, PACK) for doc in generate(DIST, PACK, diagnosis, subtype, n, seed)]


def _labs(case):
    return case.snapshot().labs


def _gen(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["generate", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_generated_files_load_with_the_case_schema(tmp_path):
    out = _gen(tmp_path, "a", "--diagnosis", "all", "--n", "30", "--seed", "3")
    files = sorted(out.glob("*.yaml"))
    assert len(files) == 30
    for file in files:
        case = load_case(file, PACK)
        assert case.id == file.stem and case.synthetic
        assert case.id.startswith("gen-") and "-s3-" in case.id
    ids = {f.stem for f in files}
    assert "gen-normal-s3-0000" in ids  # `all` cycles through the diagnoses, normal first
    assert any(i.startswith("gen-aa-") for i in ids) and any(i.startswith("gen-hs-") for i in ids)


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path):
    a = _gen(tmp_path, "a", "--diagnosis", "aiha", "--n", "12", "--seed", "42")
    b = _gen(tmp_path, "b", "--diagnosis", "aiha", "--n", "12", "--seed", "42")
    c = _gen(tmp_path, "c", "--diagnosis", "aiha", "--n", "12", "--seed", "43")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in names)
    assert {p.read_bytes() for p in a.iterdir()}.isdisjoint({p.read_bytes() for p in c.iterdir()})
    assert any(n.startswith("gen-aiha-warm-s42-") for n in names)


def test_a_case_does_not_depend_on_how_many_were_generated():
    short = [to_yaml(d) for d in generate(DIST, PACK, "mds", None, 4, 9)]
    long = [to_yaml(d) for d in generate(DIST, PACK, "mds", None, 12, 9)]
    assert short == long[:4]


def test_every_pack_diagnosis_and_subtype_can_be_generated():
    for dx in PACK.diagnoses:
        if dx.is_outside:
            continue  # a hypothesis, not a diagnosis a case can be generated for
        assert dx.id in DIST.diagnosis_ids()
        assert set(DIST.subtypes(dx.id)) == {s.id for s in dx.subtypes}
        for sub in DIST.subtypes(dx.id):
            case = to_case(generate_case(DIST, PACK, plan(DIST, dx.id, sub, 1)[0], 1), PACK)
            assert case.answer is not None and (case.answer.diagnosis, case.answer.subtype) == (dx.id, sub)
    normal = _cases("normal", 3)
    assert all(c.answer is None for c in normal)


def test_aplastic_anaemia_is_pancytopenic_with_low_reticulocytes_and_an_empty_marrow():
    cases = _cases("aplastic_anemia")
    with_marrow = 0
    for case in cases:
        labs = _labs(case)
        assert labs["reticulocytes"] < 47  # below the reference interval
        assert labs["hemoglobin"] < 10 and labs["anc"] < 1.5 and labs["platelets"] < 50
        if "marrow_cellularity" in labs:
            with_marrow += 1
            assert labs["marrow_cellularity"] < 25 and labs["marrow_blasts"] < 5
    assert 0 < with_marrow < len(cases)  # the marrow is sometimes missing


def test_aplastic_subtypes_sit_inside_the_camitta_criteria():
    for case in _cases("aplastic_anemia", 40, subtype="very_severe"):
        assert _labs(case)["anc"] < 0.2
    for case in _cases("aplastic_anemia", 40, subtype="non_severe"):
        labs = _labs(case)
        assert labs["anc"] >= 0.5 and labs["platelets"] >= 20


def test_aiha_haemolyses_with_a_positive_dat():
    for case in _cases("aiha"):
        snap = case.snapshot()
        labs = snap.labs
        # DAT-negative AIHA is the one subtype with a negative routine DAT (antibody shown another way).
        assert (snap.tests["dat"] == "negative") is (case.answer.subtype == "dat_negative")
        assert labs["hemoglobin"] < 12
        if "low-reticulocytes" not in case.tags:
            assert labs["reticulocytes"] > 152
        assert labs.get("ldh", 999) > 222
        assert labs.get("haptoglobin", 0) <= 25
        assert labs.get("bilirubin_indirect", 9) > 1.0
        if case.answer.subtype == "cold":
            assert labs["cold_agglutinin_titer"] >= 64 and snap.tests["dat"] in ("c3d", "igg_c3d")


def test_leukaemia_blasts_match_the_marrow():
    for case in _cases("acute_leukemia"):
        labs = _labs(case)
        if "marrow_blasts" in labs:
            assert labs["marrow_blasts"] >= 20
            assert labs["peripheral_blasts"] <= labs["marrow_blasts"]
            if "hypocellular" not in case.tags:
                assert labs["marrow_cellularity"] >= 70


def test_coupling_follows_severity_in_haemolysis():
    """A lower haemoglobin comes with a higher LDH: both follow the same latent severity."""
    cases = [c for c in _cases("aiha", 200, seed=8) if "ldh" in _labs(c)]
    low = [_labs(c)["ldh"] for c in cases if _labs(c)["hemoglobin"] < 7]
    high = [_labs(c)["ldh"] for c in cases if _labs(c)["hemoglobin"] > 9.5]
    assert sum(low) / len(low) > 1.5 * sum(high) / len(high)


def test_noise_missing_tests_decoys_and_alternative_units():
    cases = _cases("all", 300, seed=2)
    assert any(any(t.startswith("decoy-") for t in c.tags) for c in cases)
    assert any("hemoglobin" not in _labs(c) or "ldh" not in _labs(c) for c in cases)
    assert any(s.given_units for c in cases for s in c.stages)


def test_cli_rejects_unknown_diagnosis_and_subtype(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(cli, ["generate", "--diagnosis", "aplastic", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "aplastic_anemia" in bad.output
    bad = runner.invoke(
        cli, ["generate", "--diagnosis", "aiha", "--subtype", "hot", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and "warm" in bad.output
    assert not (tmp_path / "x").exists()


def test_distributions_cite_only_registered_sources(tmp_path):
    text = distributions_path().read_text(encoding="utf-8")
    bad = tmp_path / "d.yaml"
    bad.write_text(text.replace("cites: [merck-cbc]", "cites: [merck-cbx]", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown source 'merck-cbx'.*merck-cbc"):
        load_distributions(PACK, bad)
    data = yaml.safe_load(text)
    assert data["noise"]["basis"] == "teaching_estimate"


def test_plan_errors():
    with pytest.raises(InputError):
        plan(DIST, "all", "warm", 3)
    assert [p.diagnosis for p in plan(DIST, "all", None, 11)][:2] == ["normal", "aplastic_anemia"]
