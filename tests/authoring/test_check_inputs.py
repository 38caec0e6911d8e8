"""What ``rules check`` reads its lints from is what it always read: rule dumps, cites, the pack's digest."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hemedx.authoring.content_lints import _dumped
from hemedx.rules.reader import pack_digest, pack_folder, read_pack

from support.helpers import LINT_CASES, MINI_PACK, broken_pack


def folders(tmp_path):
    return [None, MINI_PACK, *(broken_pack(tmp_path, name) for name in LINT_CASES)]


def test_a_rule_dumps_through_the_adapter_exactly_as_through_its_own_class(tmp_path):
    dumped = 0
    for folder in folders(tmp_path):
        for rule in read_pack(folder).rules:
            own = rule.model_dump(by_alias=True, exclude_defaults=True)
            assert repr(_dumped("rule", rule)) == repr(own), rule.id  # same keys, order, types
            dumped += 1
    assert dumped > 300


def test_the_digest_read_with_the_files_is_pack_digest(tmp_path):
    for folder in folders(tmp_path)[:3]:
        read = read_pack(folder)
        assert read.digest == pack_digest(pack_folder(folder))
        assert read.pack is not None and read.pack.digest == read.digest


def test_import_hemedx_loads_only_what_is_asked_for():
    probe = (
        "import sys, hemedx; before = sorted(m for m in sys.modules if m.startswith('hemedx'));"
        " from hemedx import load_pack, load_case, rank_case, get_engine;"
        " import hemedx.engine, hemedx.rules;"
        " assert rank_case is hemedx.engine.rank_case and load_pack is hemedx.rules.load_pack;"
        " print(before)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['hemedx', 'hemedx.lazy']"  # the package and its 30-line lazy loader


def test_an_unknown_name_of_hemedx_is_an_attribute_error():
    import hemedx

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hemedx.nope  # noqa: B018
    assert {"load_pack", "rank_case", "__version__"} <= set(dir(hemedx))


def test_the_schema_command_offers_exactly_the_schemas_there_are():
    from hemedx.authoring.schema import SCHEMAS
    from hemedx.cli.commands.rules import SCHEMA_NAMES

    assert tuple(SCHEMAS) == SCHEMA_NAMES


def test_rules_check_loads_neither_the_report_builder_nor_the_schemas():
    probe = (
        "import sys; from hemedx.cli import main; sys.argv = ['hemedx', 'rules', 'check', '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    modules = done.stderr.split()
    assert "hemedx.authoring.lints" in modules and "hemedx.engine.engine" in modules
    assert "hemedx.engine.report" not in modules and "hemedx.authoring.schema" not in modules
