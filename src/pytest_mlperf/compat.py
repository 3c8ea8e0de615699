"""The names of the module pytest-mlperf grew from, in one place, called as it called them.

Code written against that module keeps working with its imports pointed here (or at the
package): `ModelBenchmarker(warmup_iterations=10).benchmark(model, X, n_iterations, batch_size)`,
`ModelOptimizer.reduce_tree_depth(model)`, `BatchInferenceOptimizer(model, 32)`,
`CostOptimizer().estimate_serverless(requests, ms)`, `InfrastructureTier`, `CostEstimate`.
Every name but `ModelBenchmarker` is this package's own class; what each returns now, and where
it differs: docs/reference.md#compatibility-names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from .bench import Benchmarker, as_batch_size, n_rows
from .cost.model import CostEstimate, InfrastructureTier
from .cost.optimizer import CostOptimizer
from .marks import Limit
from .optimize.batching import BatchInferenceOptimizer
from .optimize.models import ModelOptimizer
from .results import BenchmarkResult
from .validate import whole

__all__ = [
    "BatchInferenceOptimizer",
    "BenchmarkResult",
    "CostEstimate",
    "CostOptimizer",
    "InfrastructureTier",
    "ModelBenchmarker",
    "ModelOptimizer",
]


@dataclass
class ModelBenchmarker(Benchmarker):
    """`Benchmarker` that also takes the earlier arguments: `warmup_iterations` (the `warmup`
    calls) and `benchmark(model, X, n_iterations, batch_size)`, where `n_iterations` passes over
    X's batches become the timed calls (still bounded by `max_time`)."""

    warmup_iterations: int | None = None

    def __post_init__(self) -> None:
        if self.warmup_iterations is not None:
            self.warmup = self.warmup_iterations
        super().__post_init__()

    def benchmark(
        self,
        model: Any,
        X: Any,
        n_iterations: int | None = None,
        batch_size: int = 1,
        *,
        method: str = "predict",
        name: str | None = None,
        limits: Sequence[Limit] = (),
    ) -> BenchmarkResult:
        """Time the model; with `n_iterations`, that many passes over X's batches."""
        bench: Benchmarker = self
        if n_iterations is not None:
            passes = whole("n_iterations", n_iterations, 1)
            batches = math.ceil(n_rows(X) / as_batch_size(batch_size))
            bench = replace(self, samples=max(passes * batches, 2))
        return Benchmarker.benchmark(
            bench, model, X, batch_size=batch_size, method=method, name=name, limits=limits
        )
