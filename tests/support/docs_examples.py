"""Find, run and compare the ``console`` examples of README.md and docs/ (tests/docs/test_docs_examples.py).

A ``console`` block holds ``$ hemedx ...`` lines, each followed by the output the page promises
(stdout and stderr together). A line ``...`` alone stands for any number of lines (a long output
shown in part); a last line ``[exit N]`` says the command ends with status N (0 otherwise). The commands
of one block run in one fresh folder, in order, so a block may write a file and then read it.
Versions, pack content hashes, the folder, dates and timings are normalised before comparing.
``HEMEDX_UPDATE_DOCS=1`` rewrites every output that no longer matches from a real run instead of failing
(one that still matches is left as written, so hand-placed elisions survive).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
ELLIPSIS = "..."
EXIT = re.compile(r"^\[exit (\d+)\]$")
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
SKIP = "<!-- docs-examples: not run"  # precedes a block showing a command that cannot run in a test
NORMALISE = [
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?\b"), "<when>"),  # e.g. quiz history
    (re.compile(r"\.yaml:\d+\b"), ".yaml:<line>"),  # where a rule sits in its file moves with every edit
    (re.compile(r"\b[0-9a-f]{16}\b"), "<hash>"),  # the pack's content digest
    (re.compile(r"\b\d+\.\d+\.\d+(?:\.dev\d+)?\b"), "<version>"),
    (re.compile(r"\b\d+(?:\.\d+)? ?(?:ms|s)\b"), "<time>"),
]


@dataclass
class Command:
    """One ``$`` line of a block and the output lines shown under it."""

    line: str
    expected: list[str] = field(default_factory=list)
    status: int = 0


@dataclass
class Block:
    """One ``console`` block: where it is and its commands."""

    page: Path
    start: int  # index of the opening fence line
    end: int  # index of the closing fence line
    commands: list[Command]

    @property
    def name(self) -> str:
        """``page:line``, for test ids and messages."""
        return f"{self.page.relative_to(ROOT)}:{self.start + 1}"


def blocks(page: Path) -> list[Block]:
    """Every ``console`` block of ``page``."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        if match.group(2) == "console":
            found.append(Block(page, i, end, _commands(lines[i + 1 : end], len(match.group(1)))))
        i = end + 1
    return found


def unrun_commands(page: Path) -> list[str]:
    """``$ hemedx`` lines outside ``console`` blocks that no skip marker excuses (each must be run)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    out, inside, kind, excused = [], False, "", False
    for n, line in enumerate(lines, 1):
        match = FENCE.match(line)
        if match and not inside:
            inside, kind = True, match.group(2)
            excused = n >= 2 and lines[n - 2].strip().startswith(SKIP)
        elif inside and line.strip() == "```":
            inside = False
        elif inside and kind != "console" and not excused and line.strip().startswith("$ hemedx"):
            out.append(f"{page.relative_to(ROOT)}:{n}: {line.strip()}")
    return out


def _commands(body: list[str], indent: int) -> list[Command]:
    commands: list[Command] = []
    for raw in body:
        line = raw[indent:] if raw[:indent].isspace() else raw
        if line.startswith("$ "):
            commands.append(Command(line[2:]))
        elif commands:
            commands[-1].expected.append(line)
    for command in commands:
        while command.expected and not command.expected[-1].strip():
            command.expected.pop()
        if command.expected and (match := EXIT.match(command.expected[-1])):
            command.status = int(match.group(1))
            command.expected.pop()
    return commands


def run(command: Command, folder: Path) -> tuple[list[str], int]:
    """Run one command line in ``folder`` as a reader would type it; its output lines and status."""
    bin_dir = folder / ".bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        shim = bin_dir / "hemedx"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m hemedx "$@"\n')
        shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "80",
        "NO_COLOR": "1",
        "HEMEDX_DATA_DIR": ".data",  # relative to the folder: paths print short and the same every run
        "LC_ALL": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
    }
    env.pop("HEMEDX_DEBUG", None)
    done = subprocess.run(
        ["/bin/sh", "-c", command.line],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    # The checkout's own path differs on every machine; the pages show it as /path/to/hemedx.
    output = done.stdout.replace(str(folder), ".").replace(str(ROOT), "/path/to/hemedx").splitlines()
    output = [line.rstrip() for line in output]
    while output and not output[-1]:
        output.pop()
    return output, done.returncode


def normalise(lines: list[str]) -> list[str]:
    """Lines with versions, hashes and timings replaced by placeholders, trailing blanks removed."""
    out = []
    for line in lines:
        for pattern, placeholder in NORMALISE:
            line = pattern.sub(placeholder, line)
        out.append(line.rstrip())
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` fits ``expected``, where a ``...`` line stands for any run of lines."""
    expected, actual = normalise(expected), normalise(actual)
    if ELLIPSIS not in expected:
        return expected == actual
    cut = expected.index(ELLIPSIS)
    head, tail = expected[:cut], expected[cut + 1 :]
    if actual[:cut] != head:
        return False
    rest = actual[cut:]
    return any(matches(tail, rest[k:]) for k in range(len(rest) + 1))


def _shape(line: str) -> str:
    """A line with its numbers blanked: the same output line before and after a renumbering."""
    return re.sub(r"[0-9]+", "#", line)


def refreshed(expected: list[str], actual: list[str]) -> list[str]:
    """The page's new output: ``actual``, keeping each elision where it was.

    The part before the first ``...`` keeps its size, and so does the part after the last; a part between
    two elisions is found again in ``actual`` by its first line, numbers aside (a citation renumbered or a
    count changed by a pack edit), else the example ends there.
    """
    if ELLIPSIS not in expected:
        return actual
    parts: list[list[str]] = [[]]
    for line in expected:
        if line == ELLIPSIS:
            parts.append([])
        else:
            parts[-1].append(line)
    head, *middle, tail = parts
    if len(actual) <= len(head) + len(tail):
        return actual
    out, at = [*actual[: len(head)]], len(head)
    end = len(actual) - len(tail)
    for part in middle:
        found = next((i for i in range(at, end) if part and _shape(actual[i]) == _shape(part[0])), None)
        if found is None:
            break
        out += [ELLIPSIS, *actual[found : min(found + len(part), end)]]
        at = found + len(part)
    return [*out, ELLIPSIS, *(actual[end:] if tail else [])]


def rewrite(block: Block, outputs: list[tuple[list[str], int]]) -> None:
    """Write ``outputs`` into ``block``'s page in place of the outputs it shows now."""
    lines = block.page.read_text(encoding="utf-8").splitlines()
    indent = FENCE.match(lines[block.start]).group(1)  # type: ignore[union-attr]
    body = []
    for command, (actual, status) in zip(block.commands, outputs, strict=True):
        body.append(f"{indent}$ {command.line}")
        kept = command.expected if matches(command.expected, actual) else refreshed(command.expected, actual)
        body += [f"{indent}{line}" if line else "" for line in kept]
        if status:
            body.append(f"{indent}[exit {status}]")
    lines[block.start + 1 : block.end] = body
    block.page.write_text("\n".join(lines) + "\n", encoding="utf-8")
