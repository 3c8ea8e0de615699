"""`advise` end to end on small real models, its judging rules on synthetic results, and ONNX.

Which options *exist* in the advice depends only on the model and the data; whether one is
*recommended* can depend on timing, so those rules are tested on constructed results.
"""

from __future__ import annotations

import json
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from pytest_mlperf import Benchmarker, Limit
from pytest_mlperf.bench import result_from_samples
from pytest_mlperf.optimize import (
    Advice,
    ModelSize,
    Optimization,
    OptimizationError,
    PairedLatency,
    Profile,
    advise,
    compile_onnx,
    onnx,
)
from pytest_mlperf.optimize.advisor import _judge
from pytest_mlperf.regression.comparison import ComparisonVerdict
from pytest_mlperf.results import Check, Verdict

X, y = make_classification(
    n_samples=600, n_features=10, n_informative=3, n_redundant=0, shuffle=False, random_state=0
)
X_train, y_train, X_val, y_val = X[:400], y[:400], X[400:], y[400:]
TINY = Benchmarker(samples=5, warmup=1, warmup_time=0, max_time=0.2, measure_memory=False)
QUICK = {"benchmarker": TINY, "side_by_side": False}  # no interleaved timing: faster tests


def strict_json(data: Any) -> Any:
    return json.loads(json.dumps(data, allow_nan=False))


def test_advise_a_deep_tree_with_labels() -> None:
    tree = DecisionTreeClassifier(random_state=0).fit(X_train, y_train)
    before = joblib.hash(tree)
    advice = advise(
        tree,
        X_val,
        y_val,
        benchmarker=TINY,
        batch_sizes=(1, 16),
        X_train=X_train,
        y_train=y_train,
        max_accuracy_loss=0.05,
    )
    assert isinstance(advice, Advice)
    assert advice.baseline.batch_size == 1
    techniques = {o.technique for o in advice.options} | set(advice.skipped)
    assert {"batching", "reduce_tree_depth", "prune_features", "onnx", "cache"} <= techniques
    assert "quantize_weights" in advice.not_applicable
    batching = advice.option("batching")
    assert batching is not None and batching.details["batch_size"] in (1, 16)
    assert [p["batch_size"] for p in batching.details["curve"]] == [1, 16]
    depth = advice.option("reduce_tree_depth")
    if depth is not None:  # chosen from accuracy alone: the shallowest within 5 points
        assert depth.details["depth_after"] < depth.details["depth_before"]
        assert depth.score_loss() is not None and depth.score_loss() <= 0.05  # type: ignore[operator]
    for timed in (o for o in advice.options if o.technique != "batching"):
        assert timed.paired is not None and timed.paired.pairs >= 2  # timed side by side
        assert timed.paired.verdict in ("improvement", "regression", "same", "unknown")
        assert timed.paired.p50_ratio > 0
    assert all(isinstance(s, str) and s for s in advice.recommendations)
    assert all(o.recommended is not None for o in advice.options)
    data = strict_json(advice.to_dict())
    assert data["recommendations"] == advice.recommendations
    records = strict_json(advice.records("test_x.py::test_tree"))
    assert [r["technique"] for r in records] == [o.technique for o in advice.options]
    assert all(r["nodeid"] == "test_x.py::test_tree" and r["text"] for r in records)
    assert str(advice).startswith("Advice for DecisionTreeClassifier")
    assert joblib.hash(tree) == before, "advise modified the user's model"


def test_advise_a_linear_pipeline_without_labels() -> None:
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
    advice = advise(pipe, X_val, techniques=("quantize_weights", "onnx"), **QUICK)
    quantized = advice.option("quantize_weights")
    assert quantized is not None
    assert quantized.after.score is None, "no labels, so no accuracy"
    assert quantized.after.agreement is not None and quantized.after.agreement >= 0.95
    assert advice.settings["batch_sizes"] == [1], "batching was not asked for"
    if onnx.onnx_available():
        assert advice.option("onnx") is not None
    else:
        assert "pip install 'pytest-mlperf[onnx]'" in advice.skipped["onnx"]
    strict_json(advice.to_dict())


def test_a_cache_is_measured_when_rows_repeat_and_costs_are_priced() -> None:
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_train, y_train)
    repeated = np.vstack([X_val[:100], X_val[:100]])
    advice = advise(
        tree,
        repeated,
        **QUICK,
        techniques=("cache",),
        monthly_cost=lambda result: 100.0 * result.latency_p95,
    )
    cache = advice.option("cache")
    assert cache is not None and cache.details["repeated_share"] == 0.5
    assert cache.before.monthly_usd is not None and cache.after.monthly_usd is not None
    assert "monthly cost $" in cache.summary()


def test_advise_rejects_unknown_techniques_and_bad_losses() -> None:
    tree = DecisionTreeClassifier(max_depth=2).fit(X, y)
    with pytest.raises(OptimizationError, match="unknown technique distill"):
        advise(tree, X, techniques=("distill",), **QUICK)
    with pytest.raises(OptimizationError, match="max_accuracy_loss"):
        advise(tree, X, max_accuracy_loss=2, **QUICK)


def test_limits_reach_every_measurement() -> None:
    tree = DecisionTreeClassifier(max_depth=2).fit(X, y)
    advice = advise(tree, X, limits=[Limit("p95", 1e6)], techniques=("batching",), **QUICK)
    assert [c.metric for c in advice.baseline.checks] == ["p95"]


# --- the judging rules, on constructed measurements ----------------------------------------


def result(median_ms: float, batch_size: int = 1, verdict: str | None = None) -> Any:
    """A measurement whose calls take about `median_ms`, with a p95 check of that verdict."""
    samples = np.random.default_rng(0).normal(median_ms, median_ms * 0.01, 400)
    out = result_from_samples(np.abs(samples), "M", batch_size, 0.95)
    if verdict is not None:
        out.checks = [Check("p95", 1.0, median_ms, Verdict(verdict), verdict)]
    return out


def option(
    technique: str,
    before_ms: float,
    after_ms: float,
    *,
    scores: tuple[float, float] | None = None,
    sizes: tuple[int, int] = (1000, 1000),
    after_batch: int = 1,
    verdicts: tuple[str | None, str | None] = (None, None),
) -> Optimization:
    before = Profile(latency=result(before_ms, verdict=verdicts[0]), size=ModelSize(sizes[0], 1))
    after = Profile(
        latency=result(after_ms, after_batch, verdict=verdicts[1]), size=ModelSize(sizes[1], 1)
    )
    if scores is not None:
        before.score, after.score = scores
    return Optimization(technique, "doing it", "classification", None, before, after)


def test_faster_within_the_accuracy_budget_is_recommended() -> None:
    opt = option("prune_features", 2.0, 1.5, scores=(0.90, 0.897))
    _judge(opt, max_loss=0.01, min_gain=0.1)
    assert opt.recommended is True
    text = opt.summary()
    assert "cuts latency by 25%" in text and "for 0.3 points of accuracy" in text


def test_too_much_accuracy_lost_is_not_recommended() -> None:
    opt = option("reduce_tree_depth", 2.0, 1.0, scores=(0.90, 0.85))
    _judge(opt, max_loss=0.01, min_gain=0.1)
    assert opt.recommended is False
    assert "loses 5.0 points of accuracy, more than 1.0" in opt.summary()


def test_a_small_change_is_not_a_gain_but_a_smaller_file_is() -> None:
    same = option("quantize_weights", 2.0, 2.0)
    _judge(same, max_loss=0.01, min_gain=0.1)
    assert same.recommended is False and "leaves latency unchanged" in same.summary()
    smaller = option("quantize_weights", 2.0, 2.0, sizes=(10_000, 2_000))
    _judge(smaller, max_loss=0.01, min_gain=0.1)
    assert smaller.recommended is True and "shrinks the file by 80%" in smaller.summary()


def test_batching_is_judged_on_rows_per_second() -> None:
    opt = option("batching", 1.0, 4.0, after_batch=32)
    opt.action = "batch 32"
    _judge(opt, max_loss=0.01, min_gain=0.1)
    assert opt.recommended is True
    assert opt.summary().startswith("batch 32 gives 8.0\u00d7 the rows per second")


def test_breaking_a_limit_is_never_recommended_and_fixing_one_counts() -> None:
    breaks = option("onnx", 2.0, 1.0, verdicts=("pass", "fail"))
    _judge(breaks, max_loss=0.01, min_gain=0.1)
    assert breaks.recommended is False and "breaks the p95 limit" in breaks.reason
    fixes = option("onnx", 2.0, 1.95, verdicts=("fail", "pass"))
    _judge(fixes, max_loss=0.01, min_gain=0.1)
    assert fixes.recommended is True and "meets the p95 limit the original broke" in fixes.summary()


def paired(ratio: float, verdict: str, ci: tuple[float, float]) -> PairedLatency:
    judged = ComparisonVerdict(verdict)
    return PairedLatency(ratio, ratio * 1.1, ci, 0.95, judged, 0.1, pairs=6, block_calls=20)


def test_side_by_side_timing_decides_faster_and_the_sentence_claims_no_more() -> None:
    # the separate measurements say 2.0 -> 1.0 ms, but side by side the models are alike
    drifted = option("onnx", 2.0, 1.0)
    drifted.paired = paired(0.99, "same", (0.95, 1.04))
    _judge(drifted, max_loss=0.01, min_gain=0.1)
    assert drifted.recommended is False
    assert "leaves latency within 10% (p50 0.99\u00d7" in drifted.summary()
    unclear = option("onnx", 2.0, 2.0)
    unclear.paired = paired(0.8, "unknown", (0.5, 1.3))
    _judge(unclear, max_loss=0.01, min_gain=0.1)
    assert unclear.recommended is False
    assert "no clear effect on latency" in unclear.summary() and "0.50 to 1.30" in unclear.summary()
    faster = option("onnx", 2.0, 2.0)
    faster.paired = paired(0.7, "improvement", (0.65, 0.75))
    _judge(faster, max_loss=0.01, min_gain=0.1)
    assert faster.recommended is True and "cuts latency by 30%" in faster.summary()
    much = option("onnx", 2.0, 2.0)
    much.paired = paired(0.01, "improvement", (0.009, 0.011))
    assert "makes it 100\u00d7 faster at the median" in much.summary()
    strict_json(much.to_dict())


def test_a_large_speed_up_is_said_as_a_factor() -> None:
    opt = option("onnx", 3.0, 0.01)
    assert "makes it 300\u00d7 faster" in opt.summary()


# --- ONNX -----------------------------------------------------------------------------------


def test_without_the_packages_the_message_says_what_installing_them_would_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(onnx, "missing_packages", lambda: ["onnxruntime"])
    with pytest.raises(OptimizationError, match="onnxruntime not installed: install skl2onnx"):
        compile_onnx(LogisticRegression().fit(X, y), X)
    advice = advise(LogisticRegression().fit(X, y), X, techniques=("onnx",), **QUICK)
    assert "converted to ONNX, checked to predict like the original" in advice.skipped["onnx"]


def test_compiled_models_predict_like_the_original(tmp_path: Any) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    for model in (
        make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
        DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y),
    ):
        compiled = compile_onnx(model, X)
        assert np.mean(compiled.predict(X) == model.predict(X)) >= 0.98
        np.testing.assert_allclose(compiled.predict_proba(X), model.predict_proba(X), atol=1e-3)
        joblib.dump(compiled, tmp_path / "m.joblib")
        again = joblib.load(tmp_path / "m.joblib")
        np.testing.assert_array_equal(again.predict(X), compiled.predict(X))


def test_a_model_skl2onnx_cannot_convert_gets_a_clear_error() -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")

    class Custom:
        def predict(self, X: Any) -> Any:
            return np.zeros(len(X))

    with pytest.raises(OptimizationError, match="skl2onnx cannot convert Custom"):
        compile_onnx(Custom(), X)
