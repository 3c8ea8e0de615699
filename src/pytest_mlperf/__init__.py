"""pytest-mlperf: is this model fast enough and cheap enough to ship?

The measuring core works without pytest::

    from pytest_mlperf import Benchmarker
    result = Benchmarker().benchmark(model, X, batch_size=1)
    print(result)
"""

from __future__ import annotations

from .bench import Benchmarker, BenchmarkError, ModelCallError, Sweep
from .marks import Limit
from .results import BenchmarkResult, Check

__version__ = "0.1.0"

# The original module's name for the benchmarker.
ModelBenchmarker = Benchmarker

__all__ = [
    "BenchmarkError",
    "BenchmarkResult",
    "Benchmarker",
    "Check",
    "Limit",
    "ModelBenchmarker",
    "ModelCallError",
    "Sweep",
    "__version__",
]
