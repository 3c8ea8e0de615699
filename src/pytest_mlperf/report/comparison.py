"""Text and Markdown tables of regression comparisons (stored runs and side-by-side A/B).

Renderers take :class:`~pytest_mlperf.regression.comparison.Comparison` records (from
``compare_runs``, ``ABResult.comparisons`` or a report's ``comparisons`` via ``comparisons_of``)
and nothing else; the verdict's text is its ``label``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..neutral import neutral
from ..numbers import fmt, p_value
from ..regression.comparison import Comparison, flagged
from .escape import escape_md

COLUMNS = ("test", "batch", "metric", "baseline", "current", "change [CI]", "p", "verdict")


def _short(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1] if "::" in nodeid else nodeid


def _change(c: Comparison) -> str:
    ratio, ci = c.ratio, c.ci
    if ratio is None:
        return "-"
    text = f"{ratio - 1.0:+.1%}"
    if ci:
        text += f" [{ci[0] - 1.0:+.1%}, {ci[1] - 1.0:+.1%}]"
    return text


def comparison_rows(comparisons: Sequence[Comparison]) -> list[list[str]]:
    """One row of strings per comparison, in the order of :data:`COLUMNS`.

    The p-value is the multiple-testing adjusted one where there is one (stored runs).
    """
    rows = []
    for c in comparisons:
        test = _short(c.nodeid)
        if c.name and c.name != test:
            test = f"{test} ({c.name})"
        p = c.p_value if c.p_adjusted is None else c.p_adjusted
        rows.append(
            [
                test,
                "" if c.batch_size is None else str(c.batch_size),
                c.metric,
                "-" if c.baseline is None else f"{fmt(c.baseline)} {c.unit}",
                "-" if c.current is None else f"{fmt(c.current)} {c.unit}",
                _change(c),
                "-" if p is None else p_value(p),
                c.verdict.label,
            ]
        )
    return rows


def comparison_table(comparisons: Sequence[Comparison]) -> str:
    """A plain aligned table followed by one line per regression or warning."""
    rows = [list(COLUMNS), *([neutral(cell) for cell in r] for r in comparison_rows(comparisons))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [neutral(f"{_short(c.nodeid)}: {c.message}") for c in flagged(comparisons)]
    return "\n".join(lines)


def comparison_markdown(comparisons: Sequence[Comparison]) -> str:
    """A GitHub-flavoured Markdown table; regressions and warnings are listed under it."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += [
        "| " + " | ".join(escape_md(cell) for cell in row) + " |"
        for row in comparison_rows(comparisons)
    ]
    shown = flagged(comparisons)
    if shown:
        lines.append("")
        lines += [f"- {escape_md(c.nodeid)}: {escape_md(c.message)}" for c in shown]
    return "\n".join(lines)
