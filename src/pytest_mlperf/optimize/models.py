"""`ModelOptimizer`: tree-depth reduction, feature pruning and weight quantization, measured.

Each method returns an `Optimization` holding a working optimized *copy* of the model and what
was measured before and after it; the model the caller passed in is never modified.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

import numpy as np

from ..bench import Benchmarker, model_label, n_rows, take_rows
from ..marks import Limit
from ..regression.blocks import MIN_BLOCK
from ..results import BenchmarkResult
from . import transforms
from .measure import (
    ModelSize,
    Optimization,
    OptimizationError,
    PairedLatency,
    Profile,
    model_size,
    score,
    task_of,
)

PAIRED_BLOCKS = (6, 12)  # pairs of blocks timed side by side: first look, most
PAIRED_BLOCK_CALLS = MIN_BLOCK  # calls per block (the fewest `measure_ab` accepts)
PAIRED_ALPHA = 0.05
HOLDOUT = 0.3  # share of X that judges a refit model when no training data is given
MIN_REFIT_ROWS = 20


def quick_benchmarker() -> Benchmarker:
    """Shorter than a gating measurement: before/after comparisons need medians, not p99s."""
    return Benchmarker(samples=200, max_time=2.0)


_P = ParamSpec("_P")
_R = TypeVar("_R")


class _on_class_or_instance(Generic[_P, _R]):
    """A method callable on an instance (its settings) or on the class (default settings).

    Code written for the earlier static methods calls `ModelOptimizer.reduce_tree_depth(model)`
    (docs/reference.md#compatibility-names): called on the class, the method runs on a
    `ModelOptimizer()` made for that call.
    """

    def __init__(self, func: Callable[Concatenate[ModelOptimizer, _P], _R]) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: ModelOptimizer | None, owner: type[ModelOptimizer]) -> Callable[_P, _R]:
        return functools.partial(self.func, owner() if obj is None else obj)


class ModelOptimizer:
    """Feature pruning, tree truncation and weight quantization, each measured before/after.

    benchmarker: how latency is measured (None: 200 calls or 2 s per measurement).
    batch_size: the batch size latencies are measured at.
    limits: latency/throughput/memory limits every measurement is judged against.
    measure_latency: False skips timing (accuracy and size are still reported).
    side_by_side: also time the original and the optimized model taking turns call by call, so
        that "faster" survives a machine whose speed changes (see `PairedLatency`).
    min_gain: the change in median latency that counts as faster or slower side by side.
    paired_time: seconds the side-by-side timing may add pairs for (default: the
        benchmarker's max_time, at least 1 s); at least two pairs are always timed.
    """

    def __init__(
        self,
        benchmarker: Benchmarker | None = None,
        *,
        batch_size: int = 1,
        method: str = "predict",
        limits: Sequence[Limit] = (),
        measure_latency: bool = True,
        side_by_side: bool = True,
        min_gain: float = 0.10,
        paired_time: float | None = None,
        seed: int = 0,
    ) -> None:
        self.benchmarker = benchmarker or quick_benchmarker()
        self.batch_size = batch_size
        self.method = method
        self.limits = tuple(limits)
        self.measure_latency = measure_latency
        self.side_by_side = side_by_side
        self.min_gain = min_gain
        default_time = max(1.0, self.benchmarker.max_time)
        self.paired_time = default_time if paired_time is None else paired_time
        self.seed = seed
        # measurements handed over by `remember` (the memo holds the objects, so their ids
        # cannot be reused by others while it lives)
        self._latency_memo: dict[tuple[int, int], tuple[Any, Any, BenchmarkResult]] = {}

    # -- the three optimizers ------------------------------------------------------------------

    @_on_class_or_instance
    def reduce_tree_depth(
        self, model: Any, max_depth: int = 10, X: Any = None, y: Any = None
    ) -> Optimization:
        """Truncate every tree of a fitted tree or forest to `max_depth`, without refitting.

        With X, latency and agreement with the original are measured; with y, accuracy too.
        """
        depth_before = transforms.tree_depth(model)
        optimized = transforms.truncate_trees(model, max_depth)
        opt = self.compare(
            "reduce_tree_depth",
            f"truncating the trees from depth {depth_before} to {transforms.tree_depth(optimized)}",
            model,
            optimized,
            X,
            y,
        )
        opt.details.update(
            depth_before=depth_before,
            depth_after=transforms.tree_depth(optimized),
            max_depth=max_depth,
            nodes_before=_node_count(model),
            nodes_after=_node_count(optimized),
        )
        return opt

    @_on_class_or_instance
    def prune_features(
        self,
        model: Any,
        X: Any,
        importance_threshold: float = 0.01,
        y: Any = None,
        *,
        X_train: Any = None,
        y_train: Any = None,
        n_repeats: int = 5,
    ) -> Optimization:
        """Drop the columns with less than `importance_threshold` of the total importance.

        Two clones are refit on the same rows, one on the kept columns and one on all of them,
        and compared, so the figures show what pruning does and not what fewer or other
        training rows do. The rows are (X_train, y_train) when given, otherwise 70% of
        (X, y), the other 30% judging both. Without any labels the clones learn the
        original's own predictions, and only agreement is reported. The pruned model accepts
        the full X (`FeatureSubsetModel`); `details["kept_features"]` lists the kept columns.
        """
        if not 0 <= importance_threshold < 1:
            raise OptimizationError(
                f"importance_threshold is a share of the total importance in [0, 1), "
                f"got {importance_threshold!r}"
            )
        importances, source = transforms.feature_importances(
            model, X, y, n_repeats=n_repeats, seed=self.seed
        )
        kept = np.flatnonzero(importances >= importance_threshold)
        if len(kept) == 0:
            kept = np.array([int(np.argmax(importances))])
        n_features = len(importances)
        details: dict[str, Any] = {
            "threshold": importance_threshold,
            "importance_source": source,
            "importances": [float(v) for v in importances],
            "n_features": n_features,
            "kept_features": [int(i) for i in kept],
            "dropped_features": [int(i) for i in np.setdiff1d(np.arange(n_features), kept)],
        }
        dropped = n_features - len(kept)
        action = (
            f"{dropped} of {n_features} features below {importance_threshold:.0%} importance: "
            "pruning"
        )
        if dropped == 0:
            profile = self._profile(model, X, y, None)
            opt = Optimization(
                "prune_features",
                f"all {n_features} features carry at least {importance_threshold:.0%} of the "
                "importance: nothing to prune",
                task_of(model),
                copy.deepcopy(model),
                profile,
                profile,
                details,
            )
            return opt
        X_fit, y_fit, X_eval, y_eval = self._refit_data(model, X, y, X_train, y_train)
        try:
            from sklearn.base import clone

            inner = clone(model).fit(transforms.select_columns(X_fit, kept), y_fit)
            # the same refit on every feature: the comparison isolates the pruning from the
            # change of training rows
            control = clone(model).fit(X_fit, y_fit)
        except Exception as exc:  # clone or fit can fail in many ways for foreign models
            raise OptimizationError(
                f"prune_features refits clones of {model_label(model)}, which failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        pruned = transforms.FeatureSubsetModel(inner, kept, n_features)
        opt = self.compare("prune_features", action, control, pruned, X, y, X_eval, y_eval)
        opt.details.update(details, refit_rows=n_rows(X_fit), judged_on_rows=n_rows(X_eval))
        opt.details["labels"] = "given" if y is not None or y_train is not None else "model's own"
        return opt

    @_on_class_or_instance
    def quantize_weights(
        self, model: Any, bits: int = 8, X: Any = None, y: Any = None
    ) -> Optimization:
        """Store a linear model's weights as `bits`-bit integers with a scale and zero point."""
        quantized = transforms.quantize_linear(model, bits)
        opt = self.compare(
            "quantize_weights", f"quantizing the weights to {bits} bits", model, quantized, X, y
        )
        float_bytes, int_bytes = transforms.weight_bytes(quantized)
        final = quantized.steps[-1][1] if hasattr(quantized, "steps") else quantized
        opt.details.update(
            bits=bits,
            scale=final.scale,
            zero_point=final.zero_point,
            weight_bytes_before=float_bytes,
            weight_bytes_after=int_bytes,
        )
        return opt

    @staticmethod
    def model_size(model: Any) -> ModelSize:
        """Size of the joblib file and the fastest of three loads."""
        return model_size(model)

    # -- measuring -----------------------------------------------------------------------------

    def latency(self, model: Any, X: Any, name: str | None = None) -> BenchmarkResult | None:
        """One measurement at the optimizer's batch size (None when timing is off)."""
        if not self.measure_latency:
            return None
        remembered = self._latency_memo.get((id(model), id(X)))
        if remembered is not None:
            return remembered[2]
        batch = min(self.batch_size, n_rows(X))
        return self.benchmarker.benchmark(
            model, X, batch_size=batch, method=self.method, name=name, limits=self.limits
        )

    def paired(self, model: Any, optimized: Any, X: Any) -> PairedLatency | None:
        """Time both models taking turns on the same batches (None when off)."""
        if not (self.measure_latency and self.side_by_side):
            return None
        from ..regression.ab import measure_ab

        first, most = PAIRED_BLOCKS
        result = measure_ab(
            model,
            optimized,
            X,
            batch_size=min(self.batch_size, n_rows(X)),
            method=self.method,
            blocks=first,
            block_calls=PAIRED_BLOCK_CALLS,
            max_blocks=most,
            tolerance_pct=self.min_gain * 100,
            alpha=PAIRED_ALPHA,
            metric="p50",
            warmup=self.benchmarker.warmup,
            max_time=self.paired_time,
            disable_gc=self.benchmarker.disable_gc,
            seed=self.seed,
        )
        test = result.tests["p50"]
        return PairedLatency(
            p50_ratio=result.p50_ratio,
            p95_ratio=result.p95_ratio,
            p50_ci=(test.ci[0], test.ci[1]),
            confidence=test.confidence,
            verdict=result.verdict,  # on p50, or on CPU time when the machine was contended
            tolerance=self.min_gain,
            pairs=result.n_pairs,
            block_calls=result.block_calls,
        )

    def remember(self, model: Any, X: Any, result: BenchmarkResult) -> None:
        """Reuse a measurement of `model` on `X` already taken (advise's baseline)."""
        self._latency_memo[(id(model), id(X))] = (model, X, result)

    def _profile(
        self, model: Any, X: Any, y: Any, reference: Any, X_eval: Any = None, y_eval: Any = None
    ) -> Profile:
        """Latency on X; score on (X_eval, y_eval); agreement with `reference` predictions."""
        profile = Profile(size=model_size(model))
        if X is None:
            return profile
        profile.latency = self.latency(model, X, model_label(model))
        X_eval = X if X_eval is None else X_eval
        y_eval = y if y_eval is None else y_eval
        predictions = model.predict(X_eval)
        task = task_of(model, predictions)
        if y_eval is not None:
            profile.score = score(task, y_eval, predictions)
        if reference is not None:
            profile.agreement = score(task, reference, predictions)
        return profile

    def compare(
        self,
        technique: str,
        action: str,
        model: Any,
        optimized: Any,
        X: Any,
        y: Any,
        X_eval: Any = None,
        y_eval: Any = None,
    ) -> Optimization:
        """Profile the model and its optimized copy on the same data."""
        before = self._profile(model, X, y, None, X_eval, y_eval)
        reference = None
        if X is not None:
            reference = model.predict(X if X_eval is None else X_eval)
        after = self._profile(optimized, X, y, reference, X_eval, y_eval)
        opt = Optimization(technique, action, task_of(model, reference), optimized, before, after)
        if X is not None:
            opt.paired = self.paired(model, optimized, X)
        return opt

    def _refit_data(
        self, model: Any, X: Any, y: Any, X_train: Any, y_train: Any
    ) -> tuple[Any, Any, Any, Any]:
        """(X_fit, y_fit, X_eval, y_eval): given training data, or a seeded 70/30 split."""
        if X_train is not None:
            if y_train is None:
                raise OptimizationError("X_train was given without y_train")
            return X_train, y_train, X, y
        rows = n_rows(X)
        if rows < MIN_REFIT_ROWS:
            raise OptimizationError(
                f"prune_features needs at least {MIN_REFIT_ROWS} rows to refit and judge the "
                f"pruned model, got {rows}; pass X_train and y_train"
            )
        order = np.random.default_rng(self.seed).permutation(rows)
        n_eval = max(1, int(rows * HOLDOUT))
        fit_idx, eval_idx = order[n_eval:], order[:n_eval]
        labels = model.predict(X) if y is None else np.asarray(y)
        y_eval = None if y is None else labels[eval_idx]
        return take_rows(X, fit_idx), labels[fit_idx], take_rows(X, eval_idx), y_eval


def _node_count(model: Any) -> int:
    return sum(int(t.tree_.node_count) for t in transforms.tree_estimators(model))
