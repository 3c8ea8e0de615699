"""Stored runs: safe storage, loading, comparison verdicts, and seeded simulations of the
stored-run gate's false alarms and power on drifting, bursty latency streams."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from scipy.stats import mannwhitneyu
from test_ab_streams import Machine

from pytest_mlperf.regression.blocks import block_size_for
from pytest_mlperf.regression.compare import compare_entry, compare_runs, comparison_gate
from pytest_mlperf.regression.comparison import Comparison
from pytest_mlperf.regression.store import (
    BaselineError,
    list_runs,
    load_history,
    load_run,
    read_run,
    save_run,
    store_problems,
)
from pytest_mlperf.results import SCHEMA

# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


def entry(
    nodeid: str,
    samples: Sequence[float] | np.ndarray,
    *,
    name: str = "M",
    batch_size: int = 1,
    memory_mb: float | None = 100.0,
) -> dict[str, Any]:
    """A ``results`` entry with the fields comparison reads, from latencies in call order."""
    x = np.asarray(samples, dtype=np.float64)
    ordered = np.sort(x)
    pct = {k: float(np.quantile(ordered, q, method="inverted_cdf")) for k, q in _QUANTILES}
    return {
        "nodeid": nodeid,
        "name": name,
        "model": name,
        "batch_size": batch_size,
        "n_samples": int(x.size),
        "latency_ms": {"mean": float(x.mean()), **pct},
        "throughput_rps": batch_size * 1000.0 / float(x.mean()),
        "memory_mb": memory_mb,
        "checks": [],
        "samples_ms": x.tolist(),
    }


_QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))


def run(*entries: dict[str, Any], fingerprint: str = "machine-a") -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "created": "2026-11-26T05:00:00+00:00",
        "environment": {"fingerprint": fingerprint, "cpu": "Test CPU", "cpu_count": 2},
        "results": list(entries),
        "comparisons": [],
    }


def stream(seed: int, factor: float = 1.0, n: int = 2000, **noise: Any) -> np.ndarray:
    return Machine(seed, n, **noise).samples_ms(1.0, factor)


def compared(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """``compare_runs`` as the report.json holds it (``Comparison.to_dict``)."""
    return [c.to_dict() for c in compare_runs(*args, **kwargs)]


def compared_entry(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return [c.to_dict() for c in compare_entry(*args, **kwargs)]


def gate(records: Any) -> dict[str, Any]:
    """``comparison_gate`` of records read back from their JSON form."""
    return comparison_gate(Comparison.from_dict(r) for r in records)


def by_metric(records: list[dict[str, Any]], nodeid: str = "t.py::test_a") -> dict[str, Any]:
    return {r["metric"]: r for r in records if r["nodeid"] == nodeid}


# --------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------


def test_save_writes_numbered_files_under_the_fingerprint(tmp_path: Any) -> None:
    report = run(entry("t.py::test_a", stream(0, n=100)))
    first = save_run(report, str(tmp_path), "main")
    second = save_run(report, str(tmp_path), "feature/new model!")
    third = save_run(report, str(tmp_path))
    folder = tmp_path / "machine-a"
    assert [os.path.basename(p) for p in (first, second, third)] == [
        "0001_main.json",
        "0002_feature-new-model.json",
        "0003_run.json",
    ]
    assert read_run(first) == report
    assert json.loads((folder / "machine.json").read_text())["cpu"] == "Test CPU"
    assert sorted(p.name for p in folder.iterdir()) == [
        "0001_main.json",
        "0002_feature-new-model.json",
        "0003_run.json",
        "machine.json",
    ]  # no temporary file left behind


def test_save_never_overwrites_a_file(tmp_path: Any) -> None:
    folder = tmp_path / "machine-a"
    folder.mkdir()
    (folder / "0001_main.json").write_text("someone else's bytes")
    (folder / "0007_other.json").write_text("more")
    (folder / ".0008.claim").write_text("")  # left by a saver that was killed
    path = save_run(run(entry("t.py::test_a", [1.0, 2.0])), str(tmp_path), "main")
    assert os.path.basename(path) == "0009_main.json"
    assert (folder / "0001_main.json").read_text() == "someone else's bytes"


def test_concurrent_saves_from_threads_all_land(tmp_path: Any) -> None:
    report = run(entry("t.py::test_a", [1.0, 2.0, 3.0]))
    paths: list[str] = []
    lock = threading.Lock()

    def save_five(worker: int) -> None:
        for _ in range(5):
            path = save_run(report, str(tmp_path), f"worker{worker % 3}")
            with lock:
                paths.append(path)

    threads = [threading.Thread(target=save_five, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 40
    # one number per run even with different names, and no claim file left behind
    assert [r.number for r in list_runs(str(tmp_path), "machine-a")] == list(range(1, 41))
    assert not [f for f in os.listdir(tmp_path / "machine-a") if f.startswith(".")]
    assert all(read_run(p) == report for p in paths)


def _save_five(storage: str, worker: int, go: Any) -> None:
    go.wait()
    report = {"schema": SCHEMA, "environment": {"fingerprint": "machine-a"}, "results": []}
    for _ in range(5):
        save_run({**report, "worker": worker}, storage, f"proc{worker % 2}")


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork (fast start)"
)
def test_concurrent_saves_from_processes_all_land(tmp_path: Any) -> None:
    context = multiprocessing.get_context("fork")
    go = context.Event()
    procs = [context.Process(target=_save_five, args=(str(tmp_path), i, go)) for i in range(4)]
    for p in procs:
        p.start()
    go.set()  # all four start saving at the same moment
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    runs = list_runs(str(tmp_path), "machine-a")
    assert [r.number for r in runs] == list(range(1, 21))
    workers = sorted(read_run(r.path)["worker"] for r in runs)
    assert workers == sorted(list(range(4)) * 5)


def test_a_failed_write_leaves_nothing_behind(tmp_path: Any, monkeypatch: Any) -> None:
    report = run(entry("t.py::test_a", [1.0, 2.0]))
    save_run(report, str(tmp_path), "good")
    before = sorted(os.listdir(tmp_path / "machine-a"))

    def crash(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(BaselineError, match=r"cannot write the run: .*No space left"):
        save_run(report, str(tmp_path), "bad")
    assert sorted(os.listdir(tmp_path / "machine-a")) == before


def test_an_unusable_report_is_refused_before_anything_is_written(tmp_path: Any) -> None:
    with pytest.raises(BaselineError, match="the run to save: not a pytest-mlperf run"):
        save_run({"schema": "other"}, str(tmp_path))
    bad = run(entry("t.py::test_a", [1.0, 2.0]))
    bad["results"][0]["latency_ms"]["p95"] = float("nan")
    with pytest.raises(BaselineError, match="result #0 has no valid 'latency_ms'"):
        save_run(bad, str(tmp_path))
    odd = run(entry("t.py::test_a", [1.0, 2.0]))
    odd["extra"] = float("inf")
    with pytest.raises(BaselineError, match="cannot be written as JSON"):
        save_run(odd, str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_works_without_hard_links(tmp_path: Any, monkeypatch: Any) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    report = run(entry("t.py::test_a", [1.0, 2.0]))
    paths = [save_run(report, str(tmp_path), "x") for _ in range(3)]
    assert [os.path.basename(p) for p in paths] == ["0001_x.json", "0002_x.json", "0003_x.json"]
    assert all(read_run(p) == report for p in paths)


def test_load_picks_the_latest_or_the_one_named(tmp_path: Any) -> None:
    storage = str(tmp_path)
    for label in ("main", "pr", "main"):
        save_run(run(entry("t.py::test_a", [1.0, 2.0]), fingerprint="machine-a"), storage, label)
    _, path, same = load_run(storage, fingerprint="machine-a")
    assert os.path.basename(path) == "0003_main.json" and same
    assert os.path.basename(load_run(storage, "pr", fingerprint="machine-a")[1]) == "0002_pr.json"
    assert os.path.basename(load_run(storage, "1", fingerprint="machine-a")[1]) == "0001_main.json"
    assert (
        load_run(storage, "0002_pr", fingerprint="machine-a")[1]
        == load_run(storage, "0002", fingerprint="machine-a")[1]
    )
    by_path = load_run(storage, path, fingerprint="machine-b")
    assert by_path[1] == path and by_path[2] is False


def test_load_falls_back_to_another_machine_and_says_so(tmp_path: Any) -> None:
    storage = str(tmp_path)
    save_run(run(entry("t.py::test_a", [1.0, 2.0]), fingerprint="machine-b"), storage, "main")
    report, path, same = load_run(storage, fingerprint="machine-a")
    assert same is False and "machine-b" in path
    assert report["environment"]["fingerprint"] == "machine-b"


def test_load_errors_say_what_is_missing(tmp_path: Any) -> None:
    with pytest.raises(BaselineError, match=r"does not exist .*--mlperf-save"):
        load_run(str(tmp_path / "nowhere"), fingerprint="machine-a")
    save_run(run(entry("t.py::test_a", [1.0, 2.0])), str(tmp_path), "main")
    with pytest.raises(BaselineError, match=r"no stored run matches a run named 'pr' .*0001_main"):
        load_run(str(tmp_path), "pr", fingerprint="machine-a")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("{not json", "not valid JSON"),
        ('{"schema": "pytest-mlperf/1", "results": [', "not valid JSON (truncated"),
        ("[1, 2]", "not a pytest-mlperf run"),
        (
            json.dumps({"machine_info": {}, "commit_info": {}, "benchmarks": []}),
            "a pytest-benchmark file",
        ),
        (json.dumps({"schema": "pytest-mlperf/9", "results": []}), "schema 'pytest-mlperf/9'"),
        (json.dumps({"schema": SCHEMA, "results": {}}), "'results' is missing or not a list"),
        (json.dumps({"schema": SCHEMA, "results": [{"nodeid": 3}]}), "result #0 has no valid"),
        (json.dumps({"schema": SCHEMA, "results": []}), "'environment.fingerprint' is missing"),
    ],
)
def test_bad_files_name_the_file_and_stay_untouched(
    tmp_path: Any, content: str, message: str
) -> None:
    folder = tmp_path / "machine-a"
    folder.mkdir()
    bad = folder / "0001_main.json"
    bad.write_text(content)
    with pytest.raises(BaselineError) as info:
        load_run(str(tmp_path), fingerprint="machine-a")
    assert str(bad) in str(info.value) and message in str(info.value)
    assert bad.read_text() == content
    assert os.listdir(folder) == ["0001_main.json"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"fingerprint": "machine-a", "cpu": "Te', "cannot be read"),
        ("\xff\xfe", "cannot be read"),
        ("[]", "is not a machine note"),
        ('{"cpu": "Test CPU"}', "is not a machine note"),
    ],
)
def test_an_unreadable_machine_note_is_named_and_the_runs_still_load(
    tmp_path: Any, content: str, problem: str
) -> None:
    report = run(entry("t.py::test_a", [1.0, 2.0]))
    save_run(report, str(tmp_path), "main")
    assert store_problems(str(tmp_path)) == []
    note = tmp_path / "machine-a" / "machine.json"
    note.write_bytes(content.encode("latin-1"))
    (found,) = store_problems(str(tmp_path))
    assert found.startswith(f"{note} {problem}") and "remove it" in found
    assert load_run(str(tmp_path), fingerprint="machine-a")[0] == report
    note.unlink()
    save_run(report, str(tmp_path), "main")  # as the message says: a new note is written
    assert store_problems(str(tmp_path)) == []


def test_history_is_this_machines_latest_runs(tmp_path: Any) -> None:
    storage = str(tmp_path)
    paths = [save_run(run(entry("t.py::test_a", [float(i + 1)] * 2)), storage) for i in range(5)]
    save_run(run(entry("t.py::test_a", [9.0, 9.0]), fingerprint="other"), storage)
    history = load_history(storage, fingerprint="machine-a", limit=3, exclude=[paths[-1]])
    assert [h["results"][0]["samples_ms"][0] for h in history] == [2.0, 3.0, 4.0]
    assert load_history(storage, fingerprint="machine-a", limit=0) == []


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def test_clear_regression_on_the_same_machine_gates() -> None:
    base = run(entry("t.py::test_a", stream(1)))
    new = run(entry("t.py::test_a", stream(2, 2.0)))
    records = by_metric(compared(new, base))
    for metric in ("p50", "p95", "throughput"):
        record = records[metric]
        assert record["verdict"] == "regression" and record["gating"] is True
        assert record["p_adjusted"] < 0.05 and record["blocks"]["size"] == 200
        assert record["run_spread"]["source"] == "assumed"
    p95 = records["p95"]
    assert p95["ratio"] == pytest.approx(2.0, rel=0.1) and p95["ci"][0] > 1.05
    assert p95["message"].startswith("regression: p95 +")
    assert "tolerance 5%" in p95["message"]
    assert records["throughput"]["ratio"] < 1
    assert gate(records.values())["verdict"] == "fail"
    json.dumps(list(records.values()), allow_nan=False)


def test_another_machine_only_warns() -> None:
    base = run(entry("t.py::test_a", stream(1)), fingerprint="machine-b")
    new = run(entry("t.py::test_a", stream(2, 2.0), memory_mb=300.0))
    records = by_metric(compared(new, base))
    assert {r["verdict"] for r in records.values()} == {"warn"}
    assert not any(r["gating"] or r["same_machine"] for r in records.values())
    assert "another machine (not gating)" in records["p95"]["message"]
    summary = gate(records.values())
    assert summary["verdict"] == "pass" and summary["warn"] == 4
    same_anyway = compared(new, base, same_machine=True)
    assert by_metric(same_anyway)["p95"]["verdict"] == "regression"


def test_unchanged_and_faster_runs() -> None:
    base = run(entry("t.py::test_a", stream(1)))
    same = by_metric(compared(run(entry("t.py::test_a", stream(2))), base))
    assert {r["verdict"] for r in same.values()} <= {"same", "unknown"}
    assert same["memory"]["verdict"] == "same"
    faster = by_metric(compared(run(entry("t.py::test_a", stream(2, 0.6))), base))
    assert faster["p95"]["verdict"] == faster["throughput"]["verdict"] == "improvement"
    assert faster["throughput"]["ratio"] > 1


def test_new_missing_and_repeated_results() -> None:
    base = run(
        entry("t.py::test_a", stream(1, n=400), name="lr"),
        entry("t.py::test_a", stream(2, n=400), name="lr"),
        entry("t.py::test_gone", stream(3, n=400)),
    )
    new = run(
        entry("t.py::test_a", stream(4, n=400), name="lr"),
        entry("t.py::test_a", stream(5, 2.0, n=400), name="lr"),
        entry("t.py::test_a", stream(6, n=400), name="lr", batch_size=8),
    )
    records = compared(new, base)
    verdicts = [(r["nodeid"], r["batch_size"], r["metric"], r["verdict"]) for r in records]
    assert ("t.py::test_a", 8, "all", "new") in verdicts
    assert ("t.py::test_gone", 1, "all", "missing") in verdicts
    p95 = [r for r in records if r["metric"] == "p95"]
    assert [r["verdict"] for r in p95] == ["same", "regression"]  # matched in measured order
    presence = [r for r in records if r["metric"] == "all"]
    assert not any(r["gating"] for r in presence)


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        (100.0, 110.0, "same"),  # +10%, but under the 16 MB floor
        (100.0, 120.0, "regression"),  # +20 MB, over both
        (1000.0, 1020.0, "same"),  # +20 MB, but only +2%
        (1000.0, 1100.0, "regression"),
        (100.0, 60.0, "improvement"),
        (100.0, None, "unknown"),
    ],
)
def test_memory_needs_both_the_percent_and_the_floor(
    before: float, after: float | None, verdict: str
) -> None:
    samples = stream(1, n=400)
    base = run(entry("t.py::test_a", samples, memory_mb=before))
    new = run(entry("t.py::test_a", samples, memory_mb=after))
    memory = by_metric(compared(new, base))["memory"]
    assert memory["verdict"] == verdict and memory["p_value"] is None


def test_memory_not_measured_in_either_run_is_not_compared() -> None:
    samples = stream(1, n=400)
    report = run(entry("t.py::test_a", samples, memory_mb=None))
    assert "memory" not in by_metric(compared(report, report))


def test_tolerance_per_test_overrides_the_run_tolerance() -> None:
    base = run(entry("t.py::test_a", stream(1)), entry("t.py::test_b", stream(2)))
    new = run(entry("t.py::test_a", stream(3, 1.3)), entry("t.py::test_b", stream(4, 1.3)))
    records = compared(new, base, per_test_pct={"t.py::test_b": 50.0})
    assert by_metric(records)["p50"]["verdict"] == "regression"
    relaxed = by_metric(records, "t.py::test_b")["p50"]
    assert relaxed["tolerance_pct"] == 50.0 and relaxed["verdict"] == "same"


def test_too_few_samples_never_gate() -> None:
    base = run(entry("t.py::test_a", stream(1, n=50)))
    new = run(entry("t.py::test_a", stream(2, 2.0, n=50)))
    p95 = by_metric(compared(new, base))["p95"]
    assert p95["verdict"] == "unknown" and p95["p_value"] is None
    assert "no test: fewer than 3 blocks of 20 calls" in p95["message"]


def test_p_values_are_holm_adjusted_across_the_run() -> None:
    tests = [f"t.py::test_{i}" for i in range(5)]
    base = run(*(entry(t, stream(10 + i)) for i, t in enumerate(tests)))
    new = run(*(entry(t, stream(20 + i, 1.08)) for i, t in enumerate(tests)))
    records = [r for r in compared(new, base) if r["p_value"] is not None]
    worse = [r for r in records if r["ratio"] > 1 if r["metric"] != "throughput"]
    assert all(r["p_adjusted"] >= r["p_value"] for r in records)
    smallest = min(records, key=lambda r: r["p_value"])
    assert smallest["p_adjusted"] == pytest.approx(min(1.0, len(records) * smallest["p_value"]))
    assert worse


def test_tail_statistics_assume_a_wider_run_spread() -> None:
    """Between unchanged processes p95 and throughput move 3-5x as much as p50: one stored run
    shows a 1.5x slowdown in p50 beyond doubt, and in p95 only as unknown."""
    base = run(entry("t.py::test_a", stream(1)))
    new = run(entry("t.py::test_a", stream(2, 1.5)))
    records = by_metric(compared(new, base))
    assumed = {m: records[m]["run_spread"]["sd"] for m in ("p50", "p95", "throughput")}
    assert assumed["p50"] == pytest.approx(math.log(1.05))
    assert assumed["p95"] == assumed["throughput"] == pytest.approx(math.log(1.15))
    assert records["p50"]["verdict"] == "regression"
    assert records["p95"]["verdict"] == "unknown"
    assert records["p95"]["message"].endswith("replaces the assumed 15%")
    assert gate(records.values())["verdict"] == "fail"


def test_history_replaces_the_assumed_run_spread() -> None:
    base = run(entry("t.py::test_a", stream(1)))
    new = run(entry("t.py::test_a", stream(2, 1.08)))
    history = [run(entry("t.py::test_a", stream(30 + k))) for k in range(4)]
    assumed = by_metric(compared(new, base))["p95"]
    learned = by_metric(compared(new, base, history=history))["p95"]
    assert learned["run_spread"]["source"] == "4 earlier runs"
    assert learned["run_spread"]["sd"] < assumed["run_spread"]["sd"]  # this machine is quieter
    assert learned["ci"][1] - learned["ci"][0] < assumed["ci"][1] - assumed["ci"][0]
    few = by_metric(compared(new, base, history=history[:2]))["p95"]
    assert few["run_spread"]["source"] == "assumed"


def test_an_unknown_says_what_would_settle_it() -> None:
    base = run(entry("t.py::test_a", stream(1)))
    new = run(entry("t.py::test_a", stream(3, 1.15)))
    p95 = by_metric(compared(new, base))["p95"]
    assert p95["verdict"] == "unknown"
    assert p95["message"].startswith("beyond tolerance but not significant, too noisy to tell")
    assert p95["message"].endswith(
        "to settle it, time both versions side by side with model_bench.ab, or keep 3 stored "
        "runs of this test so that their spread replaces the assumed 15%"
    )
    history = [run(entry("t.py::test_a", stream(30 + k, 1.0 + 0.2 * (k % 2)))) for k in range(4)]
    learned = by_metric(compared(new, base, history=history))["p95"]
    assert learned["verdict"] == "unknown" and learned["run_spread"]["source"] != "assumed"
    assert learned["message"].endswith("side by side with model_bench.ab")


def test_compare_entry_uses_bonferroni_for_an_immediate_verdict() -> None:
    base = entry("t.py::test_a", stream(1))
    new = entry("t.py::test_a", stream(2, 2.0))
    records = {r["metric"]: r for r in compared_entry(new, base, family_size=30)}
    p95 = records["p95"]
    assert p95["p_adjusted"] == pytest.approx(min(1.0, 30 * p95["p_value"]))
    assert p95["verdict"] == "regression"
    with pytest.raises(BaselineError, match="the baseline result has no valid 'nodeid'"):
        compared_entry(new, {**base, "nodeid": None})


def test_comparing_something_that_is_not_a_run_is_a_clear_error() -> None:
    good = run(entry("t.py::test_a", [1.0, 2.0]))
    with pytest.raises(BaselineError, match="the baseline run: not a pytest-mlperf run"):
        compared(good, {"benchmarks": [], "machine_info": {}})
    with pytest.raises(BaselineError, match="history run #0"):
        compared(good, good, history=[{}])
    with pytest.raises(ValueError, match="max_pct must be a non-negative number"):
        compared(good, good, max_pct=-5)
    with pytest.raises(ValueError, match="alpha must be in"):
        compared(good, good, alpha=0.9)


# --------------------------------------------------------------------------------------------
# Seeded simulations (research section 5.5's noise: AR(1), 3% spikes, 3% drift per 200 calls)
# --------------------------------------------------------------------------------------------

SIM = 150


def any_regression(records: list[dict[str, Any]]) -> bool:
    return any(r["verdict"] == "regression" for r in records)


def rate(factor: float, *, run_sigma: float = 0.0, history: int = 0, **options: Any) -> float:
    """Share of seeded baseline/current pairs with any regression verdict."""
    hits = 0
    for seed in range(SIM):
        base = run(entry("t.py::test_a", stream(10_000 + seed, run_sigma=run_sigma)))
        new = run(entry("t.py::test_a", stream(20_000 + seed, factor, run_sigma=run_sigma)))
        earlier = [
            run(entry("t.py::test_a", stream(30_000 + 8 * seed + k, run_sigma=run_sigma)))
            for k in range(history)
        ]
        hits += any_regression(compared(new, base, history=[base, *earlier], **options))
    return hits / SIM


def test_unchanged_runs_rarely_raise_a_false_alarm() -> None:
    assert rate(1.0) <= 0.05  # measured: 0.000 (assumed 5% run spread)
    assert rate(1.0, run_sigma=0.05, history=5) <= 0.05  # measured: 0.007, spread from history


def test_large_regressions_are_found() -> None:
    assert rate(1.25, history=5) >= 0.95  # measured: 1.000
    assert rate(1.10, history=5) >= 0.90  # measured: 0.973 on a machine with no run effect


def test_blocks_without_run_spread_or_single_calls_are_anti_conservative() -> None:
    """Why the gate looks at blocks *and* the run-to-run spread (research section 5.5)."""
    assert rate(1.0, run_sigma=0.05, run_spread_pct=0.0) >= 0.15  # measured: 0.287
    pooled = 0
    for seed in range(SIM):
        a, b = stream(10_000 + seed), stream(20_000 + seed)
        pooled += mannwhitneyu(b, a, alternative="greater").pvalue < 0.05
    assert pooled / SIM >= 0.15  # every call counted as independent; measured: 0.240


def test_block_size_is_shared_by_both_runs() -> None:
    assert block_size_for(400, 2000) == 40
    assert block_size_for(100, 100) == 20
