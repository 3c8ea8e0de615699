"""Escaping of user-controlled text (test ids, names, messages) for Markdown."""

from __future__ import annotations

from ..neutral import neutral

_MD_SPECIAL = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "|": "\\|",
        "#": "\\#",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
    }
)


def escape_md(text: object) -> str:
    """Text safe inside Markdown (and the HTML it becomes): no formatting, tags or cell breaks."""
    flat = " ".join(str(text).splitlines())  # a line break would end a table row
    return neutral(flat).translate(_MD_SPECIAL)
