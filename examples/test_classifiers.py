"""Classifiers a team would ship: a forest, boosted trees and a scaled logistic regression.

Each model is trained once per module (module-scoped fixtures) and measured on held-out rows.
"""

import pytest
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X, y = load_breast_cancer(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def forest():
    model = RandomForestClassifier(n_estimators=30, max_depth=8, n_jobs=1, random_state=0)
    return model.fit(X_train, y_train)


@pytest.fixture(scope="module")
def boosted_trees():
    return HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(X_train, y_train)


@pytest.fixture(scope="module")
def wine_pipeline():
    X_wine, y_wine = load_wine(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return model.fit(X_wine, y_wine), X_wine


@pytest.mark.latency(p50_ms=25, p95_ms=50, p99_ms=100)
def test_forest_single_row_latency(model_bench, forest):
    assert forest.score(X_val, y_val) > 0.9  # the accuracy check the test already had
    result = model_bench(forest, X_val, batch_size=1)
    assert result.latency_p50 <= result.latency_p95 <= result.latency_p99


@pytest.mark.latency(mean_ms=20)
@pytest.mark.throughput(min_rps=5_000)  # rows per second, here 64 rows per call
def test_boosted_trees_batch_throughput(model_bench, boosted_trees):
    result = model_bench(boosted_trees, X_val, batch_size=64)
    assert result.throughput_rps > 5_000
    assert result.passed


@pytest.mark.latency(p95_ms=50)
def test_pipeline_predict_proba(model_bench, wine_pipeline):
    model, X_wine = wine_pipeline
    result = model_bench(model, X_wine, method="predict_proba", name="wine scaler+logreg")
    assert result.model_name == "Pipeline(StandardScaler > LogisticRegression)"
    assert result.method == "predict_proba"
