"""report.md: verdict first, one compact table, details folded away (fit for a PR comment)."""

from __future__ import annotations

from typing import Any

from .common import COLUMNS, checks_with, escape_md, row
from .cost import cost_markdown


def _table(rows: list[list[str]]) -> list[str]:
    head = "| " + " | ".join(COLUMNS) + " |"
    rule = "|" + "|".join("---" if i < 2 else "---:" for i in range(len(COLUMNS))) + "|"
    return [head, rule] + ["| " + " | ".join(escape_md(c) for c in r) + " |" for r in rows]


def render_markdown(report: dict[str, Any]) -> str:
    summary = report["summary"]
    icon = "✅" if summary["verdict"] == "pass" else "❌"
    lines = [
        f"## {icon} pytest-mlperf: {summary['verdict'].upper()}",
        "",
        f"{summary['benchmarks']} benchmarks, {summary['checks']} checks: "
        f"{summary['failed_checks']} failed, {summary['inconclusive_checks']} inconclusive, "
        f"{summary.get('errors', 0)} errors.",
        "",
    ]
    budget = report.get("budget")
    if budget:
        lines += [f"**Session budget: {budget['verdict']}** — {escape_md(budget['message'])}", ""]
    for verdict, title in (("fail", "Broken budgets"), ("inconclusive", "Inconclusive")):
        found = checks_with(report, verdict)
        if found:
            lines += [f"### {title}", ""]
            lines += [f"- {escape_md(n)}: {escape_md(m)}" for n, m in found]
            lines.append("")
    errors = report.get("errors", [])
    if errors:
        lines += ["### Errors", ""]
        lines += [
            f"- {escape_md(e['nodeid'])}: {escape_md(e['message'])}" for e in report["errors"]
        ]
        lines.append("")
    for warning in report.get("warnings", []):
        lines += [f"> **Warning:** {escape_md(warning)}", ""]
    lines += _table([row(e) for e in report["results"]])
    if report.get("costs"):
        lines += ["", cost_markdown(report["costs"])]
    lines += ["", "<details><summary>Every check</summary>", ""]
    for entry in report["results"]:
        node = escape_md(entry["nodeid"])
        for check in entry["checks"]:
            lines.append(f"- **{check['verdict']}** {node}: {escape_md(check['message'])}")
    env = report["environment"]
    settings = report["settings"]
    lines += [
        "",
        "</details>",
        "",
        "<details><summary>Environment and method</summary>",
        "",
        f"- Machine: {escape_md(str(env.get('cpu')))}, {env.get('cpu_count')} CPUs, "
        f"{escape_md(str(env.get('platform')))}; fingerprint `{env.get('fingerprint')}`",
        f"- Python {env.get('python')}; load average {env.get('load_average')}",
        f"- Confidence {settings.get('confidence')}; max time {settings.get('max_time')} s per "
        f"measurement; percentiles: {escape_md(str(settings.get('percentile_method')))}",
        f"- pytest-mlperf {report.get('plugin_version')}, report created {report.get('created')}",
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)
