"""From a slow model to a recommended serving configuration, in three tests.

1. Measure the model as it would be served: one row per call.
2. Ask `advise` what would help: it tries batching, tree truncation, feature pruning, ONNX
   Runtime (when installed) and a cache, measures each on the validation rows, and recommends
   what gains at least 10% while losing at most one point of accuracy.
3. Apply the advice (shallower trees, served in batches) and gate it with markers.

Limits here are generous on purpose: the walkthrough must pass on a busy 2-core CI runner.
What it asserts about the advice is what does not depend on timing (which options were tried,
the accuracy they keep); the measured figures are printed (`pytest -s`) and reported.
"""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from pytest_mlperf import Benchmarker
from pytest_mlperf.optimize import BatchInferenceOptimizer, advise, tree_depth, truncate_trees

# 24 columns, of which only 6 carry signal: room for pruning as well as for shallower trees
X, y = make_classification(
    n_samples=1_500, n_features=24, n_informative=6, n_redundant=0, class_sep=2.0, random_state=0
)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.4, random_state=0)

# Short measurements: enough for medians and for a batch-size curve, not for p99 gating.
QUICK = Benchmarker(samples=40, max_time=0.25, warmup_time=0.01)


@pytest.fixture(scope="module")
def slow_forest():
    """Fully grown trees: accurate, deep, and slower than they need to be."""
    model = RandomForestClassifier(n_estimators=15, n_jobs=1, random_state=0)
    return model.fit(X_train, y_train)


@pytest.fixture(scope="module")
def advice(slow_forest):
    return advise(
        slow_forest,
        X_val,
        y_val,
        X_train=X_train,
        y_train=y_train,
        benchmarker=QUICK,
        batch_sizes=(1, 32),
        importance_threshold=0.02,  # a forest spreads about 1% over each useless column
    )


@pytest.mark.latency(p95_ms=500)
def test_1_the_slow_model_at_one_row_per_call(model_bench, slow_forest):
    result = model_bench(slow_forest, X_val, batch_size=1)
    assert result.latency_p50 > 0
    assert tree_depth(slow_forest) > 10  # nothing limited how deep the trees grew


def test_2_what_the_advisor_tried_and_recommends(advice, slow_forest):
    print()
    print(advice)  # every option with its numbers; `pytest -s` shows it
    tried = {option.technique for option in advice.options} | set(advice.skipped)
    assert {"batching", "reduce_tree_depth", "prune_features", "onnx"} <= tried
    assert "quantize_weights" in advice.not_applicable  # a forest has no weights to quantize

    # Batching a forest pays off on any machine: one call per batch instead of one per row.
    batching = advice.option("batching")
    assert batching is not None and batching.throughput_ratio() > 2

    # Truncation is picked from accuracy alone: the shallowest depth within one point.
    truncated = advice.option("reduce_tree_depth")
    assert truncated is not None
    assert truncated.details["depth_after"] < truncated.details["depth_before"]
    assert truncated.score_loss() <= 0.01
    assert truncated.after.size.bytes < truncated.before.size.bytes

    # Pruning refits the forest on the columns that carry at least 2% of the importance.
    pruned = advice.option("prune_features")
    assert pruned is not None and pruned.details["dropped_features"]
    assert pruned.model.predict(X_val).shape == y_val.shape  # it still takes all 24 columns

    assert advice.recommendations  # sentences with numbers, for the report
    assert advice.to_dict()["recommendations"] == advice.recommendations


@pytest.mark.latency(p95_ms=1_000)  # per call of a batch
@pytest.mark.throughput(min_rps=200)  # rows per second
def test_3_the_recommended_configuration(model_bench, advice, slow_forest):
    depth = advice.option("reduce_tree_depth").details["depth_after"]
    batch_size = advice.option("batching").details["batch_size"]
    served = truncate_trees(slow_forest, depth)  # a copy: slow_forest is untouched
    accuracy_lost = slow_forest.score(X_val, y_val) - served.score(X_val, y_val)
    assert accuracy_lost <= 0.01

    result = model_bench(served, X_val, batch_size=batch_size)
    assert result.throughput_rps > 200

    # In the service, the batching helper gives the same answers as one big call.
    batcher = BatchInferenceOptimizer(served, optimal_batch_size=batch_size)
    np.testing.assert_array_equal(batcher.predict_batched(X_val), served.predict(X_val))
