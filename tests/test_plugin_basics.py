"""The thin path: a marker, one call of model_bench, a verdict, a report, an exit code."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Suite

PASSING = """
@pytest.mark.latency(p95_ms=GENEROUS)
def test_lr(model_bench):
    result = model_bench(lr, X)
    assert result.latency_p95 < GENEROUS
"""


def test_passing_limit_writes_report(suite: Suite) -> None:
    suite.write(PASSING, name="test_user_fast")
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    report = suite.report()
    assert report["schema"] == "pytest-mlperf/1"
    (entry,) = report["results"]
    assert entry["nodeid"] == "test_user_fast.py::test_lr"
    assert entry["model"] == "LogisticRegression"
    assert entry["outcome"] == "passed"
    assert [c["verdict"] for c in entry["checks"]] == ["pass"]
    assert report["summary"]["verdict"] == "pass"
    assert (suite.path / "out" / "report.md").read_text().startswith("## ")
    result.stdout.fnmatch_lines(["pytest-mlperf: wrote out/report.json"])


def test_report_json_has_the_shape_of_the_design(suite: Suite) -> None:
    suite.write(PASSING)
    suite.run("--mlperf-report=out").assert_outcomes(passed=1)
    report = suite.report()
    top = {"schema", "created", "plugin_version", "environment", "settings", "results"}
    assert top | {"costs", "comparisons", "recommendations", "summary"} <= set(report)
    assert datetime.fromisoformat(report["created"]).tzinfo is not None
    env = report["environment"]
    assert {"python", "platform", "cpu", "packages", "threads", "fingerprint"} <= set(env)
    assert "OMP_NUM_THREADS" in env["threads"]["env"]
    assert {"confidence": 0.95, "max_time": 2.0}.items() <= report["settings"].items()
    (entry,) = report["results"]
    assert {"nodeid", "name", "model", "batch_size", "n_samples", "outcome"} <= set(entry)
    assert set(entry["latency_ms"]) == {"mean", "std", "min", "p50", "p90", "p95", "p99", "max"}
    low, high = entry["ci_ms"]["p95"]
    assert low is None or low <= entry["latency_ms"]["p95"] <= (high or float("inf"))
    assert entry["throughput_rps"] > 0
    assert entry["memory_mb"] >= 0
    # the process holds Python, NumPy and scikit-learn: tens of MB at the very least
    assert entry["rss_mb"] > 20
    (pod,) = [t for t in report["costs"][0]["tiers"] if t["tier"] == "gke"]
    assert pod["sizing"]["memory_mb"] >= entry["rss_mb"]  # sized from the resident memory
    (check,) = entry["checks"]
    assert {"metric": "p95", "limit": 1000, "verdict": "pass"}.items() <= check.items()
    assert check["value"] == pytest.approx(check["value"]) and check["message"]
    summary = report["summary"]
    assert (summary["benchmarks"], summary["failed_checks"], summary["verdict"]) == (1, 0, "pass")


def test_broken_limit_fails_test_with_one_line(suite: Suite) -> None:
    suite.write(
        """
        @pytest.mark.latency(p95_ms=0.001)
        def test_lr(model_bench):
            model_bench(lr, X)
        """,
        name="test_user_slow",
    )
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.re_match_lines(
        [
            # the upper end is n/a when clustered calls leave too few effective calls for it
            r"p95 latency [\d.,]+ ms \[95% CI [\d.,]+, (?:[\d.,]+|n/a)\] > limit 0.001 ms "
            r"\(LogisticRegression, batch=1, n=100\)$",
        ]
    )
    result.stdout.fnmatch_lines(["*= 1 failed in *"])
    report = suite.report()
    assert report["summary"]["verdict"] == "fail"
    assert report["summary"]["failed_checks"] == 1
    assert report["results"][0]["outcome"] == "failed"
