"""The open world: the 'outside' hypothesis and alerts in every view and in the rank --json contract."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from hemedx import get_engine, load_pack
from hemedx.cases.model import Snapshot
from hemedx.cli import cli

from support.helpers import write_case

PACK = load_pack()
ENGINE = get_engine(PACK)
# DAT-negative haemolysis with platelets 12: a thrombotic microangiopathy until proven otherwise.
TMA_STAGES = [
    {"labs": {"hemoglobin": 8.4, "anc": 4.1, "platelets": 12, "mcv": 92, "reticulocytes": 180}},
    {"labs": {"ldh": 640, "haptoglobin": 5, "bilirubin_indirect": 2.8}, "tests": {"dat": "negative"}},
]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def tma_case(tmp_path):
    return write_case(tmp_path, TMA_STAGES, age=38, case_id="dat-negative-hemolysis")


def test_rank_json_has_alerts_and_outside_differential(runner, tma_case):
    result = runner.invoke(cli, ["rank", str(tma_case), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [a["rule"] for a in report["alerts"]] == ["alert.tma"]
    alert = report["alerts"][0]
    assert alert["urgency"] == "emergency"
    assert alert["outside"] is False  # thrombotic microangiopathy is a diagnosis of the pack
    assert "ADAMTS13" in alert["next_test"]
    assert alert["because"] == ["Haemolysis with a negative DAT present", "Thrombocytopenia present"]
    assert alert["cites"] and all(c["n"] for c in alert["cites"])
    top = report["differential"][0]["diagnosis"]
    assert top == "tma" and report["supported"] is True
    outside = report["outside_differential"]
    assert outside["alerts"] == [] and outside["leads"] is False
    by_id = {d["diagnosis"]: d for d in report["differential"]}
    assert outside["probability"] == by_id["outside"]["probability"]
    assert by_id["outside"]["hypothesis"] == "outside" and by_id["itp"]["hypothesis"] == "diagnosis"
    assert all(r["lr"] > 1 for r in outside["reasons"])


def test_an_outside_alert_is_listed_under_outside_differential(runner, tmp_path):
    path = write_case(
        tmp_path,
        [
            {
                "labs": {"hemoglobin": 9.8, "anc": 1.2, "platelets": 62, "mcv": 90, "peripheral_blasts": 0},
                "findings": {"splenomegaly": "present", "liver_disease": "present"},
            }
        ],
        age=55,
        sex="male",
    )
    report = json.loads(runner.invoke(cli, ["rank", str(path), "--json"]).stdout)
    assert "alert.hypersplenism" in report["outside_differential"]["alerts"]
    assert report["outside_differential"]["leads"] is True and report["supported"] is False
    assert report["summary"].startswith("The findings point outside this differential")


def test_alerts_come_before_the_differential_in_rank_explain_and_walkthrough(runner, tma_case):
    for command in (["rank"], ["explain"], ["walkthrough", "--auto"]):
        result = runner.invoke(cli, [*command, str(tma_case)])
        assert result.exit_code == 0, result.stderr
        out = result.stdout
        assert "EMERGENCY: Thrombotic microangiopathy" in out, command
        lines = out.splitlines()
        alert_line = next(i for i, line in enumerate(lines) if "EMERGENCY" in line)
        # Within the stage (or page) that raises it: alert, then the verdict, then the first table row.
        verdict = next(
            i for i, line in enumerate(lines) if i > alert_line and "Most probable: Thrombotic" in line
        )
        first_row = next(i for i, line in enumerate(lines) if i > verdict and re.match(r"\s*1[ .] ", line))
        assert alert_line < verdict < first_row, command


def test_the_alert_appears_only_at_the_stage_that_shows_it(tma_case):
    from hemedx.cases.library import resolve_case
    from hemedx.engine.walkthrough import walkthrough

    stages = walkthrough(resolve_case(str(tma_case), PACK), PACK)
    assert [a["rule"] for a in stages[0]["alerts"]] == []  # no haemolysis screen or DAT yet
    assert [a["rule"] for a in stages[1]["alerts"]] == ["alert.tma"]


def _snap(labs, findings=None, tests=None, age=40, sex="female"):
    return Snapshot(age, sex, dict(findings or {}), dict(labs), dict(tests or {}))


@pytest.mark.parametrize(
    ("name", "snap"),
    [
        ("normal count", _snap({"hemoglobin": 13.4, "anc": 3.9, "platelets": 260, "mcv": 89})),
        ("isolated mild neutropenia", _snap({"hemoglobin": 13.1, "anc": 1.1, "platelets": 230, "mcv": 88})),
        (
            "pancytopenia, splenomegaly, normocellular marrow without blasts",
            _snap(
                {
                    "hemoglobin": 9.8,
                    "anc": 1.2,
                    "platelets": 62,
                    "mcv": 90,
                    "peripheral_blasts": 0,
                    "marrow_cellularity": 50,
                    "marrow_blasts": 2,
                },
                {"splenomegaly": "present"},
            ),
        ),
    ],
)
def test_findings_the_differential_explains_badly_lead_outside(name, snap):
    ranking = ENGINE.rank(snap)
    top = ranking.differential[0]
    assert top.id not in ("acute_leukemia", "aplastic_anemia", "mds"), name
    assert ranking.outside is not None
    assert top.id == "outside" or PACK_DX_OUTSIDE_OF_CORE(top.id), name
    assert ranking.supported is False or top.id != "outside"


def PACK_DX_OUTSIDE_OF_CORE(dx_id: str) -> bool:
    """A named diagnosis that is itself one of the confusers (not one of the nine original diagnoses)."""
    nine = {
        "aplastic_anemia",
        "acute_leukemia",
        "aiha",
        "mds",
        "pnh",
        "megaloblastic_anemia",
        "itp",
        "evans_syndrome",
        "hereditary_spherocytosis",
    }
    return dx_id not in nine


def test_supported_is_false_whenever_outside_leads():
    snap = _snap({"hemoglobin": 13.1, "anc": 1.1, "platelets": 230})
    ranking = ENGINE.rank(snap)
    assert ranking.differential[0].id == "outside"
    assert "neutropenia" in {f for f, (s, _) in ranking.findings.items() if s == "present"}
    assert ranking.supported is False  # a cardinal finding (neutropenia) is present, but outside leads


def test_alerts_never_change_the_probabilities():
    from hemedx.engine.ranking import rank

    snap = _snap(
        {"hemoglobin": 8.4, "platelets": 12, "ldh": 640, "haptoglobin": 5}, tests={"dat": "negative"}
    )
    firings = ENGINE.infer(snap)
    with_alerts = rank(PACK, dict(snap.findings), firings)
    without = rank(PACK, dict(snap.findings), [f for f in firings if not f.rule_id.startswith("alert.")])
    assert with_alerts.alerts and not without.alerts
    assert [(d.id, d.probability) for d in with_alerts.differential] == [
        (d.id, d.probability) for d in without.differential
    ]


def test_rules_check_refuses_an_evidence_rule_without_an_outside_value(tmp_path):
    from hemedx.rules.checks import iter_problems

    rule = next(r for r in PACK.rules if r.id == "ev.splenomegaly")
    evidence = {k: v for k, v in rule.then.evidence.items() if k != "outside"}
    broken = rule.model_copy(update={"then": rule.then.model_copy(update={"evidence": evidence})})
    pack = PACK.model_copy(update={"rules": [broken if r.id == rule.id else r for r in PACK.rules]})
    problems = [p for p in iter_problems(pack) if p[1] == "ev.splenomegaly"]
    assert problems and "outside" in problems[0][3]


def test_criteria_cannot_conclude_outside():
    from hemedx.rules.checks import iter_problems

    rule = next(r for r in PACK.rules if r.kind == "criteria")
    broken = rule.model_copy(update={"then": rule.then.model_copy(update={"diagnosis": "outside"})})
    pack = PACK.model_copy(update={"rules": [broken if r.id == rule.id else r for r in PACK.rules]})
    messages = [p[3] for p in iter_problems(pack) if p[1] == rule.id]
    assert any("not a diagnosis" in m for m in messages)


def test_the_verdict_names_the_subtype_by_its_label_not_its_id(runner):
    report = json.loads(runner.invoke(cli, ["rank", "aml-child-auer-rods", "--json"]).stdout)
    assert report["differential"][0]["subtype"] == "aml"
    assert report["summary"].startswith("Most probable: Acute leukaemia (acute myeloid leukaemia),")
