"""report.md for pull-request comments and $GITHUB_STEP_SUMMARY: verdict first, a compact
table, details folded away, every id escaped, and never over GitHub's 65,536-character limit.

The records are synthetic but built the way the plugin builds them (`build_report`, real cost
estimates); the other report tests import `record` and its helpers from here.
"""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

import pytest

from pytest_mlperf.cost import Workload, estimate_workload
from pytest_mlperf.report.markdown import CHECKS_TITLE, LIMIT, MD_COLUMNS, render_markdown
from pytest_mlperf.results import build_report

HOSTILE = "<script>alert(1)</script>"
ENVIRONMENT = {
    "python": "3.11.7",
    "platform": "Linux-x86_64",
    "cpu": "Test CPU",
    "cpu_count": 4,
    "fingerprint": "abc123",
    "load_average": [0.5, 0.4, 0.3],
}


def result(
    nodeid: str, verdict: str = "pass", *, name: str = "LogisticRegression", batch: int = 1
) -> dict[str, Any]:
    """One `results` entry with one p95 check of the given verdict."""
    p95 = 20.0 if verdict == "fail" else 2.0
    word = {"pass": "<=", "fail": ">", "inconclusive": "?"}[verdict]
    check = {
        "metric": "p95",
        "limit": 10.0,
        "value": p95,
        "verdict": verdict,
        "message": f"p95 latency {p95} ms {word} limit 10 ms ({name}, batch={batch}, n=100)",
        "ci": [p95 * 0.9, p95 * 1.1],
        "n": 100,
    }
    return {
        "nodeid": nodeid,
        "name": name,
        "model": name,
        "method": "predict",
        "batch_size": batch,
        "n_samples": 100,
        "outcome": "failed" if verdict == "fail" else "passed",
        "latency_ms": dict(mean=1.5, std=0.2, min=1.0, p50=1.4, p90=1.9, p95=p95, p99=2.5, max=3.0),
        "ci_ms": {"p95": [p95 * 0.9, p95 * 1.1]},
        "throughput_rps": 650.0 * batch,
        "memory_mb": 1.25,
        "checks": [check],
    }


@functools.cache
def _estimate(batch: int) -> dict[str, Any]:
    return estimate_workload(
        Workload(mean_ms=1.5, p95_ms=2.0, memory_mb=1.25, throughput_rps=650.0, batch_size=batch)
    )


def cost(entry: dict[str, Any]) -> dict[str, Any]:
    """A real cost estimate for a result, labelled as the plugin labels it."""
    return {
        **_estimate(entry["batch_size"]),
        "nodeid": entry["nodeid"],
        "name": entry["name"],
        "model": entry["model"],
    }


def sweep(nodeid: str, name: str = "RandomForestClassifier", best: int | None = 32) -> dict:
    curve = [
        {"batch_size": b, "throughput_rps": 400.0 * b, "latency_p95": 2.0 + b / 8, "verdict": v}
        for b, v in ((1, "pass"), (8, "pass"), (32, "pass"), (64, "fail"))
    ]
    return {
        "nodeid": nodeid,
        "name": name,
        "model": name,
        "requested": [1, 8, 32, 64],
        "curve": curve,
        "best_batch_size": best,
        "stop_reason": "stopped at batch 64: p95 over its limit",
    }


def comparison(nodeid: str, verdict: str, metric: str = "p95", ratio: float = 1.5) -> dict:
    """A stored-run comparison entry with the fields `Comparison.to_dict` writes."""
    return {
        "kind": "stored",
        "nodeid": nodeid,
        "name": "LogisticRegression",
        "batch_size": 1,
        "metric": metric,
        "unit": "ms",
        "baseline": 2.0,
        "current": 2.0 * ratio,
        "ratio": ratio,
        "ci": [ratio * 0.95, ratio * 1.05],
        "p_value": 0.001,
        "p_adjusted": 0.004,
        "verdict": verdict,
        "gating": True,
        "message": f"{verdict}: {metric} {ratio - 1:+.0%}",
    }


def record(results: list[dict[str, Any]], **sections: Any) -> dict[str, Any]:
    """A report record as the plugin writes it; `sections` are build_report's keywords."""
    settings = {"confidence": 0.95, "max_time": 2.0, "inconclusive": "warn"}
    return build_report(
        results, ENVIRONMENT, settings, created="2026-11-26T06:00:00+00:00",
        plugin_version="0.1.0", **sections,
    )  # fmt: skip


def full_record(n: int, failing: int = 3) -> dict[str, Any]:
    """n results (the first `failing` fail) with costs, sweeps, comparisons and advice."""
    results = [
        result(f"tests/test_m.py::test_model[{i}]", "fail" if i < failing else "pass")
        for i in range(n)
    ]
    return record(
        results,
        costs=[cost(e) for e in results],
        sweeps=[sweep(e["nodeid"]) for e in results[: max(1, n // 10)]],
        comparisons=[comparison(results[0]["nodeid"], "regression")]
        + [comparison(e["nodeid"], "same", ratio=1.0) for e in results[1:]],
        recommendations=[
            f"model {i}: use batch size 32 for 4x the rows per second" for i in range(n)
        ],
        warnings=["measured under pytest-xdist with 2 workers"],
    )


def to_html(markdown: str) -> str:
    """GitHub-like rendering: CommonMark with raw HTML allowed, plus tables."""
    markdown_it = pytest.importorskip("markdown_it")
    return str(markdown_it.MarkdownIt("commonmark").enable("table").render(markdown))


def sections(markdown: str) -> list[str]:
    """Titles of the top-level <details> sections (the cost section nests its own)."""
    titles, depth = [], 0
    for line in markdown.splitlines():
        opened = re.match(r"<details><summary>(.*?)</summary>", line)
        if opened and depth == 0:
            titles.append(opened.group(1))
        depth += line.count("<details>") - line.count("</details>")
    return titles


# --- layout -----------------------------------------------------------------------------------


def test_verdict_first_then_broken_budgets_then_the_table() -> None:
    report = full_record(12)
    text = render_markdown(report)
    lines = text.splitlines()
    assert lines[0] == "## ❌ pytest-mlperf: FAIL"
    assert lines[2].startswith("12 benchmarks, 12 checks: 3 failed")
    order = [text.index(s) for s in ("### Broken budgets", "### Regressions", "| verdict | test")]
    assert order == sorted(order)
    assert text.index("| verdict | test") < text.index("<details>")
    html = to_html(text)
    assert html.count("<table>") >= 2  # the results table and tables inside the details
    results_table = html.split("<table>")[1]
    assert results_table.count("<tr>") == 1 + 12


def test_every_detail_is_a_collapsed_section_that_still_renders_markdown() -> None:
    text = render_markdown(full_record(5))
    titles = sections(text)
    assert [t.split(":")[0] for t in titles] == [CHECKS_TITLE, "Comparisons",
        "Monthly cost estimates", "Batch-size sweeps (1)", "Recommendations",
        "Environment and method"]  # fmt: skip
    assert titles[1] == "Comparisons: 1 regression, 4 same"
    assert titles[2].startswith("Monthly cost estimates: total over 5 benchmarks (recommended")
    assert text.count("<details>") == text.count("</details>")
    # a blank line after <summary> so GitHub renders the tables and lists inside
    for match in re.finditer(r"</summary>\n(.)", text):
        assert match.group(1) == "\n"
    assert "Note:" not in text  # nothing was shortened


def test_sweeps_show_the_curve_best_batch_and_stop_reason() -> None:
    none_passed = sweep("t.py::test_b", name="Ridge", best=None)
    text = render_markdown(
        record([result("t.py::test_a")], sweeps=[sweep("t.py::test_a"), none_passed])
    )
    assert (
        "- test\\_a (RandomForestClassifier): best batch size 32: 12,800 rows/s, p95 6.000 ms; "
        "stopped at batch 64: p95 over its limit"
    ) in text
    assert "- test\\_b (Ridge): no batch size passed its latency limits;" in text
    assert "| batch | rows/s | p95 ms | verdict |" in text
    assert "| 64 | 25,600 | 10.00 | fail |" in text


def test_recommendations_of_any_shape_are_rendered_never_raise() -> None:
    advice = [
        "use batch size 32",
        {"nodeid": "t.py::test_a", "sentence": "prune to 40 trees: p95 -35%"},
        {"model": "Ridge", "message": "quantize the weights"},
        {
            "nodeid": "t.py::test_c",
            "technique": "batch",
            "text": "batch 8 calls",
            "recommended": False,
        },
        {"model": "Forest", "recommendations": ["first", "second"]},
        {"unexpected": [1, 2]},
        42,
        None,
    ]
    text = render_markdown(record([result("t.py::test_a")], recommendations=advice))
    for line in (
        "- use batch size 32",
        "- test\\_a: prune to 40 trees: p95 -35%",
        "- Ridge: quantize the weights",
        "- test\\_c: batch 8 calls",
        "- Forest: first",
        "- Forest: second",
        '- {"unexpected": \\[1, 2\\]}',
        "- 42",
        "- null",
    ):
        assert line in text.splitlines()


def test_merged_report_names_its_shards() -> None:
    report = record([result("t.py::test_a")])
    report["shards"] = [
        {"source": "a/report.json", "environment": {"fingerprint": "aaa"}},
        {"source": "b/report.json", "environment": {"fingerprint": "bbb"}},
    ]
    text = render_markdown(report)
    assert "- Shard 1: b/report.json, machine bbb" in text


# --- escaping ---------------------------------------------------------------------------------


def test_hostile_ids_and_messages_are_text_not_markup() -> None:
    nodeid = f"t.py::test_x[{HOSTILE}|*bold*|`code`]"
    bad = result(nodeid, "fail", name=f"<img src=x onerror=alert(1)>|{HOSTILE}")
    bad["checks"][0]["message"] = f"{HOSTILE}\n| injected | row |"
    report = record(
        [bad, result("t.py::test_ok")],
        errors=[{"nodeid": nodeid, "message": HOSTILE}],
        warnings=[HOSTILE],
        sweeps=[sweep(nodeid, name=HOSTILE)],
        comparisons=[comparison(nodeid, "regression"), comparison(nodeid, "same")],
        recommendations=[HOSTILE, {"nodeid": nodeid, "sentence": HOSTILE}],
        costs=[cost(bad)],
    )
    text = render_markdown(report)
    html = to_html(text)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text
    results_table = html.split("<table>")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", results_table, re.S)
    assert len(rows) == 3  # header + 2: the message's newline and pipes made no new row
    assert all(row.count("<td") == len(MD_COLUMNS) for row in rows[1:])  # and no new cell


# --- the size limit ---------------------------------------------------------------------------


def test_two_thousand_results_fit_with_a_note_verdict_and_broken_budgets_kept() -> None:
    report = full_record(2000, failing=25)
    text = render_markdown(report)
    assert len(text) <= len(text.encode("utf-8")) <= LIMIT
    lines = text.splitlines()
    assert lines[0] == "## ❌ pytest-mlperf: FAIL"
    note = next(line for line in lines if line.startswith("> **Note:**"))
    assert "65,536-character limit" in note and "report.json and report.html" in note
    assert lines.index(note) < 8  # said before anything is missed
    for i in range(25):  # every broken budget
        assert f"test\\_model\\[{i}\\]: p95 latency 20.0 ms &gt; limit" in text
    assert "### Regressions" in text
    assert CHECKS_TITLE not in sections(text)  # raw detail went first
    assert text.count("<details>") == text.count("</details>")
    table = to_html(text).split("<table>")[1].split("</table>")[0]
    assert table.count("<tr>") >= 1 + 25  # the failing results stayed in the table
    assert "more results in report.json and report.html" in text


def test_details_are_dropped_in_order_raw_detail_first() -> None:
    report = full_record(40, failing=2)
    full = render_markdown(report, limit=10**9)
    seen, compact_costs = [sections(full)], False
    for limit in range(len(full.encode()), 1_200, -1_500):
        text = render_markdown(report, limit=limit)
        assert len(text.encode()) <= limit
        assert text.startswith("## ❌ pytest-mlperf: FAIL")
        assert "### Broken budgets" in text and "test\\_model\\[1\\]" in text
        compact_costs |= (
            "Line items" not in text
            and CHECKS_TITLE in sections(text)
            and ("| benchmark | batch | recommended tier | monthly |" in text)
        )
        if sections(text) != seen[-1]:
            seen.append(sections(text))
    gone = [s for before, after in itertools.pairwise(seen) for s in before if s not in after]
    words = [s.split(":")[0].split(" (")[0] for s in gone]
    order = ["Every check", "Recommendations", "Monthly cost estimates",
             "Batch-size sweeps", "Comparisons", "Environment and method"]  # fmt: skip
    assert len(words) >= 5 and words == order[: len(words)]  # the page fits before the last
    assert compact_costs  # before anything vanished, the cost tables became one summary table


def test_when_even_the_broken_budgets_are_too_many_they_are_clipped_with_a_count() -> None:
    report = record([result(f"t.py::test_{i}", "fail") for i in range(2000)])
    text = render_markdown(report)
    assert len(text.encode("utf-8")) <= LIMIT
    assert text.startswith("## ❌ pytest-mlperf: FAIL\n\n2000 benchmarks, 2000 checks: 2000 failed")
    more = re.search(r"- … and ([\d,]+) more failed checks in report.json", text)
    assert more is not None
    shown = text.count(": p95 latency 20.0 ms &gt;")
    assert shown + int(more.group(1).replace(",", "")) == 2000


def test_an_absurd_single_line_still_leaves_a_page_with_the_verdict() -> None:
    report = record([result("t.py::test_" + "x" * 100_000, "fail")])
    text = render_markdown(report)
    assert len(text.encode("utf-8")) <= LIMIT
    assert text.startswith("## ❌ pytest-mlperf: FAIL")
    assert "report.json and report.html have everything" in text


# GitHub renders a comment in a column about 852 px wide, at 14 px: a generous 8 px per
# character and 13 px of padding on each side of a cell.
COMMENT_COLUMN_PX, CHAR_PX, CELL_PADDING_PX = 852, 8, 26


def test_verdict_and_p95_show_in_a_pr_comment_column_without_scrolling() -> None:
    long = result(
        "examples/test_batch_and_memory.py::test_knn_memory_for_a_batch_of_256",
        "inconclusive",
        name="Pipeline(StandardScaler > KNeighborsClassifier)",
    )
    long["ci_ms"]["p95"] = [13.29, None]
    lines = render_markdown(record([long, result("t.py::test_a")])).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| verdict"))
    rows = [
        [cell.strip().replace("\\", "") for cell in line.strip("|").split(" | ")]
        for line in lines[start:]
        if line.startswith("|") and not line.startswith("|---")
    ]
    header = rows[0]
    assert header[:3] == ["verdict", "test", "p95 ms"]
    widths = [max(len(r[i]) for r in rows) * CHAR_PX + CELL_PADDING_PX for i in range(3)]
    assert sum(widths) <= COMMENT_COLUMN_PX
    assert "INCONCLUSIVE" in rows[1] and "13.29, n/a" in " ".join(rows[1])
    assert "each check quotes its figure" in "\n".join(lines)
