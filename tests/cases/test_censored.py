"""Censored lab values ("<10", {value, comparator}): parsing, certainty at and across cut-offs, explain."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hemedx import get_engine, load_case, load_pack
from hemedx.cases.censored import Censored, compare, parse_censored
from hemedx.cli import cli

from support.helpers import write_case

PACK = load_pack()
ENGINE = get_engine(PACK)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<10", Censored("<", 10.0)),
        ("<= 10", Censored("<=", 10.0)),
        (">1000", Censored(">", 1000.0)),
        (">=0.5", Censored(">=", 0.5)),
        ("≤5", Censored("<=", 5.0)),
        ("≥ 64", Censored(">=", 64.0)),
        ("10", None),
        ("<", None),
        ("<1e3", None),
        ("about 10", None),
    ],
)
def test_parse_censored(text, expected):
    assert parse_censored(text) == expected


@pytest.mark.parametrize(
    ("value", "op", "threshold", "expected"),
    [
        (Censored("<", 10), "lt", 25, True),  # below the cut-off: certainly below
        (Censored("<", 30), "lt", 25, None),  # across it: undetermined
        (Censored("<", 30), "gte", 25, None),
        (Censored("<", 25), "lt", 25, True),  # at it, open: every allowed value is below 25
        (Censored("<=", 25), "lt", 25, None),  # at it, closed: 25 itself is allowed
        (Censored("<=", 25), "lte", 25, True),
        (Censored("<", 10), "gt", 25, False),
        (Censored("<", 10), "gte", 5, None),
        (Censored(">", 25), "gt", 25, True),
        (Censored(">=", 25), "gt", 25, None),
        (Censored(">=", 25), "gte", 25, True),
        (Censored(">", 1000), "lt", 222, False),
        (Censored(">", 100), "gt", 222, None),
        (7.0, "lt", 8.0, True),
        (8.0, "lt", 8.0, False),
    ],
)
def test_compare_at_below_and_across_a_cut_off(value, op, threshold, expected):
    assert compare(value, op, threshold) is expected


def _fired(tmp_path, labs, **kw):
    case = load_case(write_case(tmp_path, [{"labs": labs}], **kw), PACK)
    return set(ENGINE.rank(case.snapshot()).fired_rules), case


def test_string_and_mapping_forms_mean_the_same(tmp_path):
    a, _ = _fired(tmp_path, {"haptoglobin": "<10"})
    b, case = _fired(tmp_path, {"haptoglobin": {"value": 10, "comparator": "<"}})
    assert a == b and "interp.haptoglobin.low" in a
    assert case.snapshot().censored == {"haptoglobin": Censored("<", 10.0)}
    assert "haptoglobin" not in case.snapshot().labs


def test_censored_below_the_cut_off_fires_the_low_rule(tmp_path):
    fired, _ = _fired(tmp_path, {"haptoglobin": "<10"})
    assert "interp.haptoglobin.low" in fired and "interp.haptoglobin.not_low" not in fired


def test_censored_across_the_cut_off_fires_neither_rule(tmp_path):
    fired, _ = _fired(tmp_path, {"haptoglobin": "<30"})
    assert not {"interp.haptoglobin.low", "interp.haptoglobin.not_low"} & fired


def test_censored_above_fires_the_high_rule_and_converts_units(tmp_path):
    fired, case = _fired(tmp_path, {"haptoglobin": {"value": 2.5, "unit": "g/L", "comparator": ">="}})
    assert case.snapshot().censored["haptoglobin"] == Censored(">=", 250.0)
    assert "interp.haptoglobin.not_low" in fired and "interp.haptoglobin.low" not in fired


def test_exact_value_in_a_later_stage_replaces_the_bound(tmp_path):
    path = write_case(tmp_path, [{"labs": {"haptoglobin": "<30"}}, {"labs": {"haptoglobin": 12}}])
    case = load_case(path, PACK)
    assert case.snapshot(0).censored == {"haptoglobin": Censored("<", 30.0)}
    assert case.snapshot().censored == {} and case.snapshot().labs["haptoglobin"] == 12


def test_explain_says_why_an_undetermined_value_fired_nothing(tmp_path):
    path = write_case(tmp_path, [{"labs": {"hemoglobin": 8.1, "haptoglobin": "<30"}}])
    runner = CliRunner()
    result = runner.invoke(cli, ["explain", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    notes = {(n["lab"], n["rule"], n["threshold"]) for n in report["undetermined"]}
    assert ("haptoglobin", "interp.haptoglobin.low", 25.0) in notes
    assert ("haptoglobin", "interp.haptoglobin.not_low", 25.0) in notes
    assert all(n["cites"] for n in report["undetermined"])
    hapt = next(lab for lab in report["labs"] if lab["lab"] == "haptoglobin")
    assert (hapt["origin"], hapt["shown"], hapt["comparator"]) == ("censored", "<30 mg/dL", "<")
    text = runner.invoke(cli, ["explain", str(path)]).stdout
    assert "Haptoglobin <30 mg/dL: undetermined whether at most 25 mg/dL" in text


def test_a_certain_censored_value_has_no_undetermined_note(tmp_path):
    path = write_case(tmp_path, [{"labs": {"haptoglobin": "<10"}}])
    report = json.loads(CliRunner().invoke(cli, ["rank", str(path), "--json"]).stdout)
    assert "undetermined" not in report


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("about 10", "expected a number"),
        ({"value": 10, "comparator": "~"}, "comparator"),
        ("<-5", "expected a number"),
        ("<5000", "implausible haptoglobin"),
    ],
)
def test_bad_censored_values_are_one_line_errors(tmp_path, value, message):
    path = write_case(tmp_path, [{"labs": {"haptoglobin": value}}])
    result = CliRunner().invoke(cli, ["rank", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "stages[0].labs.haptoglobin" in lines[0] and message in lines[0]


def test_what_if_can_set_a_censored_value():
    result = CliRunner().invoke(
        cli, ["rank", "aiha-warm-idiopathic-young-woman", "--set", "haptoglobin=<0.4 g/L", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    change = report["what_if"]["changes"][0]
    assert (change["value"], change["comparator"]) == (40.0, "<")
    assert {n["rule"] for n in report["undetermined"]} >= {"interp.haptoglobin.low"}
    assert "interp.haptoglobin.low" not in report["fired_rules"]
