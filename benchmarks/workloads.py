"""The workloads W0-W3 of docs/performance.md, built from fixed seeds.

The models are fitted once by `run.py`, saved with joblib, and loaded by every pytest process
the benchmark starts (`load_workloads`), so each process times exactly the same models.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SEED = 0
N_ROWS = 2000
N_FEATURES = 20
MODELS_ENV = "MLPERF_BENCH_MODELS"  # where the saved models are, for the pytest processes


def noop(batch: Any) -> None:
    """W0: a callable that does nothing, so its measured latency is the harness's own cost."""


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    fn: Callable[[Any], Any]
    X: np.ndarray
    batch_size: int
    batches: list[np.ndarray] = field(repr=False)


def shuffled_batches(X: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Batches of rows in a seeded shuffled order, as pytest-mlperf draws them."""
    order = np.random.default_rng(SEED).permutation(len(X))
    count = len(X) // batch_size
    return [X[order[i * batch_size : (i + 1) * batch_size]] for i in range(count)]


def fit_models() -> dict[str, Any]:
    """make_classification(n_features=20) data, a LogisticRegression and the forest."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=N_ROWS, n_features=N_FEATURES, random_state=SEED)
    lr = LogisticRegression(max_iter=1000, random_state=SEED).fit(X, y)
    rf = RandomForestClassifier(n_estimators=100, max_depth=10, n_jobs=1, random_state=SEED).fit(
        X, y
    )
    return {"X": X, "lr": lr, "rf": rf}


def save_models(models: dict[str, Any], path: Path) -> None:
    import joblib

    joblib.dump(models, path)


def load_models(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    import joblib

    models: dict[str, Any] = joblib.load(path or os.environ[MODELS_ENV])
    return models


def fingerprints(models: dict[str, Any]) -> dict[str, str]:
    """sha256 of each model's predict_proba on the data: equal digests, identical models."""
    X = models["X"]
    return {
        name: hashlib.sha256(models[name].predict_proba(X).tobytes()).hexdigest()[:16]
        for name in ("lr", "rf")
    }


# key -> (title, model in the saved dict, or None for the no-op; rows per call)
SPECS: dict[str, tuple[str, str | None, int]] = {
    "W0": ("no-op callable (harness overhead)", None, 1),
    "W1": ("LogisticRegression.predict, 1 row", "lr", 1),
    "W2": ("RandomForest(100 trees, depth 10, n_jobs=1).predict, 1 row", "rf", 1),
    "W3": ("RandomForest(100 trees, depth 10, n_jobs=1).predict, 64 rows", "rf", 64),
}


def build(models: dict[str, Any]) -> dict[str, Workload]:
    X = models["X"]
    workloads = {}
    for key, (title, model, batch_size) in SPECS.items():
        fn = noop if model is None else models[model].predict
        workloads[key] = Workload(key, title, fn, X, batch_size, shuffled_batches(X, batch_size))
    return workloads


def load_workloads() -> dict[str, Workload]:
    """The workloads from the models saved by run.py (path in $MLPERF_BENCH_MODELS)."""
    return build(load_models())
