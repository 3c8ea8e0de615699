"""Batch inference helpers and the prediction cache: correct answers, thread safety, timeouts.

Nothing here measures speed; `benchmarks/batching.py` does. Concurrency is exercised with real
threads but every assertion is about answers and counts, never about how long things took.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from pytest_mlperf.optimize import (
    BatchInferenceOptimizer,
    MicroBatcher,
    PredictionCache,
    repeated_share,
)

X, y = make_classification(n_samples=300, n_features=6, random_state=0)
MODEL = LogisticRegression().fit(X, y)


class Recorder:
    """A model that records the size of every batch it is asked to predict."""

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def predict(self, batch: np.ndarray) -> np.ndarray:
        with self.lock:
            self.batches.append(len(batch))
        return np.asarray(batch)[:, 0] * 2


# --- BatchInferenceOptimizer ----------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 7, 32, 1000])
def test_predict_batched_equals_one_big_call(batch_size: int) -> None:
    batcher = BatchInferenceOptimizer(MODEL, optimal_batch_size=batch_size)
    np.testing.assert_array_equal(batcher.predict_batched(X), MODEL.predict(X))
    proba = BatchInferenceOptimizer(MODEL, batch_size, method="predict_proba")
    np.testing.assert_allclose(proba.predict_batched(X), MODEL.predict_proba(X))


def test_add_request_and_flush_as_in_the_original() -> None:
    recorder = Recorder()
    batcher = BatchInferenceOptimizer(recorder, optimal_batch_size=4)
    assert batcher.flush().size == 0
    for row in X[:10]:
        batcher.add_request(row)
    batcher.add_request(X[10:12])  # a block of rows is welcome too
    assert batcher.pending == 11
    np.testing.assert_array_equal(batcher.flush(), X[:12, 0] * 2)
    assert recorder.batches == [4, 4, 4]
    assert batcher.pending == 0


def test_requests_from_many_threads_are_all_flushed() -> None:
    batcher = BatchInferenceOptimizer(Recorder(), optimal_batch_size=16)
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda i: [batcher.add_request(row) for row in X[i * 50 : (i + 1) * 50]], range(4)
            )
        )
    out = batcher.flush()
    assert sorted(out) == sorted(X[:200, 0] * 2)


def test_batch_size_must_be_positive() -> None:
    for bad in (0, -3, 2.0, True):
        with pytest.raises(ValueError, match="optimal_batch_size must be a positive integer"):
            BatchInferenceOptimizer(MODEL, bad)  # type: ignore[arg-type]


# --- MicroBatcher ---------------------------------------------------------------------------


def test_each_caller_gets_its_own_rows_prediction() -> None:
    recorder = Recorder()
    with (
        MicroBatcher(recorder, max_batch_size=8, max_wait_ms=1.0) as batcher,
        ThreadPoolExecutor(6) as pool,
    ):
        answers = list(pool.map(batcher.predict, X))
    np.testing.assert_array_equal(answers, X[:, 0] * 2)
    assert batcher.stats.requests == len(X) == sum(recorder.batches)
    assert batcher.stats.batches == len(recorder.batches)
    assert max(recorder.batches) <= 8 and batcher.stats.largest_batch <= 8
    assert batcher.stats.mean_batch_size >= 1


def test_a_real_model_through_futures() -> None:
    with MicroBatcher(MODEL, max_batch_size=32, max_wait_ms=5.0) as batcher:
        futures = [batcher.submit(row) for row in X[:100]]
        got = [f.result(timeout=30) for f in futures]
        assert batcher.predict(X[0:1]) == MODEL.predict(X[:1])[0]  # shape (1, n) is one row
    np.testing.assert_array_equal(got, MODEL.predict(X[:100]))


def test_a_caller_times_out_while_the_model_is_stuck() -> None:
    release = threading.Event()

    class Stuck:
        def predict(self, batch: np.ndarray) -> np.ndarray:
            release.wait(30)
            return np.zeros(len(batch))

    batcher = MicroBatcher(Stuck(), max_batch_size=4, max_wait_ms=0)
    try:
        with pytest.raises(TimeoutError, match=r"no prediction within 0\.05 s"):
            batcher.predict(X[0], timeout=0.05)
        waiting = batcher.submit(X[1])
        queued = batcher.submit(X[2])
        assert queued.cancel(), "a queued request can be cancelled"
    finally:
        release.set()
        batcher.close()
    assert waiting.result(timeout=30) == 0.0
    assert queued.cancelled()


def test_a_model_error_reaches_every_caller_of_that_batch() -> None:
    class Broken:
        def predict(self, batch: np.ndarray) -> np.ndarray:
            raise RuntimeError("model exploded")

    with MicroBatcher(Broken(), max_batch_size=4, max_wait_ms=1.0) as batcher:
        futures = [batcher.submit(row) for row in X[:6]]
        for future in futures:
            with pytest.raises(RuntimeError, match="model exploded"):
                future.result(timeout=30)


def test_close_answers_what_was_queued_and_refuses_more() -> None:
    batcher = MicroBatcher(Recorder(), max_batch_size=3, max_wait_ms=10_000)
    futures = [batcher.submit(row) for row in X[:7]]
    batcher.close()
    assert [f.result(timeout=0) for f in futures] == list(X[:7, 0] * 2)
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit(X[0])
    batcher.close()  # twice is fine


def test_microbatcher_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="max_batch_size"):
        MicroBatcher(MODEL, max_batch_size=0)
    with pytest.raises(ValueError, match="max_wait_ms"):
        MicroBatcher(MODEL, max_wait_ms=-1)
    with MicroBatcher(MODEL) as batcher, pytest.raises(ValueError, match="one row"):
        batcher.submit(X[:3])


# --- PredictionCache ------------------------------------------------------------------------


def test_repeated_rows_are_answered_from_the_cache() -> None:
    recorder = Recorder()
    cache = PredictionCache(recorder, maxsize=1000)
    first = cache.predict(X[:50])
    again = cache.predict(X[:50])
    np.testing.assert_array_equal(first, X[:50, 0] * 2)
    np.testing.assert_array_equal(again, first)
    assert recorder.batches == [50], "the second call never reached the model"
    assert (cache.hits, cache.misses) == (50, 50)
    assert cache.hit_ratio == 0.5
    mixed = cache.predict(X[40:60])
    np.testing.assert_array_equal(mixed, X[40:60, 0] * 2)
    assert recorder.batches == [50, 10], "only the 10 new rows were predicted, in one call"
    assert cache.predict_one(X[45]) == X[45, 0] * 2


def test_the_cache_evicts_the_least_recently_used_row() -> None:
    recorder = Recorder()
    cache = PredictionCache(recorder, maxsize=2)
    cache.predict(X[0:2])
    cache.predict(X[0:1])  # row 0 is now the most recent
    cache.predict(X[2:3])  # evicts row 1
    assert len(cache) == 2
    cache.predict(X[0:1])
    cache.predict(X[1:2])
    assert recorder.batches == [2, 1, 1]
    cache.clear()
    assert len(cache) == 0 and cache.hit_ratio == 0.0
    assert "PredictionCache(Recorder" in repr(cache)


def test_rows_of_another_dtype_are_other_keys_and_probabilities_are_cached_whole() -> None:
    cache = PredictionCache(MODEL, method="predict_proba")
    proba = cache.predict(X[:5])
    np.testing.assert_allclose(proba, MODEL.predict_proba(X[:5]))
    cache.predict(X[:5].astype(np.float32))
    assert cache.misses == 10


def test_the_cache_is_thread_safe() -> None:
    recorder = Recorder()
    cache = PredictionCache(recorder, maxsize=64)
    rows = np.repeat(X[:40], 5, axis=0)

    def ask(i: int) -> Any:
        return cache.predict(rows[i : i + 1])[0]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(len(rows))))
    np.testing.assert_array_equal(answers, rows[:, 0] * 2)
    assert cache.hits + cache.misses == len(rows) and cache.hits > 0


def test_repeated_share_and_a_bad_maxsize() -> None:
    assert repeated_share(X) == 0.0
    assert repeated_share(np.vstack([X[:10], X[:10]])) == 0.5
    with pytest.raises(ValueError, match="maxsize"):
        PredictionCache(MODEL, maxsize=0)
