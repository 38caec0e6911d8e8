"""`hemedx rank --json` imports only what it runs: no rich, no what-if or quiz code, no durable Host layer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hemedx.cases.library import DEMO_CASE

PROBE = """
import json, sys
from hemedx.cli import main
sys.argv = ["hemedx", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""
NOT_FOR_JSON = ("rich", "durable", "hemedx.cli.render", "hemedx.engine.whatif", "hemedx.engine.quiz")


@pytest.mark.parametrize("command", ["rank", "explain"])
def test_json_views_import_no_renderer(command):
    argv = [sys.executable, "-c", PROBE, command, DEMO_CASE, "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["case"]
    modules = json.loads(done.stderr)
    loaded = [m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_FOR_JSON)]
    assert loaded == []
    assert "durable_rules_engine" in modules  # the C binding does the matching


def test_the_text_view_still_renders():
    done = subprocess.run([sys.executable, "-c", PROBE, "rank", DEMO_CASE], capture_output=True, text=True)
    assert "hemedx.cli.render" in json.loads(done.stderr)
    assert "not for clinical use" in done.stdout.lower()
