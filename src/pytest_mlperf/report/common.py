"""Helpers shared by the text renderers: one row per result, verdict words, number format."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from ..numbers import fmt as num

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


COLUMNS = (
    "test",
    "model",
    "batch",
    "n",
    "p50 ms",
    "p95 ms [CI]",
    "p99 ms",
    "rows/s",
    "MB",
    "verdict",
)


def result_verdict(entry: dict[str, Any]) -> str:
    verdicts = {c["verdict"] for c in entry["checks"]}
    if "fail" in verdicts:
        return "FAIL"
    if "inconclusive" in verdicts:
        return "INCONCLUSIVE"
    return "pass" if verdicts else "-"


def short_test(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1] if "::" in nodeid else nodeid


def _clip(text: str, width: int = 40) -> str:
    """Long names (a Pipeline's steps) would stretch the whole table."""
    return text if len(text) <= width else text[: width - 1] + "…"


def p95_with_ci(entry: dict[str, Any]) -> str:
    lo, hi = (entry.get("ci_ms", {}).get("p95") or [None, None])[:2]
    text = num(entry["latency_ms"]["p95"])
    if lo is None and hi is None:
        return text
    return f"{text} [{num(lo)}, {num(hi)}]"


def row(entry: dict[str, Any]) -> list[str]:
    lat = entry["latency_ms"]
    memory = entry.get("memory_mb")
    return [
        short_test(entry["nodeid"]),
        _clip(
            entry["name"]
            if entry["name"] == entry["model"]
            else f"{entry['name']} ({entry['model']})"
        ),
        str(entry["batch_size"]),
        str(entry["n_samples"]),
        num(lat["p50"]),
        p95_with_ci(entry),
        num(lat["p99"]),
        num(entry["throughput_rps"]),
        "-" if memory is None else num(memory, 3),
        result_verdict(entry),
    ]


def checks_with(report: dict[str, Any], verdict: str) -> list[tuple[str, str]]:
    """(nodeid, message) of every check with this verdict."""
    return [
        (e["nodeid"], c["message"])
        for e in report["results"]
        for c in e["checks"]
        if c["verdict"] == verdict
    ]


def text_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], left: Collection[int] = (0, 1)
) -> list[str]:
    """A plain-text table: the `left` columns left-aligned (names), the rest right (figures)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), line(["-" * w for w in widths]), *map(line, rows)]
