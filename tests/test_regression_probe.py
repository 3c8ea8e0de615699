"""Stored-run comparison of runs measured apart on a noisy machine: the machine-speed probe and
CPU time per call (seeded synthetic runs: a machine speed, contention and a model cost)."""

from __future__ import annotations

from typing import Any

import numpy as np
from test_regression import by_metric, compared, entry, gate, run, stream

from pytest_mlperf.probe import PROBE_VERSION

NODE = "t.py::test_a"


def probed(
    seed: int,
    *,
    model: float = 1.0,
    machine: float = 1.0,
    share: float = 1.0,
    n: int = 600,
    probe_noise: float = 0.0,
) -> dict[str, Any]:
    """A result measured on a machine ``machine`` times slower, holding the CPU a ``share`` of
    the time: CPU time is the model's cost on that machine, wall time adds the waiting."""
    rng = np.random.default_rng(seed)
    cpu = stream(seed, model * machine, n=n)
    waiting = rng.exponential(cpu * (1.0 / share - 1.0)) if share < 1.0 else 0.0
    result = entry(NODE, cpu + waiting)
    windows = cpu.reshape(-1, 20).mean(axis=1)
    probe = 0.1 * machine * float(np.exp(rng.normal(0.0, probe_noise)))
    result["stability"] = {
        "speed_drift": 0.0,
        "clustering": 1.0,
        "run_spread": 0.15,
        "windows": len(windows),
        "cpu_share": share,
        "cpu_ms": float(np.median(windows)),
        "cpu_windows_ms": windows.tolist(),
        "probe_ms": probe,
        "probe_version": PROBE_VERSION,
    }
    return result


def compare(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return by_metric(compared(run(new), run(base)))


def without_readings(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "stability": None}


def test_a_slower_machine_is_not_a_regression() -> None:
    base, new = probed(1), probed(2, machine=1.4)
    records = compare(base, new)
    assert gate(records.values())["verdict"] == "pass"
    assert records["p95"]["ratio"] < 1.1  # 1.4x slower machine, divided out by the probe
    assert "machine-adjusted" in records["p95"]["message"]
    assert records["cpu_time"]["verdict"] == "same"
    # without the readings the same runs look like a 40% regression
    bare = compare(without_readings(base), without_readings(new))
    assert bare["p50"]["verdict"] == "regression" and "cpu_time" not in bare


def test_a_contended_run_is_judged_on_cpu_time_not_wall_clock() -> None:
    records = compare(probed(3), probed(4, share=0.5))
    for metric in ("p50", "p95", "throughput"):
        assert records[metric]["verdict"] == "unknown"
        assert "CPU share 50%" in records[metric]["message"]
        assert "cpu_time decides" in records[metric]["message"]
    assert records["p95"]["ratio"] > 1.5  # the waiting is there, and shown
    assert records["cpu_time"]["verdict"] == "same"
    assert gate(records.values())["verdict"] == "pass"


def test_a_slower_model_is_found_even_in_a_contended_run() -> None:
    records = compare(probed(5), probed(6, model=1.4, share=0.5, machine=1.2))
    assert records["cpu_time"]["verdict"] == "regression"
    assert 1.3 < records["cpu_time"]["ratio"] < 1.5
    assert gate(records.values())["verdict"] == "fail"


def test_uncontended_runs_judge_every_metric() -> None:
    records = compare(probed(7), probed(8, model=1.4))
    for metric in ("p50", "p95", "cpu_time"):
        assert records[metric]["verdict"] == "regression", metric


def test_history_of_probed_runs_gives_the_spread_in_probe_units() -> None:
    earlier = [run(probed(100 + k, machine=m)) for k, m in enumerate((0.7, 1.0, 1.5, 1.2))]
    base, new = probed(9, machine=0.8), probed(10, machine=1.3)
    records = by_metric(compared(run(new), run(base), history=earlier))
    # four runs on machines 0.7x-1.5x: in probe units they agree, so the spread stays small
    assert records["cpu_time"]["run_spread"]["source"] == "4 earlier runs"
    assert records["cpu_time"]["run_spread"]["sd"] < 0.05
    assert records["p95"]["run_spread"]["sd"] < 0.1


def rates(factor: float, seeds: int = 60) -> tuple[float, float]:
    """(share of runs flagged, share flagged without the readings) when whole processes run on
    machines up to 2x apart (log-sd 0.3) and the probe tracks the machine within 3%."""
    rng = np.random.default_rng(42)
    flagged = bare = 0
    for seed in range(seeds):
        m0, m1 = np.exp(rng.normal(0.0, 0.3, 2))
        base = probed(1000 + seed, machine=m0, probe_noise=0.03)
        new = probed(2000 + seed, model=factor, machine=m1, probe_noise=0.03)
        flagged += gate(compare(base, new).values())["verdict"] == "fail"
        plain = compare(without_readings(base), without_readings(new))
        bare += gate(plain.values())["verdict"] == "fail"
    return flagged / seeds, bare / seeds


def test_whole_process_swings_are_cancelled_by_the_probe() -> None:
    false_alarms, bare_false_alarms = rates(1.0)
    assert false_alarms <= 0.05 < bare_false_alarms
    detected, _ = rates(1.25)
    assert detected >= 0.8


def of_version(result: dict[str, Any], version: int, probe_ms: float) -> dict[str, Any]:
    """The same result as an earlier release recorded it: another probe, timed another way."""
    return {**result, "stability": {**result["stability"], "probe_version": version,
                                    "probe_ms": probe_ms}}  # fmt: skip


def test_a_probe_of_another_version_is_not_a_unit() -> None:
    base = of_version(probed(11), PROBE_VERSION - 1, probe_ms=0.3)
    earlier = [run(of_version(probed(110 + k), PROBE_VERSION - 1, 0.1 * (k + 1))) for k in range(4)]
    records = by_metric(compared(run(probed(12)), run(base), history=earlier))
    # the same model on the same machine: CPU time compares in ms, not in two kinds of probe
    assert records["cpu_time"]["verdict"] == "same"
    assert 0.9 < records["cpu_time"]["ratio"] < 1.1
    assert "probe" not in records["cpu_time"]["test"]
    assert "machine-adjusted" not in records["p95"]["message"]
    # the earlier runs count in ms too, like the comparison: their spread is the model's
    assert records["cpu_time"]["run_spread"]["source"] == "4 earlier runs"
    assert records["cpu_time"]["run_spread"]["sd"] < 0.05
