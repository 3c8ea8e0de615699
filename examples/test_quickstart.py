"""The smallest useful latency test: a marker, one call of `model_bench`, a plain assertion."""

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=1000).fit(X, y)


@pytest.mark.latency(p95_ms=50)
def test_iris_model_is_fast_enough(model_bench):
    result = model_bench(model, X, batch_size=1)
    assert result.latency_p95 < 50
