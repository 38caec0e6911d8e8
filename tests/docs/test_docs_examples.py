"""Every command the README and the docs show is run, and its output must be what the page shows.

``HEMEDX_UPDATE_DOCS=1 pytest tests/docs/test_docs_examples.py`` rewrites the pages' outputs from real runs
(then review the diff: it is the change a reader will see). Block syntax: ``tests/support/docs_examples.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.docs_examples import PAGES, ROOT, Block, blocks, matches, rewrite, run, unrun_commands

UPDATE = os.environ.get("HEMEDX_UPDATE_DOCS") == "1"
EXAMPLES = [(page, n) for page in PAGES for n in range(len(blocks(page)))]


def _id(example: tuple[Path, int]) -> str:
    page, n = example
    return f"{page.relative_to(ROOT)}#{n + 1}"


def test_the_pages_have_examples():
    assert len(EXAMPLES) >= 10, "README and docs should show runnable examples"
    commands = [c.line.split("hemedx ", 1)[-1] for page, n in EXAMPLES for c in blocks(page)[n].commands]
    shown = {line.split()[0] for line in commands if line}
    assert {"rank", "explain", "quiz", "rules", "cases", "present"} <= shown


@pytest.mark.parametrize("example", EXAMPLES, ids=[_id(e) for e in EXAMPLES])
def test_example_output_is_what_the_page_shows(example, tmp_path):
    page, n = example
    block: Block = blocks(page)[n]  # parsed afresh: an update of an earlier block moves the lines
    assert block.commands, f"{block.name}: a console block without a '$ hemedx' line"
    outputs = []
    for command in block.commands:
        actual, status = run(command, tmp_path)
        outputs.append((actual, status))
        if UPDATE:
            continue
        assert status == command.status, (
            f"{block.name}: `{command.line}` exited {status}, the page says {command.status}\n"
            + "\n".join(actual)
        )
        assert matches(command.expected, actual), (
            f"{block.name}: `{command.line}` printed something else than the page shows "
            f"(HEMEDX_UPDATE_DOCS=1 rewrites it):\n" + "\n".join(actual)
        )
    if UPDATE:
        rewrite(block, outputs)


def test_every_shown_command_is_run():
    unrun = [line for page in PAGES for line in unrun_commands(page)]
    hint = "put these in a console block, or excuse the block with a '<!-- docs-examples: not run' line"
    assert not unrun, hint + ":\n" + "\n".join(unrun)


def test_the_checker_notices_a_changed_output(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```console\n$ hemedx --version\nhemedx, version 0.0.1\n```\n")
    (command,) = blocks(page)[0].commands
    actual, status = run(command, tmp_path)
    assert status == 0
    assert matches(command.expected, actual)  # versions are normalised
    assert not matches(["hemedx, version 0.0.1 (changed)"], actual)
    assert matches(["..."], actual) and matches([*actual, "..."], actual)
    assert not matches(["something", "..."], actual)


def test_refreshing_an_example_keeps_every_elision_where_it_was():
    from support.docs_examples import refreshed

    expected = ["title", "...", "1. Leader", "   For:", "...", "end"]
    actual = ["new title", "a", "b", "1. Leader", "   For:", "   + x", "c", "end"]
    assert refreshed(expected, actual) == ["new title", "...", "1. Leader", "   For:", "...", "end"]
    # a middle part no longer in the output ends the example at its elision
    assert refreshed(expected, ["t", "x", "y", "z"]) == ["t", "...", "z"]
    assert matches(refreshed(expected, actual), actual)
    # a part whose first line only changed its numbers (citations renumbered) is found again
    renumbered = ["new title", "a", "1. Leader [36: abstract]", "   For:", "c", "end"]
    expected = ["title", "...", "1. Leader [34: abstract]", "   For:", "...", "end"]
    kept = ["new title", "...", "1. Leader [36: abstract]", "   For:", "...", "end"]
    assert refreshed(expected, renumbered) == kept
