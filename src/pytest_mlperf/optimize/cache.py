"""`PredictionCache`: an LRU cache of per-row predictions, keyed by the row's bytes.

Traffic often repeats itself (the same product page, the same user); a repeated row then
costs a dictionary look-up instead of a model call. Rows that were not cached are predicted
together in one call of the model, so a cold cache costs one batch, not one call per row.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..bench import n_rows, resolve_model, take_rows


class PredictionCache:
    """Wraps a model: `predict(X)` answers repeated rows from an LRU cache of `maxsize` rows.

    Keys are the row's dtype, shape and raw bytes, so equal rows hit whatever array they come
    from; float rows that differ in the last bit are different rows. Thread-safe.
    """

    def __init__(self, model: Any, maxsize: int = 10_000, method: str = "predict") -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be a positive integer, got {maxsize!r}")
        self.model = model
        self.maxsize = maxsize
        self.method = method
        self._call: Callable[[Any], Any] = resolve_model(model, method).fn
        self._store: OrderedDict[tuple[str, tuple[int, ...], bytes], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def hit_ratio(self) -> float:
        """Share of looked-up rows that were answered from the cache."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        """Forget every cached row and reset the counters."""
        with self._lock:
            self._store.clear()
            self.hits = self.misses = 0

    def predict(self, X: Any) -> np.ndarray:
        """Predictions for every row of X; only rows not in the cache reach the model."""
        values = _row_values(X)
        keys = [(row.dtype.str, row.shape, row.tobytes()) for row in values]
        found: list[Any] = [None] * len(keys)
        missing: list[int] = []
        with self._lock:
            for i, key in enumerate(keys):
                if key in self._store:
                    self._store.move_to_end(key)
                    found[i] = self._store[key]
                else:
                    missing.append(i)
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
        if missing:
            fresh = self._call(take_rows(X, np.asarray(missing)))
            with self._lock:
                for j, i in enumerate(missing):
                    found[i] = fresh[j]
                    self._store[keys[i]] = fresh[j]
                    self._store.move_to_end(keys[i])
                while len(self._store) > self.maxsize:
                    self._store.popitem(last=False)
        return np.asarray(found)

    def predict_one(self, row: Any) -> Any:
        """The prediction for a single row (shape (n_features,))."""
        return self.predict(np.asarray(row).reshape(1, -1))[0]

    def __repr__(self) -> str:
        return (
            f"PredictionCache({type(self.model).__name__}, {len(self)}/{self.maxsize} rows, "
            f"hit ratio {self.hit_ratio:.1%})"
        )


def _row_values(X: Any) -> np.ndarray:
    """X as a 2-D NumPy array, one contiguous row per key."""
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    elif hasattr(X, "toarray"):
        X = X.toarray()
    values = np.ascontiguousarray(np.asarray(X))
    if values.ndim != 2 or values.shape[0] != n_rows(X):
        raise ValueError(f"X must be two-dimensional (rows x features), got {values.shape}")
    return values


def repeated_share(X: Any) -> float:
    """Share of the rows of X that repeat an earlier row: the best hit ratio X could give."""
    values = _row_values(X)
    if len(values) == 0:
        return 0.0
    unique = len({row.tobytes() for row in values})
    return 1 - unique / len(values)
