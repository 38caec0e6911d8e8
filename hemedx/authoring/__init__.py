"""Rule authoring tools: check, test, coverage, diff, docs, JSON Schema and scaffolding of rule packs.

This is the domain side of ``hemedx rules ...``: plain functions that return data. The click commands in
:mod:`hemedx.cli.commands.rules` only parse options and render what these return.
"""

from hemedx.authoring.issues import LINTS, Issue, LintInfo
from hemedx.authoring.lints import CheckResult, check_pack

__all__ = ["LINTS", "CheckResult", "Issue", "LintInfo", "check_pack"]
