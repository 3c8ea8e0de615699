"""pytest-mlperf: is this model fast enough and cheap enough to ship?

The measuring core works without pytest::

    from pytest_mlperf import Benchmarker
    result = Benchmarker().benchmark(model, X, batch_size=1)
    print(result)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Imported on first use: the pytest plugin loads this package in every test run, and the
# measuring core pulls in NumPy and SciPy, which a run without benchmarks should not pay for.
_LAZY = {
    "BenchmarkError": "bench",
    "Benchmarker": "bench",
    "ModelCallError": "bench",
    "Sweep": "bench",
    "Limit": "marks",
    "BenchmarkResult": "results",
    "Check": "results",
    # the names of the module pytest-mlperf grew from: docs/reference.md#compatibility-names
    "ModelBenchmarker": "compat",
    "ModelOptimizer": "compat",
    "BatchInferenceOptimizer": "compat",
    "CostOptimizer": "compat",
    "CostEstimate": "compat",
    "InfrastructureTier": "compat",
}

if TYPE_CHECKING:
    from .bench import Benchmarker, BenchmarkError, ModelCallError, Sweep
    from .compat import (
        BatchInferenceOptimizer,
        CostEstimate,
        CostOptimizer,
        InfrastructureTier,
        ModelBenchmarker,
        ModelOptimizer,
    )
    from .marks import Limit
    from .results import BenchmarkResult, Check


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'pytest_mlperf' has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    return getattr(module, name)


__all__ = [
    "BatchInferenceOptimizer",
    "BenchmarkError",
    "BenchmarkResult",
    "Benchmarker",
    "Check",
    "CostEstimate",
    "CostOptimizer",
    "InfrastructureTier",
    "Limit",
    "ModelBenchmarker",
    "ModelCallError",
    "ModelOptimizer",
    "Sweep",
    "__version__",
]
