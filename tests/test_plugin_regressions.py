"""Stored baselines, side-by-side A/B, the regression marker and the pytest-benchmark export,
through real pytest runs. Slow-downs are engineered (a busy wait of DELAY_MS, set per run), and
tolerances are either wide or the slow-down is tenfold, so no verdict depends on the machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Suite

DELAYED = """
import os

def delayed(batch):
    # a busy wait of DELAY_MS milliseconds (read on every call, so each run can set it)
    end = time.perf_counter() + float(os.environ.get("DELAY_MS", "1")) / 1000
    while time.perf_counter() < end:
        pass

@pytest.mark.regression(max_pct=50)
def test_delayed(model_bench):
    model_bench(delayed, X, max_samples=200)

@pytest.mark.regression(max_pct=1000)  # unchanged: no amount of machine noise may fail it
def test_steady(model_bench):
    model_bench(slow, X, samples=200)
"""


def stored_runs(suite: Suite) -> list[Path]:
    return sorted((suite.path / ".mlperf").glob("*/0*.json"))  # not machine.json


def test_save_then_compare_fails_only_the_regressed_test(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.write(DELAYED)
    monkeypatch.setenv("DELAY_MS", "1")
    first = suite.run("--mlperf-save=base")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*pytest-mlperf: saved this run as *.mlperf*0001_base.json"])
    (saved,) = stored_runs(suite)
    before = saved.read_bytes()

    monkeypatch.setenv("DELAY_MS", "10")  # ten times slower
    result = suite.run("--mlperf-compare", "--mlperf-report=out")
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # p50 decides, or CPU time per call when other processes held the run off the CPU
    result.stdout.re_match_lines([r"regression: (p50|cpu_time) \+.*\(baseline .*0001_base\.json\)"])
    report = suite.report()
    delayed = {c["metric"]: c for c in report["comparisons"] if "test_delayed" in c["nodeid"]}
    p50 = delayed["p50"]
    assert p50["verdict"] == "regression" or p50["message"].startswith("not judged")
    assert delayed["cpu_time"]["verdict"] == "regression"  # a busy wait: CPU time grew too
    steady = [c for c in report["comparisons"] if "test_steady" in c["nodeid"]]
    assert steady and not any(c["verdict"] == "regression" for c in steady)
    assert report["baseline"]["same_machine"] is True
    assert report["summary"]["regressions"] >= 1
    assert saved.read_bytes() == before  # comparing never touches the stored run


def test_a_corrupted_machine_note_in_the_store_is_named(suite: Suite) -> None:
    suite.write("def test_steady(model_bench):\n    model_bench(noop, X, samples=20)\n")
    suite.run("--mlperf-save").assert_outcomes(passed=1)
    (note,) = (suite.path / ".mlperf").glob("*/machine.json")
    note.write_text('{"fingerprint": "trunc')
    for option in ("--mlperf-compare", "--mlperf-save"):
        result = suite.run(option)
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(
            [f"*WARNING: *{note.parent.name}/machine.json cannot be read (*"]
        )


def test_compare_against_another_machine_only_warns(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.write(DELAYED)
    monkeypatch.setenv("DELAY_MS", "1")
    suite.run("--mlperf-save").assert_outcomes(passed=2)
    (saved,) = stored_runs(suite)
    foreign = json.loads(saved.read_text())
    foreign["environment"]["fingerprint"] = "another-machine"
    other = suite.path / "other.json"
    other.write_text(json.dumps(foreign))

    monkeypatch.setenv("DELAY_MS", "10")
    result = suite.run(f"--mlperf-compare={other}", "--mlperf-report=out")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*measured on another machine: comparisons only warn*"])
    decisive = ("p50", "cpu_time")  # p50 is not judged when the run was contended
    verdicts = {c["verdict"] for c in suite.report()["comparisons"] if c["metric"] in decisive}
    assert "regression" not in verdicts and "warn" in verdicts


def test_new_tests_and_first_runs(suite: Suite) -> None:
    suite.write("def test_steady(model_bench):\n    model_bench(slow, X, samples=50)\n")
    first = suite.run("--mlperf-compare")  # nothing stored yet: a warning, not a failure
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*WARNING: nothing to compare with yet: no stored runs*"])
    suite.run("--mlperf-save").assert_outcomes(passed=1)
    suite.write(
        "def test_new(model_bench):\n    model_bench(noop, X, samples=50)\n", name="test_more"
    )
    result = suite.run("--mlperf-compare", "--mlperf-report=out")
    result.assert_outcomes(passed=2)
    verdicts = {(c["nodeid"], c["verdict"]) for c in suite.report()["comparisons"]}
    assert ("test_more.py::test_new", "new") in verdicts


@pytest.mark.parametrize("content", ["", '{"schema": "pytest-mlperf/1", "results": [', "[]"])
def test_unusable_baseline_is_a_usage_error_naming_the_file(suite: Suite, content: str) -> None:
    suite.write("def test_steady(model_bench):\n    model_bench(noop, X, samples=20)\n")
    bad = suite.path / "bad.json"
    bad.write_text(content)
    result = suite.run(f"--mlperf-compare={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    suite.assert_clean_error(result, f"*pytest-mlperf: {bad}*")
    assert bad.read_text() == content


def test_side_by_side_with_the_regression_marker(suite: Suite) -> None:
    suite.write(
        """
        AB = dict(blocks=6, max_blocks=6, block_calls=20, warmup=2)

        @pytest.mark.regression(max_pct=100)
        def test_same_model(model_bench):
            result = model_bench.ab(slow, slow, X, **AB)
            assert result.verdict in ("SAME", "UNKNOWN", "IMPROVEMENT")

        @pytest.mark.regression(max_pct=50)
        def test_slower_candidate(model_bench):
            def slower(batch):  # 20x: decided even when a busy machine blurs 6 blocks
                for _ in range(20):
                    slow(batch)
            model_bench.ab(slow, slower, X, **AB)

        def test_plain_assert(model_bench):
            result = model_bench.ab(noop, slow, X, **AB)
            assert result.regressed and result.verdict == "REGRESSION"
        """
    )
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=2, failed=1)
    # p95 decides, or CPU time per call when other processes held the run off the CPU
    result.stdout.re_match_lines([r"A/B (p95|cpu_time): regression, candidate/baseline [\d.]+ "])
    comparisons = suite.report()["comparisons"]
    decided = {
        (c["nodeid"].split("::")[1], c["metric"]): (c["verdict"], c["gating"])
        for c in comparisons
        if c["kind"] == "ab" and c["metric"] in ("p95", "cpu_time")
    }
    assert ("regression", True) in (
        decided[("test_slower_candidate", m)] for m in ("p95", "cpu_time")
    )
    # no marker: reported as a warning, not a gate, and so in every output alike
    plain = [decided[("test_plain_assert", m)] for m in ("p95", "cpu_time")]
    assert ("warn", False) in plain and not any(gating for _, gating in plain)
    page = (suite.path / "out" / "report.html").read_text()
    start = page.index("<h2>Regressions")
    listed = page[start : page.index("</table>", start)]
    assert "slower_candidate" in listed and "plain_assert" not in listed
    markdown = (suite.path / "out" / "report.md").read_text().splitlines()
    listed_md = [line for line in markdown if line.startswith("- REGRESSION")]
    assert any("slower" in line for line in listed_md)
    assert not any("plain" in line for line in listed_md)
    assert all(decided[("test_same_model", m)][0] != "regression" for m in ("p95", "cpu_time"))


def test_benchmark_json_export(suite: Suite) -> None:
    suite.write("def test_steady(model_bench):\n    model_bench(noop, X, samples=30)\n")
    suite.run("--mlperf-benchmark-json=bench.json").assert_outcomes(passed=1)
    data = json.loads((suite.path / "bench.json").read_text())
    (bench,) = data["benchmarks"]
    assert bench["fullname"] == "test_user_suite.py::test_steady"
    assert bench["stats"]["rounds"] == 30 and len(bench["stats"]["data"]) == 30
    assert {"machine_info", "commit_info", "datetime", "version"} <= set(data)


def test_a_sweep_in_the_benchmark_json_is_parametrized_by_batch_size(suite: Suite) -> None:
    suite.write("def test_sweep(model_bench):\n    model_bench.sweep(lr, X, (1, 8), samples=30)\n")
    suite.run("--mlperf-benchmark-json=bench.json").assert_outcomes(passed=1)
    benches = json.loads((suite.path / "bench.json").read_text())["benchmarks"]
    assert [b["params"] for b in benches] == [
        {"model": "LogisticRegression", "batch_size": 1},
        {"model": "LogisticRegression", "batch_size": 8},
    ]
    assert [b["param"] for b in benches] == ["LogisticRegression-1", "LogisticRegression-8"]
    for bench in benches:  # what a rows-per-second chart reads (docs/regressions.md)
        rows_per_s = bench["stats"]["ops"] * bench["params"]["batch_size"]
        assert bench["extra_info"]["throughput_rps"] == pytest.approx(rows_per_s, rel=1e-9)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("regression(5)", "*keyword arguments only*"),
        ("regression()", "*needs max_pct*"),
        ("regression(max_pct=-1)", "*max_pct must be a positive finite number*"),
        ("regression(max_ptc=5)", "*unknown argument max_ptc*"),
    ],
)
def test_bad_regression_markers(suite: Suite, marker: str, message: str) -> None:
    suite.write(f"@pytest.mark.{marker}\ndef test_bad(model_bench):\n    model_bench(noop, X)\n")
    result = suite.run()
    result.assert_outcomes(errors=1)
    suite.assert_clean_error(result, "*invalid marker: @pytest.mark.regression*" + message)


def test_misspelled_baseline_name_is_a_usage_error(suite: Suite) -> None:
    suite.write("def test_steady(model_bench):\n    model_bench(noop, X, samples=20)\n")
    suite.run("--mlperf-save=main").assert_outcomes(passed=1)
    result = suite.run("--mlperf-compare=mian")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    suite.assert_clean_error(result, "*--mlperf-compare=mian: *no stored run matches*main*")


def test_loading_a_baseline_leaves_warning_filters_alone(suite: Suite) -> None:
    # forests re-apply every warning filter per tree: filters left behind by an import
    # would make runs with --mlperf-compare slower than runs without it
    suite.write(
        """
        import warnings

        def count_filters(batch):
            with open("filters.txt", "a") as fh:
                fh.write(f"{len(warnings.filters)}\\n")

        def test_filters(model_bench):
            model_bench(count_filters, X, samples=20, warmup=1, warmup_time=0.0)
        """
    )
    suite.run("--mlperf-save").assert_outcomes(passed=1)
    plain = set((suite.path / "filters.txt").read_text().split())
    (suite.path / "filters.txt").unlink()
    suite.run("--mlperf-compare").assert_outcomes(passed=1)
    assert set((suite.path / "filters.txt").read_text().split()) == plain


def test_ab_settings_and_disabled_runs(suite: Suite) -> None:
    suite.write(
        """
        def test_bad_setting(model_bench):
            model_bench.ab(noop, noop, X, block_calls=5)

        def test_disabled_ab_runs(model_bench):
            assert model_bench.ab(noop, noop, X).n_pairs == 2 or not model_bench.disabled
        """
    )
    result = suite.run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["model_bench: bad setting: block_calls must be at least 20*"])
    suite.run("--mlperf-disable").assert_outcomes(passed=2)  # a disabled A/B takes 2 short pairs
