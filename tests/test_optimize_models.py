"""The model optimizers on real scikit-learn models: each result works and the input is intact.

No timing is asserted here (timing claims live in benchmarks/); latency measurement is either
off or reduced to a few calls so that the tests stay fast and deterministic.
"""

from __future__ import annotations

import json
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor, ExtraTreeRegressor

from pytest_mlperf import Benchmarker
from pytest_mlperf.optimize import (
    FeatureSubsetModel,
    ModelOptimizer,
    OptimizationError,
    QuantizedLinearModel,
    UnsupportedModelError,
    feature_importances,
    model_size,
    quantize_linear,
    tree_depth,
    truncate_trees,
)
from pytest_mlperf.optimize.transforms import quantize_array

# 4 informative columns, then 8 of pure noise: pruning has something to find
Xc, yc = make_classification(
    n_samples=400, n_features=12, n_informative=4, n_redundant=0, shuffle=False, random_state=0
)
Xm, ym = make_classification(
    n_samples=400, n_features=10, n_informative=6, n_classes=3, random_state=1
)
Xr, yr = make_regression(n_samples=300, n_features=8, noise=5.0, random_state=0)

NO_TIMING = ModelOptimizer(measure_latency=False)
FEW_CALLS = ModelOptimizer(
    Benchmarker(samples=5, warmup=1, warmup_time=0, max_time=0.2, measure_memory=False)
)


def fingerprint(model: Any) -> str:
    """A hash of every fitted array of the model: changes if anything is modified in place."""
    return str(joblib.hash(model))


def manual_tree_predict(tree: Any, X: np.ndarray, max_depth: int) -> np.ndarray:
    """Walk the *original* node arrays, stopping at max_depth: what truncation must give."""
    out = []
    for row in X.astype(np.float32):
        node, depth = 0, 0
        while depth < max_depth and tree.children_left[node] != -1:
            go_left = row[tree.feature[node]] <= tree.threshold[node]
            node = tree.children_left[node] if go_left else tree.children_right[node]
            depth += 1
        out.append(tree.value[node])
    return np.asarray(out)


# --- tree truncation ------------------------------------------------------------------------


@pytest.mark.parametrize("max_depth", [1, 2, 3, 5, 8])
def test_truncated_tree_equals_a_walk_of_the_original_to_that_depth(max_depth: int) -> None:
    tree = DecisionTreeClassifier(random_state=0).fit(Xm, ym)
    before = fingerprint(tree)
    cut = truncate_trees(tree, max_depth)
    assert cut.get_depth() <= max_depth
    assert cut.tree_.node_count <= tree.tree_.node_count
    expected = manual_tree_predict(tree.tree_, Xm, max_depth)[:, 0, :]
    expected = expected / expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cut.predict_proba(Xm), expected)
    np.testing.assert_array_equal(cut.predict(Xm), tree.classes_[expected.argmax(axis=1)])
    assert fingerprint(tree) == before, "the user's tree was modified"


def test_truncated_regression_tree_keeps_the_mean_of_each_cut_node() -> None:
    tree = DecisionTreeRegressor(random_state=0).fit(Xr, yr)
    cut = truncate_trees(tree, 4)
    assert cut.get_depth() == 4
    np.testing.assert_allclose(cut.predict(Xr), manual_tree_predict(tree.tree_, Xr, 4)[:, 0, 0])
    assert cut.max_depth == 4 and tree.max_depth is None


@pytest.mark.parametrize(
    ("cls", "X", "y"),
    [
        (RandomForestClassifier, Xc, yc),
        (RandomForestRegressor, Xr, yr),
        (ExtraTreesClassifier, Xc, yc),
        (ExtraTreesRegressor, Xr, yr),
    ],
)
def test_forests_are_truncated_tree_by_tree(cls: Any, X: np.ndarray, y: np.ndarray) -> None:
    forest = cls(n_estimators=5, random_state=0).fit(X, y)
    before = fingerprint(forest)
    cut = truncate_trees(forest, 3)
    assert tree_depth(cut) <= 3 < tree_depth(forest)
    for original, truncated in zip(forest.estimators_, cut.estimators_, strict=True):
        walked = manual_tree_predict(original.tree_, X, 3)
        if is_classifier(forest):
            walked = walked[:, 0, :] / walked[:, 0, :].sum(axis=1, keepdims=True)
            np.testing.assert_allclose(truncated.predict_proba(X), walked)
        else:
            np.testing.assert_allclose(truncated.predict(X), walked[:, 0, 0])
    assert cut.predict(X).shape == forest.predict(X).shape
    assert fingerprint(forest) == before


def test_truncating_deeper_than_the_tree_changes_nothing_and_survives_pickling(
    tmp_path: Any,
) -> None:
    tree = ExtraTreeRegressor(max_depth=3, random_state=0).fit(Xr, yr)
    same = truncate_trees(tree, 10)
    np.testing.assert_array_equal(same.predict(Xr), tree.predict(Xr))
    path = tmp_path / "cut.joblib"
    joblib.dump(truncate_trees(tree, 2), path)
    np.testing.assert_allclose(joblib.load(path).predict(Xr), truncate_trees(tree, 2).predict(Xr))


def test_a_pipeline_ending_in_a_forest_is_truncated() -> None:
    pipe = make_pipeline(StandardScaler(), RandomForestClassifier(4, random_state=0)).fit(Xc, yc)
    cut = truncate_trees(pipe, 2)
    assert tree_depth(cut) <= 2
    assert tree_depth(pipe) > 2
    assert cut.predict(Xc).shape == (len(Xc),)


def test_reduce_tree_depth_reports_depth_size_and_accuracy() -> None:
    tree = DecisionTreeClassifier(random_state=0).fit(Xc, yc)
    before = fingerprint(tree)
    opt = FEW_CALLS.reduce_tree_depth(tree, max_depth=3, X=Xc, y=yc)
    assert opt.details["depth_after"] <= 3 < opt.details["depth_before"]
    assert opt.details["nodes_after"] < opt.details["nodes_before"]
    assert opt.after.size is not None and opt.before.size is not None
    assert opt.after.size.bytes < opt.before.size.bytes
    assert opt.before.score == 1.0  # a full tree on its own training rows
    assert opt.after.score is not None and 0.5 < opt.after.score <= 1.0
    assert opt.after.latency is not None and opt.after.latency.n_samples >= 1
    assert opt.model.predict(Xc).shape == yc.shape
    assert "truncating the trees from depth" in opt.summary()
    json.dumps(opt.to_dict(), allow_nan=False)
    assert fingerprint(tree) == before


@pytest.mark.parametrize(
    ("model", "hint"),
    [
        (LogisticRegression(), "DecisionTreeClassifier"),
        (GradientBoostingClassifier(n_estimators=3), "boosted trees"),
    ],
)
def test_truncation_names_what_it_supports(model: Any, hint: str) -> None:
    model.fit(Xc, yc)
    with pytest.raises(UnsupportedModelError, match=hint):
        truncate_trees(model, 3)


def test_truncation_errors_for_unfitted_trees_and_bad_depths() -> None:
    with pytest.raises(OptimizationError, match="not fitted"):
        truncate_trees(RandomForestClassifier(), 3)
    tree = DecisionTreeClassifier().fit(Xc, yc)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(OptimizationError, match="max_depth must be a positive integer"):
            truncate_trees(tree, bad)  # type: ignore[arg-type]


# --- quantization ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "X", "y"),
    [
        (LogisticRegression(max_iter=500), Xm, ym),
        (SGDClassifier(random_state=0), Xc, yc),
        (LinearSVC(), Xc, yc),
        (make_pipeline(StandardScaler(), LogisticRegression()), Xm, ym),
    ],
)
def test_quantized_classifiers_agree_with_the_original_on_most_rows(
    model: Any, X: np.ndarray, y: np.ndarray
) -> None:
    model.fit(X, y)
    before = fingerprint(model)
    quantized = quantize_linear(model, bits=8)
    agreement = np.mean(quantized.predict(X) == model.predict(X))
    assert agreement >= 0.95
    if hasattr(model, "predict_proba"):
        assert quantized.predict_proba(X).shape == model.predict_proba(X).shape
    assert fingerprint(model) == before


@pytest.mark.parametrize("model", [LinearRegression(), Ridge(alpha=1.0)])
def test_quantized_regressors_stay_close(model: Any) -> None:
    model.fit(Xr, yr)
    quantized = quantize_linear(model, bits=8)
    error = np.abs(quantized.predict(Xr) - model.predict(Xr))
    assert np.median(error) < 0.01 * np.std(yr)


def test_integer_weights_with_scale_and_zero_point() -> None:
    model = LogisticRegression(max_iter=500).fit(Xm, ym)
    for bits, dtype in ((8, np.int8), (4, np.int8), (12, np.int16)):
        quantized = quantize_linear(model, bits=bits)
        assert isinstance(quantized, QuantizedLinearModel)
        q = quantized.qweights
        assert q.dtype == dtype and q.shape == model.coef_.shape
        assert q.min() >= -(2 ** (bits - 1)) and q.max() <= 2 ** (bits - 1) - 1
        step = quantized.scale
        np.testing.assert_allclose(quantized.dequantized(), model.coef_, atol=step / 2 + 1e-12)
    zeros, scale, zero_point = quantize_array(np.array([0.0, 0.0]), 8)
    assert scale == 1.0 and np.all((zeros - zero_point) * scale == 0)
    q, scale, zero_point = quantize_array(np.array([-1.0, 0.0, 3.0]), 8)
    assert (q[1] - zero_point) * scale == 0.0, "zero must stay exactly zero"


def test_quantized_file_holds_integers_and_loads_back(tmp_path: Any) -> None:
    X, y = make_classification(n_samples=300, n_features=400, n_informative=20, random_state=0)
    model = LogisticRegression(max_iter=300).fit(X, y)
    quantized = quantize_linear(model)
    assert model_size(quantized).bytes < 0.5 * model_size(model).bytes
    path = tmp_path / "q.joblib"
    joblib.dump(quantized, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X), quantized.predict(X))
    assert is_classifier(loaded)


def test_quantize_weights_measures_accuracy_and_size() -> None:
    model = LogisticRegression(max_iter=500).fit(Xm, ym)
    opt = NO_TIMING.quantize_weights(model, bits=8, X=Xm, y=ym)
    assert opt.after.agreement is not None and opt.after.agreement >= 0.95
    assert opt.before.score is not None and opt.after.score is not None
    assert abs(opt.before.score - opt.after.score) < 0.05
    assert opt.details["weight_bytes_after"] * 8 == opt.details["weight_bytes_before"]
    assert opt.after.latency is None  # timing was off
    assert "quantizing the weights to 8 bits" in opt.summary()


@pytest.mark.parametrize(
    "model", [RandomForestClassifier(3), SVC(kernel="linear"), KNeighborsClassifier()]
)
def test_quantization_names_what_it_supports(model: Any) -> None:
    model.fit(Xc, yc)
    with pytest.raises(UnsupportedModelError, match="LogisticRegression"):
        quantize_linear(model)


def test_quantization_rejects_bad_bit_counts() -> None:
    model = LinearRegression().fit(Xr, yr)
    for bad in (1, 17, 8.0):
        with pytest.raises(OptimizationError, match="bits must be an integer from 2 to 16"):
            quantize_linear(model, bits=bad)  # type: ignore[arg-type]


# --- feature pruning ------------------------------------------------------------------------


def test_importances_come_from_the_model_or_from_permutation() -> None:
    forest = RandomForestClassifier(20, random_state=0).fit(Xc, yc)
    imp, source = feature_importances(forest, Xc, yc)
    assert source == "feature_importances_" and imp.sum() == pytest.approx(1)
    linear = LogisticRegression().fit(Xc, yc)
    imp, source = feature_importances(linear, Xc, yc)
    assert source.startswith("|coef_|") and imp[:4].sum() > imp[4:].sum()
    knn = KNeighborsClassifier().fit(Xc, yc)
    imp, source = feature_importances(knn, Xc, n_repeats=2)
    assert source.startswith("permutation") and "own predictions" in source
    assert imp.shape == (12,) and imp.min() >= 0


def test_prune_features_drops_noise_columns_and_the_result_accepts_the_full_X() -> None:
    forest = RandomForestClassifier(30, random_state=0).fit(Xc, yc)
    before = fingerprint(forest)
    opt = NO_TIMING.prune_features(forest, Xc, importance_threshold=0.05, y=yc)
    kept = opt.details["kept_features"]
    assert set(kept) >= {0, 1, 2, 3}, "the informative columns are kept"
    assert len(kept) < 12 and sorted(kept + opt.details["dropped_features"]) == list(range(12))
    pruned = opt.model
    assert isinstance(pruned, FeatureSubsetModel)
    assert pruned.predict(Xc).shape == yc.shape
    assert pruned.predict_proba(Xc).shape == (len(Xc), 2)
    np.testing.assert_array_equal(pruned.columns, kept)
    assert opt.before.score is not None and opt.after.score is not None
    assert opt.details["refit_rows"] + opt.details["judged_on_rows"] == len(Xc)
    assert fingerprint(forest) == before


def test_prune_features_with_training_data_and_on_a_pipeline() -> None:
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xc[:300], yc[:300])
    opt = NO_TIMING.prune_features(
        pipe, Xc[300:], 0.02, yc[300:], X_train=Xc[:300], y_train=yc[:300], n_repeats=2
    )
    assert opt.details["importance_source"] == "permutation importance"
    assert opt.details["refit_rows"] == 300 and opt.details["judged_on_rows"] == 100
    assert opt.model.predict(Xc).shape == (len(Xc),)


def test_prune_features_without_labels_mimics_the_model() -> None:
    linear = Ridge().fit(Xr, yr)
    opt = NO_TIMING.prune_features(linear, Xr, importance_threshold=0.1)
    assert opt.details["labels"] == "model's own"
    assert opt.after.score is None and opt.after.agreement is not None


def test_prune_features_with_nothing_to_drop_returns_a_copy() -> None:
    linear = LogisticRegression().fit(Xc[:, :4], yc)
    opt = NO_TIMING.prune_features(linear, Xc[:, :4], importance_threshold=0.0)
    assert opt.details["dropped_features"] == []
    assert "nothing to prune" in opt.action
    assert opt.model is not linear


def test_the_wrappers_refuse_to_be_refit_and_forward_only_what_exists() -> None:
    regressor = FeatureSubsetModel(Ridge().fit(Xr[:, :2], yr), np.array([0, 1]), 8)
    assert not hasattr(regressor, "predict_proba")
    assert regressor.predict(Xr).shape == yr.shape
    with pytest.raises(OptimizationError, match="already fitted"):
        regressor.fit(Xr, yr)
    with pytest.raises(AttributeError):
        regressor.no_such_method  # noqa: B018
    assert "2 of 8 features" in repr(regressor)


def test_prune_threshold_is_a_share() -> None:
    with pytest.raises(OptimizationError, match="share of the total importance"):
        NO_TIMING.prune_features(Ridge().fit(Xr, yr), Xr, importance_threshold=5)


# --- size -----------------------------------------------------------------------------------


def test_model_size_and_an_unpicklable_model() -> None:
    size = model_size(LogisticRegression().fit(Xc, yc))
    assert size.bytes > 0 and size.load_ms > 0
    assert size.to_dict()["mb"] == size.bytes / 1e6

    class Holder:
        fn = None

    holder = Holder()
    holder.fn = lambda x: x  # type: ignore[assignment]
    with pytest.raises(OptimizationError, match="cannot be saved with joblib"):
        model_size(holder)


# --- the original module's API ----------------------------------------------------------------


def test_the_original_static_calls_work_on_the_class_with_their_signatures() -> None:
    """Code written against the original module calls the optimizers on the class."""
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(Xc, yc)
    linear = LogisticRegression(max_iter=500).fit(Xc, yc)
    before = fingerprint(forest)

    for shallow in (
        ModelOptimizer.reduce_tree_depth(forest, max_depth=3),
        ModelOptimizer.reduce_tree_depth(forest, 3),
    ):
        assert tree_depth(shallow.model) == 3
        assert shallow.model.predict(Xc).shape == yc.shape
    assert ModelOptimizer.reduce_tree_depth(forest).details["max_depth"] == 10

    for pruned in (
        ModelOptimizer.prune_features(forest, Xc, importance_threshold=0.01),
        ModelOptimizer.prune_features(forest, Xc, 0.01),
    ):
        kept = pruned.kept_features
        assert kept.dtype.kind == "i" and set(kept) <= set(range(Xc.shape[1]))
        assert list(kept) == pruned.details["kept_features"]
        assert pruned.model.predict(Xc).shape == yc.shape

    for quantized in (
        ModelOptimizer.quantize_weights(linear, bits=8),
        ModelOptimizer.quantize_weights(linear, 8),
        ModelOptimizer.quantize_weights(linear),
    ):
        assert quantized.details["bits"] == 8
        assert quantized.model.qweights.dtype == np.int8
        assert quantized.model.predict(Xc).shape == yc.shape
    assert fingerprint(forest) == before


def test_instance_calls_keep_their_settings_and_kept_features_is_only_for_pruning() -> None:
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(Xc, yc)
    opt = NO_TIMING.prune_features(forest, Xc, 0.05, yc)
    assert opt.before.latency is None  # the instance's measure_latency=False was used
    assert len(opt.kept_features) < Xc.shape[1]
    truncated = NO_TIMING.reduce_tree_depth(forest, 2, Xc, yc)
    assert truncated.before.latency is None and truncated.before.score is not None
    with pytest.raises(AttributeError, match="kept_features"):
        truncated.kept_features  # noqa: B018
