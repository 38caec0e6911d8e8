"""The generator's distributions live in the pack folder: a pack's own file, an overlay merged per id."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hemedx import load_pack
from hemedx.cases.generator import distributions_path, load_distributions
from hemedx.cli import cli
from hemedx.errors import InputError
from hemedx.rules import default_pack_path

PACK = load_pack()
DEFAULT = load_distributions(PACK)

ITP_OVERRIDE = """\
version: 1
diagnoses:
  itp:
    slug: itp
    basis: teaching_estimate
    labs:
      platelets: {uniform: [1, 5], done: 1}
"""


def _overlay(tmp_path, distributions: str | None):
    folder = tmp_path / "overlay"
    folder.mkdir()
    (folder / "pack.yaml").write_text('id: mine\ntitle: Mine\nversion: "1"\nextends: default\n')
    if distributions is not None:
        (folder / "distributions.yaml").write_text(distributions)
    return folder


def test_the_default_distributions_are_in_the_default_pack_folder():
    assert distributions_path() == default_pack_path() / "distributions.yaml"
    assert DEFAULT.file == str(distributions_path())


def test_an_overlay_without_distributions_uses_the_default_ones(tmp_path):
    folder = _overlay(tmp_path, None)
    assert load_distributions(load_pack(folder), folder=folder).spec == DEFAULT.spec


def test_an_overlay_entry_replaces_the_default_entry_with_its_id(tmp_path):
    folder = _overlay(tmp_path, ITP_OVERRIDE)
    merged = load_distributions(load_pack(folder), folder=folder).spec
    assert merged.diagnoses["itp"].labs["platelets"].uniform == (1, 5)
    assert merged.diagnoses["itp"].variants == []  # the whole entry is replaced, not merged key by key
    assert list(merged.diagnoses) == list(DEFAULT.spec.diagnoses)  # same order, nothing dropped
    assert {k: v for k, v in merged.diagnoses.items() if k != "itp"} == {
        k: v for k, v in DEFAULT.spec.diagnoses.items() if k != "itp"
    }
    assert merged.noise == DEFAULT.spec.noise and merged.baseline == DEFAULT.spec.baseline


def test_an_unknown_diagnosis_in_an_overlay_is_an_error_in_the_overlay_file(tmp_path):
    folder = _overlay(tmp_path, ITP_OVERRIDE.replace("  itp:", "  itpp:"))
    with pytest.raises(InputError, match="unknown diagnosis 'itpp'") as err:
        load_distributions(load_pack(folder), folder=folder)
    assert err.value.file == str(folder / "distributions.yaml") and err.value.line == 3


def test_an_unknown_lab_in_an_overlay_entry_is_an_error_never_dropped(tmp_path):
    folder = _overlay(tmp_path, ITP_OVERRIDE.replace("platelets:", "platelet:"))
    with pytest.raises(InputError, match="unknown lab 'platelet'"):
        load_distributions(load_pack(folder), folder=folder)


def test_generate_with_an_overlay_uses_its_distributions(tmp_path):
    folder = _overlay(tmp_path, ITP_OVERRIDE)
    out = tmp_path / "cases"
    args = ["generate", "--diagnosis", "itp", "--n", "3", "--out", str(out), "--rules", str(folder)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    for path in sorted(out.iterdir()):
        text = path.read_text()
        platelets = float(text.split("platelets:")[1].split()[0].strip("{},"))
        assert 1 <= platelets <= 5, text


def test_a_bad_overlay_distributions_file_is_one_located_line(tmp_path):
    folder = _overlay(tmp_path, ITP_OVERRIDE + "extra: 1\n")
    args = ["generate", "--diagnosis", "itp", "--out", str(tmp_path / "x"), "--rules", str(folder)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "distributions.yaml" in result.output and "extra" in result.output
    assert "Traceback" not in result.output
