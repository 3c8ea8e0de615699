"""Cost from measured capacity: replica-based tiers size from the capacity a replica held under
load, serverless tiers bill the measured service time, and the entry says which figure priced
the tiers; `pytest-mlperf cost --capacity-rps` does the same without a test run."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from pytest_mlperf.cli import main
from pytest_mlperf.cost import Assumptions, estimate_for_result
from pytest_mlperf.cost.traffic import two_level_day
from pytest_mlperf.cost.workload import Workload

HEAVY = Assumptions(requests_per_month=500_000_000, tiers=("aws_ec2",), arch="x86_64")


def _record(capacity: dict[str, Any] | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "nodeid": "t.py::test_x",
        "name": "forest",
        "batch_size": 1,
        "latency_ms": {"mean": 40.0, "p95": 90.0},  # under load: queueing included
        "throughput_rps": 120.0,
        "memory_mb": 10.0,
        "load": {"service_ms": {"mean": 5.0, "p95": 8.0}, "workers": 2},
    }
    if capacity is not None:
        record["capacity"] = capacity
    return record


def test_a_load_record_is_priced_from_its_service_time_and_capacity() -> None:
    workload = Workload.from_record(_record({"max_rps": 150.0, "workers": 2}))
    assert (workload.mean_ms, workload.p95_ms, workload.throughput_rps) == (5.0, 8.0, None)
    assert workload.measured_calls_per_second == 75.0
    assert workload.calls_per_second == 200.0  # 1000 / 5 ms: the Little's-law figure
    assert workload.sized_from == "measured capacity"
    assert Workload.from_record(_record(None)).sized_from.startswith("single-call latency")


def test_replicas_come_from_the_measured_capacity() -> None:
    entry = estimate_for_result(_record({"max_rps": 150.0, "workers": 2}), HEAVY)
    little = estimate_for_result(_record(None), HEAVY)
    assert entry["inputs"]["sized_from"] == "measured capacity"
    assert "replicas sized from the measured capacity, 75 requests/s per worker" in entry["request"]
    assert "Little's law" not in little["request"]
    ec2 = entry["tiers"][0]["sizing"]
    workers = int(ec2["summary"].split(", ")[-1].split()[0])
    peak = max(level.rate for level in two_level_day(500_000_000, 3.0, 8.0, 730 * 3600))
    u = HEAVY.utilization("aws_ec2")
    assert ec2["replicas"] == math.ceil(peak / (u * 75.0 * workers))
    # the capacity (75/s per worker) is below the Little's-law figure (200/s): more replicas
    assert ec2["replicas"] > little["tiers"][0]["sizing"]["replicas"]


def test_bad_capacity_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity_rps: expected a number above 0"):
        Workload(mean_ms=1.0, p95_ms=2.0, capacity_rps=-1.0)


def test_cost_command_takes_the_capacity(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["cost", "--p95-ms", "20", "--mean-ms", "10", "--format", "json"]
    assert main([*args, "--capacity-rps", "150", "--capacity-workers", "2"]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["inputs"]["capacity_rps"] == 150 and entry["inputs"]["capacity_workers"] == 2
    assert entry["inputs"]["sized_from"] == "measured capacity"
    assert main([*args, "--capacity-rps", "0"]) == 2
    assert "capacity_rps: expected a number above 0" in capsys.readouterr().err
