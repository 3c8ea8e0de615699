"""The cost section of the terminal summary and report.md, rendered from JSON entries only."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from pytest_mlperf.cost import Assumptions, estimate_for_result
from pytest_mlperf.cost.tiers import POD_MIN_MB
from pytest_mlperf.report.cost import cost_markdown, cost_terminal_lines
from pytest_mlperf.report.escape import escape_md

PODS = ("aws_eks", "gke")


def entry(**changes: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "nodeid": "tests/test_fraud.py::test_fraud_model",
        "name": "LogisticRegression",
        "model": "LogisticRegression",
        "batch_size": 1,
        "latency_ms": {"mean": 60.0, "p50": 55.0, "p95": 80.0, "p99": 95.0},
        "throughput_rps": 15.0,
        "memory_mb": 300.0,
    }
    rec.update(changes)
    result = estimate_for_result(rec, Assumptions(requests_per_month=5e6))
    # renderers must work on what report.json holds, not on Python objects
    loaded: dict[str, Any] = json.loads(json.dumps(result))
    return loaded


def test_terminal_lines_show_every_tier_the_recommendation_and_sensitivity() -> None:
    e = entry()
    lines = cost_terminal_lines([e])
    text = "\n".join(lines)
    assert "list prices as of 2026-11-26" in lines[0]
    assert "test_fraud_model - LogisticRegression" in text
    assert "one predict call on 1 row(s)" in text
    for row in e["tiers"]:
        assert row["tier"] in text
    recommended = e["recommended"]
    assert f"* {recommended}" in text
    assert f"recommended: {recommended} at ${e['recommended_monthly_usd']:,.2f}/month" in text
    assert "sensitivity: peak x0.5" in text and "traffic x10" in text
    assert e["sensitivity"]["summary"] in text
    assert "no: the model does not need a GPU" in text
    assert "duration (x86_64)" not in text  # line items only when verbose
    verbose = "\n".join(cost_terminal_lines([e], verbose=True))
    assert "aws_lambda: duration (x86_64) [usage]" in verbose
    assert "[provisioned]" in verbose and "assumptions: utilisation" in verbose


def test_terminal_summary_is_one_line_per_benchmark() -> None:
    a, b = entry(), entry(nodeid="t.py::test_other", name="Forest")
    lines = cost_terminal_lines([a, b], detail=False)
    assert lines[1].split() == [
        "test",
        "model",
        "batch",
        "requests/month",
        "recommended",
        "monthly",
        "serverless",
        "cheaper",
        "up",
        "to",
    ]
    rows = [line for line in lines if line.startswith(("test_fraud_model", "test_other"))]
    assert len(rows) == 2
    assert all(a["recommended"] in row and "$" in row for row in rows)
    assert "(every tier, sizing and line items: -v, or report.md)" in lines


def test_terminal_totals_several_benchmarks_and_warns_when_stale() -> None:
    a, b = entry(), entry(nodeid="t.py::test_other", name="Forest")
    a["stale_warning"] = b["stale_warning"] = "prices may be stale"
    lines = cost_terminal_lines([a, b])
    total = a["recommended_monthly_usd"] + b["recommended_monthly_usd"]
    assert f"total over 2 benchmarks (recommended tiers): ${total:,.2f}/month" in lines
    assert lines.count("WARNING: prices may be stale") == 1
    assert cost_terminal_lines([]) == []


def test_markdown_has_the_table_line_items_assumptions_and_sensitivity() -> None:
    e = entry()
    md = cost_markdown([e])
    assert md.startswith("### Monthly cost estimates")
    assert "| tier | monthly | provisioned | usage | sizing | p95 ms | eligible |" in md
    assert f"**{escape_md(e['recommended'])}**" in md
    assert "yes (recommended)" in md
    assert "<details><summary>Line items (provisioned vs usage)</summary>" in md
    assert "| provisioned |" in md and "| usage |" in md
    assert "<details><summary>Assumptions</summary>" in md
    assert "Prices as of 2026-11-26 (USD)" in md
    assert "**Sensitivity:**" in md
    assert "no discounts, no taxes" in md
    assert cost_markdown([]) == ""


def test_markdown_escapes_user_text() -> None:
    e = entry(
        nodeid="tests/t.py::test_x[<script>alert(1)</script>|*bold*]",
        name="Model_<b>|`tick`",
    )
    md = cost_markdown([e])
    assert "<script>" not in md and "<b>" not in md
    assert "&lt;script&gt;" in md
    assert "\\|\\*bold\\*" in md and "\\`tick\\`" in md
    for line in md.splitlines():
        if line.startswith("| ") and "LogisticRegression" not in line:
            assert line.count(" | ") == line.replace("\\|", "").count(" | ")


def test_markdown_shows_the_stale_warning_and_a_missing_recommendation() -> None:
    e = estimate_for_result(
        {"latency_ms": {"mean": 60, "p95": 80}, "name": "m"},
        latency_limit_ms=1,
        today=dt.date(2030, 1, 1),
    )
    md = cost_markdown([json.loads(json.dumps(e))])
    assert "> **Warning:** prices as of 2026-11-26 are" in md
    assert "**No tier recommended:** no eligible tier" in md
    text = "\n".join(cost_terminal_lines([e]))
    assert "no tier recommended" in text and "WARNING: prices as of" in text


def test_escape_md_neutralises_markdown_and_html() -> None:
    assert escape_md("a|b*c_d[e](f)<g>&`h`\nx") == (
        "a\\|b\\*c\\_d\\[e\\](f)&lt;g&gt;&amp;\\`h\\` x"
    )


def test_pods_have_a_real_memory_request_and_no_figure_reads_in_scientific_notation() -> None:
    tiny = entry(memory_mb=2.8e-05, latency_ms={"mean": 0.01, "p50": 0.01, "p95": 2e-5})
    text = "\n".join([cost_markdown([tiny]), *cost_terminal_lines([tiny], detail=True)])
    assert re.search(r"\d[eE][+-]?\d", text) is None, text
    pods = {t["tier"]: t["sizing"]["summary"] for t in tiny["tiers"] if t["tier"] in PODS}
    assert set(pods) == set(PODS)
    for summary in pods.values():
        assert re.search(rf"vCPU/{POD_MIN_MB:,.0f} MB on ", summary), summary
    big = entry(memory_mb=300.0)  # one call at a time on 1 vCPU, times the memory headroom
    need = f"vCPU/{300.0 * Assumptions().memory_headroom:,.0f} MB on "
    for tier in big["tiers"]:
        if tier["tier"] in PODS:
            assert need in tier["sizing"]["summary"], tier["sizing"]


def test_replicas_hold_the_resident_memory_unless_base_memory_is_set() -> None:
    measured = entry(memory_mb=1.0, rss_mb=600.0)
    headroom = Assumptions().memory_headroom
    pods = [t["sizing"]["summary"] for t in measured["tiers"] if t["tier"] in PODS]
    assert all(f"vCPU/{(600.0 + 1.0) * headroom:,.0f} MB on " in p for p in pods), pods
    assert any("resident memory of the process" in n for n in measured["notes"])
    record = {
        "latency_ms": {"mean": 60.0, "p95": 80.0},
        "memory_mb": 1.0,
        "rss_mb": 600.0,
        "name": "m",
    }
    chosen = estimate_for_result(record, Assumptions(base_memory_mb=400.0))
    pods = [t["sizing"]["summary"] for t in chosen["tiers"] if t["tier"] in PODS]
    assert all(f"vCPU/{(400.0 + 1.0) * headroom:,.0f} MB on " in p for p in pods), pods
    assert not any("resident memory of the process" in n for n in chosen["notes"])
