"""The readings between windows: CPU time per call and the machine-speed probe."""

from __future__ import annotations

import time
import types

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from pytest_mlperf import probe
from pytest_mlperf.bench import Benchmarker
from pytest_mlperf.probe import (
    PROBE_VERSION,
    WindowClock,
    contended,
    cpu_in_probe_units,
    machine_ratio,
    probe_kernel,
)
from pytest_mlperf.results import BenchmarkResult, Stability


def test_window_clock_reads_each_window_and_probes_after_it() -> None:
    clock = WindowClock(enabled=True)
    clock.start(0)
    total = 0
    for calls in (20, 40):
        total += sum(range(20_000))
        clock.end(calls)
        clock.start(calls)
    assert [c for _, _, c in clock.windows] == [20, 20]
    assert len(clock.cpu_ms_per_call()) == 2 and all(x > 0 for x in clock.cpu_ms_per_call())
    assert len(clock.probe_ns) == 2 and len(clock.probe_windows_ms()) == 2  # one per window
    probe = clock.probe_ms()
    assert probe is not None and probe > 0
    # the probe ran between the windows, outside them: a window's wall time excludes it
    (_, end0, _), (start1, _, _) = clock.windows
    assert start1[1] >= end0[1]


def test_window_clock_is_silent_when_off() -> None:
    clock = WindowClock(enabled=False)
    clock.start(0)
    clock.end(20)
    assert clock.windows == [] and clock.probe_ms() is None


def test_probe_kernel_is_fixed_work() -> None:
    assert probe_kernel() == probe_kernel()


def test_a_measurement_records_cpu_time_per_call_and_the_probe() -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    result = Benchmarker(samples=100, measure_memory=False).benchmark(model, X)
    figures = result.stability
    assert figures is not None
    assert len(figures.cpu_windows_ms) == 5  # one value per window of 20 calls
    assert figures.cpu_ms is not None and figures.cpu_ms > 0
    assert figures.probe_ms is not None and figures.probe_ms > 0
    assert len(figures.probe_windows_ms) == 5  # the probe after each window, to pair with it
    assert figures.probe_version == PROBE_VERSION
    again = BenchmarkResult.from_record(result.to_record())
    assert again.stability == figures


def test_waiting_is_not_cpu_time() -> None:
    def waits(_: object) -> None:
        time.sleep(0.002)

    result = Benchmarker(samples=40, measure_memory=False, warmup=1, warmup_time=0.0).benchmark(
        waits, np.zeros((4, 2)), batch_size=1
    )
    figures = result.stability
    assert figures is not None and figures.cpu_ms is not None
    assert figures.cpu_ms < 0.5 * result.latency_p50  # 2 ms of wall, almost no CPU


def test_the_call_after_the_probe_is_not_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The work between windows leaves the caches cold; the first call after it was the one
    call in 20 that sits at p95. A model that is slow right after the probe must not show it."""
    cold = []
    real_probe = probe.probe_kernel

    def probe_then_cold() -> float:
        cold.append(True)
        return real_probe()

    def model(_: object) -> None:
        if cold:
            cold.clear()
            end = time.process_time_ns() + 20_000_000
            while time.process_time_ns() < end:  # 20 ms of CPU time (a cold cache)
                pass

    monkeypatch.setattr(probe, "probe_kernel", probe_then_cold)
    bench = Benchmarker(samples=200, measure_memory=False, warmup=1, warmup_time=0.0)
    result = bench.benchmark(model, np.zeros((4, 2)), batch_size=1)
    assert len(result.samples_ms) == 200
    assert max(result.samples_ms) < 20.0  # nine cold calls, none of them timed
    figures = result.stability
    assert figures is not None and len(figures.cpu_windows_ms) == 10
    # each later window's CPU time counts its untimed call: 20 ms of CPU over 21 calls, which
    # other processes cannot shrink (the wait is on the CPU clock, not the wall clock)
    assert all(0.9 < ms < 5.0 for ms in figures.cpu_windows_ms[1:])


def test_old_records_without_readings_still_load() -> None:
    old = {"speed_drift": 0.01, "clustering": 1.0, "run_spread": 0.15, "windows": 5}
    figures = Stability.from_dict(old)
    assert figures is not None and figures.cpu_ms is None and figures.cpu_windows_ms == []


def figures(probe: float | None, cpu: list[float], share: float | None = 1.0) -> Stability:
    return Stability(
        cpu_share=share, cpu_windows_ms=cpu, probe_ms=probe, probe_version=PROBE_VERSION
    )


def test_machine_ratio_needs_two_probes_of_one_version() -> None:
    base, slow = figures(0.1, [1.0]), figures(0.2, [2.0])
    assert machine_ratio(base, slow) == 2.0
    assert machine_ratio(base, figures(None, [1.0])) is None
    assert machine_ratio(None, slow) is None
    other = Stability(probe_ms=0.2, probe_version=PROBE_VERSION + 1)
    assert machine_ratio(base, other) is None


def test_cpu_in_probe_units_cancels_a_uniformly_slower_machine() -> None:
    fast = cpu_in_probe_units(figures(0.1, [1.0, 1.1, 0.9]))
    slow = cpu_in_probe_units(figures(0.2, [2.0, 2.2, 1.8]))  # the same model, machine x2
    assert fast is not None and slow is not None
    np.testing.assert_allclose(fast, slow)
    assert cpu_in_probe_units(figures(None, [1.0])) is None
    assert cpu_in_probe_units(figures(0.1, [])) is None


def test_cpu_in_probe_units_divides_window_by_window() -> None:
    """A host's slow spell that comes and goes between windows slows the model and the probe
    run right after it alike: divided window by window, it cancels; by the run's median probe,
    it does not."""
    cpu, probes = [1.0, 2.0, 1.0, 2.0, 1.8], [0.1, 0.2, 0.1, 0.2, 0.18]
    spelled = Stability(
        cpu_windows_ms=cpu, probe_ms=0.18, probe_windows_ms=probes, probe_version=PROBE_VERSION
    )
    units = cpu_in_probe_units(spelled)
    assert units is not None
    np.testing.assert_allclose(units, 10.0)
    by_median = cpu_in_probe_units(figures(0.18, cpu))  # a run that kept no probe per window
    assert by_median is not None and np.ptp(by_median) > 5.0
    mismatched = Stability(
        cpu_windows_ms=cpu, probe_ms=0.18, probe_windows_ms=probes[:3], probe_version=3
    )
    np.testing.assert_allclose(cpu_in_probe_units(mismatched), by_median)


def test_contended_runs_are_those_that_lost_the_cpu() -> None:
    assert contended(figures(0.1, [1.0], share=0.6))
    assert not contended(figures(0.1, [1.0], share=1.0))
    assert not contended(figures(0.1, [1.0], share=None))  # a test's own clock: unknown
    assert not contended(None)


def test_the_probe_is_timed_on_its_second_run(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu_ns = [0]
    runs: list[int] = []

    def kernel() -> float:
        runs.append(cpu_ns[0])
        cpu_ns[0] += 50_000 if len(runs) % 2 else 10_000  # cold after the model, then warm
        return 0.0

    fake_time = types.SimpleNamespace(process_time_ns=lambda: cpu_ns[0], perf_counter_ns=lambda: 0)
    monkeypatch.setattr(probe, "probe_kernel", kernel)
    monkeypatch.setattr(probe, "time", fake_time)
    clock = probe.WindowClock(enabled=True)
    for window in range(3):
        clock.start(20 * window)
        clock.end(20 * window + 20)
    assert len(runs) == 6 and clock.probe_ns == [10_000] * 3
    assert clock.probe_ms() == pytest.approx(0.01)
