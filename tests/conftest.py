"""Test-session set-up: the pack cache and quiz history go to temporary folders, never the user's own."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="hemedx-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE  # before any test module loads a pack (several do at import)
atexit.register(shutil.rmtree, _CACHE, True)
_DATA = tempfile.mkdtemp(prefix="hemedx-test-data-")
os.environ["HEMEDX_DATA_DIR"] = _DATA  # quiz history: never the user's own
atexit.register(shutil.rmtree, _DATA, True)


@pytest.fixture(autouse=True)
def _one_statement_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Content tests read a statement on one line; layout tests (cli/test_cli_layout.py) set a width."""
    monkeypatch.setenv("COLUMNS", "1000")
