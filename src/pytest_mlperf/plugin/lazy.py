"""Importing the heavy parts of pytest-mlperf on first use, without touching warning filters.

SciPy and others add `warnings` filters when imported. scikit-learn's forests re-apply every
active filter around each tree's prediction, so filters left behind by an import change the
latency the plugin measures (docs/performance.md, "Warning filters change forest latency").
Every lazy import of the plugin goes through `load`, which restores the filters as they were.
"""

from __future__ import annotations

import importlib
import warnings

CORE = ("bench", "judge", "stats", "results", "memory", "regression.ab")  # what measuring needs


def load(*modules: str) -> None:
    """Import `pytest_mlperf.<module>` for each name, leaving `warnings.filters` unchanged."""
    with warnings.catch_warnings():
        for module in modules:
            importlib.import_module(f"pytest_mlperf.{module}")
