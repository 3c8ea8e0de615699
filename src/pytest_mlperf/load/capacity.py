"""Measured capacity: the highest request rate one replica holds within its latency limits.

The search follows Triton perf_analyzer's `--latency-threshold --binary-search` and MLPerf
LoadGen's peak search: start near half the rate the single-call time allows, double while
the limits hold, then bisect the bracket [highest rate that held, lowest that did not] until
it is within `precision`. A rate *holds* when the run was not saturated and the measured
percentile (the point estimate, as in both anchors) is within every latency limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..bench import ModelCallError, make_batches, resolve_model
from ..marks import Limit
from ..numbers import fmt
from ..results import Check, Verdict
from .result import LoadResult
from .run import load
from .schedule import LoadSettingError, positive_int, positive_number

PROBE_CALLS = 20
MIN_STEP_S, MAX_STEP_S = 1.0, 3.0
MAX_STEPS = 12
DOWN_STEPS = 4


@dataclass
class CapacityResult:
    """The highest rate held (`max_rps`), its bracket, and the latency-vs-rate curve."""

    max_rps: float
    bracket: tuple[float, float | None]
    curve: list[LoadResult]
    limits: list[Limit]
    workers: int
    pool: str
    batch_size: int
    stop_reason: str
    service_ms: float
    checks: list[Check] = field(default_factory=list)

    @property
    def throughput_rps(self) -> float:
        """Capacity in rows per second (requests/s x batch_size)."""
        return self.max_rps * self.batch_size

    @property
    def at(self) -> LoadResult:
        """The run at the capacity found (the slowest run measured if no rate held)."""
        held = [r for r in self.curve if holds(r, self.limits)]
        if held:
            return max(held, key=lambda r: r.rps)
        return min(self.curve, key=lambda r: r.rps)

    def to_dict(self) -> dict[str, Any]:
        """The `capacity` part of the report entry: the figure, its bracket and the curve."""
        return {
            "max_rps": self.max_rps,
            "max_rows_per_s": self.throughput_rps,
            "bracket": [self.bracket[0], self.bracket[1]],
            "limits": {lim.metric: lim.value for lim in self.limits},
            "workers": self.workers,
            "pool": self.pool,
            "stop_reason": self.stop_reason,
            "single_call_ms": self.service_ms,
            "curve": [
                {
                    "rps": r.rps,
                    "achieved_rps": r.achieved_rps,
                    "latency_p50": r.latency_p50,
                    "latency_p95": r.latency_p95,
                    "latency_p99": r.latency_p99,
                    "queue_p95": r.queue_p95,
                    "service_p95": r.service_p95,
                    "saturated": r.saturated,
                    "held": holds(r, self.limits),
                }
                for r in sorted(self.curve, key=lambda r: r.rps)
            ],
        }

    def report_result(self) -> LoadResult:
        """The run at capacity, carrying the capacity and its checks, for the report."""
        result = self.at
        if result.name.endswith(f" at {result.rps:g} rps"):
            result.name = f"{result.model_name} capacity"
        result.capacity = self.to_dict()
        result.checks = list(self.checks)
        return result

    def __str__(self) -> str:
        hi = "n/a" if self.bracket[1] is None else f"{self.bracket[1]:.1f}"
        lines = [
            f"Capacity: {self.max_rps:.1f} rps (bracket {self.bracket[0]:.1f} .. {hi}) with "
            f"{self.workers} {self.pool} worker(s); {self.stop_reason}"
        ]
        lines += [
            f"  {r.rps:8.1f} rps: p95 {fmt(r.latency_p95)} ms, p99 {fmt(r.latency_p99)} ms"
            + (" SATURATED" if r.saturated else "")
            + (" held" if holds(r, self.limits) else "")
            for r in sorted(self.curve, key=lambda r: r.rps)
        ]
        lines += [f"  {c.verdict.upper()}: {c.message}" for c in self.checks]
        return "\n".join(lines)


def holds(result: LoadResult, limits: Sequence[Limit]) -> bool:
    """Not saturated, and every latency limit met by the measured figure."""
    if result.saturated:
        return False
    for lim in limits:
        value = (
            result.latency_mean
            if lim.quantile is None
            else getattr(result, f"latency_{lim.metric}")
        )
        if value > lim.value:
            return False
    return True


def search_limits(limits: Sequence[Limit], p95_ms: Any, p99_ms: Any) -> list[Limit]:
    """The keywords' limits, else the latency limits among the test's markers."""
    given = [
        Limit(metric, positive_number(f"{metric}_ms", value))
        for metric, value in (("p95", p95_ms), ("p99", p99_ms))
        if value is not None
    ]
    chosen = given or [lim for lim in limits if lim.is_latency]
    if not chosen:
        raise LoadSettingError(
            "capacity needs a latency limit: pass p95_ms= or p99_ms=, or mark the test with "
            "@pytest.mark.latency(p95_ms=...)"
        )
    return chosen


def probe_service_ms(model: Any, X: Any, batch_size: int, method: str) -> float:
    """Mean single-call time (ms), from a few calls after a short warm-up."""
    target = resolve_model(model, method)
    batch = make_batches(X, batch_size, 0)[0]
    try:
        for _ in range(3):
            target.fn(batch)
        started = time.perf_counter_ns()
        for _ in range(PROBE_CALLS):
            target.fn(batch)
    except Exception as exc:
        raise ModelCallError(
            f"{target.name}.{target.method} raised {type(exc).__name__} while timing single "
            f"calls for the capacity search: {exc}"
        ) from exc
    return max((time.perf_counter_ns() - started) / PROBE_CALLS / 1e6, 1e-3)


def capacity(
    model: Any,
    X: Any,
    *,
    workers: int = 1,
    pool: str = "threads",
    p95_ms: float | None = None,
    p99_ms: float | None = None,
    max_rps: float | None = None,
    limits: Sequence[Limit] = (),
    batch_size: int = 1,
    method: str = "predict",
    arrival: str = "poisson",
    precision: float = 0.05,
    step_s: float | None = None,
    max_steps: int = MAX_STEPS,
    seed: int = 0,
    confidence: float = 0.95,
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> CapacityResult:
    """Search the highest rate within the latency limits; a throughput limit among `limits`
    (min_rps, rows/s) is then checked against the capacity found."""
    criteria = search_limits(limits, p95_ms, p99_ms)
    cap = None if max_rps is None else positive_number("max_rps", max_rps)
    workers = positive_int("workers", workers)
    steps = positive_int("max_steps", max_steps)
    precision = positive_number("precision", precision)
    step = None if step_s is None else positive_number("step_s", step_s)
    service_ms = probe_service_ms(model, X, positive_int("batch_size", batch_size), method)
    strictest = max(lim.quantile or 0.5 for lim in criteria)
    wanted = 20 / (1 - strictest)  # requests per step: 20 expected over the limit
    timeout_s = max(1.0, 20 * max(lim.value for lim in criteria) / 1000)
    curve: list[LoadResult] = []

    def measure(rate: float) -> bool:
        duration = step or min(max(wanted / rate, MIN_STEP_S), MAX_STEP_S)
        result = load(
            model, X, rps=rate, workers=workers, pool=pool, arrival=arrival,
            duration_s=duration, batch_size=batch_size, method=method, timeout_s=timeout_s,
            seed=seed + len(curve), confidence=confidence, name=name, **options,
        )  # fmt: skip
        curve.append(result)
        ok = holds(result, criteria)
        if progress is not None:
            progress(
                f"capacity: {rate:.1f} rps -> p95 {fmt(result.latency_p95)} ms, "
                f"p99 {fmt(result.latency_p99)} ms, {'held' if ok else 'not held'}"
                + (" (saturated)" if result.saturated else "")
            )
        return ok

    rate = 0.5 * workers * 1000 / service_ms
    if cap is not None:
        rate = min(rate, cap)
    lo: float = 0.0
    hi: float | None = None
    reason = ""
    if measure(rate):
        lo = rate
        while len(curve) < steps:
            if cap is not None and lo >= cap:
                reason = f"max_rps={cap:g} reached within the limits"
                break
            nxt = 2 * lo if cap is None else min(2 * lo, cap)
            if measure(nxt):
                lo = nxt
            else:
                hi = nxt
                break
    else:
        hi = rate
        for _ in range(DOWN_STEPS):
            rate /= 2
            if measure(rate):
                lo = rate
                break
            hi = rate
        else:
            reason = f"no rate held down to {rate:.3g} rps"
    while not reason and hi is not None and lo > 0 and hi / lo > 1 + precision:
        if len(curve) >= steps:
            reason = f"stopped after {steps} steps"
            break
        mid = (lo + hi) / 2
        if measure(mid):
            lo = mid
        else:
            hi = mid
    if not reason:
        reason = (
            f"bracket within {precision:.0%}" if hi is not None else f"stopped after {steps} steps"
        )
    result = CapacityResult(
        max_rps=lo, bracket=(lo, hi), curve=curve, limits=criteria, workers=workers,
        pool=pool, batch_size=batch_size, stop_reason=reason, service_ms=service_ms,
    )  # fmt: skip
    result.checks = [capacity_check(lim, result) for lim in limits if lim.metric == "throughput"]
    return result


def capacity_check(lim: Limit, result: CapacityResult) -> Check:
    """A throughput limit (rows/s) against the capacity: PASS when the highest rate that held
    reaches it, FAIL when a lower rate already broke the latency limits, else INCONCLUSIVE."""
    bs = result.batch_size
    lo = result.bracket[0] * bs
    hi = None if result.bracket[1] is None else result.bracket[1] * bs
    context = f"(workers={result.workers}, pool={result.pool}, batch={bs})"
    figure = f"capacity {fmt(lo)} rows/s [bracket {fmt(lo)}, {fmt(hi)}]"
    if lo >= lim.value:
        verdict, message = Verdict.PASS, f"{figure} >= limit {lim.value:g} rows/s {context}"
    elif hi is not None and hi <= lim.value:
        verdict, message = Verdict.FAIL, f"{figure} < limit {lim.value:g} rows/s {context}"
    else:
        verdict = Verdict.INCONCLUSIVE
        message = f"{figure}: limit {lim.value:g} rows/s lies inside the bracket {context}"
    return Check("throughput", lim.value, lo, verdict, message, (lo, hi), len(result.curve))
