"""A small model suite: the way a team adds latency budgets to tests it already has."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True)
MODEL = LogisticRegression(max_iter=500).fit(X, y)


@pytest.mark.latency(p95_ms=50)
def test_logistic_regression_p95(model_bench):
    result = model_bench(MODEL, X, batch_size=1)
    assert MODEL.score(X, y) > 0.9
    assert result.latency_p95 < 50
