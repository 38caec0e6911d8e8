"""Investigations live in the pack: schema-checked, merged by id in an overlay, unknown ids refused."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hemedx import load_pack
from hemedx.cli import cli
from hemedx.engine.next_test import investigations
from hemedx.errors import InputError

OVERLAY = 'id: mine\ntitle: Mine\nversion: "1"\nextends: default\n'


def _overlay(tmp_path, text):
    folder = tmp_path / "overlay"
    folder.mkdir()
    (folder / "pack.yaml").write_text(OVERLAY)
    (folder / "investigations.yaml").write_text(text)
    return folder


def test_the_default_pack_carries_its_investigations():
    pack = load_pack()
    ids = [inv.id for inv in pack.investigations]
    assert {"blood_count", "blood_film", "dat", "marrow_exam"} <= set(ids)
    marrow = next(inv for inv in pack.investigations if inv.id == "marrow_exam")
    assert "blood_count" in marrow.after
    assert [i.id for i in investigations(pack) if i.kind == "investigation"] == [
        i for i in ids if i in {x.id for x in investigations(pack)}
    ]


def test_an_overlay_replaces_an_investigation_by_id_and_adds_new_ones(tmp_path):
    folder = _overlay(
        tmp_path,
        "investigations:\n"
        "  - id: dat\n    label: Coombs test\n    orders: {tests: [dat]}\n    reveals: [autoantibody]\n"
        "  - id: spleen_scan\n    label: Abdominal ultrasound\n    orders: {findings: [splenomegaly]}\n"
        "    reveals: [splenomegaly]\n",
    )
    pack = load_pack(folder)
    by_id = {inv.id: inv for inv in pack.investigations}
    assert by_id["dat"].label == "Coombs test"
    assert "spleen_scan" in by_id and "blood_count" in by_id
    assert len(pack.investigations) == len(load_pack().investigations) + 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("orders: {labs: [hemoglobn]}\n    reveals: [anemia]", "unknown lab 'hemoglobn'"),
        ("orders: {labs: [hemoglobin]}\n    reveals: [anaemia]", "unknown finding 'anaemia'"),
        (
            "orders: {labs: [hemoglobin]}\n    reveals: [anemia]\n    after: [blood_cuont]",
            "unknown investigation",
        ),
    ],
)
def test_an_unknown_id_is_an_error_in_rules_check_and_in_load_pack(tmp_path, entry, message):
    folder = _overlay(tmp_path, f"investigations:\n  - id: mine\n    label: Mine\n    {entry}\n")
    result = CliRunner().invoke(cli, ["rules", "check", "--rules", str(folder)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert "investigations.yaml" in result.output
    with pytest.raises(InputError, match=message.split("'")[0]):
        load_pack(folder)
