"""`load()`: one open-loop run of a model at a given request rate, judged against limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..bench import ModelCallError, make_batches, resolve_model
from ..marks import Limit
from .pool import (
    WARMUP_CALLS,
    LoadError,
    Timings,
    default_blas_threads,
    picklable_payload,
    run_processes,
    run_threads,
)
from .queue import predict
from .result import LoadResult, build_result
from .schedule import LoadSettings, arrival_times
from .verdict import block_intervals, judge_load


def load(
    model: Any,
    X: Any,
    *,
    rps: float,
    workers: int = 1,
    pool: str = "threads",
    arrival: str = "poisson",
    duration_s: float | None = None,
    batch_size: int = 1,
    method: str = "predict",
    timeout_s: float | None = None,
    seed: int = 0,
    blas_threads: int | None = None,
    limits: Sequence[Limit] = (),
    confidence: float = 0.95,
    name: str | None = None,
    max_time: float = 10.0,
    progress: Callable[[str], None] | None = None,
) -> LoadResult:
    """Offer `rps` requests per second (seeded Poisson or constant arrivals) for `duration_s`
    to `workers` threads or processes serving `model.method` on `batch_size` rows, and count
    each request's latency from its scheduled time.

    timeout_s: a request still waiting this long is dropped (the run is then saturated).
    blas_threads: BLAS/OpenMP threads per worker (default: the cores shared out among workers).
    """
    settings = LoadSettings.make(
        rps=rps, workers=workers, pool=pool, arrival=arrival, duration_s=duration_s,
        batch_size=batch_size, method=method, timeout_s=timeout_s, seed=seed,
        blas_threads=blas_threads, max_time=max_time,
    )  # fmt: skip
    target = resolve_model(model, settings.method)
    batches = make_batches(X, settings.batch_size, settings.seed)
    offsets = np.round(
        arrival_times(settings.rps, settings.duration_s, settings.arrival, settings.seed) * 1e9
    ).astype(np.int64)
    blas = settings.blas_threads or default_blas_threads(settings.workers)
    timeout_ns = int(settings.timeout_s * 1e9)
    total = offsets.size
    report = None
    if progress is not None:

        def report(sent: int) -> None:
            progress(f"load: {sent}/{total} requests sent at {settings.rps:g} rps")

    if settings.pool == "processes":
        payload = picklable_payload(target.fn, batches, target.name)
        timings = run_processes(
            payload, offsets, workers=settings.workers, timeout_ns=timeout_ns,
            blas_threads=blas, progress=report,
        )  # fmt: skip
    else:
        timings = run_threads(
            target.fn, batches, offsets, workers=settings.workers, timeout_ns=timeout_ns,
            blas_threads=blas, progress=report,
        )  # fmt: skip
    _raise_errors(timings, f"{target.name}.{target.method}", settings)
    result = build_result(
        timings, label=target.name, method=target.method, batch_size=settings.batch_size,
        rps=settings.rps, workers=settings.workers, pool=settings.pool,
        arrival=settings.arrival, duration_s=settings.duration_s,
        timeout_s=settings.timeout_s, confidence=confidence,
    )  # fmt: skip
    result.name = name or f"{target.name} at {settings.rps:g} rps"
    result.warmup_calls = WARMUP_CALLS * settings.workers
    samples = np.asarray(result.samples_ms, dtype=np.float64)
    result.ci = block_intervals(samples, confidence)
    if result.service_samples_ms:
        result.predicted = predict(
            result.service_samples_ms, settings.rps, settings.workers,
            arrival=settings.arrival, seed=settings.seed,
        ).to_dict()  # fmt: skip
    result.checks = judge_load(
        samples, limits, confidence=confidence,
        context=result.context, saturated=result.saturation_reason,
        achieved_rows_per_s=result.throughput_rps,
    )  # fmt: skip
    return result


def _raise_errors(t: Timings, label: str, settings: LoadSettings) -> None:
    where = f"under load (rps={settings.rps:g}, workers={settings.workers}, pool={settings.pool})"
    if isinstance(t.error, LoadError):
        raise t.error
    if t.error is not None:
        raise ModelCallError(
            f"{label} raised {type(t.error).__name__} {where}: {t.error}"
        ) from t.error
    if t.first_error is not None:
        last = t.first_error.strip().splitlines()[-1]
        raise ModelCallError(
            f"{label} raised {where}: {last}\nfirst traceback, from a worker process:\n"
            f"{t.first_error.rstrip()}"
        )
