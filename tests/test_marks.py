"""Marker parsing: every valid limit is accepted as given, every invalid one is named."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_mlperf.marks import MARKERS, Limit, MarkerError, marker_help, parse_marker

LATENCY_KEYS = ["p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms"]
positive = st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False)


@given(st.dictionaries(st.sampled_from(LATENCY_KEYS), positive | st.integers(1, 10**6), min_size=1))
def test_valid_latency_limits_are_kept(given_kwargs: dict[str, Any]) -> None:
    # percentile limits in percentile order (a p50 limit above the p95 one is refused)
    keys = [k for k in LATENCY_KEYS if k in given_kwargs and k != "mean_ms"]
    values = sorted((given_kwargs[k] for k in keys), key=float)
    kwargs = {**given_kwargs, **dict(zip(keys, values, strict=True))}
    limits = parse_marker("latency", (), kwargs)
    assert {(lim.metric, lim.value) for lim in limits} == {
        (key.removesuffix("_ms"), float(value)) for key, value in kwargs.items()
    }


@given(
    st.sampled_from(LATENCY_KEYS),
    st.one_of(
        st.floats(max_value=0.0),
        st.just(math.inf),
        st.just(math.nan),
        st.booleans(),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=2),
    ),
)
def test_invalid_values_are_named(key: str, value: Any) -> None:
    with pytest.raises(MarkerError, match=key):
        parse_marker("latency", (), {key: value})


@given(st.text(min_size=1, max_size=12).filter(lambda k: k not in LATENCY_KEYS))
def test_unknown_keywords_are_named(key: str) -> None:
    with pytest.raises(MarkerError, match="unknown argument"):
        parse_marker("latency", (), {key: 1.0})


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "message"),
    [
        ("latency", (), {}, "needs at least one limit"),
        ("latency", (100,), {}, "keyword arguments only"),
        ("throughput", (), {}, "needs at least one limit: min_rps"),
        ("memory", (), {"max_mb": "200MB"}, "max_mb must be a number, got '200MB'"),
        ("memory", (), {"max_mb": -1}, "max_mb must be a positive finite number, got -1"),
    ],
)
def test_marker_errors(name: str, args: Any, kwargs: Any, message: str) -> None:
    with pytest.raises(MarkerError, match=message):
        parse_marker(name, args, kwargs)


def test_throughput_and_memory_limits() -> None:
    assert parse_marker("throughput", (), {"min_rps": 500}) == [Limit("throughput", 500.0)]
    assert parse_marker("memory", (), {"max_mb": 200}) == [Limit("memory", 200.0)]
    assert Limit("throughput", 500).describe() == "throughput >= 500 rows/s"
    assert Limit("p95", 100).describe() == "p95 <= 100 ms"


def test_help_lines_come_from_the_signatures() -> None:
    assert [marker_help(name).split("(")[0] for name in MARKERS] == list(MARKERS)
    assert marker_help("latency").startswith(
        "latency(p50_ms=..., p90_ms=..., p95_ms=..., p99_ms=..., mean_ms=...): pytest-mlperf:"
    )


@given(st.sampled_from(LATENCY_KEYS[:4]), st.sampled_from(LATENCY_KEYS[:4]), positive, positive)
def test_percentile_limits_out_of_order_are_refused(
    low: str, high: str, a: float, b: float
) -> None:
    if LATENCY_KEYS.index(low) >= LATENCY_KEYS.index(high) or a == b:
        return
    small, large = sorted((a, b))
    with pytest.raises(MarkerError, match=f"{low}=.* is above {high}="):
        parse_marker("latency", (), {low: large, high: small})
