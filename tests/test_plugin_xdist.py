"""pytest-xdist: the workers' results reach one report, the same as a run without workers."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest

from pytest_mlperf.cli import main

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
    # the counts and verdict agree; the machine's stability figures are measured, so they differ
    assert two["summary"].pop("stability") and one["summary"].pop("stability")
    assert two["summary"] == one["summary"]
    assert (one["settings"]["workers"], two["settings"]["workers"]) == (0, 2)
    assert not any("xdist" in w for w in one["warnings"])  # (a busy machine may add a load note)
    assert any("pytest-xdist with 2 workers" in w for w in two["warnings"])
    parallel.stdout.fnmatch_lines(["WARNING: measured under pytest-xdist with 2 workers*"])


def test_a_crashed_worker_loses_only_the_test_it_was_running(suite: Suite) -> None:
    suite.write(
        """
        import os

        def test_measured_first(model_bench):
            model_bench(noop, X, samples=20)

        def test_crashes(model_bench):
            model_bench(noop, X, samples=20)
            os._exit(3)  # the worker dies before it can send anything
        """,
        name="test_same_worker",
    )
    suite.write("def test_elsewhere(model_bench):\n    model_bench(noop, X, samples=20)\n")
    result = suite.run(
        "-n", "2", "--dist=loadfile", "--max-worker-restart=1", "--mlperf-report=out"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = suite.report()
    nodeids = {e["nodeid"] for e in report["results"]}
    assert "test_same_worker.py::test_measured_first" in nodeids  # spooled before the crash
    assert "test_user_suite.py::test_elsewhere" in nodeids
    assert report["lost"] == ["test_same_worker.py::test_crashes"]
    assert any("crashed" in w and "test_crashes" in w for w in report["warnings"])
    # a run that lost a test is not a passing run, here and when rendered or merged again
    assert report["summary"]["verdict"] == "fail"
    saved = str(suite.path / "out" / "report.json")
    assert main(["report", saved]) == 1
    assert main(["merge", saved, "-o", str(suite.path / "merged")]) == 1


def test_serial_measures_one_benchmark_at_a_time(suite: Suite) -> None:
    suite.write(
        """
        import os

        def stamp(batch):
            # every call appends (pid, time) to this worker's file
            with open(f"calls-{os.getpid()}.txt", "a") as fh:
                fh.write(f"{time.perf_counter()}\\n")

        @pytest.mark.parametrize("i", range(4))
        def test_measured(model_bench, i):
            model_bench(stamp, X, samples=60, warmup_time=0.0)
        """
    )
    result = suite.run("-n", "2", "--mlperf-serial", "--mlperf-report=out")
    result.assert_outcomes(passed=4)
    assert any("--mlperf-serial" in w for w in suite.report()["warnings"])
    files = [[float(x) for x in p.read_text().split()] for p in suite.path.glob("calls-*.txt")]
    # each measurement makes the same number of calls (warm-up, timed, between windows,
    # memory), in one go
    per = sum(map(len, files)) // 4
    assert per > 60 and sum(map(len, files)) == 4 * per
    spans = []
    for stamps in files:
        for i in range(0, len(stamps), per):
            chunk = stamps[i : i + per]
            spans.append((chunk[0], chunk[-1]))
    assert len(spans) == 4
    spans.sort()
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
