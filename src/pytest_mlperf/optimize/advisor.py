"""Advice in one call: try every optimization that applies, measure each, recommend some.

`advise(model, X, y)` measures the model at batch 1 and across batch sizes, then tries what
applies to it (tree truncation, feature pruning, weight quantization, ONNX Runtime, a
prediction cache), measures each option on the same data, and keeps as recommendations only
the options that gain at least `min_gain` (p95, rows per second or file size) while losing at
most `max_accuracy_loss` of accuracy and breaking no limit. Every recommendation is a
sentence with its numbers; `Advice.to_dict()` is the JSON for the report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..bench import Benchmarker, model_label, n_rows, resolve_model, take_rows
from ..marks import Limit
from ..numbers import fmt
from ..results import BenchmarkResult
from . import onnx, transforms
from .batching import BatchInferenceOptimizer
from .cache import PredictionCache, repeated_share
from .measure import (
    REGRESSION,
    Optimization,
    OptimizationError,
    Profile,
    UnsupportedModelError,
    score,
    score_name,
    task_of,
)
from .models import ModelOptimizer, quick_benchmarker

TECHNIQUES = (
    "batching",
    "reduce_tree_depth",
    "prune_features",
    "quantize_weights",
    "onnx",
    "cache",
)
MIN_REPEATED_SHARE = 0.05  # below this share of repeated rows a cache is not worth measuring
DEPTH_FRACTIONS = (0.25, 0.33, 0.5, 0.75)  # depths tried, as fractions of the deepest tree


@dataclass
class Advice:
    """What was tried on one model, what each option did, and what is recommended."""

    model_name: str
    task: str
    baseline: BenchmarkResult
    options: list[Optimization] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # applied but not measured, and why
    not_applicable: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def recommended(self) -> list[Optimization]:
        return [o for o in self.options if o.recommended]

    @property
    def recommendations(self) -> list[str]:
        """One sentence with numbers per recommended option; one line when none is."""
        chosen = [o.summary() for o in self.recommended]
        if chosen:
            return chosen
        tried = ", ".join(o.technique for o in self.options) or "nothing applied"
        return [
            f"{self.model_name}: no option improved latency, rows per second or file size by "
            f"{self.settings.get('min_gain', 0):.0%} within the allowed accuracy loss "
            f"(tried: {tried})"
        ]

    @property
    def findings(self) -> list[str]:
        """Every measured option's sentence, then why the others were not measured."""
        lines = [o.summary() for o in self.options]
        return lines + [f"{name}: {why}" for name, why in self.skipped.items()]

    def option(self, technique: str) -> Optimization | None:
        return next((o for o in self.options if o.technique == technique), None)

    def records(self, nodeid: str = "") -> list[dict[str, Any]]:
        """Entries for report.json's `recommendations`: one per measured option."""
        return [
            {
                "nodeid": nodeid,
                "model": self.model_name,
                "technique": o.technique,
                "recommended": bool(o.recommended),
                "text": o.summary(),
                "reason": o.reason,
                "latency_change": o.latency_change(),
                "throughput_ratio": o.throughput_ratio(),
                "size_change": o.size_change(),
                "score_loss": o.score_loss(),
            }
            for o in self.options
        ]

    def to_dict(self) -> dict[str, Any]:
        """Everything measured, JSON-able (the report's `recommendations` come from here)."""
        return {
            "model": self.model_name,
            "task": self.task,
            "baseline": Profile(latency=self.baseline).to_dict(),
            "recommendations": self.recommendations,
            "options": [o.to_dict() for o in self.options],
            "skipped": dict(self.skipped),
            "not_applicable": list(self.not_applicable),
            "settings": dict(self.settings),
        }

    def __str__(self) -> str:
        b = self.baseline
        lines = [
            f"Advice for {self.model_name}: batch {b.batch_size} p95 {fmt(b.latency_p95)} ms, "
            f"{fmt(b.throughput_rps)} rows/s"
        ]
        for opt in self.options:
            mark = "+" if opt.recommended else "-"
            lines.append(f"  {mark} {opt.summary()}")
        lines += [f"  . {name}: {why}" for name, why in self.skipped.items()]
        return "\n".join(lines)


def advise(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    benchmarker: Benchmarker | None = None,
    limits: Sequence[Limit] = (),
    batch_sizes: Sequence[int] = (1, 8, 32, 64),
    method: str = "predict",
    name: str | None = None,
    techniques: Collection[str] | None = None,
    max_accuracy_loss: float = 0.01,
    min_gain: float = 0.10,
    importance_threshold: float = 0.01,
    max_depth: int | None = None,
    bits: int = 8,
    X_train: Any = None,
    y_train: Any = None,
    monthly_cost: Callable[[BenchmarkResult], float | None] | None = None,
    side_by_side: bool = True,
) -> Advice:
    """Measure the model, try each optimization that applies, and judge each option.

    max_accuracy_loss: accuracy (or R², or without y the share of changed predictions) an
        option may lose and still be recommended; 0.01 is one point.
    min_gain: the smallest relative gain that counts: in median latency (significant when
        timed side by side), in rows per second, or in file size.
    techniques: a subset of `TECHNIQUES` to try (default: all that apply).
    monthly_cost: prices a measurement (the plugin passes the recommended tier's estimate).
    side_by_side: time each option against the original, taking turns call by call (about a
        second more per option; without it "faster" rests on two separate measurements).
    The user's model is never modified; each option holds its own optimized copy.
    """
    chosen = set(TECHNIQUES if techniques is None else techniques)
    unknown = sorted(chosen - set(TECHNIQUES))
    if unknown:
        raise OptimizationError(
            f"unknown technique {', '.join(unknown)}; choose from {', '.join(TECHNIQUES)}"
        )
    if not 0 <= max_accuracy_loss < 1:
        raise OptimizationError(f"max_accuracy_loss must be in [0, 1), got {max_accuracy_loss}")
    if isinstance(model, (str, os.PathLike)):
        model = _load(model)
    predict = resolve_model(model, "predict").fn  # models, and plain callables too
    bench = benchmarker or quick_benchmarker()
    optimizer = ModelOptimizer(
        bench, method=method, limits=limits, min_gain=min_gain, side_by_side=side_by_side
    )
    label = name or model_label(model)
    rows = n_rows(X)
    sizes = sorted({1, *(b for b in batch_sizes if 1 <= b <= rows)})
    if "batching" not in chosen:
        sizes = [1]
    sweep = bench.sweep(model, X, batch_sizes=sizes, method=method, name=label, limits=limits)
    baseline = sweep.results[0]
    optimizer.remember(model, X, baseline)
    task = task_of(model, predict(take_rows(X, np.arange(min(rows, 200)))))
    advice = Advice(
        label,
        task,
        baseline,
        settings={
            "max_accuracy_loss": max_accuracy_loss,
            "min_gain": min_gain,
            "importance_threshold": importance_threshold,
            "bits": bits,
            "batch_sizes": sizes,
            "labels": y is not None,
            "method": method,
            "side_by_side": side_by_side,
        },
    )
    steps: list[tuple[str, Callable[[], Optimization]]] = [
        ("batching", lambda: _batching(model, sweep.results, sweep.best, task, method)),
        (
            "reduce_tree_depth",
            lambda: _tree_depth(optimizer, model, X, y, max_depth, max_accuracy_loss, task),
        ),
        (
            "prune_features",
            lambda: _prune(optimizer, model, X, y, importance_threshold, X_train, y_train),
        ),
        ("quantize_weights", lambda: optimizer.quantize_weights(model, bits, X, y)),
        ("onnx", lambda: _onnx(optimizer, model, X, y, sweep.best, bench, method, limits)),
        ("cache", lambda: _cache(optimizer, model, X, baseline, task)),
    ]
    for technique, run in steps:
        if technique not in chosen:
            continue
        try:
            opt = run()
        except UnsupportedModelError:
            advice.not_applicable.append(technique)
            continue
        except _Skip as skip:
            advice.skipped[technique] = str(skip)
            continue
        except OptimizationError as exc:
            advice.skipped[technique] = str(exc)
            continue
        except Exception as exc:  # one option failing must not lose the others' figures
            advice.skipped[technique] = f"failed: {type(exc).__name__}: {exc}"
            continue
        _price(opt, monthly_cost)
        _judge(opt, max_accuracy_loss, min_gain)
        advice.options.append(opt)
    return advice


def _load(path: str | os.PathLike[str]) -> Any:
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:  # a missing or unreadable file: joblib raises many kinds
        raise OptimizationError(f"cannot load a model from {os.fspath(path)}: {exc}") from exc


class _Skip(Exception):
    """The technique applies but there is nothing worth measuring; the message says why."""


def _batching(
    model: Any,
    results: list[BenchmarkResult],
    best: BenchmarkResult | None,
    task: str,
    method: str,
) -> Optimization:
    if len(results) < 2:
        raise _Skip("X has too few rows for more than one batch size")
    if best is None:
        raise _Skip("no batch size met the limits")
    curve = [
        {"batch_size": r.batch_size, "p95_ms": r.latency_p95, "throughput_rps": r.throughput_rps}
        for r in results
    ]
    opt = Optimization(
        "batching",
        f"batch {best.batch_size}",
        task,
        BatchInferenceOptimizer(model, best.batch_size, method),
        Profile(latency=results[0]),
        Profile(latency=best),
        {"batch_size": best.batch_size, "curve": curve},
    )
    if best.batch_size == 1:
        opt.action = "batch 1 (no larger batch size gave more rows per second within the limits)"
    return opt


def _tree_depth(
    optimizer: ModelOptimizer,
    model: Any,
    X: Any,
    y: Any,
    max_depth: int | None,
    max_loss: float,
    task: str,
) -> Optimization:
    """The shallowest depth that loses at most `max_loss`, or `max_depth` when given."""
    deepest = transforms.tree_depth(model)
    if max_depth is not None:
        if max_depth >= deepest:
            raise _Skip(f"the trees are already at most {deepest} deep")
        return optimizer.reduce_tree_depth(model, max_depth, X, y)
    candidates = sorted({max(1, round(deepest * f)) for f in DEPTH_FRACTIONS} - {deepest})
    if not candidates or deepest <= 2:
        raise _Skip(f"the trees are only {deepest} deep")
    reference = model.predict(X)
    tried = []
    for depth in candidates:
        predictions = transforms.truncate_trees(model, depth).predict(X)
        loss = _loss(task, reference, predictions, y)
        tried.append({"depth": depth, "loss": loss})
        if loss <= max_loss:
            opt = optimizer.reduce_tree_depth(model, depth, X, y)
            opt.details["depths_tried"] = tried
            return opt
    raise _Skip(
        f"every depth tried ({', '.join(str(d) for d in candidates)} of {deepest}) loses more "
        f"than {_points(max_loss, task)}; at depth {candidates[-1]} the loss is "
        f"{_points(tried[-1]['loss'], task)}"
    )


def _loss(task: str, reference: Any, predictions: Any, y: Any) -> float:
    """Accuracy (or R²) lost against y; without y, the disagreement with the original."""
    if y is not None:
        return score(task, y, reference) - score(task, y, predictions)
    return 1 - score(task, reference, predictions)


def _points(loss: float, task: str) -> str:
    if task == REGRESSION:
        return f"{loss:.3f} of {score_name(task)}"
    return f"{loss * 100:.1f} points of accuracy"


def _prune(
    optimizer: ModelOptimizer,
    model: Any,
    X: Any,
    y: Any,
    threshold: float,
    X_train: Any,
    y_train: Any,
) -> Optimization:
    if len(getattr(X, "shape", (0, 0))) == 2 and X.shape[1] < 2:
        raise UnsupportedModelError("one feature: nothing to prune")
    opt = optimizer.prune_features(model, X, threshold, y, X_train=X_train, y_train=y_train)
    if not opt.details["dropped_features"]:
        raise _Skip(opt.action)
    return opt


def _onnx(
    optimizer: ModelOptimizer,
    model: Any,
    X: Any,
    y: Any,
    best: BenchmarkResult | None,
    bench: Benchmarker,
    method: str,
    limits: Sequence[Limit],
) -> Optimization:
    if not onnx.onnx_available():
        raise _Skip(onnx.INSTALL_HINT)
    compiled = onnx.compile_onnx(model, X)
    opt = optimizer.compare("onnx", "running it on ONNX Runtime", model, compiled, X, y)
    if best is not None and best.batch_size > 1:
        batched = bench.benchmark(
            compiled, X, batch_size=best.batch_size, method=method, limits=limits
        )
        opt.details["at_batch"] = {
            "batch_size": best.batch_size,
            "p95_ms_before": best.latency_p95,
            "p95_ms_after": batched.latency_p95,
            "throughput_rps_before": best.throughput_rps,
            "throughput_rps_after": batched.throughput_rps,
        }
        opt.extra_clauses.append(
            f"and at batch {best.batch_size} p95 {fmt(best.latency_p95)} → "
            f"{fmt(batched.latency_p95)} ms ({fmt(batched.throughput_rps)} rows/s)"
        )
    return opt


def _cache(
    optimizer: ModelOptimizer, model: Any, X: Any, baseline: BenchmarkResult, task: str
) -> Optimization:
    share = repeated_share(X)
    if share < MIN_REPEATED_SHARE:
        raise _Skip(
            f"{share:.0%} of the rows of X repeat an earlier row, so a cache would rarely hit; "
            "it pays off when production traffic repeats rows"
        )
    cache = PredictionCache(model, maxsize=max(1, n_rows(X)))
    one_row = take_rows(X, np.zeros(64, dtype=np.intp))  # every call after the first hits
    hit = optimizer.latency(cache, one_row, "PredictionCache hit")
    opt = Optimization(
        "cache",
        f"caching predictions ({share:.0%} of the rows of X repeat an earlier row): a hit",
        task,
        cache,
        Profile(latency=baseline),
        Profile(latency=hit),
        {"repeated_share": share},
    )
    opt.paired = optimizer.paired(model, cache, one_row)
    return opt


def _price(
    opt: Optimization, monthly_cost: Callable[[BenchmarkResult], float | None] | None
) -> None:
    if monthly_cost is None:
        return
    for profile in (opt.before, opt.after):
        if profile.latency is not None:
            profile.monthly_usd = monthly_cost(profile.latency)


def _judge(opt: Optimization, max_loss: float, min_gain: float) -> None:
    """Recommended: gains `min_gain` somewhere, loses at most `max_loss`, breaks no limit."""
    b, a = opt.before.latency, opt.after.latency
    if a is not None and not a.passed and (b is None or b.passed):
        broken = ", ".join(c.metric for c in a.checks if c.verdict == "fail")
        opt.recommended, opt.reason = False, f"it breaks the {broken} limit"
        return
    loss = opt.score_loss()
    if loss is not None and loss > max_loss:
        opt.recommended = False
        opt.reason = f"it loses {_points(loss, opt.task)}, more than {_points(max_loss, opt.task)}"
        return
    gains = []
    change, ratio, size = opt.latency_change(), opt.throughput_ratio(), opt.size_change()
    faster = change is not None and change <= -min_gain and opt.latency_differs()
    if opt.technique != "batching" and faster:
        gains.append("latency")
    if opt.technique == "batching" and ratio is not None and ratio >= 1 + min_gain:
        gains.append("throughput")
    if size is not None and -size >= min_gain:
        gains.append("size")
    if b is not None and a is not None and not b.passed and a.passed and a.checks:
        gains.append("limits")
    if not gains:
        opt.recommended = False
        opt.reason = f"it gains less than {min_gain:.0%} in latency, rows per second and file size"
        return
    opt.recommended, opt.reason = True, "gains " + ", ".join(gains)
