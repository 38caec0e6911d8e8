"""Make pack and case text inert where it is shown: on a terminal and in Markdown.

Case and pack files are written by people other than the one reading the output (a teacher's overlay, a
shared case). Their text is data: an escape sequence in a title must not move the cursor or recolour a
terminal, and a ``<script>`` or ``[link](javascript:...)`` in a rule title must stay text when the
Markdown catalogue is rendered. (The HTML presenter embeds JSON and builds nodes with ``textContent``.)
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the bidirectional
# overrides that make text display in another order than it reads ("Trojan source").
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]|#])")


def terminal_text(text: str) -> str:
    """``text`` without control characters: an ESC sequence loses its ESC and prints as plain text."""
    return _CONTROLS.sub("", text)


def json_text(encoded: str) -> str:
    r"""JSON text with the controls JSON leaves raw (DEL, C1, bidi overrides) written as ``\uXXXX``.

    Only strings can hold them, so the document means exactly the same; a terminal just never sees them.
    """
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def markdown_text(text: str) -> str:
    """``text`` as one line of inert Markdown: HTML entities, escaped Markdown punctuation, no controls.

    Newlines become spaces so text cannot start a heading, list or HTML block of its own.
    """
    flat = " ".join(terminal_text(text).split())
    html = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html)


def markdown_code(text: str) -> str:
    """``text`` for inside a Markdown code span (backticks cannot end the span early)."""
    return " ".join(terminal_text(text).replace("`", "'").split())
