"""Escaping of user-controlled text (test ids, names, messages) for Markdown."""

from __future__ import annotations

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
        "\n": " ",
        "\r": " ",
    }
)


def escape_md(text: object) -> str:
    """Text safe inside Markdown (and the HTML it becomes): no formatting, tags or cell breaks."""
    return str(text).translate(_MD_SPECIAL)
