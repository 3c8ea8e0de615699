"""The worked numbers of research/cost.md §5.5 and infracost's golden figures, to the cent."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from pytest_mlperf.cost import Assumptions, CostOptimizer, Workload, bundled_prices, estimate_tiers
from pytest_mlperf.cost.charges import (
    cloud_run_instance_items,
    cloud_run_request_items,
    fargate_items,
    lambda_items,
)
from pytest_mlperf.cost.model import LineItem
from pytest_mlperf.cost.traffic import busy_fraction

PRICES = bundled_prices()
FLAT = Assumptions(peak_to_average=1.0)  # the worked numbers assume an even month


def total(items: Sequence[LineItem]) -> float:
    return sum(i.monthly_usd for i in items)


def test_lambda_5m_requests_80ms_1024mb_x86() -> None:
    items = lambda_items(5e6, 1024, 80, "x86_64", PRICES.aws_lambda, free_tier=False)
    duration = [i for i in items if i.unit == "GB-s"]
    assert duration[0].quantity == pytest.approx(400_000)
    assert total(items) == pytest.approx(7.67, abs=0.005)


def test_lambda_free_tier_leaves_only_requests_above_1m() -> None:
    items = lambda_items(5e6, 1024, 80, "x86_64", PRICES.aws_lambda, free_tier=True)
    assert total(items) == pytest.approx(0.80, abs=1e-9)


def test_lambda_worked_number_through_the_optimizer() -> None:
    estimate = CostOptimizer(FLAT).estimate_serverless(5_000_000, 80, memory_mb=1024)
    assert estimate.total_cost == pytest.approx(7.67, abs=0.005)
    assert estimate.sizing is not None and estimate.sizing.billed_duration_ms == 80
    assert estimate.cost_per_1k_requests == pytest.approx(7.66668 / 5000, rel=1e-6)
    with_free = CostOptimizer(Assumptions(peak_to_average=1.0, apply_free_tier=True))
    assert with_free.estimate_serverless(5_000_000, 80, 1024).total_cost == pytest.approx(0.80)


def test_lambda_worked_number_through_the_full_model() -> None:
    """1,024 MB gives 0.579 vCPU: a call measured at 80 x 1024/1769 ms on a full vCPU
    takes 80 ms there, so the full model reproduces the same bill."""
    workload = Workload(mean_ms=80 * 1024 / 1769, p95_ms=90, memory_mb=0)
    a = Assumptions(
        requests_per_month=5e6, peak_to_average=1.0, lambda_memory_mb=1024, tiers=("aws_lambda",)
    )
    (estimate,) = estimate_tiers(workload, a, PRICES)
    assert estimate.sizing is not None and estimate.sizing.billed_duration_ms == 80
    assert estimate.total_cost == pytest.approx(7.67, abs=0.005)


def test_cloud_run_request_based_1vcpu_1gib() -> None:
    rate = 5e6 / 2_628_000
    load = rate * 0.080
    assert load == pytest.approx(0.152, abs=5e-4)
    assert busy_fraction(load) == pytest.approx(0.141, abs=5e-4)
    busy = 2_628_000 * busy_fraction(load)
    assert busy == pytest.approx(371_000, rel=0.002)
    items = cloud_run_request_items(5e6, busy, 1, 1, 0, PRICES.cloud_run, free_tier=False)
    assert total(items) == pytest.approx(11.83, abs=0.005)
    free = cloud_run_request_items(5e6, busy, 1, 1, 0, PRICES.cloud_run, free_tier=True)
    assert total(free) == pytest.approx(5.8, abs=0.05)


def test_cloud_run_request_based_through_the_optimizer() -> None:
    estimate = CostOptimizer(FLAT).estimate_container(
        5_000_000, 80, vcpus=1, memory_gb=1, service="cloud_run_request"
    )
    assert estimate.sizing is not None
    assert estimate.sizing.busy_fraction == pytest.approx(0.141, abs=5e-4)
    assert estimate.total_cost == pytest.approx(11.83, abs=0.005)
    assert estimate.provisioned_cost == 0
    free = CostOptimizer(Assumptions(peak_to_average=1.0, apply_free_tier=True))
    estimate = free.estimate_container(
        5_000_000, 80, vcpus=1, memory_gb=1, service="cloud_run_request"
    )
    assert estimate.total_cost == pytest.approx(5.81, abs=0.01)


def test_cloud_run_one_always_on_instance() -> None:
    month = 730 * 3600
    items = cloud_run_instance_items(month, 0, 1, 1, PRICES.cloud_run, gpu=False, free_tier=False)
    assert total(items) == pytest.approx(52.56, abs=0.005)
    items = cloud_run_instance_items(month, 0, 1, 1, PRICES.cloud_run, gpu=False, free_tier=True)
    assert total(items) == pytest.approx(47.34, abs=0.005)
    estimate = CostOptimizer(FLAT).estimate_container(
        5_000_000, 80, instances=1, vcpus=1, memory_gb=1, service="cloud_run_instance"
    )
    assert estimate.total_cost == pytest.approx(52.56, abs=0.005)
    assert estimate.provisioned_cost == pytest.approx(52.56, abs=0.005)


def test_eks_with_one_c7g_large() -> None:
    optimizer = CostOptimizer(Assumptions(peak_to_average=1.0, arch="arm64"))
    estimate = optimizer.estimate_kubernetes(5_000_000, 80, vcpus=1, memory_gb=1)
    fee = [i for i in estimate.line_items if "cluster fee" in i.name]
    nodes = [i for i in estimate.line_items if "c7g.large" in i.name]
    assert fee[0].monthly_usd == pytest.approx(73.00)
    assert nodes[0].monthly_usd == pytest.approx(52.925)  # $52.93 to the cent
    assert estimate.total_cost == pytest.approx(73 + 52.925)
    assert estimate.sizing is not None and estimate.sizing.nodes == 1


def test_infracost_golden_lambda_requests_and_gb_s() -> None:
    items = lambda_items(100_000, 128, 1, "x86_64", PRICES.aws_lambda, free_tier=False)
    assert round(items[0].monthly_usd, 2) == 0.02
    gb_s = PRICES.aws_lambda.gb_s("x86_64").cost(17_500)
    assert round(gb_s, 2) == 0.29


def test_infracost_golden_fargate_vcpu_month_and_eks_cluster_month() -> None:
    items = fargate_items(730, 0, 1, 0, "x86_64", PRICES)
    assert round(items[0].monthly_usd, 2) == 29.55
    assert round(PRICES.clusters.eks_h * PRICES.hours_per_month, 2) == 73.00


def test_lambda_tiered_rate_applies_cheaper_steps_above_6b_gb_s() -> None:
    tiers = PRICES.aws_lambda.gb_s("x86_64")
    cost = tiers.cost(7e9)
    assert cost == pytest.approx(6e9 * 0.0000166667 + 1e9 * 0.000015)
    assert math.isinf(tiers.steps[-1][0])
