"""Neutralising user text (names, ids, messages) for every output a terminal or a parser
reads: the terminal summary, Markdown, JUnit XML properties and the console script. Kept tiny
and free of imports, so the plugin can use it without loading the report renderers."""

from __future__ import annotations

import re

# C0 and C1 controls (ANSI escapes start with ESC, 0x1b), DEL, and the bidirectional marks,
# embeddings, overrides and isolates that reorder what a reader sees (Trojan Source).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def neutral(text: object) -> str:
    """`text` with every control character and bidi override shown as a visible escape
    (`\\x1b`, `\\n`, `\\u202e`): nothing a name holds can move the cursor, clear the
    screen, split a table row, reorder a line or make XML ill-formed."""
    return _UNSAFE.sub(_visible, str(text))


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
