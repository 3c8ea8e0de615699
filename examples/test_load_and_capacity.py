"""Latency under traffic and measured capacity (docs: "Load and capacity").

The forest's calls take a few milliseconds; offered 100 requests/s at random, some requests
wait behind others, so p95 under load is higher than p95 of calls one at a time. The capacity
test finds the highest rate one replica holds within the p95 limit; the cost model then sizes
replicas from that figure instead of estimating it.
"""

import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

X, y = make_classification(n_samples=500, n_features=20, random_state=0)
forest = RandomForestClassifier(n_estimators=30, max_depth=8, random_state=0).fit(X, y)


@pytest.mark.latency(p95_ms=100)
def test_forest_under_poisson_traffic(model_bench):
    single = model_bench(forest, X)
    loaded = model_bench.load(forest, X, rps=100, workers=2, duration_s=6)
    assert not loaded.saturated
    # waiting in the queue only adds to the time of the call itself
    assert loaded.latency_p50 >= 0.5 * single.latency_p50


@pytest.mark.latency(p95_ms=100)
@pytest.mark.throughput(min_rps=20)
def test_forest_capacity(model_bench):
    found = model_bench.capacity(forest, X, workers=2, precision=0.2)
    assert found.max_rps > 0
