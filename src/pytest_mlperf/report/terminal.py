"""The table printed at the end of the run."""

from __future__ import annotations

from typing import Any

from .common import COLUMNS, checks_with, row, text_table
from .cost import cost_terminal_lines


def render_terminal(
    report: dict[str, Any], *, verbose: bool = False, quiet: bool = False
) -> list[str]:
    """Lines for the terminal summary; under -q only broken budgets and errors."""
    summary = report["summary"]
    lines: list[str] = []
    if not quiet and report["results"]:
        lines += text_table(COLUMNS, [row(e) for e in report["results"]])
        lines.append("")
    if not quiet and report.get("costs"):
        lines += cost_terminal_lines(report["costs"], detail=verbose, verbose=verbose)
        lines.append("")
    for nodeid, message in checks_with(report, "fail"):
        lines.append(f"FAIL {nodeid}: {message}")
    for nodeid, message in checks_with(report, "inconclusive"):
        lines.append(f"INCONCLUSIVE {nodeid}: {message}")
    for error in report.get("errors", []):
        lines.append(f"ERROR {error['nodeid']}: {error['message']}")
    budget = report.get("budget")
    if budget:
        lines.append(f"SESSION BUDGET {budget['verdict'].upper()}: {budget['message']}")
    for warning in report.get("warnings", []):
        lines.append(f"WARNING: {warning}")
    if verbose:
        lines += [f"pass {nodeid}: {message}" for nodeid, message in checks_with(report, "pass")]
    if not quiet or summary["verdict"] != "pass":
        lines.append(
            f"pytest-mlperf: {summary['benchmarks']} benchmarks, {summary['checks']} checks, "
            f"{summary['failed_checks']} failed, {summary['inconclusive_checks']} inconclusive"
            f" -> {summary['verdict'].upper()}"
        )
    return lines
