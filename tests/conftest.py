"""Shared helpers for the plugin tests: small real scikit-learn models for pytester runs."""

from __future__ import annotations

import pytest

MODELS = """
import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

X, y = make_classification(n_samples=300, n_features=10, random_state=0)
lr = LogisticRegression(max_iter=200).fit(X, y)
tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)


def noop(batch):
    return None
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester with `models.py` (fitted LogisticRegression `lr`, tree, data X) importable."""
    pytester.makepyfile(models=MODELS)
    pytester.syspathinsert()
    return pytester
