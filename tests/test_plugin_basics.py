"""The thin path: a marker, one call of model_bench, a verdict, a report, an exit code."""

from __future__ import annotations

import json

import pytest


def test_passing_limit_writes_report(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_fast="""
        import pytest
        from models import lr, X

        @pytest.mark.latency(p95_ms=500)
        def test_lr(model_bench):
            result = model_bench(lr, X)
            assert result.latency_p95 < 500
        """
    )
    result = suite.runpytest("--mlperf-report=out", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    report = json.loads((suite.path / "out" / "report.json").read_text())
    assert report["schema"] == "pytest-mlperf/1"
    (entry,) = report["results"]
    assert entry["nodeid"] == "test_fast.py::test_lr"
    assert entry["model"] == "LogisticRegression"
    assert [c["verdict"] for c in entry["checks"]] == ["pass"]
    assert report["summary"]["verdict"] == "pass"
    assert (suite.path / "out" / "report.md").read_text().startswith("## ")


def test_broken_limit_fails_test_with_one_line(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_slow="""
        import pytest
        from models import lr, X

        @pytest.mark.latency(p95_ms=0.001)
        def test_lr(model_bench):
            model_bench(lr, X)
        """
    )
    result = suite.runpytest("--mlperf-report=out")
    result.assert_outcomes(failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.re_match_lines(
        [
            r"p95 latency [\d.]+ ms \[95% CI [\d.]+, n/a\] > limit 0.001 ms "
            r"\(LogisticRegression, batch=1, n=20\)$",
        ]
    )
    result.stdout.fnmatch_lines(["*1 failed in*"])
    report = json.loads((suite.path / "out" / "report.json").read_text())
    assert report["summary"]["verdict"] == "fail"
    assert report["results"][0]["outcome"] == "failed"
