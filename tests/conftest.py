"""Test-session set-up: the validated-pack cache goes to a temporary folder, never the user's own."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_CACHE = tempfile.mkdtemp(prefix="hemedx-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE  # before any test module loads a pack (several do at import)
atexit.register(shutil.rmtree, _CACHE, True)
