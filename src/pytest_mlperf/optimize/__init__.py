"""Measured optimizations: batching, caching, pruning, truncation, quantization, ONNX.

Every optimizer works on a copy of the model and reports what it measured before and after;
`advise` tries all that apply and recommends what paid off::

    from pytest_mlperf.optimize import advise
    advice = advise(model, X_val, y_val)
    print(advice)                     # every option with its numbers
    advice.recommendations            # sentences for the report
"""

from __future__ import annotations

from .advisor import TECHNIQUES, Advice, advise
from .batching import BatcherStats, BatchInferenceOptimizer, MicroBatcher
from .cache import PredictionCache, repeated_share
from .measure import (
    ModelSize,
    Optimization,
    OptimizationError,
    PairedLatency,
    Profile,
    UnsupportedModelError,
    model_size,
)
from .models import ModelOptimizer
from .onnx import OnnxModel, compile_onnx, onnx_available
from .transforms import (
    FeatureSubsetModel,
    QuantizedLinearModel,
    feature_importances,
    quantize_linear,
    tree_depth,
    truncate_trees,
)

__all__ = [
    "TECHNIQUES",
    "Advice",
    "BatchInferenceOptimizer",
    "BatcherStats",
    "FeatureSubsetModel",
    "MicroBatcher",
    "ModelOptimizer",
    "ModelSize",
    "OnnxModel",
    "Optimization",
    "OptimizationError",
    "PairedLatency",
    "PredictionCache",
    "Profile",
    "QuantizedLinearModel",
    "UnsupportedModelError",
    "advise",
    "compile_onnx",
    "feature_importances",
    "model_size",
    "onnx_available",
    "quantize_linear",
    "repeated_share",
    "tree_depth",
    "truncate_trees",
]
