"""Compiled inference through ONNX Runtime, when `skl2onnx` and `onnxruntime` are installed.

A scikit-learn model is converted to an ONNX graph and run by ONNX Runtime, which skips
scikit-learn's per-call input validation and Python overhead: for single rows that is most
of the latency. Inputs are cast to float32 (what the converters emit), so a row sitting on a
tree threshold may land on the other side: agreement with the original is always checked.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ..bench import model_label
from .measure import CLASSIFICATION, OptimizationError, task_of

PACKAGES = ("skl2onnx", "onnxruntime")
INSTALL_HINT = (
    "install skl2onnx and onnxruntime (pip install 'pytest-mlperf[onnx]') to try compiled "
    "inference: the model would be converted to ONNX, checked to predict like the original, "
    "and timed at batch 1 and at the recommended batch size"
)


def missing_packages() -> list[str]:
    """Which of the packages compiled inference needs are not importable."""
    missing = []
    for name in PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def onnx_available() -> bool:
    return not missing_packages()


class OnnxModel:
    """A converted model run by ONNX Runtime, with `predict` (and `predict_proba`)."""

    def __init__(self, onnx_bytes: bytes, source: str, threads: int = 1) -> None:
        self.onnx_bytes = onnx_bytes
        self.source = source
        self.threads = threads
        self._start()

    def _start(self) -> None:
        ort: Any = importlib.import_module("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            self.onnx_bytes, options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]

    def _run(self, X: Any, index: int) -> np.ndarray:
        if hasattr(X, "to_numpy"):
            X = X.to_numpy()
        data = np.ascontiguousarray(np.asarray(X, dtype=np.float32))
        out = self._session.run([self._outputs[index]], {self._input: data})[0]
        return np.asarray(out)

    def predict(self, X: Any) -> np.ndarray:
        out = self._run(X, 0)
        return out.ravel() if out.ndim == 2 and out.shape[1] == 1 else out

    def predict_proba(self, X: Any) -> np.ndarray:
        if len(self._outputs) < 2:
            raise AttributeError(f"the ONNX graph of {self.source} has no probabilities")
        return self._run(X, 1)

    def __getstate__(self) -> dict[str, Any]:
        return {"onnx_bytes": self.onnx_bytes, "source": self.source, "threads": self.threads}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._start()

    def __repr__(self) -> str:
        return f"OnnxModel({self.source}, {len(self.onnx_bytes):,} bytes)"


def compile_onnx(model: Any, X: Any, threads: int = 1) -> OnnxModel:
    """Convert a fitted scikit-learn model (or Pipeline) with skl2onnx for ONNX Runtime.

    `threads` sets ONNX Runtime's intra-op threads (1 compares fairly with a one-thread
    scikit-learn and behaves on shared CI runners).
    """
    missing = missing_packages()
    if missing:
        raise OptimizationError(f"{', '.join(missing)} not installed: {INSTALL_HINT}")
    skl2onnx: Any = importlib.import_module("skl2onnx")
    sample = np.asarray(X.to_numpy() if hasattr(X, "to_numpy") else X, dtype=np.float32)[:1]
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    # probabilities as one array, not as a list of {class: probability} dicts
    options = {id(final): {"zipmap": False}} if task_of(final) == CLASSIFICATION else None
    try:
        graph = skl2onnx.to_onnx(model, sample, options=options)
    except Exception as exc:  # the converters raise many kinds for what they cannot handle
        raise OptimizationError(
            f"skl2onnx cannot convert {model_label(model)}: {type(exc).__name__}: {exc}"
        ) from exc
    return OnnxModel(graph.SerializeToString(), model_label(model), threads)
