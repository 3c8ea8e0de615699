"""The terminal summary: comparisons one line each, one line per sweep, and quiet under -q
(only broken budgets, regressions and errors)."""

from __future__ import annotations

from typing import Any

import pytest
from test_markdown import comparison, record, result, sweep
from test_regression import entry, run, stream

from pytest_mlperf.regression.compare import compare_runs
from pytest_mlperf.report.terminal import render_terminal


@pytest.fixture(scope="module")
def compared() -> list[dict[str, Any]]:
    """Real stored-run comparisons: test_a twice as slow, test_b twice as fast, test_c
    unchanged."""
    base = run(*(entry(f"t.py::test_{x}", stream(i)) for i, x in enumerate("abc")))
    new = run(
        entry("t.py::test_a", stream(5, 2.0)),
        entry("t.py::test_b", stream(6, 0.5)),
        entry("t.py::test_c", stream(7)),
    )
    return [c.to_dict() for c in compare_runs(new, base)]


def test_comparisons_are_counted_and_listed_one_line_each(compared: list[dict]) -> None:
    lines = render_terminal(record([result("t.py::test_a")], comparisons=compared))
    head = next(line for line in lines if line.startswith("pytest-mlperf comparisons:"))
    assert head == "pytest-mlperf comparisons: 3 improvement, 3 regression, 6 same"
    listed = [line for line in lines if line.startswith(("REGRESSION ", "improvement "))]
    assert [line.split(":")[0] for line in listed] == [
        "REGRESSION test_a (M) batch 1",
    ] * 3 + ["improvement test_b (M) batch 1"] * 3
    assert any(line.startswith("REGRESSION test_a (M) batch 1: p95 +") for line in listed)
    assert not any("test_c" in line for line in lines)  # unchanged: counted, not listed
    assert lines[-1].endswith("0 inconclusive, 3 regressions -> FAIL")


def test_verbose_prints_the_whole_comparison_table(compared: list[dict]) -> None:
    lines = render_terminal(record([result("t.py::test_a")], comparisons=compared), verbose=True)
    text = "\n".join(lines)
    assert any(line.split()[:3] == ["test", "batch", "metric"] for line in lines)
    assert text.count("test_c (M)") == 4  # every metric of the unchanged test


def test_one_line_per_sweep_with_best_batch_rows_per_second_and_stop_reason() -> None:
    report = record(
        [result("t.py::test_a")],
        sweeps=[sweep("t.py::test_a"), sweep("t.py::test_b", name="Ridge", best=None)],
    )
    lines = render_terminal(report)
    assert (
        "sweep test_a (RandomForestClassifier): best batch size 32: 12,800 rows/s, p95 6.000 ms; "
        "stopped at batch 64: p95 over its limit"
    ) in lines
    assert any(line.startswith("sweep test_b (Ridge): no batch size passed") for line in lines)


def _noisy_record(**overrides: Any) -> dict[str, Any]:
    """A failing run with something of every kind to print."""
    sections: dict[str, Any] = {
        "errors": [{"nodeid": "t.py::test_err", "message": "model exploded"}],
        "warnings": ["measured under pytest-xdist with 2 workers"],
        "sweeps": [sweep("t.py::test_a")],
        "comparisons": [
            comparison("t.py::test_a", "regression"),
            comparison("t.py::test_a", "improvement", "p50", 0.5),
            comparison("t.py::test_a", "warn", "throughput", 0.8) | {"gating": False},
        ],
        **overrides,
    }
    results = [
        result("t.py::test_a"),
        result("t.py::test_slow", "fail"),
        result("t.py::test_unsure", "inconclusive"),
    ]
    return record(results, **sections)


def test_quiet_prints_only_broken_budgets_regressions_and_errors() -> None:
    lines = render_terminal(_noisy_record(), quiet=True)
    assert [line.split(" ")[0] for line in lines] == [
        "REGRESSION",
        "FAIL",
        "ERROR",
        "pytest-mlperf:",
    ]
    assert lines[-1].endswith("-> FAIL")
    normal = render_terminal(_noisy_record())
    for word in ("INCONCLUSIVE", "WARNING:", "improvement", "WARN", "sweep", "test"):
        assert any(line.startswith(word) for line in normal), word


def test_quiet_shows_inconclusive_checks_when_they_fail_the_run() -> None:
    report = _noisy_record()
    report["settings"]["inconclusive"] = "fail"
    assert any(line.startswith("INCONCLUSIVE") for line in render_terminal(report, quiet=True))


def test_quiet_shows_the_session_budget_only_when_broken() -> None:
    for verdict, shown in (("warn", False), ("fail", True)):
        budget = {"verdict": verdict, "message": "$900/month over $500"}
        lines = render_terminal(record([result("t.py::test_a")], budget=budget), quiet=True)
        assert any(line.startswith("SESSION BUDGET") for line in lines) == shown


def test_quiet_passing_run_prints_nothing() -> None:
    report = record([result("t.py::test_a")], sweeps=[sweep("t.py::test_a")], warnings=["w"])
    assert render_terminal(report, quiet=True) == []
