"""The pytest-benchmark-compatible export: exact layout, pytest-benchmark's own statistics, and
pytest-benchmark's own code (storage loader, table, CLI) reading the file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from pytest_benchmark.stats import Stats
from pytest_benchmark.storage.file import FileStorage
from pytest_benchmark.table import TableResults
from pytest_benchmark.utils import NAME_FORMATTERS, report_noprogress

from pytest_mlperf.report import benchmark_json
from pytest_mlperf.report.benchmark_json import (
    benchmark_stats,
    commit_info,
    to_pytest_benchmark_json,
    write_benchmark_json,
)
from pytest_mlperf.results import SCHEMA

TOP_KEYS = ["machine_info", "commit_info", "benchmarks", "datetime", "version"]
BENCH_KEYS = ["group", "name", "fullname", "params", "param", "extra_info", "options", "stats"]
STATS_KEYS = [
    *("min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3", "iqr_outliers"),
    *("stddev_outliers", "outliers", "ld15iqr", "hd15iqr", "ops", "total", "data", "iterations"),
]
OPTION_KEYS = [
    *("disable_gc", "timer", "min_rounds", "max_time", "min_time", "precision", "confidence"),
    "warmup",
]
MACHINE_KEYS = [
    *("node", "processor", "machine", "python_compiler", "python_implementation"),
    *("python_implementation_version", "python_version", "python_build", "release", "system"),
    "cpu",
]
COMMIT = {
    "id": "a" * 40,
    "time": None,
    "author_time": None,
    "dirty": False,
    "project": "demo",
    "branch": "main",
}


def entry(nodeid: str, samples: list[float], **extra: Any) -> dict[str, Any]:
    mean = float(np.mean(samples)) if samples else 1.0
    return {
        "nodeid": nodeid,
        "name": extra.pop("name", "LogisticRegression"),
        "model": "LogisticRegression",
        "method": "predict",
        "batch_size": extra.pop("batch_size", 1),
        "n_samples": len(samples),
        "warmup_calls": 5,
        "outcome": "passed",
        "latency_ms": {"mean": mean, "p50": 1.0, "p90": 1.5, "p95": 2.0, "p99": 3.0},
        "ci_ms": {"p95": [1.8, 2.2]},
        "confidence": 0.95,
        "throughput_rps": 1000.0 / mean,
        "memory_mb": 12.5,
        "checks": [{"metric": "p95", "verdict": "pass"}],
        "samples_ms": samples,
        **extra,
    }


def report(*entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "created": "2026-11-26T05:20:32+00:00",
        "plugin_version": "0.1.0",
        "environment": {
            "python": "3.11.7",
            "implementation": "CPython",
            "system": "Linux",
            "machine": "x86_64",
            "cpu": "Test CPU",
            "cpu_count": 2,
            "fingerprint": "fp",
        },
        "settings": {"confidence": 0.95, "max_time": 10.0, "percentile_method": "nearest-rank"},
        "results": list(entries),
        "comparisons": [
            {"nodeid": "t.py::test_lr", "name": "LogisticRegression", "batch_size": 1}
            | {"metric": "p95", "verdict": "same"}
        ],
    }


SAMPLES = [float(x) for x in np.random.default_rng(0).lognormal(0.0, 0.3, 401)]
REPORT = report(
    entry("t.py::test_lr", SAMPLES),
    entry("t.py::test_sweep[cpu]", SAMPLES[:50], batch_size=1),
    entry("t.py::test_sweep[cpu]", SAMPLES[50:90], batch_size=8),
    entry("t.py::test_disabled", []),
)


def test_layout_and_key_order_are_pytest_benchmarks() -> None:
    data = to_pytest_benchmark_json(REPORT, commit=COMMIT)
    assert list(data) == TOP_KEYS
    assert list(data["machine_info"]) == MACHINE_KEYS
    assert data["commit_info"] == COMMIT
    assert data["version"] == "5.3.1" and data["datetime"] == "2026-11-26T05:20:32+00:00"
    for bench in data["benchmarks"]:
        assert list(bench) == BENCH_KEYS
        assert list(bench["stats"]) == STATS_KEYS
        assert list(bench["options"]) == OPTION_KEYS
    json.dumps(data, allow_nan=False)


def test_one_benchmark_per_measured_result_with_unique_fullnames() -> None:
    benches = to_pytest_benchmark_json(REPORT, commit=COMMIT)["benchmarks"]
    assert [b["fullname"] for b in benches] == [
        "t.py::test_lr",
        "t.py::test_sweep[cpu]::LogisticRegression[batch_size=1]",
        "t.py::test_sweep[cpu]::LogisticRegression[batch_size=8]",
    ]  # the run without samples (--mlperf-disable) is left out
    assert benches[0]["name"] == "test_lr" and benches[0]["param"] is None
    assert [b["param"] for b in benches[1:]] == [
        "cpu-LogisticRegression-1",
        "cpu-LogisticRegression-8",
    ]
    assert [b["params"] for b in benches] == [
        {"model": "LogisticRegression", "batch_size": 1},
        {"model": "LogisticRegression", "batch_size": 1},
        {"model": "LogisticRegression", "batch_size": 8},
    ]


def test_stats_are_in_seconds_with_pytest_benchmarks_definitions() -> None:
    bench = to_pytest_benchmark_json(REPORT, commit=COMMIT)["benchmarks"][0]
    assert bench["stats"]["data"] == [x / 1000 for x in SAMPLES]
    assert bench["stats"]["mean"] == pytest.approx(np.mean(SAMPLES) / 1000)
    assert bench["stats"]["iterations"] == 1 and bench["stats"]["rounds"] == 401
    assert bench["options"]["warmup"] == 5 and bench["options"]["timer"] == "perf_counter_ns"


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 401])
def test_stats_match_pytest_benchmarks_own_stats(n: int) -> None:
    data = [x / 1000 for x in SAMPLES[:n]]
    reference = Stats()
    for x in data:
        reference.update(x)
    expected = {**reference.as_dict(), "data": data, "iterations": 1}
    assert benchmark_stats(data) == expected  # same definitions, same float operations
    assert "data" not in benchmark_stats(data, include_data=False)


def test_ml_figures_and_verdicts_are_in_extra_info() -> None:
    extra = to_pytest_benchmark_json(REPORT, commit=COMMIT)["benchmarks"][0]["extra_info"]
    assert extra["p95_ms"] == 2.0 and extra["p99_ms"] == 3.0 and extra["batch_size"] == 1
    assert extra["throughput_rps"] == pytest.approx(1000 / np.mean(SAMPLES))
    assert extra["memory_mb"] == 12.5 and extra["verdicts"] == {"p95": "pass"}
    assert extra["comparisons"] == {"p95": "same"} and extra["fingerprint"] == "fp"
    assert extra["producer"] == "pytest-mlperf 0.1.0"


def test_commit_info_outside_git_is_unversioned(tmp_path: Any) -> None:
    info = commit_info(str(tmp_path))
    assert info == {
        "id": "unversioned",
        "time": None,
        "author_time": None,
        "dirty": False,
        "project": tmp_path.name,
        "branch": "(unknown)",
    }


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_commit_info_reads_git(tmp_path: Any) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "a",
    }
    env["GIT_COMMITTER_EMAIL"] = "a@b"

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, env=env)

    git("init", "-q", "-b", "trunk")
    (tmp_path / "f.txt").write_text("1")
    git("add", "f.txt")
    git("commit", "-q", "-m", "one")
    info = commit_info(str(tmp_path))
    assert len(info["id"]) == 40 and info["branch"] == "trunk" and info["dirty"] is False
    assert info["time"] and info["author_time"]
    (tmp_path / "f.txt").write_text("2")
    assert commit_info(str(tmp_path))["dirty"] is True


def test_commit_info_records_a_git_failure(tmp_path: Any, monkeypatch: Any) -> None:
    (tmp_path / ".git").mkdir()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise FileNotFoundError("git")

    monkeypatch.setattr(benchmark_json.subprocess, "run", broken)
    info = commit_info(str(tmp_path))
    assert list(info) == ["id", "time", "author_time", "dirty", "error", "project", "branch"]
    assert info["id"] == "unknown" and "FileNotFoundError" in info["error"]


class Terminal:
    """Collects what pytest-benchmark's table writes."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_line(self, line: str, **markup: Any) -> None:
        self.lines.append(line)

    def write(self, text: str, **markup: Any) -> None:
        self.lines.append(text)

    def rewrite(self, line: str, **markup: Any) -> None:
        pass

    def ensure_newline(self) -> None:
        pass


class StrictLogger:
    def warning(self, text: str, **kwargs: Any) -> None:
        raise AssertionError(f"pytest-benchmark warned: {text}")

    def info(self, text: str, **kwargs: Any) -> None:
        pass


def test_pytest_benchmarks_loader_and_table_read_the_file(tmp_path: Any) -> None:
    path = write_benchmark_json(REPORT, str(tmp_path / "bench.json"))
    storage = FileStorage(str(tmp_path / "storage"), logger=StrictLogger())
    benchmarks = list(storage.load_benchmarks(path))
    assert len(benchmarks) == 3 and benchmarks[0]["fullname"] == "t.py::test_lr"
    table = TableResults(
        columns=["min", "max", "mean", "stddev", "median", "iqr", "outliers", "ops", "rounds"],
        sort="min",
        histogram=False,
        name_format=NAME_FORMATTERS["normal"],
        logger=StrictLogger(),
        scale_unit=lambda **kwargs: ("m", 1e3),
    )
    terminal = Terminal()
    table.display(terminal, [(None, benchmarks)], progress_reporter=report_noprogress)
    text = "\n".join(terminal.lines)
    assert "test_lr" in text and "Name (time in ms)" in text


def test_the_pytest_benchmark_compare_cli_accepts_the_file(tmp_path: Any) -> None:
    folder = tmp_path / "Linux-CPython-3.11-64bit"
    folder.mkdir()
    write_benchmark_json(REPORT, str(folder / "0001_mlperf.json"))
    cli = [sys.executable, "-m", "pytest_benchmark"]
    result = subprocess.run(
        [*cli, "--storage", f"file://{tmp_path}", "compare", "0001"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Failed to load" not in result.stdout + result.stderr
    assert "test_lr" in result.stdout and "benchmark: 3 tests" in result.stdout

    grouped = subprocess.run(
        [*cli, "--storage", f"file://{tmp_path}", "compare", "0001", "--group-by=param:batch_size"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert grouped.returncode == 0, grouped.stderr
    groups = re.findall(r"benchmark 'batch_size=(\d+)': (\d+) tests", grouped.stdout)
    assert sorted(groups) == [("1", "2"), ("8", "1")]
