"""model_bench.load and model_bench.capacity through real pytest runs: markers judge the
result, the report records it, bad input is one clear line, and load tests never overlap under
xdist. Limits are generous or impossible, or the traffic is several times what the model can
serve, so no verdict depends on the machine's speed."""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Suite

LOAD_TESTS = """
@pytest.mark.latency(p50_ms=GENEROUS, mean_ms=GENEROUS)
def test_holds(model_bench):
    result = model_bench.load(lr, X, rps=100, duration_s=1.0)
    assert result.requests > 50 and not result.saturated
    assert result.queue_p95 is not None and result.service_p95 is not None


@pytest.mark.latency(p50_ms=IMPOSSIBLE)
def test_too_slow(model_bench):
    model_bench.load(lr, X, rps=200, duration_s=0.6, workers=2)


def test_predicted(model_bench):
    single = model_bench(lr, X, samples=60, measure_memory=False)
    guess = model_bench.predict_load(single, rps=100, workers=2)
    assert guess.stable and guess.latency_ms["p95"] >= single.latency_min
    loaded = model_bench.load(lr, X, rps=100, duration_s=0.3)
    assert loaded.predictions[0]["from"] == "single calls of LogisticRegression"


@pytest.mark.latency(p95_ms=GENEROUS)
def test_saturated(model_bench):
    # 2 ms calls offered 2,000 requests/s on one worker: four times what it can serve
    model_bench.load(slow, X, rps=2000, duration_s=0.3, timeout_s=0.1)
"""


def test_markers_judge_load_results_and_the_report_records_them(suite: Suite) -> None:
    suite.write(LOAD_TESTS)
    result = suite.run("--mlperf-report=out", "--mlperf-benchmark-json=bench.json", "-v")
    result.assert_outcomes(passed=2, failed=2)
    verdicts = suite.verdicts(suite.report())
    assert verdicts["test_holds"] == [(1, "p50", "pass"), (1, "mean", "pass")]
    assert verdicts["test_too_slow"] == [(1, "p50", "fail")]
    assert verdicts["test_saturated"] == [(1, "p95", "fail")]
    result.stdout.re_match_lines(
        [
            # (a machine that stalls for half a second saturates the run: FAIL all the same)
            r"E?\s*p50 latency .* ms (\[95% CI .*\] > limit 1e-06 ms \(\d+ blocks of \d+ "
            r"requests\)|.* FAIL because the run was saturated .*) \(rps=200, workers=2, "
            r"pool=threads\)",
            r"E?\s*p95 latency .* FAIL because the run was saturated \(\d+ of \d+ requests were "
            r"dropped after waiting more than 0.1 s\) \(rps=2000, workers=1, pool=threads\)",
        ],
        consecutive=False,
    )
    entry = next(e for e in suite.report()["results"] if e["nodeid"].endswith("test_holds"))
    load = entry["load"]
    assert load["pool"] == "threads" and load["workers"] == 1 and load["rps"] == 100
    assert load["saturated"] is False and load["dropped"] == 0
    assert load["requests"] == entry["n_samples"] == len(entry["samples_ms"])
    assert load["blas_threads"] >= 1
    assert load["predicted"]["latency_ms"]["p95"] > 0
    assert set(load["queue_ms"]) == {"mean", "p50", "p95", "p99", "max"}
    # every output shows the runs under load
    result.stdout.fnmatch_lines(
        [
            "load test_holds - LogisticRegression at 100 rps: 100.0 rps offered (* achieved), "
            "1 threads, poisson: p95 * ms (predicted *), p99 * ms; queue p95 * ms, service p95 "
            "* ms; dropped 0, timeouts 0",
            "load test_saturated - slow at 2000 rps: *; SATURATED: * requests were dropped*",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(
        [
            "predicted test_predicted - LogisticRegression: predicted under load at 100.0 rps x "
            "2 worker(s): p95 * ms, p99 * ms (utilisation *)",
            "load test_predicted - *; predicted from the single calls: p95 * ms, p99 * ms *",
        ],
        consecutive=False,
    )
    markdown = (suite.path / "out" / "report.md").read_text(encoding="utf-8")
    assert "<summary>Under load and capacity (5)</summary>" in markdown
    assert "| test | name | rps | achieved | workers | p95 ms | predicted p95 |" in markdown
    html = (suite.path / "out" / "report.html").read_text(encoding="utf-8")
    assert '<section id="load">' in html and html.count("Queueing and service time") == 4
    exported = json.loads((suite.path / "bench.json").read_text(encoding="utf-8"))
    extra = {
        b["name"]: b["extra_info"]["load"]
        for b in exported["benchmarks"]
        if "load" in b["extra_info"]
    }
    assert len(extra) == 4
    assert {info["saturated"] for info in extra.values()} == {True, False}
    single = next(e for e in suite.report()["results"] if "load" not in e)
    assert single["predicted_load"][0]["workers"] == 2


CAPACITY_TESTS = """
SEARCH = dict(p95_ms=50, step_s=0.2, precision=0.5, max_steps=6)


@pytest.mark.throughput(min_rps=1)
def test_capacity_holds(model_bench):
    found = model_bench.capacity(slow, X, **SEARCH)
    assert found.max_rps > 1 and found.bracket[0] == found.max_rps
    assert len(found.curve) >= 2


@pytest.mark.throughput(min_rps=MANY_RPS)
def test_capacity_too_low(model_bench):
    model_bench.capacity(slow, X, **SEARCH)
"""


def test_throughput_marker_asserts_the_measured_capacity(suite: Suite) -> None:
    suite.write(CAPACITY_TESTS)
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=1, failed=1)
    report = suite.report()
    verdicts = suite.verdicts(report)
    assert verdicts["test_capacity_holds"] == [(1, "throughput", "pass")]
    assert verdicts["test_capacity_too_low"] == [(1, "throughput", "fail")]
    entry = report["results"][0]
    capacity = entry["capacity"]
    assert capacity["max_rps"] == entry["load"]["rps"]
    assert capacity["limits"] == {"p95": 50}
    held = [p["rps"] for p in capacity["curve"] if p["held"]]
    assert max(held) == capacity["max_rps"]
    assert capacity["bracket"][1] is not None and capacity["bracket"][1] > capacity["max_rps"]
    result.stdout.fnmatch_lines(
        [
            "*capacity * rows/s [[]bracket *, *[]] < limit 1e+12 rows/s*",
            "capacity test_capacity_holds - slow capacity: capacity * requests/s "
            "[[]bracket *, *[]] within p95 <= 50 ms, 1 threads worker(s); *",
        ]
    )
    html = (suite.path / "out" / "report.html").read_text(encoding="utf-8")
    assert html.count("p95 and p99 latency at each offered rate") == 2


BAD = """
def test_bad_rps(model_bench):
    model_bench.load(lr, X, rps=-5)


def test_bad_pool(model_bench):
    model_bench.load(lr, X, rps=10, pool="gpus")


def test_bad_arrival(model_bench):
    model_bench.load(lr, X, rps=10, arrival="bursty")


def test_bad_duration(model_bench):
    model_bench.load(lr, X, rps=10, duration_s="long")


def test_unpicklable(model_bench):
    model_bench.load(lambda batch: None, X, rps=10, pool="processes")


def test_raises_in_thread(model_bench):
    model_bench.load(boom, X, rps=50, duration_s=0.2)


def test_raises_in_process(model_bench):
    model_bench.load(boom, X, rps=50, duration_s=0.2, pool="processes")


def die(batch):
    import os
    os._exit(3)


def test_worker_dies(model_bench):
    model_bench.load(die, X, rps=50, duration_s=0.5, pool="processes", workers=2)


def test_capacity_without_limit(model_bench):
    model_bench.capacity(lr, X)


def test_capacity_raises(model_bench):
    model_bench.capacity(boom, X, p95_ms=10)
"""


def test_bad_input_fails_the_test_with_one_line(suite: Suite) -> None:
    suite.write(BAD)
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(failed=10)
    suite.assert_clean_error(
        result,
        "*model_bench: rps must be a positive finite number, got -5",
        "*model_bench: pool must be one of 'threads', 'processes', got 'gpus'",
        "*model_bench: arrival must be one of 'poisson', 'constant', got 'bursty'",
        "*model_bench: duration_s must be a positive number, got 'long'",
        "*model_bench: <lambda> cannot be pickled for pool='processes' *; use pool='threads'*",
        "*boom.__call__ raised RuntimeError under load (rps=50, workers=1, pool=threads): "
        "model exploded",
        "*boom.__call__ raised under load (rps=50, workers=1, pool=processes): RuntimeError: model "
        "exploded",
        "*first traceback, from a worker process:",
        "*model_bench: worker process * (pid *) died with exit code 3*",
        "*model_bench: capacity needs a latency limit*",
        "*boom.__call__ raised RuntimeError while timing single calls for the capacity search: "
        "model exploded",
    )
    errors = {e["nodeid"].split("::")[1]: e["message"] for e in suite.report()["errors"]}
    assert set(errors) >= {"test_bad_rps", "test_worker_dies", "test_raises_in_process"}


XDIST = """
import time

import pytest


@pytest.mark.parametrize("k", range(3))
def test_load(model_bench, k):
    calls = []
    model_bench.load(lambda batch: calls.append(time.time()), X, rps=100, duration_s=0.3)
    with open(LOG, "a") as fh:
        fh.write(f"{min(calls)} {max(calls)}\\n")
"""


def test_load_tests_never_overlap_under_xdist(suite: Suite) -> None:
    pytest.importorskip("xdist")
    suite.write(f"LOG = {str(suite.path / 'intervals.log')!r}", XDIST)
    result = suite.run("-n", "2")
    result.assert_outcomes(passed=3)
    lines = (suite.path / "intervals.log").read_text().split("\n")
    spans = sorted(tuple(map(float, line.split())) for line in lines if line)
    assert len(spans) == 3
    # the model's first and last call of each test: one run at a time holds the lock
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start > end, json.dumps(spans)


DISABLED = """
@pytest.mark.latency(p95_ms=IMPOSSIBLE)
@pytest.mark.throughput(min_rps=MANY_RPS)
def test_runs_but_is_not_judged(model_bench):
    loaded = model_bench.load(lr, X, rps=100, workers=2, pool="processes")
    assert loaded.requests <= 20 and loaded.checks == []
    found = model_bench.capacity(lr, X, p95_ms=50)
    assert found.checks == []
"""


def test_disabled_runs_each_model_briefly_and_judges_nothing(suite: Suite) -> None:
    suite.write(DISABLED)
    result = suite.run("--mlperf-disable", "--mlperf-report=out")
    result.assert_outcomes(passed=1)
    assert not (suite.path / "out" / "report.json").exists()
