"""report.md: verdict first, one compact table, details folded away (fit for a PR comment)."""

from __future__ import annotations

from typing import Any

from .common import COLUMNS, checks_with, row


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("|", "\\|")
        .replace("\n", " ")
    )


def _table(rows: list[list[str]]) -> list[str]:
    head = "| " + " | ".join(COLUMNS) + " |"
    rule = "|" + "|".join("---" if i < 2 else "---:" for i in range(len(COLUMNS))) + "|"
    return [head, rule] + ["| " + " | ".join(_escape(c) for c in r) + " |" for r in rows]


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
    for verdict, title in (("fail", "Broken budgets"), ("inconclusive", "Inconclusive")):
        found = checks_with(report, verdict)
        if found:
            lines += [f"### {title}", ""]
            lines += [f"- `{_escape(n)}`: {_escape(m)}" for n, m in found]
            lines.append("")
    if report.get("errors"):
        lines += ["### Errors", ""]
        lines += [f"- `{_escape(e['nodeid'])}`: {_escape(e['message'])}" for e in report["errors"]]
        lines.append("")
    for warning in report.get("warnings", []):
        lines += [f"> **Warning:** {_escape(warning)}", ""]
    lines += _table([row(e) for e in report["results"]])
    lines += ["", "<details><summary>Every check</summary>", ""]
    for entry in report["results"]:
        node = _escape(entry["nodeid"])
        for check in entry["checks"]:
            lines.append(f"- **{check['verdict']}** `{node}`: {_escape(check['message'])}")
    env = report["environment"]
    settings = report["settings"]
    lines += [
        "",
        "</details>",
        "",
        "<details><summary>Environment and method</summary>",
        "",
        f"- Machine: {_escape(str(env.get('cpu')))}, {env.get('cpu_count')} CPUs, "
        f"{_escape(str(env.get('platform')))}; fingerprint `{env.get('fingerprint')}`",
        f"- Python {env.get('python')}; load average {env.get('load_average')}",
        f"- Confidence {settings.get('confidence')}; max time {settings.get('max_time')} s per "
        f"measurement; percentiles: {_escape(str(settings.get('percentile_method')))}",
        f"- pytest-mlperf {report.get('plugin_version')}, report created {report.get('created')}",
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)
