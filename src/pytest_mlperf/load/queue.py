"""Predicting latency under load from single-call times: an M/G/c queue, simulated.

Requests arrive as a Poisson stream (or at a constant rate) and are served first come, first
served by `workers` identical servers whose service times are drawn, with replacement, from
measured single-call latencies. The closed forms below (M/M/1, Erlang C, Pollaczek-Khinchine)
are what the simulation is tested against.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import stats
from ..marks import PERCENTILES
from .schedule import arrival_times

FloatArray = npt.NDArray[np.float64]
SIMULATED_REQUESTS = 20_000
WARMUP_SHARE = 0.1  # the first requests meet an empty queue: left out of the figures


def simulate(
    service_s: FloatArray, arrivals_s: FloatArray, workers: int
) -> tuple[FloatArray, FloatArray]:
    """(time in system, waiting time) per request, in seconds, for a FCFS queue with
    `workers` servers; `service_s[i]` is request i's service time."""
    free = [0.0] * workers  # when each server is next free
    waits = np.empty(arrivals_s.size)
    for i, (arrive, service) in enumerate(
        zip(arrivals_s.tolist(), service_s.tolist(), strict=True)
    ):
        soonest = free[0]
        start = arrive if arrive > soonest else soonest
        heapq.heapreplace(free, start + service)
        waits[i] = start - arrive
    return waits + service_s, waits


def simulate_mgc(
    service_samples_s: FloatArray,
    rps: float,
    workers: int,
    *,
    requests: int = SIMULATED_REQUESTS,
    arrival: str = "poisson",
    seed: int = 0,
) -> tuple[FloatArray, FloatArray]:
    """Time in system and waiting time of `requests` requests (after a warm-up share)."""
    rng = np.random.default_rng(seed)
    total = int(requests / (1 - WARMUP_SHARE)) + 1
    arrivals = arrival_times(rps, total / rps, arrival, seed)[:total]
    service = rng.choice(np.asarray(service_samples_s, dtype=np.float64), size=arrivals.size)
    response, waits = simulate(service, arrivals, workers)
    skip = int(arrivals.size * WARMUP_SHARE)
    return response[skip:], waits[skip:]


@dataclass(frozen=True)
class Prediction:
    """Predicted latency (ms) at `rps` with `workers`; figures are None when unstable."""

    rps: float
    workers: int
    utilisation: float
    latency_ms: dict[str, float | None]
    wait_probability: float | None
    method: str = "M/G/c simulation with the measured service times"

    @property
    def stable(self) -> bool:
        return self.utilisation < 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "rps": self.rps,
            "workers": self.workers,
            "utilisation": self.utilisation,
            "stable": self.stable,
            "latency_ms": dict(self.latency_ms),
            "wait_probability": self.wait_probability,
            "method": self.method,
        }


def predict(
    service_samples_ms: npt.ArrayLike,
    rps: float,
    workers: int = 1,
    *,
    arrival: str = "poisson",
    requests: int = SIMULATED_REQUESTS,
    seed: int = 0,
) -> Prediction:
    """p50/p95/p99 and mean time in system at `rps` (requests/s) with `workers` servers."""
    service_ms = np.asarray(service_samples_ms, dtype=np.float64)
    if service_ms.size == 0:
        raise ValueError("no service-time samples to predict from")
    utilisation = rps * float(service_ms.mean()) / 1000 / workers
    empty: dict[str, float | None] = {"mean": None, "p50": None, "p95": None, "p99": None}
    if utilisation >= 1:
        return Prediction(rps, workers, utilisation, empty, None)
    response, waits = simulate_mgc(
        service_ms / 1000, rps, workers, requests=requests, arrival=arrival, seed=seed
    )
    ordered = np.sort(response) * 1000
    figures: dict[str, float | None] = {"mean": float(ordered.mean())}
    for metric in ("p50", "p95", "p99"):
        figures[metric] = stats.percentile(ordered, PERCENTILES[metric])
    return Prediction(rps, workers, utilisation, figures, float(np.mean(waits > 0)))


# -- closed forms, for tests and the docs --------------------------------------------------


def mm1_response_quantile(q: float, arrival_rate: float, service_rate: float) -> float:
    """M/M/1: time in system is Exponential(mu - lambda), so its q-quantile is
    -ln(1 - q) / (mu - lambda)."""
    return -math.log(1 - q) / (service_rate - arrival_rate)


def erlang_c(workers: int, offered: float) -> float:
    """Probability that a request waits in M/M/c with offered load a = lambda / mu < c."""
    top = offered**workers / math.factorial(workers) * workers / (workers - offered)
    bottom = sum(offered**k / math.factorial(k) for k in range(workers)) + top
    return top / bottom


def md1_mean_wait(utilisation: float, service: float) -> float:
    """M/D/1 mean waiting time (Pollaczek-Khinchine): rho D / (2 (1 - rho))."""
    return utilisation * service / (2 * (1 - utilisation))
