"""Text and Markdown tables of regression comparisons (stored runs and side-by-side A/B).

Renderers take the comparison records of ``baseline.compare_runs`` / ``ABResult.comparisons``
and nothing else, like the other renderers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..neutral import neutral
from ..numbers import fmt, p_value
from .escape import escape_md

COLUMNS = ("test", "batch", "metric", "baseline", "current", "change [CI]", "p", "verdict")


def _short(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1] if "::" in nodeid else nodeid


def _change(c: Mapping[str, Any]) -> str:
    ratio, ci = c.get("ratio"), c.get("ci")
    if ratio is None:
        return "-"
    text = f"{ratio - 1.0:+.1%}"
    if ci:
        text += f" [{ci[0] - 1.0:+.1%}, {ci[1] - 1.0:+.1%}]"
    return text


def _verdict(c: Mapping[str, Any]) -> str:
    verdict = str(c["verdict"])
    return verdict.upper() if verdict in ("regression", "warn") else verdict


def comparison_rows(comparisons: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """One row of strings per comparison, in the order of :data:`COLUMNS`.

    The p-value is the multiple-testing adjusted one where there is one (stored runs).
    """
    rows = []
    for c in comparisons:
        unit = c.get("unit") or ""
        test = _short(str(c["nodeid"]))
        if c.get("name") and c["name"] != test:
            test = f"{test} ({c['name']})"
        p = c.get("p_adjusted")
        if p is None:
            p = c.get("p_value")
        rows.append(
            [
                test,
                str(c.get("batch_size", "")),
                str(c["metric"]),
                "-" if c.get("baseline") is None else f"{fmt(c['baseline'])} {unit}",
                "-" if c.get("current") is None else f"{fmt(c['current'])} {unit}",
                _change(c),
                "-" if p is None else p_value(p),
                _verdict(c),
            ]
        )
    return rows


def comparison_table(comparisons: Sequence[Mapping[str, Any]]) -> str:
    """A plain aligned table followed by one line per regression or warning."""
    rows = [list(COLUMNS), *([neutral(cell) for cell in r] for r in comparison_rows(comparisons))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [
        neutral(f"{_short(str(c['nodeid']))}: {c['message']}")
        for c in comparisons
        if c["verdict"] in ("regression", "warn")
    ]
    return "\n".join(lines)


def comparison_markdown(comparisons: Sequence[Mapping[str, Any]]) -> str:
    """A GitHub-flavoured Markdown table; regressions and warnings are listed under it."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += [
        "| " + " | ".join(escape_md(cell) for cell in row) + " |"
        for row in comparison_rows(comparisons)
    ]
    flagged = [c for c in comparisons if c["verdict"] in ("regression", "warn")]
    if flagged:
        lines.append("")
        lines += [f"- {escape_md(c['nodeid'])}: {escape_md(c['message'])}" for c in flagged]
    return "\n".join(lines)
