"""Seeded synthetic latency streams for the regression statistics, and checks that they are noisy
in the ways the research notes describe (statistics section 5.5).

A `Machine` is a fake nanosecond clock plus the latency multiplier of every call it will see:
AR(1) log-latency (the calls of one process are correlated), rare spikes of 1.5-3x (GC, other
tenants), a slow factor per stretch of calls (CI drift), and optionally a factor for the whole
run (another job, another machine state). Models built on it advance the clock by their median
times the multiplier of the current call, so two models called in turn share the machine's
state exactly as two models in one process do. No sleeps, no real timing.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from scipy.signal import lfilter

from pytest_mlperf import stats


class Machine:
    """Fake clock and shared noise for ``n`` calls; ``seed`` makes every figure reproducible."""

    def __init__(
        self,
        seed: int,
        n: int,
        *,
        rho: float = 0.5,
        sigma: float = 0.15,
        spike_rate: float = 0.03,
        drift_sigma: float = 0.03,
        drift_every: int = 200,
        run_sigma: float = 0.0,
    ) -> None:
        rng = np.random.default_rng(seed)
        innovation = sigma * math.sqrt(1.0 - rho * rho)
        start = [rho * sigma * rng.standard_normal()]
        noise = lfilter([innovation], [1.0, -rho], rng.standard_normal(n), zi=start)[0]
        spikes = np.where(rng.random(n) < spike_rate, rng.uniform(1.5, 3.0, n), 1.0)
        stretches = np.exp(rng.normal(0.0, drift_sigma, n // drift_every + 1))
        drift = np.repeat(stretches, drift_every)[:n]
        whole_run = math.exp(rng.normal(0.0, run_sigma)) if run_sigma else 1.0
        self.multiplier = np.exp(noise) * spikes * drift * whole_run
        self._state = [0, 0]  # [now in ns, calls so far]: shared by the clock and the models
        # the clock runs millions of times in the simulations: a C-level partial, not a method
        self.clock: Callable[[], int] = partial(operator.getitem, self._state, 0)

    def model(self, median_ms: float, factor: float = 1.0) -> Callable[[Any], None]:
        """A callable taking ``median_ms * factor`` times the current call's multiplier."""
        latencies = (self.multiplier * (median_ms * factor * 1e6)).astype(np.int64).tolist()
        state = self._state

        def predict(batch: Any) -> None:
            state[0] += latencies[state[1]]
            state[1] += 1

        return predict

    def samples_ms(self, median_ms: float, factor: float = 1.0) -> np.ndarray:
        """The whole stream as one run's latencies in measurement order."""
        return np.asarray(self.multiplier * median_ms * factor)


def test_log_latency_is_autocorrelated_like_ar1() -> None:
    logs = np.log(Machine(0, 20_000, spike_rate=0.0, drift_sigma=0.0).multiplier)
    lag1 = np.corrcoef(logs[:-1], logs[1:])[0, 1]
    assert abs(lag1 - 0.5) < 0.03
    assert abs(logs.std() - 0.15) < 0.01


def test_spikes_and_drift_are_there() -> None:
    quiet = Machine(1, 20_000, spike_rate=0.0, drift_sigma=0.0).multiplier
    noisy = Machine(1, 20_000).multiplier
    assert 0.02 < np.mean(noisy / quiet > 1.4) < 0.04
    # the drift makes the medians of 200-call stretches differ more than sampling alone would
    assert (
        stats.block_percentiles(noisy, 200, 0.5).std()
        > stats.block_percentiles(quiet, 200, 0.5).std()
    )


def test_models_share_the_clock_and_the_machine_state() -> None:
    machine = Machine(2, 10)
    a, b = machine.model(1.0), machine.model(1.0, 2.0)
    a(None)
    first = machine.clock()
    b(None)
    assert machine.clock() - first == int(machine.multiplier[1] * 2e6)
