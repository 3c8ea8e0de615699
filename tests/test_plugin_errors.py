"""Bad input: each a clear error naming the problem, never an INTERNALERROR, and the other
tests of the same run still measured and reported."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Suite

GOOD_TEST = """
@pytest.mark.latency(p95_ms=GENEROUS)
def test_good(model_bench):
    model_bench(lr, X)
"""

# test name: (marker, what the error says after "invalid marker: ")
BAD_MARKERS = {
    "unknown_keyword": (
        "latency(p95=100)",
        "@pytest.mark.latency: unknown argument p95 (did you mean p95_ms?); "
        "accepted: p50_ms, p90_ms, p95_ms, p99_ms, mean_ms",
    ),
    "text": ("latency(p95_ms='fast')", "@pytest.mark.latency: p95_ms must be a number, got 'fast'"),
    "bool": (
        "throughput(min_rps=True)",
        "@pytest.mark.throughput: min_rps must be a number, got True",
    ),
    "negative": (
        "latency(p99_ms=-5)",
        "@pytest.mark.latency: p99_ms must be a positive finite number, got -5",
    ),
    "zero": (
        "memory(max_mb=0)",
        "@pytest.mark.memory: max_mb must be a positive finite number, got 0",
    ),
    "inf": (
        "latency(mean_ms=float('inf'))",
        "@pytest.mark.latency: mean_ms must be a positive finite number, got inf",
    ),
    "nan": (
        "latency(p50_ms=float('nan'))",
        "@pytest.mark.latency: p50_ms must be a positive finite number, got nan",
    ),
    "huge": (
        "memory(max_mb=10**400)",
        "@pytest.mark.memory: max_mb must be a positive finite number, got 1000*",
    ),
    "positional": (
        "latency(100)",
        "@pytest.mark.latency takes keyword arguments only (p50_ms, p90_ms, p95_ms, p99_ms, "
        "mean_ms), got positional (100,)",
    ),
    "no_limit": (
        "latency",
        "@pytest.mark.latency needs at least one limit: p50_ms, p90_ms, p95_ms, p99_ms, mean_ms",
    ),
    "empty_throughput": (
        "throughput()",
        "@pytest.mark.throughput needs at least one limit: min_rps",
    ),
}


def test_invalid_markers_error_their_tests_only(suite: Suite) -> None:
    bad = "".join(
        f"@pytest.mark.{marker}\ndef test_{name}(model_bench):\n    model_bench(lr, X)\n\n"
        for name, (marker, _) in BAD_MARKERS.items()
    )
    numpy_limit = """
    @pytest.mark.latency(p95_ms=np.int64(GENEROUS))  # NumPy numbers are numbers
    def test_numpy_limit(model_bench):
        model_bench(lr, X)
    """
    suite.write(bad, GOOD_TEST, numpy_limit, name="test_user_marks")
    result = suite.run("--mlperf-report=out", "--strict-markers")
    result.assert_outcomes(passed=2, errors=len(BAD_MARKERS))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    suite.assert_clean_error(
        result,
        *(
            f"pytest-mlperf: test_user_marks.py::test_{name}: invalid marker: {message}"
            for name, (_, message) in BAD_MARKERS.items()
        ),
    )
    report = suite.report()
    assert suite.verdicts(report) == {
        "test_good": [(1, "p95", "pass")],
        "test_numpy_limit": [(1, "p95", "pass")],
    }
    assert [e["nodeid"] for e in report["errors"]] == [
        f"test_user_marks.py::test_{name}" for name in BAD_MARKERS
    ]
    assert report["summary"]["verdict"] == "fail"


# test name: (the body, one line of what the run prints)
BAD_CALLS = {
    "no_method": (
        "model_bench(lr, X, method='transform')",
        "*model_bench: LogisticRegression has no method 'transform'; "
        "it has predict, predict_proba, decision_function",
    ),
    "empty_X": (
        "model_bench(lr, X[:0])",
        "*model_bench: X is empty: there is nothing to predict on",
    ),
    "batch_zero": (
        "model_bench(lr, X, batch_size=0)",
        "*model_bench: batch_size must be a positive integer, got 0",
    ),
    "batch_above_rows": (
        "model_bench(lr, X, batch_size=301)",
        "*model_bench: batch_size=301 is larger than the 300 rows of X",
    ),
    "batch_float": (
        "model_bench(lr, X, batch_size=2.5)",
        "*model_bench: batch_size must be a positive integer, got 2.5",
    ),
    "batch_text": (
        "model_bench(lr, X, batch_size='8')",
        "*model_bench: batch_size must be a positive integer, got '8'",
    ),
    "missing_file": (
        "model_bench('no-such-model.joblib', X)",
        "*model_bench: model file not found: no-such-model.joblib",
    ),
    "bad_setting": (
        "model_bench(lr, X, confidence=2)",
        "*model_bench: bad setting: confidence must be a finite number above 0.5 and below 1, "
        "got 2",
    ),
    "raises_in_warm_up": (
        "model_bench(boom, X)",
        "*ModelCallError: boom.__call__ raised RuntimeError during warm-up: model exploded",
    ),
    "raises_while_timed": (
        "model_bench(Exploding(), X, warmup=0, warmup_time=0)",
        "*ModelCallError: Exploding.__call__ raised ValueError during the timed loop: third call",
    ),
    "sweep_too_large": (
        "model_bench.sweep(lr, X, batch_sizes=np.array([1, 2, 500]))",
        "*model_bench: batch_size=500 is larger than the 300 rows of X",
    ),
    "sweep_empty": ("model_bench.sweep(lr, X, batch_sizes=())", "*batch_sizes is empty"),
    "sweep_not_sizes": (
        "model_bench.sweep(lr, X, batch_sizes=8)",
        "*model_bench: batch_sizes must be a sequence such as (1, 8, 32), got 8",
    ),
}

EXPLODING = """
class Exploding:
    calls = 0

    def __call__(self, batch):
        self.calls += 1
        if self.calls == 3:
            raise ValueError("third call")


@pytest.mark.latency(p95_ms=GENEROUS)
def test_never_calls_model_bench():
    pass
"""


def test_bad_model_bench_calls_fail_their_tests_only(suite: Suite) -> None:
    bad = "".join(
        f"@pytest.mark.latency(p95_ms=GENEROUS)\ndef test_{name}(model_bench):\n    {body}\n\n"
        for name, (body, _) in BAD_CALLS.items()
    )
    suite.write(EXPLODING, bad, GOOD_TEST)
    result = suite.run("--mlperf-report=out")
    # test_never_calls_model_bench passes its call and errors at teardown
    result.assert_outcomes(passed=2, failed=len(BAD_CALLS), errors=1)
    suite.assert_clean_error(
        result,
        *(line for _, line in BAD_CALLS.values()),
        "*ERROR at teardown of test_never_calls_model_bench*",
        "pytest-mlperf: test_user_suite.py::test_never_calls_model_bench is marked with latency "
        "but never called the model_bench fixture, so nothing was checked",
        "E *RuntimeError: model exploded",  # the model's own traceback is kept
    )
    assert "During handling of the above exception" not in result.stdout.str()
    report = suite.report()
    # the batch sizes measured before the bad one are kept
    assert suite.verdicts(report) == {
        "test_good": [(1, "p95", "pass")],
        "test_sweep_too_large": [(1, "p95", "pass"), (2, "p95", "pass")],
    }
    errors = {e["nodeid"].split("::")[1] for e in report["errors"]}
    assert {"test_no_method", "test_empty_X", "test_raises_while_timed"} <= errors


def test_report_below_a_file_is_a_usage_error(suite: Suite) -> None:
    suite.write(GOOD_TEST)
    (suite.path / "taken").write_text("a file, not a folder")
    result = suite.run("--mlperf-report=taken/report")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    suite.assert_clean_error(result, "*pytest-mlperf: cannot write the report to 'taken/report': *")


def test_read_only_report_dir_is_a_usage_error(suite: Suite) -> None:
    suite.write(GOOD_TEST)
    folder = suite.path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("this user can write to read-only folders (root)")
        result = suite.run("--mlperf-report=read-only")
    finally:
        folder.chmod(0o755)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    suite.assert_clean_error(result, "*pytest-mlperf: cannot write the report to 'read-only': *")


def test_report_that_cannot_be_written_at_the_end_fails_the_run(suite: Suite) -> None:
    suite.write(
        GOOD_TEST,
        """
        def test_takes_the_folder_away():
            import shutil
            shutil.rmtree("out")
            with open("out", "w") as fh:
                fh.write("now a file")
        """,
    )
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    suite.assert_clean_error(
        result, "pytest-mlperf: ERROR: cannot write the report to 'out': *", "*= 2 passed in *"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "--mlperf-confidence=2",
            "*--mlperf-confidence: expected a confidence above 0.5 and below 1*",
        ),
        ("--mlperf-confidence=abc", "*--mlperf-confidence: expected a number, got 'abc'"),
        ("--mlperf-max-time=-1", "*--mlperf-max-time: expected a positive number, got '-1'"),
        ("--mlperf-max-time=0", "*--mlperf-max-time: expected a positive number, got '0'"),
        ("--mlperf-max-time=inf", "*--mlperf-max-time: expected a positive number, got 'inf'"),
        ("--mlperf-inconclusive=maybe", "*--mlperf-inconclusive: must be one of warn, fail, pass*"),
        # the optional DIR would swallow a test path written after the option
        (
            "--mlperf-report test_x.py",
            "*--mlperf-report: got 'test_x.py', which looks like a test*",
        ),
        ("--mlperf-report t.py::test", "*write --mlperf-report=DIR, or put the test paths before*"),
    ],
)
def test_bad_option_values_are_usage_errors(suite: Suite, option: str, message: str) -> None:
    result = suite.run(*option.split())
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    suite.assert_clean_error(result, message)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("confidence", "1.5", "*mlperf_confidence: expected a confidence above 0.5 and below 1*"),
        ("max_time", "soon", "*mlperf_max_time: expected a number, got 'soon'"),
        ("max_time", "-3", "*mlperf_max_time: expected a positive number, got '-3'"),
        ("inconclusive", "maybe", "*mlperf_inconclusive: must be one of warn, fail, pass*"),
        ("disable", "maybe", "*mlperf_disable: *'maybe'*"),
    ],
)
def test_bad_ini_values_are_usage_errors(suite: Suite, key: str, value: str, message: str) -> None:
    suite.ini(**{key: value})
    result = suite.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    suite.assert_clean_error(result, message)


def test_a_model_that_never_returns_fails_its_test_and_the_run_goes_on(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The measurement's deadline (shortened here from its 300 s floor) ends a hung call."""
    from pytest_mlperf import watchdog

    monkeypatch.setattr(watchdog, "DEADLINE_FLOOR_S", 1.0)
    monkeypatch.setattr(watchdog, "DEADLINE_FACTOR", 0.0)
    suite.write(
        """
        import time

        def hangs(batch):
            time.sleep(60)

        def test_hangs(model_bench):
            model_bench.ab(noop, hangs, X, blocks=2, max_blocks=2, block_calls=20, warmup=0)

        def test_after(model_bench):
            model_bench(noop, X, samples=20)
        """
    )
    started = time.perf_counter()
    result = suite.run("--mlperf-report=out")
    assert time.perf_counter() - started < 30
    result.assert_outcomes(passed=1, failed=1)
    assert "MeasurementTimeout" in result.stdout.str()
    assert "INTERNALERROR" not in result.stdout.str()
    assert [e["nodeid"] for e in suite.report()["results"]] == ["test_user_suite.py::test_after"]
