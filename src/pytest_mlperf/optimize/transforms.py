"""Model transformations that never touch the user's object: each works on a deep copy.

- `truncate_trees`: cut fitted scikit-learn trees and forests to a depth without refitting.
- `quantize_linear`: integer weights with a scale and a zero point for linear models.
- `feature_importances` and `FeatureSubsetModel`: which columns matter, and a model that
  accepts the full X but only looks at the kept columns.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from ..bench import model_label, n_rows, take_rows
from .measure import OptimizationError, UnsupportedModelError

TREE_LEAF = -1  # sklearn.tree._tree.TREE_LEAF
TREE_UNDEFINED = -2  # feature and threshold of a leaf

TREE_MODELS = (
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreeClassifier",
    "ExtraTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
)


# --- wrappers -------------------------------------------------------------------------------


class _Delegate:
    """A fitted model that forwards the prediction methods of the model it wraps.

    Only methods the inner model has are offered (so `hasattr(m, "predict_proba")` is honest),
    and scikit-learn sees the inner model's tags, so `is_classifier` and Pipeline still work.
    """

    _FORWARDED = frozenset(
        {"predict_proba", "predict_log_proba", "decision_function", "transform", "score"}
    )
    _ATTRIBUTES = frozenset({"classes_", "n_outputs_"})

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def prepare(self, X: Any) -> Any:
        """What the inner model is given instead of X."""
        return X

    def predict(self, X: Any) -> Any:
        return self.inner.predict(self.prepare(X))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "inner":  # unpickling: inner may not be set yet
            raise AttributeError(name)
        if name in self._ATTRIBUTES:
            return getattr(self.inner, name)
        if name in self._FORWARDED:
            method: Callable[..., Any] = getattr(self.inner, name)

            def forward(X: Any, *args: Any, **kwargs: Any) -> Any:
                return method(self.prepare(X), *args, **kwargs)

            forward.__name__ = name
            return forward
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def fit(self, *args: Any, **kwargs: Any) -> Any:
        """Refuse: refitting would throw away what was optimized."""
        raise OptimizationError(
            f"{type(self).__name__} is an optimized, already fitted model; "
            "fit the original and optimize it again"
        )

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Any:
        return self.inner.__sklearn_tags__()


def select_columns(X: Any, columns: np.ndarray) -> Any:
    """Columns of X by position, keeping its kind (array, DataFrame, sparse, list of rows)."""
    if hasattr(X, "iloc"):
        return X.iloc[:, columns]
    if isinstance(X, (list, tuple)):
        return np.asarray(X)[:, columns]
    return X[:, columns]


class FeatureSubsetModel(_Delegate):
    """A model fitted on some columns that accepts the full X, so callers need not change."""

    def __init__(self, inner: Any, columns: np.ndarray, n_features: int) -> None:
        super().__init__(inner)
        self.columns = np.asarray(columns, dtype=np.intp)
        self.n_features_in_ = n_features

    def prepare(self, X: Any) -> Any:
        return select_columns(X, self.columns)

    def __repr__(self) -> str:
        return (
            f"FeatureSubsetModel({model_label(self.inner)}, "
            f"{len(self.columns)} of {self.n_features_in_} features)"
        )


# --- tree truncation ------------------------------------------------------------------------


def tree_estimators(model: Any) -> list[Any]:
    """The fitted scikit-learn trees inside a tree, a forest, or a Pipeline's last step."""
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.pipeline import Pipeline
    from sklearn.tree import BaseDecisionTree

    final = model.steps[-1][1] if isinstance(model, Pipeline) else model
    forests = (
        RandomForestClassifier,
        RandomForestRegressor,
        ExtraTreesClassifier,
        ExtraTreesRegressor,
    )
    if isinstance(final, BaseDecisionTree):
        trees = [final]
    elif isinstance(final, forests):
        trees = list(getattr(final, "estimators_", []))
    else:
        why = ""
        if type(final).__name__.startswith(("GradientBoosting", "HistGradientBoosting")):
            why = " (boosted trees store their leaf values only in the leaves)"
        raise UnsupportedModelError(
            f"reduce_tree_depth supports fitted scikit-learn {', '.join(TREE_MODELS)}, alone or "
            f"as the last step of a Pipeline; got {model_label(model)}{why}"
        )
    if not trees or not all(hasattr(t, "tree_") for t in trees):
        raise OptimizationError(f"{model_label(model)} is not fitted: fit it before truncating")
    return trees


def tree_depth(model: Any) -> int:
    """The deepest tree's depth."""
    return max(int(t.tree_.max_depth) for t in tree_estimators(model))


def truncate_trees(model: Any, max_depth: int) -> Any:
    """A deep copy of a fitted tree or forest whose trees stop at `max_depth`, not refitted.

    Internal nodes at the cut become leaves and keep the values scikit-learn stored for them
    (the class distribution or the mean target of the training rows that reached them).
    """
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise OptimizationError(f"max_depth must be a positive integer, got {max_depth!r}")
    tree_estimators(model)  # raises for what is not supported, before copying
    clone = copy.deepcopy(model)
    final = clone.steps[-1][1] if hasattr(clone, "steps") else clone
    for est in tree_estimators(clone):
        est.tree_ = _truncated_tree(est.tree_, max_depth)
        est.max_depth = _shallower(est.max_depth, max_depth)
    if final is not None and hasattr(final, "estimators_"):
        final.max_depth = _shallower(final.max_depth, max_depth)
    return clone


def _shallower(current: int | None, limit: int) -> int:
    return limit if current is None else min(int(current), limit)


def _truncated_tree(tree: Any, max_depth: int) -> Any:
    """A new `sklearn.tree._tree.Tree` holding only the nodes above the cut, renumbered.

    The Cython Tree cannot be edited in place, but it pickles through `__reduce__` as
    (class, constructor arguments, state) with the node array in its state; the state of a
    smaller tree is built here and given to a fresh Tree. Nodes are kept in depth-first
    preorder, the order scikit-learn's builder uses.
    """
    cls, args, state = tree.__reduce__()
    nodes, values = state["nodes"], state["values"]
    left, right = nodes["left_child"], nodes["right_child"]
    order: list[int] = []
    depths: list[int] = []
    stack = [(0, 0)]
    while stack:
        node, depth = stack.pop()
        order.append(node)
        depths.append(depth)
        if depth < max_depth and left[node] != TREE_LEAF:
            stack.append((int(right[node]), depth + 1))
            stack.append((int(left[node]), depth + 1))
    old = np.asarray(order, dtype=np.intp)
    new_id = np.full(len(nodes), TREE_LEAF, dtype=np.int64)
    new_id[old] = np.arange(len(old))
    kept = nodes[old].copy()
    cut = (np.asarray(depths) >= max_depth) | (kept["left_child"] == TREE_LEAF)
    inner = ~cut
    kept["left_child"][inner] = new_id[kept["left_child"][inner]]
    kept["right_child"][inner] = new_id[kept["right_child"][inner]]
    kept["left_child"][cut] = TREE_LEAF
    kept["right_child"][cut] = TREE_LEAF
    kept["feature"][cut] = TREE_UNDEFINED
    kept["threshold"][cut] = TREE_UNDEFINED
    new_state = dict(state)
    new_state.update(
        max_depth=int(max(depths)),
        node_count=len(old),
        nodes=np.ascontiguousarray(kept),
        values=np.ascontiguousarray(values[old]),
    )
    new_tree = cls(*args)
    new_tree.__setstate__(new_state)
    return new_tree


# --- quantization ---------------------------------------------------------------------------

LINEAR_SVM = ("LinearSVC", "LinearSVR")


def _is_linear(est: Any) -> bool:
    """Linear models whose predictions are computed from `coef_` and `intercept_`."""
    module = type(est).__module__
    named = module.startswith("sklearn.linear_model") or type(est).__name__ in LINEAR_SVM
    return named and hasattr(est, "coef_") and hasattr(est, "intercept_")


def quantize_array(values: np.ndarray, bits: int) -> tuple[np.ndarray, float, int]:
    """Affine (asymmetric) quantization: integers q with values ≈ (q - zero_point) * scale.

    The range is widened to include 0 so that zero weights stay exactly zero.
    """
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    low, high = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    scale = (high - low) / (qmax - qmin) if high > low else 1.0
    zero_point = int(np.clip(round(qmin - low / scale), qmin, qmax))
    dtype = np.int8 if bits <= 8 else np.int16
    q = np.clip(np.round(values / scale) + zero_point, qmin, qmax).astype(dtype)
    return q, scale, zero_point


class QuantizedLinearModel(_Delegate):
    """A linear model whose weights are stored as integers with a scale and a zero point.

    Predictions use the dequantized weights, so they carry exactly the quantization error a
    deployment with integer weights would; the pickled form holds only the integers.
    """

    def __init__(self, inner: Any, bits: int) -> None:
        super().__init__(inner)
        coef = inner.coef_
        if hasattr(coef, "toarray"):  # a sparsified model
            coef = coef.toarray()
        coef = np.asarray(coef, dtype=np.float64)
        self.bits = bits
        self.qweights, self.scale, self.zero_point = quantize_array(coef, bits)
        self.inner.coef_ = self.dequantized()

    def dequantized(self) -> np.ndarray:
        return (self.qweights.astype(np.float64) - self.zero_point) * self.scale

    def __getstate__(self) -> dict[str, Any]:
        inner = copy.copy(self.inner)
        del inner.coef_  # rebuilt from the integers on load: the file holds only those
        return {**self.__dict__, "inner": inner}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.inner.coef_ = self.dequantized()

    def __repr__(self) -> str:
        return f"QuantizedLinearModel({model_label(self.inner)}, bits={self.bits})"


def quantize_linear(model: Any, bits: int = 8) -> Any:
    """A copy of a linear model (or a Pipeline ending in one) with `bits`-bit integer weights."""
    from sklearn.pipeline import Pipeline

    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
        raise OptimizationError(f"bits must be an integer from 2 to 16, got {bits!r}")
    final = model.steps[-1][1] if isinstance(model, Pipeline) else model
    if not _is_linear(final):
        raise UnsupportedModelError(
            "quantize_weights supports fitted linear models whose predictions come from coef_ "
            "and intercept_ (sklearn.linear_model estimators such as LinearRegression, Ridge, "
            f"LogisticRegression, SGDClassifier; {', '.join(LINEAR_SVM)}), alone or as the "
            f"last step of a Pipeline; got {model_label(model)}"
        )
    if isinstance(model, Pipeline):
        clone = copy.deepcopy(model)
        name, est = clone.steps[-1]
        clone.steps[-1] = (name, QuantizedLinearModel(est, bits))
        return clone
    return QuantizedLinearModel(copy.deepcopy(model), bits)


def weight_bytes(model: Any) -> tuple[int, int]:
    """Bytes of the float weights and of their integer form, for a quantized model."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if not isinstance(final, QuantizedLinearModel):
        raise OptimizationError(f"{model_label(model)} is not a quantized model")
    return final.qweights.size * 8, int(final.qweights.nbytes)


# --- feature importance ---------------------------------------------------------------------


def feature_importances(
    model: Any,
    X: Any,
    y: Any = None,
    *,
    n_repeats: int = 5,
    max_rows: int = 2000,
    seed: int = 0,
) -> tuple[np.ndarray, str]:
    """Importances that sum to 1, and where they came from.

    `feature_importances_` when the model has it; `|coef_|` times the column's standard
    deviation for linear models (a raw coefficient depends on the column's units); otherwise
    permutation importance, scored against y or, without labels, against the model's own
    predictions (how much shuffling a column changes what the model says).
    """
    n_features = _n_columns(X)
    raw: np.ndarray | None = None
    source = "permutation importance"
    imp = getattr(model, "feature_importances_", None)
    coef = getattr(model, "coef_", None)
    if imp is not None and np.shape(imp) == (n_features,):
        raw, source = np.asarray(imp, dtype=np.float64), "feature_importances_"
    elif coef is not None and not hasattr(model, "steps"):
        weights = np.abs(np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef))
        weights = weights.reshape(-1, weights.shape[-1]).mean(axis=0)
        if weights.shape == (n_features,):
            raw, source = weights * _column_std(X), "|coef_| * column std"
    if raw is None:
        raw = _permutation(model, X, y, n_repeats, max_rows, seed)
        if y is None:
            source += " (against the model's own predictions)"
    raw = np.clip(np.nan_to_num(raw), 0, None)
    total = raw.sum()
    return (raw / total if total > 0 else np.full(n_features, 1 / n_features)), source


def _permutation(
    model: Any, X: Any, y: Any, n_repeats: int, max_rows: int, seed: int
) -> np.ndarray:
    from sklearn.inspection import permutation_importance

    if not callable(getattr(model, "score", None)):
        raise UnsupportedModelError(
            f"{model_label(model)} has no feature_importances_, coef_ or score method, so "
            "its feature importance cannot be estimated"
        )
    rows = np.random.default_rng(seed).permutation(n_rows(X))[:max_rows]
    Xs = take_rows(X, rows)
    ys = model.predict(Xs) if y is None else np.asarray(y)[rows]
    found = permutation_importance(model, Xs, ys, n_repeats=n_repeats, random_state=seed)
    return np.asarray(found.importances_mean, dtype=np.float64)


def _column_std(X: Any) -> np.ndarray:
    if hasattr(X, "toarray") and not hasattr(X, "iloc"):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        variance = np.asarray(mean_variance_axis(X.tocsr(), axis=0)[1], dtype=np.float64)
        return np.sqrt(variance)
    return np.asarray(np.asarray(X, dtype=np.float64).std(axis=0))


def _n_columns(X: Any) -> int:
    shape = getattr(X, "shape", None) or np.shape(X)
    if len(shape) != 2:
        raise OptimizationError(f"X must be two-dimensional (rows x features), got {shape}")
    return int(shape[1])
