"""The measuring core without pytest, for a notebook or a script.

Run it with: .venv/bin/python examples/benchmark_without_pytest.py
"""

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pytest_mlperf import Benchmarker, Limit

X, y = load_breast_cancer(return_X_y=True)
forest = RandomForestClassifier(n_estimators=30, max_depth=8, n_jobs=1, random_state=0).fit(X, y)
logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)

# Every setting has a default (docs/reference.md); `samples` is the number of timed calls
# when a measurement has no latency or throughput limit.
bench = Benchmarker(max_time=5.0, samples=200)

# One model, one batch size, with limits: stops as soon as every limit has its verdict.
result = bench.benchmark(
    forest, X, batch_size=1, limits=[Limit("p95", 50.0), Limit("throughput", 20.0)]
)
print(result)  # a readable block: percentiles with confidence intervals, verdicts
assert result.passed

# Several models at several batch sizes: results[name][f"batch_{size}"], one result each.
table = bench.compare_models({"forest": forest, "logreg": logreg}, X, batch_sizes=(1, 32))
for name, by_batch in table.items():
    for key, r in by_batch.items():
        print(f"{name:7} {key:9} p95 {r.latency_p95:7.3f} ms  {r.throughput_rps:10,.0f} rows/s")

# Which batch size gives the most rows/s while p95 stays within 20 ms?
sweep = bench.sweep(logreg, X, batch_sizes=(1, 8, 32, 64), limits=[Limit("p95", 20.0)])
print("best batch size:", sweep.best_batch_size)
