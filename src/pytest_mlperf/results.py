"""What a measurement produced: `Check`, `BenchmarkResult`, and their JSON form.

Field names are those the earlier `ModelBenchmarker` returned (`latency_p95` in milliseconds,
`throughput_rps` in rows per second), so code written against it keeps working
(docs/reference.md#compatibility-names).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .regression.comparison import ComparisonVerdict, comparisons_of

PERCENTILE_METHOD = "nearest-rank (numpy.quantile method='inverted_cdf')"


class Verdict(str, enum.Enum):  # noqa: UP042 (StrEnum would change str())
    """The verdict of a limit check (``docs/verdicts.md``); the value is the JSON spelling."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"

    @property
    def label(self) -> str:
        """How people read it: upper case for what needs a look (``FAIL``, ``INCONCLUSIVE``)."""
        text: str = self.value
        return text if self is Verdict.PASS else text.upper()

    @classmethod
    def of(cls, passed: bool) -> Verdict:
        """PASS or FAIL for a check decided without doubt."""
        return cls.PASS if passed else cls.FAIL

    @classmethod
    def worst(cls, verdicts: Iterable[Any]) -> Verdict | None:
        """FAIL over INCONCLUSIVE over PASS, from verdicts in either spelling; None for none."""
        spelled = {str(getattr(v, "value", v)).lower() for v in verdicts}
        for verdict in (cls.FAIL, cls.INCONCLUSIVE):
            if verdict.value in spelled:
                return verdict
        return cls.PASS if spelled else None


class RunVerdict(str, enum.Enum):  # noqa: UP042 (StrEnum would change str())
    """The verdict of a whole run, a session budget or a comparison gate; the value is the
    JSON spelling, :attr:`label` the printed one."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def label(self) -> str:
        """How people read it: always upper case (``PASS``, ``WARN``, ``FAIL``)."""
        text: str = self.value
        return text.upper()

    @classmethod
    def of(cls, failed: bool) -> RunVerdict:
        return cls.FAIL if failed else cls.PASS

    @classmethod
    def label_of(cls, value: Any) -> str:
        """The printed verdict of a record's ``verdict`` field, in the one place renderers take
        it from; an unknown word in a foreign or damaged report is shown in the same case."""
        text = str(getattr(value, "value", value))
        try:
            return cls(text.lower()).label
        except ValueError:
            return text.upper()


@dataclass(frozen=True)
class Check:
    """One limit applied to one result, with its verdict and a one-line explanation."""

    metric: str  # "p50" | "p90" | "p95" | "p99" | "mean" | "throughput" | "memory"
    limit: float
    value: float | None
    verdict: Verdict
    message: str
    ci: tuple[float | None, float | None] | None = None
    n: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["verdict"] = self.verdict.value
        data["ci"] = list(self.ci) if self.ci is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        ci = data.get("ci")
        return cls(
            metric=str(data["metric"]),
            limit=float(data["limit"]),
            value=None if data.get("value") is None else float(data["value"]),
            verdict=Verdict(data["verdict"]),
            message=str(data["message"]),
            ci=None if ci is None else (ci[0], ci[1]),
            n=int(data.get("n", 0)),
        )


@dataclass(frozen=True)
class Stability:
    """How much the machine moved during one measurement, and what that did to the intervals.

    speed_drift: log-sd of the medians of consecutive windows of 20 calls, beyond what
        sampling explains (0.05 is about 5%): how much the machine's speed moved.
    clustering: the design effect of calls above the p95 (1: independent calls).
    run_spread: the log-sd between runs that the intervals were widened by (the stated floor
        and ``speed_drift`` added as variances).
    windows: the number of windows the figures come from.
    cpu_share: the median share of wall time the process held a CPU in windows where the
        scheduler preempted it (1: uncontended); None when a test supplied its own clock.
    cpu_ms: the median over windows of the process CPU time per call (waiting for the CPU
        does not count); cpu_windows_ms holds each window's value for comparisons.
    probe_ms: the median CPU time of the machine-speed probe run between windows,
        probe_windows_ms its time after each window, and probe_version the version of its
        kernel (only equal versions compare).
    """

    speed_drift: float = 0.0
    clustering: float = 1.0
    run_spread: float = 0.0
    windows: int = 0
    cpu_share: float | None = None
    cpu_ms: float | None = None
    cpu_windows_ms: list[float] = dataclasses.field(default_factory=list)
    probe_ms: float | None = None
    probe_windows_ms: list[float] = dataclasses.field(default_factory=list)
    probe_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Stability | None:
        if not data:
            return None
        return cls(
            speed_drift=float(data.get("speed_drift", 0.0)),
            clustering=float(data.get("clustering", 1.0)),
            run_spread=float(data.get("run_spread", 0.0)),
            windows=int(data.get("windows", 0)),
            cpu_share=_optional(data.get("cpu_share")),
            cpu_ms=_optional(data.get("cpu_ms")),
            cpu_windows_ms=[float(x) for x in data.get("cpu_windows_ms") or []],
            probe_ms=_optional(data.get("probe_ms")),
            probe_windows_ms=[float(x) for x in data.get("probe_windows_ms") or []],
            probe_version=None if data.get("probe_version") is None else int(data["probe_version"]),
        )

    @property
    def summary(self) -> str:
        """One phrase for messages: 'speed drift 3.1%, clustering x2.4'."""
        share = "" if self.cpu_share is None else f", CPU share {self.cpu_share:.0%}"
        return f"speed drift {self.speed_drift:.1%}, clustering x{self.clustering:.1f}{share}"


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass
class BenchmarkResult:
    """Latency (ms), throughput (rows/s) and memory (MB) of one model at one batch size."""

    model_name: str
    batch_size: int
    n_samples: int  # timed calls
    latency_mean: float
    latency_p50: float
    latency_p95: float
    latency_p99: float
    latency_std: float
    throughput_rps: float
    memory_mb: float | None
    latency_min: float = 0.0
    latency_max: float = 0.0
    latency_p90: float = 0.0
    # Two-sided confidence intervals (ms); a side is None when too few calls bound it.
    ci: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    confidence: float = 0.95
    samples_ms: list[float] = field(default_factory=list, repr=False)
    checks: list[Check] = field(default_factory=list)
    name: str = ""
    method: str = "predict"
    warmup_calls: int = 0
    elapsed_s: float = 0.0
    stop_reason: str = ""
    warnings: list[str] = field(default_factory=list)
    # "memray" counts native allocations (NumPy, BLAS); "tracemalloc" only Python's and NumPy's
    memory_method: str = ""
    stability: Stability | None = None  # how steady the machine was while timing
    # resident memory of the measuring process (model loaded) when measured: sizes servers
    rss_mb: float | None = None
    # latency predicted under load from these samples (model_bench.predict_load), if asked
    predictions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True unless a check failed (inconclusive checks do not fail here)."""
        return all(c.verdict != "fail" for c in self.checks)

    def __str__(self) -> str:
        def ci_text(metric: str) -> str:
            lo, hi = self.ci.get(metric, (None, None))
            if lo is None and hi is None and metric == "mean" and self.n_samples:
                from .judge import MEAN_CI_MISSING  # judge imports this module

                return f"  [{int(self.confidence * 100)}% CI {MEAN_CI_MISSING}]"
            if lo is None and hi is None:
                return ""
            return f"  [{int(self.confidence * 100)}% CI {_fmt(lo)}, {_fmt(hi)}]"

        memory = "not measured" if self.memory_mb is None else f"{self.memory_mb:.2f} MB"
        lines = [
            f"Benchmark: {self.name or self.model_name}",
            f"  Model: {self.model_name}.{self.method}",
            f"  Batch size: {self.batch_size}",
            f"  Timed calls: {self.n_samples} (after {self.warmup_calls} warm-up; "
            f"stopped: {self.stop_reason or 'n/a'})",
            "  Latency (ms):",
            f"    Mean: {self.latency_mean:.3f}{ci_text('mean')}",
            f"    P50:  {self.latency_p50:.3f}{ci_text('p50')}",
            f"    P90:  {self.latency_p90:.3f}{ci_text('p90')}",
            f"    P95:  {self.latency_p95:.3f}{ci_text('p95')}",
            f"    P99:  {self.latency_p99:.3f}{ci_text('p99')}",
            f"    Std:  {self.latency_std:.3f}",
            f"    Min/Max: {self.latency_min:.3f} / {self.latency_max:.3f}",
            f"  Throughput: {self.throughput_rps:.1f} rows/s",
            f"  Memory: {memory}",
        ]
        if self.stability is not None:
            lines.append(f"  Stability: {self.stability.summary}")
        lines += [f"  {c.verdict.upper()}: {c.message}" for c in self.checks]
        lines += [f"  WARNING: {w}" for w in self.warnings]
        return "\n".join(lines)

    def latency_summary(self) -> dict[str, float]:
        return {
            "mean": self.latency_mean,
            "std": self.latency_std,
            "min": self.latency_min,
            "p50": self.latency_p50,
            "p90": self.latency_p90,
            "p95": self.latency_p95,
            "p99": self.latency_p99,
            "max": self.latency_max,
        }

    def to_record(self, nodeid: str = "", outcome: str = "") -> dict[str, Any]:
        """The result as one entry of `report.json`'s `results` list (docs/report-schema.md)."""
        return {
            "nodeid": nodeid,
            "name": self.name or self.model_name,
            "model": self.model_name,
            "method": self.method,
            "batch_size": self.batch_size,
            "n_samples": self.n_samples,
            "warmup_calls": self.warmup_calls,
            "elapsed_s": self.elapsed_s,
            "stop_reason": self.stop_reason,
            "outcome": outcome,
            "latency_ms": self.latency_summary(),
            "ci_ms": {k: list(v) for k, v in self.ci.items()},
            "confidence": self.confidence,
            "throughput_rps": self.throughput_rps,
            "memory_mb": self.memory_mb,
            "memory_method": self.memory_method,
            "rss_mb": self.rss_mb,
            "checks": [c.to_dict() for c in self.checks],
            "warnings": list(self.warnings),
            "stability": None if self.stability is None else self.stability.to_dict(),
            "samples_ms": list(self.samples_ms),
            **({"predicted_load": list(self.predictions)} if self.predictions else {}),
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> BenchmarkResult:
        lat = rec["latency_ms"]
        return cls(
            model_name=rec["model"],
            batch_size=int(rec["batch_size"]),
            n_samples=int(rec["n_samples"]),
            latency_mean=lat["mean"],
            latency_p50=lat["p50"],
            latency_p95=lat["p95"],
            latency_p99=lat["p99"],
            latency_std=lat["std"],
            throughput_rps=rec["throughput_rps"],
            memory_mb=rec.get("memory_mb"),
            latency_min=lat["min"],
            latency_max=lat["max"],
            latency_p90=lat["p90"],
            ci={k: (v[0], v[1]) for k, v in rec.get("ci_ms", {}).items()},
            confidence=rec.get("confidence", 0.95),
            samples_ms=list(rec.get("samples_ms", [])),
            checks=[Check.from_dict(c) for c in rec.get("checks", [])],
            name=rec.get("name", ""),
            method=rec.get("method", "predict"),
            warmup_calls=int(rec.get("warmup_calls", 0)),
            elapsed_s=float(rec.get("elapsed_s", 0.0)),
            stop_reason=rec.get("stop_reason", ""),
            warnings=list(rec.get("warnings", [])),
            memory_method=rec.get("memory_method", ""),
            stability=Stability.from_dict(rec.get("stability")),
            rss_mb=rec.get("rss_mb"),
            predictions=list(rec.get("predicted_load", [])),
        )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


SCHEMA = "pytest-mlperf/1"


def build_report(
    entries: list[dict[str, Any]],
    environment: dict[str, Any],
    settings: dict[str, Any],
    *,
    created: str,
    plugin_version: str,
    errors: list[dict[str, Any]] | None = None,
    warnings: list[str] | None = None,
    sweeps: list[dict[str, Any]] | None = None,
    costs: list[dict[str, Any]] | None = None,
    budget: dict[str, Any] | None = None,
    comparisons: list[dict[str, Any]] | None = None,
    recommendations: list[dict[str, Any]] | None = None,
    lost: list[str] | None = None,
    interrupted: bool = False,
) -> dict[str, Any]:
    """The report record (docs/report-schema.md) from result entries; renderers read only this.

    `lost` (tests a crashed worker took with it) and `interrupted` (a run stopped by Ctrl-C
    or SIGTERM) appear only when they apply, and either makes the verdict FAIL.
    """
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "created": created,
        "plugin_version": plugin_version,
        "environment": environment,
        "settings": {**settings, "percentile_method": PERCENTILE_METHOD},
        "results": entries,
        "sweeps": sweeps or [],
        "costs": costs or [],
        "budget": budget,
        "comparisons": comparisons or [],
        "recommendations": recommendations or [],
        "errors": errors or [],
        "warnings": warnings or [],
    }
    if lost:
        report["lost"] = sorted(set(lost))
    if interrupted:
        report["interrupted"] = True
    report["summary"] = run_summary(report)
    return report


def run_stability(entries: list[dict[str, Any]]) -> dict[str, float | None] | None:
    """The run's stability: median and largest speed drift, largest clustering, smallest CPU
    share, and the largest run spread the intervals allowed for (None without figures)."""
    figures = [e["stability"] for e in entries if e.get("stability")]
    if not figures:
        return None
    drifts = sorted(float(f["speed_drift"]) for f in figures)
    shares = [float(f["cpu_share"]) for f in figures if f.get("cpu_share") is not None]
    return {
        "cpu_share_min": min(shares) if shares else None,
        "speed_drift_median": drifts[(len(drifts) - 1) // 2],
        "speed_drift_max": drifts[-1],
        "clustering_max": max(float(f["clustering"]) for f in figures),
        "run_spread": max(float(f["run_spread"]) for f in figures),
    }


def run_summary(report: dict[str, Any]) -> dict[str, Any]:
    """Counts and the run's verdict: fail on a failed check, an error, a broken session
    budget, a gating regression, a lost test, an interrupted run, or (with
    --mlperf-inconclusive=fail) an undecided check."""
    checks = [c for e in report["results"] for c in e["checks"]]
    failed = sum(c["verdict"] == "fail" for c in checks)
    inconclusive = sum(c["verdict"] == "inconclusive" for c in checks)
    comparisons = comparisons_of(report)
    regressions = sum(c.fails_run for c in comparisons)
    budget = report.get("budget") or {}
    broken = (
        failed
        or regressions
        or report.get("errors")
        or report.get("lost")
        or report.get("interrupted")
        or budget.get("verdict") == "fail"
        or (report["settings"].get("inconclusive") == "fail" and inconclusive)
    )
    return {
        "stability": run_stability(report["results"]),
        "benchmarks": len(report["results"]),
        "checks": len(checks),
        "failed_checks": failed,
        "inconclusive_checks": inconclusive,
        "regressions": regressions,
        "improvements": sum(c.verdict is ComparisonVerdict.IMPROVEMENT for c in comparisons),
        "errors": len(report.get("errors", [])),
        "verdict": RunVerdict.of(bool(broken)).value,
    }
