"""Properties every estimate must have: never negative, never cheaper with more traffic or
slower calls (per tier, and for the recommended tier under the cost strategy)."""

from __future__ import annotations

import dataclasses

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_mlperf.cost import Assumptions, Workload, bundled_prices, estimate_tiers, recommend

PRICES = bundled_prices()
CENT = 0.01

workloads = st.builds(
    lambda mean, spread, memory, batch, measured: Workload(
        mean_ms=mean,
        p95_ms=mean * spread,
        memory_mb=memory,
        batch_size=batch,
        throughput_rps=batch * 1000.0 / mean if measured else None,
    ),
    st.floats(0.05, 5_000),
    st.floats(1.0, 3.0),
    st.one_of(st.none(), st.floats(0, 20_000)),
    st.integers(1, 64),
    st.booleans(),
)
assumption_sets = st.builds(
    Assumptions,
    requests_per_month=st.floats(1, 1e10),
    peak_to_average=st.floats(1, 10),
    peak_hours=st.floats(1, 24),
    min_replicas=st.one_of(st.none(), st.integers(0, 3)),
    autoscaling=st.booleans(),
    arch=st.sampled_from(["x86_64", "arm64", "any"]),
    apply_free_tier=st.booleans(),
    container_vcpu=st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0]),
    speed_factor=st.floats(0.25, 4),
    gpu=st.booleans(),
    response_bytes=st.sampled_from([0.0, 1_000.0]),
)
growth = st.floats(1.0, 100.0)


def costs(workload: Workload, a: Assumptions) -> tuple[dict[str, float], float | None]:
    estimates = estimate_tiers(workload, a, PRICES)
    best = recommend(estimates, "cost")
    per_tier = {e.name: e.total_cost for e in estimates if e.priced}
    return per_tier, (best.total_cost if best else None)


@settings(max_examples=80, deadline=None)
@given(workloads, assumption_sets)
# Regressions found with 3,000 examples: a trickle of traffic with no minimum replicas sized
# zero replicas; a subnormal memory figure overflowed the workers-per-VM count.
@example(
    Workload(mean_ms=1.0, p95_ms=1.0),
    Assumptions(requests_per_month=1.0, min_replicas=0, container_vcpu=0.25, speed_factor=0.25),
)
@example(
    Workload(mean_ms=1.0, p95_ms=1.0, memory_mb=5e-324),
    Assumptions(requests_per_month=1.0, autoscaling=False, container_vcpu=0.25),
)
def test_cost_is_never_negative(workload: Workload, a: Assumptions) -> None:
    for estimate in estimate_tiers(workload, a, PRICES):
        assert estimate.total_cost >= 0
        assert all(item.quantity >= 0 and item.monthly_usd >= 0 for item in estimate.line_items)
        split = estimate.provisioned_cost + estimate.usage_cost
        assert abs(split - estimate.total_cost) <= 1e-9 * max(1.0, estimate.total_cost)


@settings(max_examples=80, deadline=None)
@given(workloads, assumption_sets, growth)
def test_more_traffic_never_costs_less(workload: Workload, a: Assumptions, k: float) -> None:
    more = dataclasses.replace(a, requests_per_month=a.requests_per_month * k)
    low, low_best = costs(workload, a)
    high, high_best = costs(workload, more)
    for tier, cost in low.items():
        assert high[tier] >= cost - 1e-9 * max(1.0, cost), tier
    if high_best is not None:
        # fewer tiers can only become eligible with more traffic, never more
        assert low_best is not None and high_best >= low_best - CENT


@settings(max_examples=80, deadline=None)
@given(workloads, assumption_sets, growth)
# Found in CI: on a bill under a micro-dollar, totals rounded to six places tied, so Lambda kept
# x86_64 for the faster model and took the cheaper arm64 only for the slower one.
@example(
    Workload(mean_ms=21.0, p95_ms=21.0),
    Assumptions(requests_per_month=1.25, arch="any", container_vcpu=0.25, speed_factor=0.25),
    1.25,
)
def test_slower_calls_never_cost_less(workload: Workload, a: Assumptions, k: float) -> None:
    slower = dataclasses.replace(
        workload,
        mean_ms=workload.mean_ms * k,
        p95_ms=workload.p95_ms * k,
        throughput_rps=None if workload.throughput_rps is None else workload.throughput_rps / k,
    )
    limited = dataclasses.replace(a, latency_limit_ms=workload.p95_ms * 2)
    fast, fast_best = costs(workload, limited)
    slow, slow_best = costs(slower, limited)
    for tier, cost in fast.items():
        assert slow[tier] >= cost - 1e-9 * max(1.0, cost), tier
    if slow_best is not None:
        assert fast_best is not None and slow_best >= fast_best - CENT
