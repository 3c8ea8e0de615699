"""Hostile input in real test runs: every bad argument of model_bench is one line that names
it, never an INTERNALERROR, a plugin traceback, a hang or a lost report; interrupted runs write
a partial report marked so, exit as interrupted and are never saved as a baseline."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Suite

PLUGIN_FRAME = "pytest_mlperf/"  # a traceback line inside the plugin's own code

GOOD = """
@pytest.mark.latency(p95_ms=GENEROUS)
def test_good(model_bench):
    model_bench(lr, X, samples=20)
"""

# test name: (the call, the line the run prints for it after "model_bench: "); fnmatch
# patterns, so a bracket is written [[] or left to a star
BAD_CALLS = {
    "name_list": ("name=['a']", "name must be a string or None, got *'a'* (list)"),
    "name_dict": ("name={'a': 1}", "name must be a string or None, got {'a': 1} (dict)"),
    "name_bytes": ("name=b'x'", "name must be a string or None, got b'x' (bytes)"),
    "name_path": (
        "name=pathlib.Path('m.joblib')",
        "name must be a string or None, got *Path('m.joblib') (*Path)",
    ),
    "name_nan": ("name=float('nan')", "name must be a string or None, got nan"),
    "method_int": ("method=5", "method must be the name of a method of the model*, got 5"),
    "method_none": ("method=None", "method must be the name of a method of the model*, got None"),
}

# the same, after "model_bench: bad setting: "
BAD_ARGUMENTS = {
    "samples_nan": ("samples=float('nan')", "samples must be a whole number from 2 to *, got nan"),
    "samples_fraction": ("samples=2.5", "samples must be a whole number from 2 to *, got 2.5"),
    "max_samples_zero": ("max_samples=0", "max_samples must be a whole number from 1 *, got 0"),
    "max_samples_negative": (
        "max_samples=-5",
        "max_samples must be a whole number from 1 *, got -5",
    ),
    "max_time_nan": (
        "max_time=float('nan')",
        "max_time must be a finite number above 0 *, got nan",
    ),
    "max_time_text": ("max_time='1'", "max_time must be a finite number above 0 *, got '1'"),
    "max_time_huge": ("max_time=1e308", "max_time must be a finite number above 0 *, got 1e+308"),
    "warmup_time_nan": (
        "warmup_time=float('nan')",
        "warmup_time must be a finite number from 0 *, got nan",
    ),
    "warmup_text": ("warmup='5'", "warmup must be a whole number from 0 *, got '5'"),
    "warmup_negative": ("warmup=-1", "warmup must be a whole number from 0 *, got -1"),
    "seed_negative": ("seed=-1", "seed must be a whole number from 0 *, got -1"),
    "clock_not_callable": ("clock=5", "clock must be a function returning nanoseconds*, got 5"),
    "unknown_setting": ("sample=5", "unknown setting sample (did you mean samples?); accepted: *"),
}

BAD_DATA = {
    "X_mapping": (
        "{'a': [1, 2, 3]}",
        "X must be an array, DataFrame, sparse matrix or list of rows*",
    ),
    "X_text": ("'abcdef'", "X must be an array, DataFrame, sparse matrix or list of rows*"),
    "X_set": ("{1, 2, 3}", "X must be an array, DataFrame, sparse matrix or list of rows*"),
}

OTHER_ENTRY_POINTS = """
def test_sweep_bad_name(model_bench):
    model_bench.sweep(lr, X, batch_sizes=(1, 2), name=3)

def test_ab_bad_setting(model_bench):
    model_bench.ab(lr, lr, X, blocks=float("nan"))

def test_ab_bad_data(model_bench):
    model_bench.ab(lr, lr, "abc")

def test_advise_bad_name(model_bench):
    model_bench.advise(lr, X, name=["x"])

def test_advise_bad_techniques(model_bench):
    model_bench.advise(lr, X, techniques=5)

def test_advise_unknown_option(model_bench):
    model_bench.advise(lr, X, tecniques=["quantize"])

@pytest.mark.latency(p95_ms=GENEROUS)
def test_frozen_clock_does_not_hang(model_bench):
    result = model_bench(lr, X, clock=lambda: 0, samples=20)
    assert result.warmup_calls >= 5

def test_model_calls_sys_exit(model_bench):
    import sys

    def leaves(batch):
        sys.exit(3)

    model_bench(leaves, X)
"""


def _no_plugin_traceback(result: pytest.RunResult) -> None:
    text = result.stdout.str() + result.stderr.str()
    assert result.ret != pytest.ExitCode.INTERNAL_ERROR and "INTERNALERROR" not in text
    frames = [line for line in text.splitlines() if PLUGIN_FRAME in line and ".py:" in line]
    assert not frames, frames


def test_bad_arguments_fail_their_tests_with_one_line(suite: Suite) -> None:
    calls = "".join(
        f"def test_{name}(model_bench):\n    model_bench(lr, X, {call})\n\n"
        for name, (call, _) in {**BAD_CALLS, **BAD_ARGUMENTS}.items()
    )
    data = "".join(
        f"def test_{name}(model_bench):\n    model_bench(lr, {value})\n\n"
        for name, (value, _) in BAD_DATA.items()
    )
    suite.write("import pathlib\n", GOOD, calls, data, OTHER_ENTRY_POINTS)
    result = suite.run("--mlperf-report=out", "-p", "no:randomly")
    # and seven more: the other entry points and the model that exits
    bad = len(BAD_CALLS) + len(BAD_ARGUMENTS) + len(BAD_DATA) + 7
    result.assert_outcomes(passed=2, failed=bad)
    _no_plugin_traceback(result)
    lines = [
        f"*model_bench: {kind}{line}"
        for kind, cases in (("", BAD_CALLS), ("bad setting: ", BAD_ARGUMENTS), ("", BAD_DATA))
        for _, line in cases.values()
    ]
    suite.assert_clean_error(
        result,
        *lines,
        "*model_bench: name must be a string or None, got 3",
        "*model_bench: bad setting: blocks must be a whole number from 2 *, got nan",
        "*model_bench: X must be an array*, got 'abc'",
        "*model_bench: name must be a string or None, got *'x'* (list)",
        "*model_bench: bad setting: techniques must be a list of names, got 5",
        "*model_bench: bad setting: unknown setting tecniques (did you mean techniques?)*",
    )
    report = suite.report()
    assert {e["nodeid"].split("::")[1] for e in report["results"]} == {
        "test_good",
        "test_frozen_clock_does_not_hang",
    }
    errors = {e["nodeid"].split("::")[1]: e["message"] for e in report["errors"]}
    assert set(errors) >= {f"test_{name}" for name in [*BAD_CALLS, *BAD_ARGUMENTS, *BAD_DATA]}
    assert errors["test_model_calls_sys_exit"] == (
        "model_bench: the model raised SystemExit(3) while measured"
    )
    assert report["summary"]["verdict"] == "fail"
    frozen = next(e for e in report["results"] if "frozen" in e["nodeid"])
    assert any("no cost estimate" in w for w in frozen["warnings"])


def test_bad_names_under_xdist_keep_the_report(suite: Suite) -> None:
    pytest.importorskip("xdist")
    suite.write(
        "import pathlib\n",
        GOOD,
        "def test_bytes(model_bench):\n    model_bench(lr, X, name=b'x')\n",
        "def test_path(model_bench):\n    model_bench(lr, X, name=pathlib.Path('m'))\n",
    )
    result = suite.run("-n", "2", "--mlperf-report=out")
    result.assert_outcomes(passed=1, failed=2)
    _no_plugin_traceback(result)
    report = suite.report()
    assert [e["nodeid"].split("::")[1] for e in report["results"]] == ["test_good"]
    assert len(report["errors"]) == 2


BUDGETS = """
@pytest.mark.budget(max_monthly_usd=10, requests_per_month=1e308)
def test_huge_traffic(model_bench):
    model_bench(lr, X, samples=20)

@pytest.mark.budget(max_monthly_usd=np.int64(10_000))  # NumPy numbers are numbers
def test_numpy_budget(model_bench):
    model_bench(lr, X, samples=20)

@pytest.mark.latency(p50_ms=100, p95_ms=1e-4)
def test_percentiles_out_of_order(model_bench):
    model_bench(lr, X, samples=20)

@pytest.mark.latency(p95_ms=GENEROUS)
@pytest.mark.latency(p95_ms=IMPOSSIBLE)
def test_two_latency_markers(model_bench):
    model_bench(lr, X, samples=20)

@pytest.mark.latency(p95_ms=GENEROUS)
def test_only_ab(model_bench):
    model_bench.ab(lr, lr, X, blocks=2, max_blocks=2, block_calls=20, warmup=0)
"""


def test_hostile_markers_are_named(suite: Suite) -> None:
    suite.write(BUDGETS)
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=2, errors=4)  # test_only_ab errors at teardown
    _no_plugin_traceback(result)
    suite.assert_clean_error(
        result,
        "*test_huge_traffic: invalid marker: @pytest.mark.budget: requests_per_month: expected "
        "a number above 0 and at most 1e+15, got 1e+308",
        "*test_percentiles_out_of_order: invalid marker: @pytest.mark.latency: p50_ms=100 is "
        "above p95_ms=0.0001, but the p50 is never above the p95",
        "*test_two_latency_markers: invalid marker: two @pytest.mark.latency markers on "
        "test_two_latency_markers set p95 (*): keep one",
        "*test_only_ab is marked with latency, but model_bench.ab does not check such limits*",
    )
    assert [e["nodeid"].split("::")[1] for e in suite.report()["results"]] == ["test_numpy_budget"]


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (("--mlperf-max-time=1e308",), "", "*--mlperf-max-time: expected a number up to 1e+06*"),
        (
            ("--mlperf-budget-warn-usd=100", "--mlperf-budget-usd=1"),
            "",
            "*mlperf_budget_warn_usd (100) is above mlperf_budget_usd (1)*",
        ),
        (("--mlperf-confidence=",), "", "*--mlperf-confidence: expected a value, got an empty*"),
        (
            (),
            "[tool.pytest-mlperf.cost]\npeak_to_average = 1e308\n",
            "*peak_to_average: expected a number of at least 1 and at most 1e+06, got 1e+308",
        ),
        (
            (),
            '[tool.pytest.ini_options]\nmlperf_report = ["a", "b"]\n',
            "*mlperf_report: expected a single value, got *'a', 'b'*",
        ),
    ],
)
def test_hostile_options_are_usage_errors(
    suite: Suite, args: tuple[str, ...], config: str, message: str
) -> None:
    suite.write(GOOD)
    if config:
        (suite.path / "tox.ini").unlink()
        (suite.path / "pyproject.toml").write_text(config)
    result = suite.run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    _no_plugin_traceback(result)
    suite.assert_clean_error(result, message)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("deep.json", "*pytest-mlperf: deep.json: nested too deeply to be a pytest-mlperf file"),
        ("a_folder", "*--mlperf-compare=a_folder: a folder, not a run*"),
    ],
)
def test_unusable_runs_to_compare_with_are_usage_errors(
    suite: Suite, target: str, message: str
) -> None:
    suite.write(GOOD)
    (suite.path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (suite.path / "a_folder").mkdir()
    result = suite.run(f"--mlperf-compare={target}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    _no_plugin_traceback(result)
    suite.assert_clean_error(result, message)


@pytest.mark.skipif(pytest.version_tuple < (9, 2), reason="pytest's native TOML table")
def test_native_toml_numbers_are_accepted(suite: Suite) -> None:
    suite.write(GOOD)
    (suite.path / "tox.ini").unlink()
    (suite.path / "pyproject.toml").write_text("[tool.pytest]\nmlperf_max_time = 2\n")
    result = suite.run("--mlperf-report=out")
    result.assert_outcomes(passed=1)
    assert suite.report()["settings"]["max_time"] == 2.0


HOSTILE_NAME = "\x1b[2J\x1b]0;owned\x07evil\x00\u202etxt.exe|a\n|c"


def test_hostile_names_are_neutralised_everywhere(suite: Suite) -> None:
    suite.write(
        f"""
        @pytest.mark.latency(p95_ms=IMPOSSIBLE)
        def test_named(model_bench):
            model_bench(lr, X, samples=20, name={HOSTILE_NAME!r})
        """
    )
    result = suite.run("--mlperf-report=out", "--junitxml=junit.xml", "-v")
    result.assert_outcomes(failed=1)
    _no_plugin_traceback(result)
    ET.parse(suite.path / "junit.xml")  # well-formed, whatever the name holds
    markdown = (suite.path / "out" / "report.md").read_text(encoding="utf-8")
    for raw in ("\x1b", "\x00", "\x07", "\u202e"):
        assert raw not in result.stdout.str() and raw not in markdown
    assert "\\x1b[2J" in result.stdout.str()  # shown, not obeyed
    assert suite.report()["results"][0]["name"] == HOSTILE_NAME  # the record keeps it as given


STOPPED = """
import os
import signal

@pytest.mark.parametrize("i", range(3))
def test_before(model_bench, i):
    model_bench(lr, X, samples=20)

def test_stop():
    target = os.getppid() if os.environ.get("STOP_PARENT") else os.getpid()
    os.kill(target, getattr(signal, os.environ["STOP_SIGNAL"]))
    import time
    time.sleep(5)  # the signal arrives first

@pytest.mark.parametrize("i", range(3))
def test_after(model_bench, i):
    model_bench(lr, X, samples=20)
"""


@pytest.mark.parametrize(
    ("signal_name", "xdist"), [("SIGINT", False), ("SIGTERM", False), ("SIGINT", True)]
)
def test_an_interrupted_run_is_partial_marked_and_never_saved(
    suite: Suite, monkeypatch: pytest.MonkeyPatch, signal_name: str, xdist: bool
) -> None:
    if xdist:
        pytest.importorskip("xdist")
    suite.write(STOPPED, name="test_user_stopped")
    monkeypatch.setenv("STOP_SIGNAL", signal_name)
    if xdist:  # the controller is stopped, as Ctrl-C in a terminal does
        monkeypatch.setenv("STOP_PARENT", "1")
    temp = suite.path / "temp"  # the run's own temporary folder: is the xdist spool removed?
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    extra = ("-n", "2", "--dist=loadfile") if xdist else ()
    result = suite.pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--mlperf-report=out", "--mlperf-save=partial", *extra
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    report = suite.report()
    assert report["interrupted"] is True
    # one whole set: the Markdown beside the record is this (partial) run's
    markdown = (suite.path / "out" / "report.md").read_text(encoding="utf-8")
    assert "**Interrupted:**" in markdown
    assert report["summary"]["verdict"] == "fail"
    measured = {e["nodeid"].split("::")[1] for e in report["results"]}
    assert {f"test_before[{i}]" for i in range(3)} <= measured
    assert not any(n.startswith("test_after") for n in measured)
    result.stdout.fnmatch_lines(["*WARNING: the run was interrupted: it is not saved"])
    assert not (suite.path / ".mlperf").exists()
    assert not list(temp.glob("pytest-mlperf-*"))
    # the next run has nothing to compare with, rather than the partial run
    again = suite.run("--mlperf-compare", "-k", "before")
    again.stdout.fnmatch_lines(["*nothing to compare with yet*"])


KEYBOARD_INTERRUPT_MODEL = """
@pytest.mark.parametrize("i", range(3))
def test_measured(model_bench, i):
    model_bench(lr, X, samples=20)

def test_model_interrupts(model_bench):
    def stop(batch):
        raise KeyboardInterrupt
    model_bench(stop, X)
"""


def test_an_interrupted_worker_is_counted_once(suite: Suite) -> None:
    pytest.importorskip("xdist")
    suite.write(KEYBOARD_INTERRUPT_MODEL)
    result = suite.run("-n", "2", "--dist=loadfile", "--mlperf-report=out")
    assert "INTERNALERROR" not in result.stdout.str()
    report = suite.report()
    nodeids = [e["nodeid"] for e in report["results"]]
    assert len(nodeids) == len(set(nodeids)) <= 3  # xdist reports such a worker down twice
    assert len(report["costs"]) == len(nodeids)
