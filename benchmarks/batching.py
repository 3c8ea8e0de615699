"""How much do batching and caching gain over calling the model one row at a time?

Measures, for a cheap model (logistic regression) and a costlier one (a 50-tree forest):

- one-by-one:   one `predict` call per row, one thread (the baseline)
- batched N:    `BatchInferenceOptimizer(model, N).predict_batched(X)`
- concurrent:   K client threads each calling `predict` on single rows (a server's baseline)
- micro-batch:  the same K threads sending single rows through one `MicroBatcher`
- cache:        a skewed stream of single rows (most requests repeat a few hundred rows),
                answered through `PredictionCache.predict_one` against one-by-one calls

Every variant runs `--repeats` times, interleaved round-robin so that a change in the machine's
speed hits all variants alike; the table shows the median rows/s, the min-max spread, and the
gain over its baseline as the median of the per-round ratios with their range.

    python benchmarks/batching.py [--repeats 5] [--quick] [--json rows.json]

`run.py --sections batching` runs it as section 7 and puts its table in latest.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from pytest_mlperf.optimize import BatchInferenceOptimizer, MicroBatcher, PredictionCache


@dataclass
class Variant:
    name: str
    rows: int
    run: Callable[[], Any]
    baseline: str | None = None  # the variant this one's gain is measured against
    rates: list[float] = field(default_factory=list)
    note: str = ""


MIN_ROUND_S = 0.25  # a round repeats a fast variant until it has run this long


def timed_rate(variant: Variant) -> float:
    """Rows per second over whole passes, at least MIN_ROUND_S of them."""
    passes, start = 0, time.perf_counter()
    while True:
        variant.run()
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_ROUND_S:
            return passes * variant.rows / elapsed


def one_by_one(model: Any, X: np.ndarray) -> Callable[[], None]:
    def run() -> None:
        for i in range(len(X)):
            model.predict(X[i : i + 1])

    return run


def threads(clients: int, X: np.ndarray, call: Callable[[np.ndarray], Any]) -> Callable[[], None]:
    """`clients` threads, each sending its share of the rows one at a time and waiting."""
    shares = np.array_split(np.arange(len(X)), clients)

    def client(rows: np.ndarray) -> None:
        for i in rows:
            call(X[i])

    def run() -> None:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, shares))

    return run


def skewed_stream(X: np.ndarray, n: int, distinct: int, seed: int = 0) -> np.ndarray:
    """n requests over `distinct` rows of X, Zipf-like: a few rows are asked very often."""
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, distinct + 1)
    picks = rng.choice(distinct, size=n, p=weights / weights.sum())
    return np.ascontiguousarray(X[picks])


def variants_for(
    model: Any, X: np.ndarray, clients: int, micro: MicroBatcher
) -> tuple[list[Variant], PredictionCache]:
    """Every variant for one model; the cache is returned so its hit ratio can be read."""
    single = Variant("one-by-one", len(X), one_by_one(model, X))
    out = [single]
    for size in (8, 32, 64):
        batcher = BatchInferenceOptimizer(model, size)
        run = functools.partial(batcher.predict_batched, X)
        out.append(Variant(f"batched {size}", len(X), run, single.name))
    direct = Variant(
        f"concurrent x{clients}",
        len(X),
        threads(clients, X, lambda row: model.predict(row.reshape(1, -1))),
    )
    micro_run = threads(clients, X, micro.predict)
    out += [direct, Variant(f"micro-batch x{clients}", len(X), micro_run, direct.name)]
    stream = skewed_stream(X, len(X), distinct=max(10, len(X) // 10))
    stream_single = Variant("stream one-by-one", len(stream), one_by_one(model, stream))
    cache = PredictionCache(model, maxsize=len(stream))

    def cached() -> None:
        cache.clear()  # every round starts cold: the hit ratio is the stream's own
        for row in stream:
            cache.predict_one(row)

    out += [stream_single, Variant("stream cached", len(stream), cached, stream_single.name)]
    return out, cache


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f} to {max(values):,.0f}"


def measure(repeats: int, clients: int, quick: bool) -> list[dict[str, Any]]:
    """Every variant of both models, `repeats` interleaved rounds: one row per variant."""
    scale = 4 if quick else 1
    X, y = make_classification(n_samples=4000, n_features=20, random_state=0)
    models = {
        "LogisticRegression": (LogisticRegression(max_iter=500).fit(X, y), 2000 // scale),
        "RandomForest(50)": (
            RandomForestClassifier(n_estimators=50, n_jobs=1, random_state=0).fit(X, y),
            400 // scale,
        ),
    }
    rows: list[dict[str, Any]] = []
    with threadpool_limits(limits=1):
        for label, (model, n) in models.items():
            micro = MicroBatcher(model, max_batch_size=clients, max_wait_ms=2.0)
            variants, cache = variants_for(model, X[:n], clients, micro)
            for _ in range(repeats):
                for variant in variants:
                    variant.rates.append(timed_rate(variant))
            micro.close()
            variants[-1].note = f"hit ratio {cache.hit_ratio:.0%}"
            variants[-3].note = f"mean batch {micro.stats.mean_batch_size:.1f}"
            rows += [row(label, v, variants) for v in variants]
    return rows


def row(label: str, variant: Variant, variants: list[Variant]) -> dict[str, Any]:
    """Median rows/s, spread, and the gain over the baseline as per-round ratios."""
    gains: list[float] = []
    if variant.baseline:
        base = next(v for v in variants if v.name == variant.baseline).rates
        gains = [a / b for a, b in zip(variant.rates, base, strict=True)]
    return {
        "model": label,
        "variant": variant.name,
        "rows": variant.rows,
        "baseline": variant.baseline,
        "rates": list(variant.rates),
        "gains": gains,
        "note": variant.note,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="fewer rows, for a smoke run")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    print(f"{args.repeats} interleaved rounds; one BLAS thread; {args.clients} client threads")
    rows = measure(args.repeats, args.clients, args.quick)
    print(table(rows))
    if args.json:
        settings = {"repeats": args.repeats, "clients": args.clients, "quick": args.quick}
        args.json.write_text(json.dumps({"settings": settings, "rows": rows}, indent=1))


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as text: median rows/s, min-max, gain (median of per-round ratios), range."""
    columns = ("model", "variant", "rows/s (median)", "min-max", "gain", "gain range")
    header = "{:<20} {:<18} {:>16} {:>20} {:>7} {:>15}  note".format(*columns)
    lines = [header, "-" * len(header)]
    for i, r in enumerate(rows):
        if i and r["model"] != rows[i - 1]["model"]:
            lines.append("")
        gain, gain_range = "", ""
        if r["gains"]:
            gain = f"{statistics.median(r['gains']):.1f}x"
            gain_range = f"{min(r['gains']):.1f} to {max(r['gains']):.1f}x"
        lines.append(
            f"{r['model']:<20} {r['variant']:<18} {statistics.median(r['rates']):>16,.0f} "
            f"{spread(r['rates']):>20} {gain:>7} {gain_range:>15}  {r['note']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
