"""`LoadResult`: latency under open-loop traffic, and how it is built from per-request times.

A `LoadResult` is a `BenchmarkResult` (the same latency fields, checks and report entry) whose
latency is counted from each request's *scheduled* send time, so a stall delays every request
scheduled during it, as it would delay real users (coordinated omission corrected). It adds
the traffic that was offered and achieved, the split into queueing and service time, and
whether the run was saturated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import stats
from ..marks import PERCENTILES
from ..numbers import fmt
from ..results import BenchmarkResult
from .pool import DROPPED, OK, Timings

OVERRUN_SHARE = 0.10  # answers may finish this share of the run after the schedule ends
MIN_OVERRUN_S = 0.5
LAG_SHARE = 0.05  # the generator may fall this share of the run behind its schedule
MIN_LAG_S = 0.2

FloatArray = npt.NDArray[np.float64]


def _summary(values_ms: FloatArray) -> dict[str, float | None]:
    if values_ms.size == 0:
        return {"mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = np.sort(values_ms)
    out: dict[str, float | None] = {"mean": float(ordered.mean())}
    for metric in ("p50", "p95", "p99"):
        out[metric] = stats.percentile(ordered, PERCENTILES[metric])
    out["max"] = float(ordered[-1])
    return out


@dataclass
class LoadResult(BenchmarkResult):
    """Latency (ms, from each request's scheduled time) of a model under open-loop traffic."""

    rps: float = 0.0  # the rate asked for
    offered_rps: float = 0.0  # requests scheduled / duration
    achieved_rps: float = 0.0  # answers / (last answer - start)
    workers: int = 1
    pool: str = "threads"
    arrival: str = "poisson"
    duration_s: float = 0.0
    requests: int = 0
    dropped: int = 0
    timeouts: int = 0
    timeout_s: float = 0.0
    saturated: bool = False
    saturation_reason: str = ""
    queue_ms: dict[str, float | None] = field(default_factory=dict)
    service_ms: dict[str, float | None] = field(default_factory=dict)
    lag_ms: dict[str, float | None] = field(default_factory=dict)
    queue_samples_ms: list[float] = field(default_factory=list, repr=False)
    service_samples_ms: list[float] = field(default_factory=list, repr=False)
    blas_threads: int | None = None
    blas_libraries: list[dict[str, Any]] = field(default_factory=list)
    predicted: dict[str, Any] | None = None
    capacity: dict[str, Any] | None = None

    @property
    def queue_p95(self) -> float | None:
        return self.queue_ms.get("p95")

    @property
    def service_p95(self) -> float | None:
        return self.service_ms.get("p95")

    @property
    def context(self) -> str:
        """How the traffic was made, for messages: rps, workers, pool."""
        return f"(rps={self.rps:g}, workers={self.workers}, pool={self.pool})"

    def load_record(self) -> dict[str, Any]:
        """The `load` part of the report entry."""
        return {
            "rps": self.rps,
            "offered_rps": self.offered_rps,
            "achieved_rps": self.achieved_rps,
            "workers": self.workers,
            "pool": self.pool,
            "arrival": self.arrival,
            "duration_s": self.duration_s,
            "requests": self.requests,
            "dropped": self.dropped,
            "timeouts": self.timeouts,
            "timeout_s": self.timeout_s,
            "saturated": self.saturated,
            "saturation_reason": self.saturation_reason,
            "queue_ms": dict(self.queue_ms),
            "service_ms": dict(self.service_ms),
            "lag_ms": dict(self.lag_ms),
            "blas_threads": self.blas_threads,
            "blas_libraries": list(self.blas_libraries),
            "predicted": self.predicted,
            "service_samples_ms": list(self.service_samples_ms),
        }

    def to_record(self, nodeid: str = "", outcome: str = "") -> dict[str, Any]:
        record = super().to_record(nodeid, outcome)
        record["load"] = self.load_record()
        if self.capacity is not None:
            record["capacity"] = self.capacity
        return record

    def __str__(self) -> str:
        lines = super().__str__().splitlines()
        lines[0] = f"Load: {self.name or self.model_name} {self.context}"
        q, s = self.queue_ms, self.service_ms
        lines[4:4] = [
            f"  Traffic: {self.arrival}, offered {self.offered_rps:.1f} rps, achieved "
            f"{self.achieved_rps:.1f} rps, {self.requests} requests in {self.duration_s:g} s"
            + (f"; SATURATED: {self.saturation_reason}" if self.saturated else ""),
            f"  Queue p95 {fmt(q.get('p95'))} ms, service p95 {fmt(s.get('p95'))} ms; "
            f"dropped {self.dropped}, timeouts {self.timeouts}",
        ]
        return "\n".join(lines)


def build_result(
    t: Timings,
    *,
    label: str,
    method: str,
    batch_size: int,
    rps: float,
    workers: int,
    pool: str,
    arrival: str,
    duration_s: float,
    timeout_s: float,
    confidence: float,
) -> LoadResult:
    """Latency, queue and service times, rates and saturation from one run's timings."""
    from ..bench import result_from_samples

    done = t.status == OK
    latency = (t.end[done] - t.scheduled[done]) / 1e6
    queue = (t.start[done] - t.scheduled[done]) / 1e6
    service = (t.end[done] - t.start[done]) / 1e6
    sent = t.sent >= 0
    lag = (t.sent[sent] - t.scheduled[sent]) / 1e6
    n = int(t.scheduled.size)
    completed = int(done.sum())
    if completed >= 2:
        base = result_from_samples(latency, label, batch_size, confidence)
    else:
        base = result_from_samples(
            np.array([0.0, 0.0]) if completed == 0 else np.repeat(latency, 2),
            label,
            batch_size,
            confidence,
        )
        base.n_samples = completed
    start = int(t.scheduled[0]) if n else 0
    last_end = int(t.end[done].max()) if completed else start
    span_s = max((last_end - start) / 1e9, 1e-9)
    achieved = completed / span_s if completed else 0.0
    result = LoadResult(**{f: getattr(base, f) for f in base.__dataclass_fields__})
    result.method = method
    result.throughput_rps = achieved * batch_size
    result.rps = rps
    result.offered_rps = n / duration_s
    result.achieved_rps = achieved
    result.workers, result.pool, result.arrival = workers, pool, arrival
    result.duration_s, result.requests, result.timeout_s = duration_s, n, timeout_s
    result.dropped = int(np.count_nonzero(t.status == DROPPED)) + int(np.count_nonzero(~sent))
    result.timeouts = int(np.count_nonzero(latency > timeout_s * 1000))
    result.queue_ms, result.service_ms, result.lag_ms = (
        _summary(queue),
        _summary(service),
        _summary(lag),
    )
    result.queue_samples_ms = [float(x) for x in queue]
    result.service_samples_ms = [float(x) for x in service]
    result.blas_threads, result.blas_libraries = t.blas_threads, list(t.blas_libraries)
    overrun_s = (last_end - int(t.scheduled[-1])) / 1e9 if completed else 0.0
    tail = lag[-max(lag.size // 5, 1) :]
    late_s = float(np.median(tail)) / 1000 if lag.size else 0.0
    result.saturation_reason = saturation(
        n, completed, result.dropped, overrun_s, late_s, duration_s, timeout_s
    )
    result.saturated = bool(result.saturation_reason)
    result.stop_reason = "saturated" if result.saturated else "schedule completed"
    return result


def saturation(
    requests: int,
    completed: int,
    dropped: int,
    overrun_s: float,
    late_s: float,
    duration_s: float,
    timeout_s: float,
) -> str:
    """Why the run was saturated, or "": requests dropped, the generator fell behind its
    schedule (`late_s`: its median lag over the last fifth of the requests), or answers kept
    coming long after the schedule ended (the queue kept growing)."""
    if dropped:
        return (
            f"{dropped} of {requests} requests were dropped after waiting more than {timeout_s:g} s"
        )
    if late_s > max(LAG_SHARE * duration_s, MIN_LAG_S):
        return f"the load generator fell {late_s * 1000:.0f} ms behind its schedule"
    limit = max(OVERRUN_SHARE * duration_s, MIN_OVERRUN_S)
    if overrun_s > limit:
        return (
            f"the last answer came {overrun_s:.2f} s after the last scheduled request (more "
            f"than {limit:g} s): the queue kept growing"
        )
    if completed < requests:
        return f"only {completed} of {requests} requests were answered"
    return ""
