"""MkDocs hooks: pages generated from the code at build time, so the site cannot drift from it.

* ``reference/commands.md`` from the click command tree (:mod:`hemedx.cli.reference`);
* ``rules/*.md`` (the rule catalogue and the evidence matrix) by ``hemedx rules docs``;
* ``changelog.md`` from the repository's ``CHANGELOG.md``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent


def on_files(files: Files, config: Any) -> Files:
    """Add the generated pages to the site's files."""
    from hemedx.cli.reference import command_reference

    files.append(File.generated(config, "reference/commands.md", content=command_reference()))
    with tempfile.TemporaryDirectory() as tmp:
        # The real command, as a reader would run it: the catalogue is exactly what it writes.
        command = [sys.executable, "-m", "hemedx", "rules", "docs", "--out", tmp]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        for path in sorted(Path(tmp).glob("*.md")):
            files.append(File.generated(config, f"rules/{path.name}", content=path.read_text()))
    changelog = (ROOT / "CHANGELOG.md").read_text().replace("](docs/", "](")
    files.append(File.generated(config, "changelog.md", content=changelog))
    return files
