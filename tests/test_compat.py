"""The earlier module's names, called the way its users called them.

Each test is written as code against that module was: its constructors, its positional
arguments, its method names and the result fields it read (docs/reference.md#compatibility-names).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import pytest_mlperf
from pytest_mlperf import compat
from pytest_mlperf.compat import (
    BatchInferenceOptimizer,
    BenchmarkResult,
    CostEstimate,
    CostOptimizer,
    InfrastructureTier,
    ModelBenchmarker,
    ModelOptimizer,
)
from pytest_mlperf.cost import CostConfigError
from pytest_mlperf.validate import ArgumentError

X, Y = make_classification(n_samples=60, n_features=6, n_informative=3, random_state=0)
LINEAR = LogisticRegression(max_iter=500).fit(X, Y)
FOREST = RandomForestClassifier(n_estimators=5, max_depth=6, random_state=0).fit(X, Y)


@pytest.mark.parametrize("name", compat.__all__)
def test_each_name_is_importable_from_the_package_as_before(name: str) -> None:
    assert getattr(pytest_mlperf, name) is getattr(compat, name)


def test_model_benchmarker_takes_warmup_iterations_and_n_iterations() -> None:
    bench = ModelBenchmarker(warmup_iterations=3)
    assert bench.warmup == 3
    batch_size, passes = 8, 2
    result = bench.benchmark(LINEAR, X, passes, batch_size)  # positional, as before
    assert isinstance(result, BenchmarkResult)
    assert result.n_samples == passes * math.ceil(len(X) / batch_size)
    assert result.warmup_calls >= 3
    # the fields the earlier result had, under the same names and units
    assert result.model_name == "LogisticRegression"
    assert result.batch_size == batch_size
    assert 0 < result.latency_p50 <= result.latency_p95 <= result.latency_p99
    assert result.latency_mean > 0 and result.latency_std >= 0
    assert result.throughput_rps == pytest.approx(batch_size * 1000 / result.latency_mean)
    assert result.memory_mb is not None and result.memory_mb >= 0
    assert "LogisticRegression" in str(result)


def test_model_benchmarker_keyword_calls_and_compare_models() -> None:
    bench = ModelBenchmarker(warmup_iterations=1, samples=20, measure_memory=False)
    one = bench.benchmark(LINEAR, X, n_iterations=1, batch_size=60)
    assert one.n_samples >= 2  # one pass over one batch: still two calls for a spread
    default = bench.benchmark(LINEAR, X, batch_size=4)
    assert default.n_samples == bench.samples  # without n_iterations, this package's default
    results = bench.compare_models({"linear": LINEAR, "forest": FOREST}, X, batch_sizes=[1, 4])
    assert sorted(results) == ["forest", "linear"]
    for name, by_size in results.items():
        assert sorted(by_size) == ["batch_1", "batch_4"]
        assert by_size["batch_4"].batch_size == 4 and by_size["batch_4"].name == name


@pytest.mark.parametrize(
    ("args", "named"), [((0, 1), "n_iterations"), ((1.5, 1), "n_iterations"), ((1, 0), "batch")]
)
def test_model_benchmarker_refuses_bad_counts_by_name(
    args: tuple[object, object], named: str
) -> None:
    with pytest.raises((ArgumentError, pytest_mlperf.BenchmarkError), match=named):
        ModelBenchmarker().benchmark(LINEAR, X, *args)


def test_model_optimizer_static_calls_give_back_what_the_earlier_methods_returned() -> None:
    shallow = ModelOptimizer.reduce_tree_depth(FOREST, max_depth=2).model
    assert max(tree.get_depth() for tree in shallow.estimators_) <= 2
    assert max(tree.get_depth() for tree in FOREST.estimators_) > 2  # the caller's is untouched
    kept = ModelOptimizer.prune_features(FOREST, X, importance_threshold=0.1).kept_features
    np.testing.assert_array_equal(kept, np.where(FOREST.feature_importances_ >= 0.1)[0])
    quantized = ModelOptimizer.quantize_weights(LINEAR, bits=8)
    scale, zero_point = quantized.details["scale"], quantized.details["zero_point"]
    weights = (quantized.model.qweights.astype(float) - zero_point) * scale  # was the dict's
    np.testing.assert_allclose(weights, LINEAR.coef_, atol=scale / 2 + 1e-12)


def test_batch_inference_optimizer_buffers_flushes_and_batches() -> None:
    batcher = BatchInferenceOptimizer(LINEAR, optimal_batch_size=16)
    assert batcher.optimal_batch_size == 16
    batcher.add_request(X[:3])
    batcher.add_request(X[3:5])
    np.testing.assert_array_equal(batcher.flush(), LINEAR.predict(X[:5]))
    assert len(batcher.flush()) == 0  # an empty buffer gives an empty array
    np.testing.assert_array_equal(batcher.predict_batched(X), LINEAR.predict(X))


def test_infrastructure_tier_has_the_four_earlier_levels() -> None:
    assert {t.name: t.value for t in InfrastructureTier} == {
        "SERVERLESS": "serverless",
        "CONTAINER": "container",
        "KUBERNETES": "kubernetes",
        "DEDICATED": "dedicated",
    }


def _check_estimate(estimate: CostEstimate, tier: InfrastructureTier, requests: int) -> None:
    assert isinstance(estimate, CostEstimate)
    assert estimate.tier is tier
    assert estimate.monthly_requests == requests
    parts = estimate.compute_cost + estimate.storage_cost + estimate.network_cost
    assert estimate.total_cost == pytest.approx(parts) and estimate.total_cost > 0
    assert estimate.cost_per_1k_requests == pytest.approx(estimate.total_cost / requests * 1000)


def test_cost_optimizer_estimates_as_called_before() -> None:
    optimizer = CostOptimizer()
    requests, ms = 2_000_000, 40
    serverless = optimizer.estimate_serverless(requests, ms, memory_mb=512)
    _check_estimate(serverless, InfrastructureTier.SERVERLESS, requests)
    assert serverless.avg_latency_ms == ms
    container = optimizer.estimate_container(requests, ms, instances=2, vcpus=1, memory_gb=2)
    _check_estimate(container, InfrastructureTier.CONTAINER, requests)
    assert container.sizing is not None and (container.sizing.min_replicas or 0) >= 2
    more = optimizer.estimate_container(requests, ms, instances=4, vcpus=1, memory_gb=2)
    assert more.total_cost > container.total_cost  # a static fleet is paid per instance


def test_cost_optimizer_recommend_tier_needs_the_models_latency() -> None:
    # the earlier method ignored the model; this one sizes it, so it asks for its latency
    with pytest.raises(CostConfigError, match="avg_duration_ms"):
        CostOptimizer().recommend_tier(500_000, 200, 1_000.0)
    tier = CostOptimizer().recommend_tier(500_000, 200, 1_000.0, avg_duration_ms=20)
    assert isinstance(tier, InfrastructureTier)
    assert CostOptimizer().recommend_tier(500_000, 200, 1e-9, avg_duration_ms=20) is None
