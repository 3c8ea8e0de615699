"""Merging shard reports: one record, each result keeps its machine; overlaps are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_mlperf.merge import MergeError, load_report, merge_reports
from pytest_mlperf.results import build_report


def entry(nodeid: str, batch: int = 1, verdict: str = "pass") -> dict[str, Any]:
    check = {"metric": "p95", "limit": 10.0, "value": 1.0, "verdict": verdict, "message": "m"}
    return {
        "nodeid": nodeid,
        "name": "LogisticRegression",
        "model": "LogisticRegression",
        "batch_size": batch,
        "latency_ms": {"p50": 0.8, "p95": 1.0},
        "throughput_rps": 1250.0,
        "checks": [check],
    }


def report(*entries: dict[str, Any], fingerprint: str = "aaa") -> dict[str, Any]:
    env = {"fingerprint": fingerprint, "cpu": "cpu"}
    return build_report(list(entries), env, {"confidence": 0.95}, created="t", plugin_version="0")


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_merge_keeps_every_result_and_its_shard(tmp_path: Path) -> None:
    a = report(entry("t.py::a"), entry("t.py::a", batch=8))
    b = report(entry("t.py::b", verdict="fail"), fingerprint="bbb")
    merged = merge_reports([("A", a), ("B", b)], created="now", plugin_version="0")
    assert [(e["nodeid"], e["batch_size"], e["shard"]) for e in merged["results"]] == [
        ("t.py::a", 1, 0),
        ("t.py::a", 8, 0),
        ("t.py::b", 1, 1),
    ]
    assert [s["environment"]["fingerprint"] for s in merged["shards"]] == ["aaa", "bbb"]
    assert merged["summary"]["failed_checks"] == 1 and merged["summary"]["verdict"] == "fail"
    assert any("2 different machines" in w for w in merged["warnings"])


def test_duplicate_results_are_refused_naming_both_files() -> None:
    a = report(entry("t.py::a"))
    b = report(entry("t.py::a"), fingerprint="bbb")
    with pytest.raises(MergeError, match=r"t.py::a \(batch 1\) is in both A and B .*another"):
        merge_reports([("A", a), ("B", b)], created="now", plugin_version="0")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema": "pytest-mlperf/1", "results": [', "not valid JSON"),
        ('{"schema": "other/2", "results": []}', "not a pytest-mlperf/1 report"),
        ("[1, 2]", "not a pytest-mlperf/1 report"),
        ('{"schema": "pytest-mlperf/1"}', "without 'results'"),
    ],
)
def test_unusable_files_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(MergeError, match=message) as info:
        load_report(path)
    assert str(info.value).startswith(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MergeError, match="cannot be read"):
        load_report(str(tmp_path / "nope.json"))


def test_round_trip_through_files(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", report(entry("t.py::a")))
    assert load_report(path)["results"][0]["nodeid"] == "t.py::a"


def test_sections_and_session_budget_are_merged() -> None:
    cost = {"nodeid": "t.py::a", "name": "m", "batch_size": 1, "recommended_monthly_usd": 60.0}
    a = report(entry("t.py::a"))
    a["costs"] = [cost]
    a["budget"] = {"max_monthly_usd": 100.0, "warn_monthly_usd": None, "verdict": "pass"}
    a["sweeps"] = [{"nodeid": "t.py::a", "name": "m", "curve": []}]
    b = report(entry("t.py::b"), fingerprint="bbb")
    b["costs"] = [{**cost, "nodeid": "t.py::b"}]
    merged = merge_reports([("A", a), ("B", b)], created="now", plugin_version="0")
    assert len(merged["costs"]) == 2 and len(merged["sweeps"]) == 1
    assert merged["budget"]["verdict"] == "fail"  # $120 together > $100
    assert merged["summary"]["verdict"] == "fail"
