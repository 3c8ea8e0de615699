"""Traffic over a month and the queueing arithmetic that sizes a fleet for it.

Pure functions of rates and times: Little's law, replica counts with utilisation headroom, the
two-level day used for autoscaled fleets, and Cloud Run's busy-fraction model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_EPS = 1e-9


@dataclass(frozen=True)
class Level:
    """A share of the month (0..1) during which requests arrive at `rate` per second."""

    share: float
    rate: float


def two_level_day(
    requests_per_month: float, peak_to_average: float, peak_hours: float, seconds: float
) -> tuple[Level, ...]:
    """`peak_hours` a day at peak_to_average x the mean rate, the rest of the day quieter.

    The quiet rate is chosen so the month still carries `requests_per_month`. When
    peak_to_average x peak_hours exceeds 24 the peak alone would carry more than that; the peak
    is kept (it sizes the fleet) and the quiet rate is zero, so the estimate errs high.
    """
    mean = requests_per_month / seconds
    peak = peak_to_average * mean
    share = peak_hours / 24.0
    if share >= 1.0:
        return (Level(1.0, peak),)
    quiet = max(0.0, mean * (1.0 - share * peak_to_average) / (1.0 - share))
    return (Level(share, peak), Level(1.0 - share, quiet))


def in_flight(rate: float, seconds_per_request: float) -> float:
    """Little's law: mean number of requests in flight, L = λ·W."""
    return rate * seconds_per_request


def replicas_for(rate: float, per_replica_rps: float, utilization: float, minimum: int) -> int:
    """ceil(rate / (u x per-replica throughput)), never below `minimum` (the HPA steady state),
    and at least one replica while any traffic arrives."""
    if rate <= 0:
        return minimum
    return max(minimum, 1, math.ceil(rate / (utilization * per_replica_rps) - _EPS))


def busy_fraction(load: float) -> float:
    """P(at least one request in flight) with Poisson arrivals: 1 - e^(-L)."""
    return -math.expm1(-load)


def billed_instance_fraction(load: float, concurrency: int, utilization: float) -> float:
    """Average billable instances under request-based billing (Cloud Run's default).

    While L ≤ u·k one instance is enough and it is billed only while busy (1 - e^(-L)); above
    that the autoscaler keeps about L / (u·k) instances busy.
    """
    if load <= utilization * concurrency:
        return busy_fraction(load)
    return load / (utilization * concurrency)
