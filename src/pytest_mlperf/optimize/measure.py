"""Before/after profiles of a model and the sentences that compare them.

Every optimizer returns an `Optimization`: the optimized copy plus what was measured before and
after (latency, accuracy, agreement with the original, size on disk, load time), so a claim
such as "cuts p95 by 22% for 0.3 points of accuracy" always rests on two measurements.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..bench import BenchmarkError, model_label
from ..numbers import fmt
from ..regression.comparison import ComparisonVerdict
from ..results import BenchmarkResult


class OptimizationError(BenchmarkError):
    """An optimization cannot be applied to this model or data."""


class UnsupportedModelError(OptimizationError, TypeError):
    """The optimizer does not know this kind of model; the message names what it supports."""


TIMES = "\u00d7"  # the multiplication sign, as in "9.1 times the rows per second"
CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class ModelSize:
    """Bytes of the joblib file and the fastest of a few loads, because both set cold starts."""

    bytes: int
    load_ms: float

    @property
    def mb(self) -> float:
        return self.bytes / 1e6

    def to_dict(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "mb": self.mb, "load_ms": self.load_ms}


def model_size(model: Any, repeats: int = 3) -> ModelSize:
    """Dump the model with joblib to a temporary file; report its size and best load time."""
    import joblib

    with tempfile.TemporaryDirectory(prefix="mlperf-size-") as tmp:
        path = os.path.join(tmp, "model.joblib")
        try:
            joblib.dump(model, path)
        except Exception as exc:  # pickling fails in many ways (lambdas, handles, ...)
            raise OptimizationError(
                f"{model_label(model)} cannot be saved with joblib: {exc}"
            ) from exc
        size = os.path.getsize(path)
        best = float("inf")
        for _ in range(max(1, repeats)):
            start = time.perf_counter_ns()
            joblib.load(path)
            best = min(best, (time.perf_counter_ns() - start) / 1e6)
    return ModelSize(size, best)


def task_of(model: Any, predictions: Any = None) -> str:
    """Classification or regression: from scikit-learn's tags, else from the predictions."""
    from sklearn.base import is_classifier, is_regressor

    try:
        if is_classifier(model):
            return CLASSIFICATION
        if is_regressor(model):
            return REGRESSION
    except Exception:  # objects that are not estimators have no tags
        pass
    if predictions is not None:
        kind = np.asarray(predictions).dtype.kind
        if kind in "biuOUS":
            return CLASSIFICATION
    return REGRESSION


def score(task: str, y_true: Any, y_pred: Any) -> float:
    """Accuracy for classifiers, R² for regressors (what `model.score` would give)."""
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    if truth.shape != pred.shape:
        raise OptimizationError(
            f"y has shape {truth.shape} but the model predicts shape {pred.shape}"
        )
    if task == CLASSIFICATION:
        return float(np.mean(truth == pred))
    truth, pred = truth.astype(np.float64), pred.astype(np.float64)
    total = float(np.sum((truth - truth.mean(axis=0)) ** 2))
    residual = float(np.sum((truth - pred) ** 2))
    if total == 0:
        return 1.0 if residual == 0 else 0.0
    return 1.0 - residual / total


def score_name(task: str) -> str:
    return "accuracy" if task == CLASSIFICATION else "R²"


@dataclass
class Profile:
    """What one model measured on the same data: latency, accuracy, agreement, size, cost."""

    latency: BenchmarkResult | None = None
    score: float | None = None  # accuracy or R² against the labels y
    agreement: float | None = None  # vs the original: share of equal labels, or R² of outputs
    size: ModelSize | None = None
    monthly_usd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        lat = self.latency
        return {
            "batch_size": None if lat is None else lat.batch_size,
            "latency_ms": None if lat is None else lat.latency_summary(),
            "throughput_rps": None if lat is None else lat.throughput_rps,
            "memory_mb": None if lat is None else lat.memory_mb,
            "checks": [] if lat is None else [c.to_dict() for c in lat.checks],
            "score": self.score,
            "agreement": self.agreement,
            "size": None if self.size is None else self.size.to_dict(),
            "monthly_usd": self.monthly_usd,
        }


@dataclass(frozen=True)
class PairedLatency:
    """The optimized model's latency over the original's, the two taking turns call by call.

    Measured one after the other, two models see different machines on a shared runner; taking
    turns (`pytest_mlperf.regression.ab`) they see the same one, so a ratio here is a property
    of the models. `verdict` is on the median (on CPU time per call when other processes held
    the comparison off the CPU): "improvement" or "regression" when the change is significant
    and beyond the tolerance, else "same" or "unknown".
    """

    p50_ratio: float
    p95_ratio: float
    p50_ci: tuple[float, float]
    confidence: float
    verdict: ComparisonVerdict
    tolerance: float
    pairs: int
    block_calls: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "p50_ratio": self.p50_ratio,
            "p95_ratio": self.p95_ratio,
            "p50_ci": list(self.p50_ci),
            "confidence": self.confidence,
            "verdict": self.verdict.value,
            "tolerance": self.tolerance,
            "pairs": self.pairs,
            "block_calls": self.block_calls,
        }


@dataclass
class Optimization:
    """One technique applied to a copy of the model, with both profiles and the verdict."""

    technique: str  # "batching" | "cache" | "reduce_tree_depth" | "prune_features" | ...
    action: str  # the start of its sentence: "batch 32", "quantizing the weights to 8 bits"
    task: str
    model: Any = field(repr=False)  # the optimized copy; None where nothing is built
    before: Profile
    after: Profile
    details: dict[str, Any] = field(default_factory=dict)
    recommended: bool | None = None  # None until advise() judges it
    reason: str = ""  # why it is or is not recommended
    extra_clauses: list[str] = field(default_factory=list)  # measured facts beyond the profiles
    paired: PairedLatency | None = None  # both models timed side by side

    @property
    def kept_features(self) -> np.ndarray:
        """The kept column indices of `prune_features` (what the original method returned)."""
        if "kept_features" not in self.details:
            raise AttributeError(f"{self.technique} keeps every feature: no kept_features")
        return np.asarray(self.details["kept_features"], dtype=np.intp)

    def latency_change(self) -> float | None:
        """Relative change of the median latency, after / before - 1.

        From the side-by-side blocks when they were timed; otherwise from the two separate
        measurements. The median, not p95, decides whether an option is faster: on a shared
        machine it is pinned down by a few hundred calls, while p95 moves with the load.
        """
        if self.paired is not None:
            return self.paired.p50_ratio - 1
        b, a = self.before.latency, self.after.latency
        if b is None or a is None or b.latency_p50 <= 0:
            return None
        return a.latency_p50 / b.latency_p50 - 1

    def latency_differs(self) -> bool:
        """A significant change: the paired verdict, else disjoint intervals of the medians."""
        if self.paired is not None:
            return self.paired.verdict in ("improvement", "regression")
        b, a = self.before.latency, self.after.latency
        if b is None or a is None:
            return False
        b_lo, b_hi = b.ci.get("p50", (None, None))
        a_lo, a_hi = a.ci.get("p50", (None, None))
        below = a_hi is not None and b_lo is not None and a_hi < b_lo
        above = a_lo is not None and b_hi is not None and a_lo > b_hi
        return below or above

    def throughput_ratio(self) -> float | None:
        b, a = self.before.latency, self.after.latency
        if b is None or a is None or b.throughput_rps <= 0:
            return None
        return a.throughput_rps / b.throughput_rps

    def size_change(self) -> float | None:
        b, a = self.before.size, self.after.size
        if b is None or a is None or b.bytes <= 0:
            return None
        return a.bytes / b.bytes - 1

    def score_loss(self) -> float | None:
        """How much accuracy (or R²) was lost; without labels, the disagreement instead."""
        if self.before.score is not None and self.after.score is not None:
            return self.before.score - self.after.score
        if self.after.agreement is not None:
            return 1.0 - self.after.agreement
        return None

    def summary(self) -> str:
        """One sentence with the measured numbers, e.g. for the report's recommendations."""
        clauses = effect_clauses(self)
        text = self.action + (" " + ", ".join(clauses) if clauses else ": nothing was measured")
        if self.recommended is False and self.reason:
            text += f"; not recommended: {self.reason}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "action": self.action,
            "task": self.task,
            "summary": self.summary(),
            "recommended": self.recommended,
            "reason": self.reason,
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "details": self.details,
            "extra": list(self.extra_clauses),
            "paired": None if self.paired is None else self.paired.to_dict(),
        }


def times(ratio: float) -> str:
    """A gain and the multiplication sign: one decimal below 100, none above."""
    return f"{ratio:.1f}{TIMES}" if ratio < 100 else f"{ratio:,.0f}{TIMES}"


def ratio_text(ratio: float) -> str:
    """A ratio near 1, where the second decimal matters: 0.98, 1.12 (then the sign)."""
    return f"{ratio:.2f}{TIMES}" if ratio < 10 else times(ratio)


def pct(change: float) -> str:
    """A relative change as a whole percentage, never "0%" for a real change."""
    value = abs(change) * 100
    return f"{value:.0f}%" if value >= 1 else f"{value:.1f}%"


def latency_clause(opt: Optimization) -> str | None:
    """'cuts latency by 22% (...)', 'makes it 9.1 times faster (...)', or no clear effect."""
    change = opt.latency_change()
    if change is None:
        return None
    if opt.paired is not None:
        return _paired_clause(opt.paired)
    b, a = opt.before.latency, opt.after.latency
    if b is None or a is None:
        return None
    figures = (
        f"p50 {fmt(b.latency_p50)} → {fmt(a.latency_p50)} ms, "
        f"p95 {fmt(b.latency_p95)} → {fmt(a.latency_p95)} ms"
    )
    if not opt.latency_differs():
        return f"leaves latency unchanged ({figures})"
    if change <= -0.5:  # "by 99%" hides the difference between 2x and 700x
        return f"makes it {times(1 / (1 + change))} faster ({figures})"
    verb = "cuts" if change < 0 else "raises"
    return f"{verb} latency by {pct(change)} ({figures})"


def _paired_clause(pair: PairedLatency) -> str:
    """The side-by-side ratios, claiming only what their interval supports."""
    r50, r95 = pair.p50_ratio, pair.p95_ratio
    lo, hi = pair.p50_ci
    if pair.verdict == "improvement" and r50 <= 0.5:
        return (
            f"makes it {times(1 / r50)} faster at the median and {times(1 / r95)} at p95 "
            "(timed side by side)"
        )
    figures = f"p50 {ratio_text(r50)}, p95 {ratio_text(r95)} the original's, side by side"
    if pair.verdict in ("improvement", "regression"):
        verb = "cuts" if r50 < 1 else "raises"
        return f"{verb} latency by {pct(r50 - 1)} ({figures})"
    if pair.verdict == "same" and 1 - pair.tolerance <= lo and hi <= 1 + pair.tolerance:
        return f"leaves latency within {pct(pair.tolerance)} ({figures})"
    return (
        f"has no clear effect on latency (p50 {ratio_text(r50)} the original's side by side, "
        f"{pair.confidence:.0%} interval {lo:.2f} to {hi:.2f})"
    )


def memory_clause(opt: Optimization) -> str | None:
    b, a = opt.before.latency, opt.after.latency
    if b is None or a is None or b.memory_mb is None or a.memory_mb is None:
        return None
    if abs(a.memory_mb - b.memory_mb) < max(0.1, 0.1 * b.memory_mb):
        return None
    return f"peak call memory {fmt(b.memory_mb)} → {fmt(a.memory_mb)} MB"


def size_clause(opt: Optimization) -> str | None:
    change = opt.size_change()
    b, a = opt.before.size, opt.after.size
    if change is None or b is None or a is None or abs(change) < 0.01:
        return None
    verb = "shrinks" if change < 0 else "grows"
    return f"{verb} the file by {pct(change)} ({_mb(b.bytes)} → {_mb(a.bytes)})"


def accuracy_clause(opt: Optimization) -> str | None:
    """'for 0.3 points of accuracy', 'with no loss of accuracy' or an agreement share."""
    b, a, name = opt.before.score, opt.after.score, score_name(opt.task)
    if b is not None and a is not None:
        points = (b - a) * 100
        if opt.task == REGRESSION:
            return f"{name} {b:.3f} → {a:.3f}"
        if abs(points) < 0.05:
            return f"with no loss of {name} ({a:.1%})"
        if points > 0:
            return f"for {points:.1f} points of {name} ({b:.1%} → {a:.1%})"
        return f"and gains {-points:.1f} points of {name} ({b:.1%} → {a:.1%})"
    return agreement_clause(opt)


def agreement_clause(opt: Optimization) -> str | None:
    agree = opt.after.agreement
    if agree is None:
        return None
    if opt.task == CLASSIFICATION:
        return f"predictions agree with the original on {agree:.1%} of rows"
    return f"R² {agree:.4f} against the original's predictions"


def cost_clause(opt: Optimization) -> str | None:
    b, a = opt.before.monthly_usd, opt.after.monthly_usd
    if b is None or a is None:
        return None
    return f"monthly cost ${fmt(b)} → ${fmt(a)}"


def limits_clause(opt: Optimization) -> str | None:
    """Say so when the original broke a limit that the optimized model meets."""
    b, a = opt.before.latency, opt.after.latency
    if b is None or a is None or b.passed or not a.passed or not a.checks:
        return None
    broken = [c.metric for c in b.checks if c.verdict == "fail"]
    return f"and meets the {', '.join(broken)} limit the original broke"


def effect_clauses(opt: Optimization) -> list[str]:
    """The measured effects worth a word, in a fixed order: speed, size, accuracy, cost."""
    if opt.technique == "batching":
        ratio, a = opt.throughput_ratio(), opt.after.latency
        b = opt.before.latency
        if ratio is None or a is None or b is None:
            return []
        first = (
            f"gives {times(ratio)} the rows per second ({fmt(b.throughput_rps)} → "
            f"{fmt(a.throughput_rps)} rows/s) with p95 {fmt(a.latency_p95)} ms"
        )
        found = [first, memory_clause(opt), limits_clause(opt), cost_clause(opt)]
    else:
        found = [
            latency_clause(opt),
            memory_clause(opt),
            size_clause(opt),
            accuracy_clause(opt),
            limits_clause(opt),
            cost_clause(opt),
        ]
    if opt.technique in ("onnx", "quantize_weights") and opt.before.score is not None:
        found.append(agreement_clause(opt))
    return [c for c in found if c] + opt.extra_clauses


def _mb(n_bytes: int) -> str:
    if n_bytes < 1e6:
        return f"{fmt(n_bytes / 1e3)} kB"
    return f"{fmt(n_bytes / 1e6)} MB"
