"""pytest-xdist: the workers' results reach one report, the same as a run without workers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Suite

pytest.importorskip("xdist")

SEVERAL = """
@pytest.mark.latency(p95_ms=GENEROUS, p99_ms=GENEROUS)
def test_lr(model_bench):
    model_bench(lr, X)

@pytest.mark.latency(p50_ms=IMPOSSIBLE)
def test_too_slow(model_bench):
    model_bench(tree, X)

@pytest.mark.throughput(min_rps=1)
def test_sweep(model_bench):
    model_bench.sweep(lr, X, batch_sizes=(1, 8))

@pytest.mark.latency(p95_ms=GENEROUS)
def test_undecided(model_bench):
    model_bench(noop, X, max_samples=5)

@pytest.mark.memory(max_mb=GENEROUS)
def test_two_calls(model_bench):
    model_bench(lr, X, method="predict_proba")
    model_bench(noop, X)

@pytest.mark.latency(p95=1)
def test_bad_marker(model_bench):
    model_bench(lr, X)

@pytest.mark.latency(p95_ms=GENEROUS)
def test_bad_call(model_bench):
    model_bench(lr, X[:0])
"""


def _summary(report: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {
        (e["nodeid"], e["model"], e["batch_size"], e["outcome"], *verdicts)
        for e in report["results"]
        for verdicts in [[(c["metric"], c["verdict"]) for c in e["checks"]]]
    }


def test_two_workers_report_what_one_process_reports(suite: Suite) -> None:
    suite.write(SEVERAL)
    serial = suite.run("-n", "0", "--mlperf-report=serial")
    parallel = suite.run("-n", "2", "--mlperf-report=parallel")
    for result in (serial, parallel):
        result.assert_outcomes(passed=4, failed=2, errors=1, warnings=1)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
    one, two = suite.report("serial"), suite.report("parallel")
    assert len(one["results"]) == 7
    assert _summary(two) == _summary(one)
    assert [e["nodeid"] for e in two["results"]] == [e["nodeid"] for e in one["results"]]
    assert sorted(map(str, two["errors"])) == sorted(map(str, one["errors"]))
    assert two["summary"] == one["summary"]
    assert (one["settings"]["workers"], two["settings"]["workers"]) == (0, 2)
    assert one["warnings"] == []
    assert any("pytest-xdist with 2 workers" in w for w in two["warnings"])
    parallel.stdout.fnmatch_lines(["WARNING: measured under pytest-xdist with 2 workers*"])
