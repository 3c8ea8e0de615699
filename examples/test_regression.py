"""Regression models on the diabetes data: a model file as it is deployed, and two candidates."""

import joblib
import pytest
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Ridge

X, y = load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def boosted_regressor():
    return GradientBoostingRegressor(n_estimators=100, max_depth=3, random_state=0).fit(X, y)


@pytest.mark.latency(p95_ms=50, p99_ms=100)
@pytest.mark.throughput(min_rps=200)
@pytest.mark.memory(max_mb=16)  # peak extra memory of one predict call
def test_saved_model_meets_serving_budget(model_bench, boosted_regressor, tmp_path):
    path = tmp_path / "diabetes-gbr.joblib"
    joblib.dump(boosted_regressor, path)
    result = model_bench(path, X, batch_size=1)  # a path is loaded with joblib.load
    assert result.model_name == "GradientBoostingRegressor"


@pytest.mark.latency(p95_ms=50)
def test_both_candidates_fit_the_budget(model_bench, boosted_regressor):
    linear = model_bench(Ridge().fit(X, y), X, name="ridge")
    boosted = model_bench(boosted_regressor, X, name="gradient boosting")
    # Every call of model_bench is checked against the markers and reported on its own row.
    assert linear.passed and boosted.passed
