"""Batch inference: `BatchInferenceOptimizer` and a thread-safe `MicroBatcher`.

Most models cost nearly the same per call whatever the batch size, so serving rows together
multiplies throughput. `BatchInferenceOptimizer` batches what one caller already has;
`MicroBatcher` batches the single rows that many concurrent callers send, waiting at most
`max_wait_ms` for a batch to fill, and hands each caller a future for its own row's result.
"""

from __future__ import annotations

import importlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bench import n_rows, resolve_model


def stack_rows(rows: list[Any]) -> Any:
    """One batch from single rows or blocks of rows (arrays or DataFrames)."""
    if all(hasattr(r, "iloc") for r in rows):
        pandas = importlib.import_module("pandas")
        return pandas.concat(rows)
    return np.vstack([np.atleast_2d(np.asarray(r)) for r in rows])


def concat_predictions(parts: list[Any]) -> np.ndarray:
    """Per-batch predictions joined, whether each is 1-D (labels) or 2-D (probabilities)."""
    if not parts:
        return np.array([])
    return np.concatenate([np.asarray(p) for p in parts], axis=0)


class BatchInferenceOptimizer:
    """Predict in batches of `optimal_batch_size` rows.

    `add_request` buffers rows, `flush` predicts everything buffered in one pass, and
    `predict_batched` splits a large X into batches. Buffering is guarded by a lock, so
    several threads may add requests.
    """

    def __init__(self, model: Any, optimal_batch_size: int = 32, method: str = "predict") -> None:
        if (
            isinstance(optimal_batch_size, bool)
            or not isinstance(optimal_batch_size, int)
            or optimal_batch_size < 1
        ):
            raise ValueError(
                f"optimal_batch_size must be a positive integer, got {optimal_batch_size!r}"
            )
        self.model = model
        self.optimal_batch_size = optimal_batch_size
        self._predict = resolve_model(model, method).fn
        self._buffer: list[Any] = []
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Requests buffered and not yet flushed."""
        with self._lock:
            return len(self._buffer)

    def add_request(self, x: Any) -> None:
        """Buffer one row (or a block of rows) for the next `flush`."""
        with self._lock:
            self._buffer.append(x)

    def flush(self) -> np.ndarray:
        """Predict every buffered row, in batches of `optimal_batch_size`, and empty the buffer."""
        with self._lock:
            rows, self._buffer = self._buffer, []
        if not rows:
            return np.array([])
        return self.predict_batched(stack_rows(rows))

    def predict_batched(self, X: Any) -> np.ndarray:
        """Predictions for all of X, computed `optimal_batch_size` rows at a time."""
        size, total = self.optimal_batch_size, n_rows(X)
        parts = []
        for start in range(0, total, size):
            stop = min(start + size, total)
            batch = X.iloc[start:stop] if hasattr(X, "iloc") else X[start:stop]
            parts.append(self._predict(batch))
        return concat_predictions(parts)


@dataclass
class BatcherStats:
    """How the micro-batcher has been batching: calls of the model and rows per call."""

    requests: int = 0
    batches: int = 0
    largest_batch: int = 0

    @property
    def mean_batch_size(self) -> float:
        return self.requests / self.batches if self.batches else 0.0


_STOP = object()


class MicroBatcher:
    """Collects single-row requests from many threads into batches for one model.

    A batch is sent when it holds `max_batch_size` rows or when its first row has waited
    `max_wait_ms`. `submit(row)` returns a `concurrent.futures.Future` for that row's
    prediction; `predict(row, timeout=...)` waits for it and cancels the request when the
    timeout passes first (raising `TimeoutError`). If the model raises, every caller in that
    batch gets the exception. Use as a context manager, or call `close()`, which answers
    the requests already queued before stopping the worker thread.
    """

    def __init__(
        self,
        model: Any,
        max_batch_size: int = 32,
        max_wait_ms: float = 2.0,
        *,
        method: str = "predict",
        timeout_s: float | None = 30.0,
    ) -> None:
        if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int):
            raise ValueError(f"max_batch_size must be an integer, got {max_batch_size!r}")
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be at least 0, got {max_wait_ms}")
        self.model = model
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_ms / 1000
        self.timeout_s = timeout_s
        self.stats = BatcherStats()
        self._predict: Callable[[Any], Any] = resolve_model(model, method).fn
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self._close_lock = threading.Lock()
        self._worker = threading.Thread(
            target=self._run, name="pytest-mlperf-microbatcher", daemon=True
        )
        self._worker.start()

    def submit(self, row: Any) -> Future[Any]:
        """Queue one row (shape (n_features,) or (1, n_features)); a future for its result."""
        x = np.asarray(row)
        if x.ndim == 2 and x.shape[0] == 1:
            x = x[0]
        if x.ndim != 1:
            raise ValueError(f"submit takes one row, got an array of shape {np.shape(row)}")
        future: Future[Any] = Future()
        with self._close_lock:
            if self._closed:
                raise RuntimeError("this MicroBatcher is closed")
            self._queue.put((x, future))
        return future

    def predict(self, row: Any, timeout: float | None = None) -> Any:
        """The prediction for one row, waiting at most `timeout` s (default: `timeout_s`)."""
        future = self.submit(row)
        wait = self.timeout_s if timeout is None else timeout
        try:
            return future.result(timeout=wait)
        except TimeoutError:
            future.cancel()  # if still queued, the worker skips it
            raise TimeoutError(
                f"no prediction within {wait} s (the model is slower than the traffic, or "
                "the batcher is stuck)"
            ) from None

    def close(self) -> None:
        """Answer the queued requests, then stop the worker thread."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._worker.join()

    def __enter__(self) -> MicroBatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch, stopping = [first], False
            deadline = time.perf_counter() + self.max_wait_s
            while len(batch) < self.max_batch_size:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.perf_counter()))
                except queue.Empty:
                    break
                if item is _STOP:  # close() puts nothing after the stop mark
                    stopping = True
                    break
                batch.append(item)
            self._answer(batch)
            if stopping:
                return

    def _answer(self, batch: list[tuple[np.ndarray, Future[Any]]]) -> None:
        live = [(x, f) for x, f in batch if f.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            predictions = self._predict(np.stack([x for x, _ in live]))
        except Exception as exc:  # every waiting caller must hear about it
            for _, future in live:
                future.set_exception(exc)
            return
        self.stats.requests += len(live)
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(live))
        for i, (_, future) in enumerate(live):
            future.set_result(predictions[i])
