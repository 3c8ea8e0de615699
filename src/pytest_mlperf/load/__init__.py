"""Latency under open-loop load, measured capacity, and queueing predictions.

The engine behind `model_bench.load` and `model_bench.capacity`; usable without pytest.
"""

from __future__ import annotations

from .pool import LoadError
from .queue import Prediction, predict
from .result import LoadResult
from .run import load
from .schedule import LoadSettingError

__all__ = ["LoadError", "LoadResult", "LoadSettingError", "Prediction", "load", "predict"]
