"""Which batch size to serve with, and how much memory a batch costs."""

import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X_digits, y_digits = load_digits(return_X_y=True)
X_synth, y_synth = make_classification(
    n_samples=2_000, n_features=20, n_informative=10, random_state=0
)


@pytest.fixture(scope="module")
def forest():
    model = RandomForestClassifier(n_estimators=30, max_depth=10, n_jobs=1, random_state=0)
    return model.fit(X_synth, y_synth)


@pytest.fixture(scope="module")
def nearest_neighbours():
    return make_pipeline(StandardScaler(), KNeighborsClassifier()).fit(X_digits, y_digits)


@pytest.mark.latency(p95_ms=50)  # applies to every batch size of the sweep
def test_choose_serving_batch_size(model_bench, forest):
    sweep = model_bench.sweep(forest, X_synth, batch_sizes=(1, 8, 32, 64))
    # The batch size with the most rows/s among those whose p95 stays under 50 ms.
    assert sweep.best_batch_size in (1, 8, 32, 64)
    assert sweep.best.throughput_rps > sweep.results[0].throughput_rps


@pytest.mark.memory(max_mb=32)
def test_knn_memory_for_a_batch_of_256(model_bench, nearest_neighbours):
    assert nearest_neighbours.score(X_digits, y_digits) > 0.95
    # Memory is measured once, apart from timing; 50 timed calls are plenty here.
    result = model_bench(nearest_neighbours, X_digits, batch_size=256, samples=50)
    assert result.throughput_rps > 1_000
