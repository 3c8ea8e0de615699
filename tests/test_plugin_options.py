"""Options and their ini twins, --mlperf-disable, INCONCLUSIVE policies, the terminal table,
$GITHUB_STEP_SUMMARY and exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Suite

PASSING = """
@pytest.mark.latency(p95_ms=GENEROUS)
def test_lr(model_bench):
    model_bench(lr, X)
"""

FAILING = """
@pytest.mark.latency(p95_ms=IMPOSSIBLE)
def test_too_slow(model_bench):
    model_bench(lr, X)
"""

# Deterministically undecided: one timed call is too few for any verdict (with a tiny
# --mlperf-max-time), and so are five (a sample cap passed to model_bench).
UNDECIDED = """
@pytest.mark.latency(p95_ms=GENEROUS)
def test_capped(model_bench):
    result = model_bench(lr, X, max_samples=5)
    assert result.n_samples == 5
"""


def test_report_option_without_a_value_writes_to_mlperf_report(suite: Suite) -> None:
    suite.write(PASSING)
    result = suite.run("--mlperf-report")
    result.assert_outcomes(passed=1)
    assert suite.report("mlperf-report")["results"][0]["nodeid"] == "test_user_suite.py::test_lr"
    assert (suite.path / "mlperf-report" / "report.md").is_file()
    result.stdout.fnmatch_lines(["pytest-mlperf: wrote mlperf-report/report.json"])


def test_without_report_option_nothing_is_written_but_the_table_is_shown(suite: Suite) -> None:
    suite.write(PASSING)
    result = suite.run()
    result.assert_outcomes(passed=1)
    assert list(suite.path.rglob("report.*")) == []
    result.stdout.fnmatch_lines(
        [
            "*= pytest-mlperf =*",
            "test * model * batch * n * p50 ms * p95 ms [[]CI] * p99 ms * rows/s * MB * verdict",
            "test_lr * LogisticRegression * 1 * pass",
            "pytest-mlperf: 1 benchmarks, 1 checks, 0 failed, 0 inconclusive -> PASS",
            "*= 1 passed in *",
        ]
    )


def _settings_and_level(report: dict[str, Any]) -> tuple[Any, ...]:
    """(confidence, max_time, inconclusive) of the run, and the CI level its messages quote."""
    settings = report["settings"]
    message = report["results"][0]["checks"][0]["message"]
    level = message.split("% CI")[0].rsplit("[", 1)[1]
    return settings["confidence"], settings["max_time"], settings["inconclusive"], level


def test_ini_twins_are_used_and_the_command_line_wins(suite: Suite) -> None:
    suite.ini(report="ini-out", confidence=0.9, inconclusive="pass", max_time=3)
    suite.write(PASSING)
    # from a sub-folder, as pytest's cache_dir: the ini's report folder is under the rootdir
    sub = suite.path / "sub"
    sub.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sub)
        suite.run(str(suite.path)).assert_outcomes(passed=1)
    assert _settings_and_level(suite.report("ini-out")) == (0.9, 3.0, "pass", "90")

    args = ("--mlperf-report=cli-out", "--mlperf-confidence=0.99", "--mlperf-inconclusive=fail")
    suite.run(*args, "--mlperf-max-time=4").assert_outcomes(passed=1)
    assert _settings_and_level(suite.report("cli-out")) == (0.99, 4.0, "fail", "99")
    # an empty value on the command line turns off the ini's report
    (suite.path / "ini-out" / "report.json").unlink()
    result = suite.run("--mlperf-report=")
    result.assert_outcomes(passed=1)
    assert not (suite.path / "ini-out" / "report.json").exists()
    # ... and says so, rather than leaving the user to look for a report
    result.stdout.fnmatch_lines(["*--mlperf-report= is empty: no report is written"])


DISABLED = """
@pytest.mark.latency(p95_ms=IMPOSSIBLE)
@pytest.mark.memory(max_mb=IMPOSSIBLE)
def test_runs_once(model_bench):
    model = Counter()
    result = model_bench(model, X)
    assert model.calls == 1 and result.n_samples == 1 and result.memory_mb is None

@pytest.mark.latency(p95_ms=IMPOSSIBLE)
def test_sweep_runs_each_size_once(model_bench):
    model = Counter()
    assert len(model_bench.sweep(model, X, batch_sizes=(1, 4))) == 2
    assert model.calls == 2

@pytest.mark.latency(p95_ms=IMPOSSIBLE)
def test_still_catches_broken_models(model_bench):
    model_bench(lr, X, method="transform")

@pytest.mark.latency(p95_ms=GENEROUS)
def test_never_calls_model_bench():
    pass
"""


@pytest.mark.parametrize("how", ["option", "ini"])
def test_disable_runs_each_model_once_and_checks_nothing(suite: Suite, how: str) -> None:
    suite.write(DISABLED)
    if how == "ini":
        suite.ini(disable="true")
    result = suite.run("--mlperf-report=out", *(["--mlperf-disable"] if how == "option" else []))
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*model_bench: LogisticRegression has no method 'transform'*"])
    assert not (suite.path / "out").exists()
    result.stdout.no_fnmatch_line("*= pytest-mlperf =*")


@pytest.mark.parametrize(
    ("policy", "outcome", "code"),
    [
        (None, "passed", pytest.ExitCode.OK),
        ("warn", "passed", pytest.ExitCode.OK),
        ("fail", "failed", pytest.ExitCode.TESTS_FAILED),
        ("pass", "passed", pytest.ExitCode.OK),
    ],
)
def test_inconclusive_policies(
    suite: Suite, policy: str | None, outcome: str, code: pytest.ExitCode
) -> None:
    suite.write(
        UNDECIDED,
        """
        @pytest.mark.throughput(min_rps=1)
        def test_one_call(model_bench):
            result = model_bench(lr, X, max_time=1e-9)  # stops after the first timed call
            assert result.n_samples == 1
        """,
    )
    args = ["--mlperf-report=out"] + ([f"--mlperf-inconclusive={policy}"] if policy else [])
    result = suite.run(*args)
    result.assert_outcomes(**{outcome: 2})
    assert result.ret == code
    message = (
        r"p95 latency {N} ms \[95% CI {N}, n/a\]: no verdict on limit 1000 ms after only 5 calls "
        r"\(stopped by sample cap\); a PASS needs at least 100 calls "
    ).format(N=r"[\d.,]+") + r"\(LogisticRegression, batch=1, n=5\)"
    result.stdout.re_match_lines([rf"INCONCLUSIVE test_user_suite.py::test_capped: {message}$"])
    warned = "MlperfInconclusiveWarning" in result.stdout.str()
    assert warned == (policy in (None, "warn"))
    if policy in (None, "warn"):
        result.stdout.fnmatch_lines(
            [
                "*= warnings summary =*",
                # the warning names the test's own line that called model_bench
                "*/test_user_suite.py:?: MlperfInconclusiveWarning: inconclusive: *n=5)",
            ]
        )
    if policy == "fail":
        result.stdout.re_match_lines([message + "$"])  # the failure's one line
    report = suite.report()
    assert suite.verdicts(report) == {
        "test_capped": [(1, "p95", "inconclusive")],
        "test_one_call": [(1, "throughput", "inconclusive")],
    }
    assert report["summary"]["inconclusive_checks"] == 2
    assert {e["outcome"] for e in report["results"]} == {outcome}


def test_tiny_max_time_option_leaves_latency_limits_undecided(suite: Suite) -> None:
    suite.write(PASSING)
    result = suite.run("--mlperf-max-time=1e-9", "--mlperf-report=out")
    result.assert_outcomes(passed=1, warnings=1)
    (entry,) = suite.report()["results"]
    assert (entry["n_samples"], entry["checks"][0]["verdict"]) == (1, "inconclusive")


def test_markdown_is_appended_to_github_step_summary(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = suite.path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    suite.write(PASSING, FAILING)
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=1, failed=1)
    text = summary.read_text(encoding="utf-8")
    markdown = (suite.path / "out" / "report.md").read_text(encoding="utf-8")
    assert text == "earlier step\n" + markdown + "\n"
    assert "pytest-mlperf: FAIL" in markdown and r"test\_too\_slow" in markdown  # Markdown-escaped


def test_unwritable_step_summary_warns_and_keeps_the_report(
    suite: Suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    (suite.path / "taken").write_text("a file, not a folder")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(suite.path / "taken" / "summary.md"))
    suite.write(PASSING)
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert suite.report()["summary"]["verdict"] == "pass"
    result.stdout.fnmatch_lines(
        [
            "pytest-mlperf: wrote out/report.json",
            "pytest-mlperf: WARNING: cannot append the report to $GITHUB_STEP_SUMMARY: *",
        ]
    )


@pytest.mark.parametrize("quiet", [False, True])
def test_failed_check_exit_status_summary_line_and_quiet(suite: Suite, quiet: bool) -> None:
    suite.write(PASSING, FAILING)
    result = suite.run(*(["-q"] if quiet else []))
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "FAIL test_user_suite.py::test_too_slow: p95 latency * > limit 1e-06 ms *",
            "pytest-mlperf: 2 benchmarks, 2 checks, 1 failed, 0 inconclusive -> FAIL",
            "*1 failed, 1 passed in *",
        ]
    )
    table_header = "test * model * batch * n * p50 ms *"
    if quiet:
        result.stdout.no_fnmatch_line(table_header)
    else:
        result.stdout.fnmatch_lines([table_header])
