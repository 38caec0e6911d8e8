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


# The UTF-8 starts of the non-ASCII controls above (C1: U+0080-U+009F; bidi: U+202A-U+202E, U+2066-U+2069)
# and the byte range that completes each: how :func:`json_text_utf8` rules them out without decoding.
_UTF8_CONTROL_STARTS = ((b"\xc2", 0x80, 0x9F), (b"\xe2\x80", 0xAA, 0xAE), (b"\xe2\x81", 0xA6, 0xA9))


def json_text_utf8(raw: bytes) -> str:
    """:func:`json_text` of UTF-8 JSON, decoded; its bytes are checked first, since almost none need it.

    A JSON writer has escaped every C0 control already, so only DEL and the multi-byte controls can be
    there; scanning for those is a few ``bytes.find`` calls, the regex a millisecond per 300 KB report.
    """
    if b"\x7f" in raw or (not raw.isascii() and _may_hold_controls(raw)):
        return json_text(raw.decode())
    return raw.decode()


def _may_hold_controls(raw: bytes) -> bool:
    # one-byte needles: bytes.find then uses memchr, ~30x faster here than a two-byte needle
    for start, low, high in _UTF8_CONTROL_STARTS:
        lead, follows = start[:1], len(start)
        hit = raw.find(lead)
        while hit != -1:
            if raw.startswith(start, hit) and hit + follows < len(raw) and low <= raw[hit + follows] <= high:
                return True
            hit = raw.find(lead, hit + 1)
    return False


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
