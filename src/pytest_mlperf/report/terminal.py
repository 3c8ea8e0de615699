"""The summary printed at the end of the run: tables when asked for, problems always."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..neutral import neutral
from ..regression.comparison import Comparison, comparisons_of
from ..regression.comparison import ComparisonVerdict as Verdict
from ..results import RunVerdict
from .common import (
    COLUMNS,
    checks_with,
    comparison_line,
    regression_count,
    row,
    stability_line,
    sweep_line,
    text_table,
    verdict_counts,
)
from .comparison import comparison_table
from .cost import cost_terminal_lines
from .load import terminal_lines as load_lines


def _comparison_lines(comparisons: list[Comparison], *, quiet: bool, verbose: bool) -> list[str]:
    """Regressions, warnings and improvements one line each (-q: regressions only); the whole
    table with -v."""
    if quiet:
        return [neutral(comparison_line(c)) for c in comparisons if c.fails_run]
    if not comparisons:
        return []
    head = f"pytest-mlperf comparisons: {verdict_counts(comparisons)}"
    if verbose:
        return [head, comparison_table(comparisons), ""]
    shown = [c for c in comparisons if c.verdict.flagged or c.verdict is Verdict.IMPROVEMENT]
    return [head, *(neutral(comparison_line(c)) for c in shown), ""]


def render_terminal(
    report: Mapping[str, Any], *, verbose: bool = False, quiet: bool = False
) -> list[str]:
    """Lines for the terminal summary; under -q only broken budgets, regressions and errors."""
    summary = report["summary"]
    comparisons = comparisons_of(report)
    lines: list[str] = []
    if not quiet and report["results"]:
        lines += text_table(COLUMNS, [row(e) for e in report["results"]])
        steadiness = stability_line(report)
        lines += [steadiness] if steadiness else []
        lines.append("")
    loads = [] if quiet else load_lines(report["results"])
    if loads:
        lines += [*loads, ""]
    if not quiet and report.get("sweeps"):
        lines += [neutral(f"sweep {sweep_line(s)}") for s in report["sweeps"]]
        lines.append("")
    if not quiet and report.get("costs"):
        costs = cost_terminal_lines(report["costs"], detail=verbose, verbose=verbose)
        lines += [neutral(line) for line in costs]
        lines.append("")
    lines += _comparison_lines(comparisons, quiet=quiet, verbose=verbose)
    for nodeid, message in checks_with(report, "fail"):
        lines.append(neutral(f"FAIL {nodeid}: {message}"))
    # Inconclusive checks fail the run only under --mlperf-inconclusive=fail; -q hides the rest.
    if not quiet or report["settings"].get("inconclusive") == "fail":
        for nodeid, message in checks_with(report, "inconclusive"):
            lines.append(neutral(f"INCONCLUSIVE {nodeid}: {message}"))
    for error in report.get("errors") or []:
        lines.append(neutral(f"ERROR {error['nodeid']}: {error['message']}"))
    lines += [neutral(f"LOST {nodeid}: its worker crashed") for nodeid in report.get("lost") or []]
    if report.get("interrupted"):
        lines.append("INTERRUPTED: the run was stopped before its end: this report is partial")
    budget = report.get("budget")
    if budget and (not quiet or budget["verdict"] == "fail"):
        lines.append(
            neutral(f"SESSION BUDGET {RunVerdict.label_of(budget['verdict'])}: {budget['message']}")
        )
    if not quiet:
        lines += [neutral(f"WARNING: {warning}") for warning in report.get("warnings") or []]
    if verbose:
        lines += [
            neutral(f"pass {nodeid}: {message}") for nodeid, message in checks_with(report, "pass")
        ]
    if not quiet or summary["verdict"] != "pass":
        lines.append(
            f"pytest-mlperf: {summary['benchmarks']} benchmarks, {summary['checks']} checks, "
            f"{summary['failed_checks']} failed, {summary['inconclusive_checks']} inconclusive"
            f"{regression_count(report)} -> {RunVerdict.label_of(summary['verdict'])}"
        )
    return lines
