"""Every marker passing and failing, several measurements per test, sweeps, kinds of model,
and markers on classes and modules: all through real pytest runs of real models."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Suite

NUM = r"(?:[\d,]+(?:\.\d+)?|n/a)"  # how the plugin prints a figure (numbers.fmt)
CI = rf"\[95% CI {NUM}, {NUM}\]"

ALL_MARKERS = """
@pytest.mark.latency(p50_ms=GENEROUS, p90_ms=GENEROUS, p95_ms=GENEROUS, p99_ms=GENEROUS,
                     mean_ms=GENEROUS)
@pytest.mark.throughput(min_rps=1)
@pytest.mark.memory(max_mb=GENEROUS)
def test_all_pass(model_bench):
    result = model_bench(lr, X)
    assert result.passed
    assert [c.verdict for c in result.checks] == ["pass"] * 7
"""


def test_every_marker_passes_with_generous_limits(suite: Suite) -> None:
    suite.write(ALL_MARKERS)
    result = suite.run("--mlperf-report=out", "--strict-markers", "-v")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    metrics = ["p50", "p90", "p95", "p99", "mean", "throughput", "memory"]
    assert suite.verdicts(suite.report())["test_all_pass"] == [(1, m, "pass") for m in metrics]
    # -v lists every passing check with its figure, interval, limit and context
    passed = "pass test_user_suite.py::test_all_pass: "
    context = r" \(LogisticRegression, batch=1(, n=\d+)?\)$"
    result.stdout.re_match_lines(
        [
            rf"{passed}p95 latency {NUM} ms {CI} <= limit 1000 ms{context}",
            rf"{passed}throughput {NUM} rows/s {CI} >= limit 1 rows/s{context}",
            rf"{passed}memory {NUM} MB <= limit 1000 MB{context}",
        ],
        consecutive=False,
    )


# (marker, model, the one-line message of its broken limit)
BROKEN = {
    "p50": ("latency(p50_ms=IMPOSSIBLE)", "lr", "p50 latency", "ms", ">", "1e-06"),
    "p90": ("latency(p90_ms=IMPOSSIBLE)", "lr", "p90 latency", "ms", ">", "1e-06"),
    "p95": ("latency(p95_ms=IMPOSSIBLE)", "lr", "p95 latency", "ms", ">", "1e-06"),
    "p99": ("latency(p99_ms=IMPOSSIBLE)", "lr", "p99 latency", "ms", ">", "1e-06"),
    "mean": ("latency(mean_ms=IMPOSSIBLE)", "lr", "mean latency", "ms", ">", "1e-06"),
    "throughput": ("throughput(min_rps=MANY_RPS)", "lr", "throughput", "rows/s", "<", "1e+12"),
}


def test_each_broken_limit_fails_its_test_with_one_line(suite: Suite) -> None:
    tests = [
        f"@pytest.mark.{marker}\ndef test_{metric}(model_bench):\n    model_bench({model}, X)\n"
        for metric, (marker, model, *_) in BROKEN.items()
    ]
    tests.append(
        "@pytest.mark.memory(max_mb=0.5)\n"
        "def test_memory(model_bench):\n    model_bench(allocate, X)\n"
    )
    suite.write("\n\n".join(tests))
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(failed=len(BROKEN) + 1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    expected = [
        rf"{what} {NUM} {unit} {CI} {op} limit {re.escape(limit)} {unit} "
        r"\(LogisticRegression, batch=1, n=\d+\)$"
        for _, _, what, unit, op, limit in BROKEN.values()
    ]
    expected.append(rf"memory {NUM} MB > limit 0.5 MB \(allocate, batch=1\)$")
    result.stdout.re_match_lines(expected, consecutive=False)
    result.stdout.fnmatch_lines([f"*= {len(BROKEN) + 1} failed in *"])
    report = suite.report()
    verdicts = suite.verdicts(report)
    for metric in [*BROKEN, "memory"]:
        assert verdicts[f"test_{metric}"] == [(1, metric, "fail")]
    assert report["summary"]["failed_checks"] == len(BROKEN) + 1
    assert {e["outcome"] for e in report["results"]} == {"failed"}


def test_several_measurements_in_one_test_are_all_reported_and_checked(suite: Suite) -> None:
    suite.write(
        """
        def slower(batch):  # 10 ms a call, 20x the limit
            for _ in range(5):
                slow(batch)

        # far from both models: on a loaded machine the intervals widen 5-10x around p95
        @pytest.mark.latency(p95_ms=0.5)
        def test_two_models(model_bench):
            fast = model_bench(noop, X, name="fast")
            slow_result = model_bench(slower, X)
            assert fast.passed and not slow_result.passed
        """
    )
    # a verdict needs 100 calls: 1 s of this model when quiet, 2-3 s on a loaded machine
    result = suite.run("--mlperf-report=out", "--mlperf-max-time=10")
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines(
        [rf"p95 latency {NUM} ms {CI} > limit 0.5 ms \(slower, batch=1, n=\d+\)$"]
    )
    assert "(noop, batch=1" not in result.stdout.str()  # its check passed: not a failure
    entries = suite.report()["results"]
    assert [(e["name"], e["model"]) for e in entries] == [("fast", "noop"), ("slower", "slower")]
    assert [[c["verdict"] for c in e["checks"]] for e in entries] == [["pass"], ["fail"]]
    assert {e["outcome"] for e in entries} == {"failed"}


def test_sweep_reports_every_batch_size_and_recommends_one(suite: Suite) -> None:
    suite.write(
        """
        @pytest.mark.latency(p95_ms=GENEROUS)
        def test_sweep(model_bench):
            sweep = model_bench.sweep(lr, X, batch_sizes=(1, 4, 16))
            assert [r.batch_size for r in sweep] == [1, 4, 16]
            fastest = max(sweep, key=lambda r: r.throughput_rps)
            assert sweep.best_batch_size == fastest.batch_size

        @pytest.mark.latency(p95_ms=IMPOSSIBLE)
        def test_sweep_nothing_fits(model_bench):
            sweep = model_bench.sweep(tree, X, batch_sizes=[1, 2])
            assert sweep.best_batch_size is None
            assert sweep.stop_reason == "latency limit crossed at batch 1"

        def test_sweep_without_limits(model_bench):
            assert model_bench.sweep(noop, X, batch_sizes=(2,)).best_batch_size == 2
        """
    )
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.re_match_lines(
        [rf"p95 latency {NUM} ms {CI} > limit 1e-06 ms \(DecisionTreeClassifier, batch=1, "]
    )
    verdicts = suite.verdicts(suite.report())
    assert verdicts["test_sweep"] == [(1, "p95", "pass"), (4, "p95", "pass"), (16, "p95", "pass")]
    assert verdicts["test_sweep_nothing_fits"] == [(1, "p95", "fail")]  # stopped at batch 1
    (sweep,) = [s for s in suite.report()["sweeps"] if s["nodeid"].endswith("nothing_fits")]
    assert [point["batch_size"] for point in sweep["curve"]] == [1]
    assert verdicts["test_sweep_without_limits"] == []  # measured and reported, nothing checked


def test_callables_other_methods_and_joblib_files(suite: Suite) -> None:
    suite.write(
        """
        import joblib

        pytestmark = pytest.mark.latency(p95_ms=GENEROUS)

        def test_callable(model_bench):
            model_bench(noop, X)

        def test_lambda(model_bench):
            model_bench(lambda batch: lr.predict(batch), X, batch_size=8)

        def test_predict_proba(model_bench):
            result = model_bench(lr, X, method="predict_proba")
            assert result.method == "predict_proba"

        @pytest.mark.parametrize("as_text", [True, False])
        def test_joblib_file(model_bench, tmp_path, as_text):
            path = tmp_path / "model.joblib"
            joblib.dump(tree, path)
            model_bench(str(path) if as_text else path, X)
        """
    )
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=5)
    entries = {e["nodeid"].split("::")[1]: e for e in suite.report()["results"]}
    seen = {name: (e["model"], e["method"], e["batch_size"]) for name, e in entries.items()}
    assert seen == {
        "test_callable": ("noop", "__call__", 1),
        "test_lambda": ("<lambda>", "__call__", 8),
        "test_predict_proba": ("LogisticRegression", "predict_proba", 1),
        "test_joblib_file[True]": ("DecisionTreeClassifier", "predict", 1),
        "test_joblib_file[False]": ("DecisionTreeClassifier", "predict", 1),
    }
    assert all(e["checks"][0]["verdict"] == "pass" for e in entries.values())


def test_markers_on_modules_and_classes_apply_and_the_closest_wins(suite: Suite) -> None:
    suite.write(
        """
        pytestmark = pytest.mark.latency(p95_ms=IMPOSSIBLE)

        def test_module_limit(model_bench):
            model_bench(lr, X)

        @pytest.mark.latency(p50_ms=GENEROUS)
        @pytest.mark.memory(max_mb=GENEROUS)
        class TestGroup:
            def test_inherits(self, model_bench):
                model_bench(lr, X)

            @pytest.mark.latency(p95_ms=GENEROUS)  # relaxes the module's p95 for this test
            def test_relaxed(self, model_bench):
                model_bench(lr, X)
        """
    )
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=1, failed=2)
    verdicts = {name: sorted(rows) for name, rows in suite.verdicts(suite.report()).items()}
    assert verdicts == {
        "test_module_limit": [(1, "p95", "fail")],
        "TestGroup::test_inherits": [(1, "memory", "pass"), (1, "p50", "pass"), (1, "p95", "fail")],
        "TestGroup::test_relaxed": [(1, "memory", "pass"), (1, "p50", "pass"), (1, "p95", "pass")],
    }


def test_markers_are_registered(suite: Suite) -> None:
    result = suite.run("--markers")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.latency(p50_ms=..., p90_ms=..., p95_ms=..., p99_ms=..., mean_ms=...): "
            "pytest-mlperf: *",
            "@pytest.mark.throughput(min_rps=...): pytest-mlperf: *",
            "@pytest.mark.memory(max_mb=...): pytest-mlperf: *",
        ],
        consecutive=False,
    )
