"""Open-loop arrival schedules and the validation of a load run's settings.

Arrival times are fixed before the first request is sent, so nothing the model does can delay
the traffic it is offered: that is what makes the run open-loop.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..bench import BenchmarkError

ARRIVALS = ("poisson", "constant")
POOLS = ("threads", "processes")
MIN_DURATION_S = 2.0
TARGET_REQUESTS = 2000  # enough for 20 blocks of 100 requests in the verdicts
MAX_REQUESTS = 1_000_000


class LoadSettingError(BenchmarkError):
    """A load-run setting that cannot be used; the message names the setting."""


def positive_number(name: str, value: Any) -> float:
    """A positive finite real number (NumPy scalars welcome, bools and strings not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise LoadSettingError(f"{name} must be a positive number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise LoadSettingError(f"{name} must be a positive finite number, got {value!r}")
    return number


def positive_int(name: str, value: Any) -> int:
    """A positive whole number (NumPy integers welcome, bools and floats not)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 1:
        return int(value)
    raise LoadSettingError(f"{name} must be a positive integer, got {value!r}")


def one_of(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    raise LoadSettingError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


@dataclass(frozen=True)
class LoadSettings:
    """The validated settings of one open-loop run."""

    rps: float
    workers: int = 1
    pool: str = "threads"
    arrival: str = "poisson"
    duration_s: float = MIN_DURATION_S
    batch_size: int = 1
    method: str = "predict"
    timeout_s: float = 10.0
    seed: int = 0
    blas_threads: int | None = None

    @classmethod
    def make(
        cls,
        *,
        rps: Any,
        workers: Any = 1,
        pool: Any = "threads",
        arrival: Any = "poisson",
        duration_s: Any = None,
        batch_size: Any = 1,
        method: Any = "predict",
        timeout_s: Any = None,
        seed: Any = 0,
        blas_threads: Any = None,
        max_time: float = 10.0,
    ) -> LoadSettings:
        """Validate every setting; a missing duration gives about 2,000 requests, at least
        2 s and at most `max_time` (the plugin's --mlperf-max-time)."""
        rate = positive_number("rps", rps)
        if duration_s is None:
            duration = min(max(MIN_DURATION_S, TARGET_REQUESTS / rate), max(max_time, 0.1))
        else:
            duration = positive_number("duration_s", duration_s)
        if rate * duration > MAX_REQUESTS:
            raise LoadSettingError(
                f"rps={rps!r} for duration_s={duration:g} schedules more than "
                f"{MAX_REQUESTS:,} requests; shorten the run"
            )
        if not isinstance(method, str) or not method:
            raise LoadSettingError(f"method must be a method name, got {method!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise LoadSettingError(f"seed must be an integer, got {seed!r}")
        return cls(
            rps=rate,
            workers=positive_int("workers", workers),
            pool=one_of("pool", pool, POOLS),
            arrival=one_of("arrival", arrival, ARRIVALS),
            duration_s=duration,
            batch_size=positive_int("batch_size", batch_size),
            method=method,
            timeout_s=10.0 if timeout_s is None else positive_number("timeout_s", timeout_s),
            seed=int(seed),
            blas_threads=None
            if blas_threads is None
            else positive_int("blas_threads", blas_threads),
        )


def arrival_times(
    rps: float, duration_s: float, arrival: str, seed: int
) -> npt.NDArray[np.float64]:
    """Scheduled send times in seconds from the start of the run, all before `duration_s`.

    Poisson: exponential gaps of mean 1/rps from a seeded generator, so a rerun offers the
    same traffic. Constant: one request every 1/rps seconds.
    """
    if arrival == "constant":
        count = max(math.floor(rps * duration_s), 1)
        return np.arange(count, dtype=np.float64) / rps
    rng = np.random.default_rng(seed)
    expected = rps * duration_s
    chunk = int(expected + 6 * math.sqrt(expected) + 16)
    times = np.cumsum(rng.exponential(1.0 / rps, size=chunk))
    while times[-1] < duration_s:  # rare: draw more gaps
        more = times[-1] + np.cumsum(rng.exponential(1.0 / rps, size=chunk))
        times = np.concatenate([times, more])
    kept: npt.NDArray[np.float64] = times[times < duration_s]
    if kept.size == 0:
        kept = times[:1]
    return kept
