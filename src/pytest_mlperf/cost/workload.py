"""What the benchmark measured, read as the cost of one request.

A *request* is one call of the model's method on one batch of `batch_size` rows, exactly as
`model_bench` timed it. `requests_per_month` counts such calls; a service that receives single
rows but predicts them in batches of 32 makes one request per 32 rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import CostConfigError


@dataclass(frozen=True)
class Workload:
    """Per-request latency (ms, on the CI machine), peak extra memory (MB) and throughput."""

    mean_ms: float
    p95_ms: float
    memory_mb: float | None = None
    throughput_rps: float | None = None  # rows per second, as measured
    batch_size: int = 1
    name: str = ""
    rss_mb: float | None = None  # resident memory of the measuring process, model loaded
    # Requests/s one replica of `capacity_workers` workers held within its latency limits
    # under open-loop load (model_bench.capacity); sizes replicas instead of Little's law.
    capacity_rps: float | None = None
    capacity_workers: int = 1

    def __post_init__(self) -> None:
        where = f"measurement {self.name!r}" if self.name else "measurement"
        for key in ("mean_ms", "p95_ms"):
            value = getattr(self, key)
            if not _finite(value) or value <= 0:
                raise CostConfigError(f"{where}: {key}: expected a number above 0, got {value!r}")
        for key in ("memory_mb", "rss_mb"):
            value = getattr(self, key)
            if value is not None and (not _finite(value) or value < 0):
                raise CostConfigError(f"{where}: {key}: expected 0 or more, got {value!r}")
        if self.throughput_rps is not None and (
            not _finite(self.throughput_rps) or self.throughput_rps <= 0
        ):
            raise CostConfigError(
                f"{where}: throughput_rps: expected a number above 0, got {self.throughput_rps!r}"
            )
        if self.capacity_rps is not None and (
            not _finite(self.capacity_rps) or self.capacity_rps <= 0
        ):
            raise CostConfigError(
                f"{where}: capacity_rps: expected a number above 0, got {self.capacity_rps!r}"
            )
        if (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, int)
            or (self.batch_size < 1)
        ):
            raise CostConfigError(
                f"{where}: batch_size: expected a whole number of at least 1, "
                f"got {self.batch_size!r}"
            )

    @property
    def calls_per_second(self) -> float:
        """Requests one worker completes per second on the CI machine.

        From the measured throughput (rows/s ÷ batch size) when there is one; otherwise from
        the mean latency (1000 / mean_ms), which is what a sequential loop achieves.
        """
        if self.throughput_rps is not None:
            return self.throughput_rps / self.batch_size
        return 1000.0 / self.mean_ms

    @property
    def measured_calls_per_second(self) -> float | None:
        """Requests one worker held within the latency limits under load, if measured."""
        if self.capacity_rps is None:
            return None
        return self.capacity_rps / max(self.capacity_workers, 1)

    @property
    def sized_from(self) -> str:
        """Which figure sizes the replica-based tiers."""
        if self.capacity_rps is not None:
            return "measured capacity"
        return "single-call latency (Little's law)"

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Workload:
        """From one entry of report.json's `results` list."""
        where = f"result {record.get('nodeid') or record.get('name') or '?'}"
        try:
            latency = record["latency_ms"]
            mean, p95 = latency["mean"], latency["p95"]
        except (KeyError, TypeError):
            raise CostConfigError(
                f"{where}: latency_ms.mean and latency_ms.p95 are needed"
            ) from None
        throughput = record.get("throughput_rps")
        load = record.get("load") or {}
        service = load.get("service_ms") or {}
        if service.get("mean") and service.get("p95"):
            # under load the latency includes queueing: a call itself costs its service time
            mean, p95, throughput = service["mean"], service["p95"], None
        capacity = record.get("capacity") or {}
        measured = capacity.get("max_rps")
        return cls(
            mean_ms=mean,
            p95_ms=p95,
            memory_mb=record.get("memory_mb"),
            throughput_rps=throughput if throughput else None,
            batch_size=record.get("batch_size", 1),
            name=str(record.get("name") or record.get("model") or ""),
            rss_mb=record.get("rss_mb"),
            capacity_rps=measured if measured else None,
            capacity_workers=int(capacity.get("workers") or 1),
        )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
