"""Sizing, eligibility, recommendation, sensitivity, the plugin entry point and budget checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import Any

import pytest

from pytest_mlperf.cost import (
    TIER_NAMES,
    Assumptions,
    CostConfigError,
    CostEstimate,
    CostOptimizer,
    InfrastructureTier,
    Workload,
    bundled_prices,
    check_budget,
    check_session_budget,
    estimate_for_result,
    estimate_tiers,
    load_prices,
    parse_budget,
    recommend,
)
from pytest_mlperf.cost.budget import merged_budget, session_budget
from pytest_mlperf.cost.model import LineItem
from pytest_mlperf.cost.traffic import billed_instance_fraction, replicas_for, two_level_day

PRICES = bundled_prices()


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "nodeid": "tests/test_fraud.py::test_fraud_model",
        "name": "LogisticRegression",
        "model": "LogisticRegression",
        "method": "predict",
        "batch_size": 1,
        "latency_ms": {"mean": 60.0, "p50": 55.0, "p95": 80.0, "p99": 95.0},
        "throughput_rps": 15.0,
        "memory_mb": 300.0,
    }
    base.update(changes)
    return base


def by_name(estimates: list[CostEstimate]) -> dict[str, CostEstimate]:
    return {e.name: e for e in estimates}


WORKLOAD = Workload(mean_ms=60, p95_ms=80, memory_mb=300, throughput_rps=15)
WORKLOAD_PEAK = 3 * 1e6 / 2_628_000  # requests/s at peak with the default assumptions


# --- traffic and queueing arithmetic ----------------------------------------------------------


def test_two_level_day_keeps_the_months_traffic() -> None:
    levels = two_level_day(2_628_000, 2.0, 6, 2_628_000)
    assert [lv.share for lv in levels] == [0.25, 0.75]
    assert levels[0].rate == pytest.approx(2.0)
    assert sum(lv.share * lv.rate for lv in levels) == pytest.approx(1.0)


def test_two_level_day_keeps_the_peak_when_it_alone_exceeds_the_month() -> None:
    levels = two_level_day(2_628_000, 4.0, 8, 2_628_000)
    assert levels[0].rate == pytest.approx(4.0)
    assert levels[1].rate == 0.0


def test_replicas_use_utilisation_headroom_and_the_minimum() -> None:
    assert replicas_for(10.0, 10.0, 0.7, 1) == 2  # 10 / (0.7 * 10) = 1.43
    assert replicas_for(7.0, 10.0, 0.7, 1) == 1  # exactly at target
    assert replicas_for(0.0, 10.0, 0.7, 2) == 2
    assert replicas_for(0.01, 10.0, 0.7, 0) == 1


def test_billed_fraction_switches_from_busy_probability_to_load_share() -> None:
    assert billed_instance_fraction(0.3, 1, 0.6) == pytest.approx(1 - math.exp(-0.3))
    assert billed_instance_fraction(3.0, 1, 0.6) == pytest.approx(5.0)


# --- sizing and eligibility -------------------------------------------------------------------


def test_lambda_memory_from_peak_memory_with_headroom_and_a_vcpu_floor() -> None:
    a = Assumptions(tiers=("aws_lambda",), lambda_min_vcpu=0)
    (e,) = estimate_tiers(WORKLOAD, a, PRICES)
    assert e.sizing is not None and e.sizing.memory_mb == 375  # 300 x 1.25
    # 375 MB is 0.21 vCPU: a 60 ms call takes 60 x 1769/375 = 283.04 ms, billed 284 ms
    assert e.sizing.billed_duration_ms == 284
    assert e.predicted_p95_ms == pytest.approx(80 * 1769 / 375)
    (e,) = estimate_tiers(WORKLOAD, dataclasses.replace(a, lambda_min_vcpu=1.0), PRICES)
    assert e.sizing is not None and e.sizing.memory_mb == 1769
    assert e.sizing.billed_duration_ms == 60


def test_lambda_memory_is_clamped_to_128() -> None:
    tiny = Workload(mean_ms=1, p95_ms=2, memory_mb=1)
    (e,) = estimate_tiers(tiny, Assumptions(tiers=("aws_lambda",), lambda_min_vcpu=0), PRICES)
    assert e.sizing is not None and e.sizing.memory_mb == 128


def test_lambda_excluded_above_10gb_or_with_a_gpu() -> None:
    big = Workload(mean_ms=60, p95_ms=80, memory_mb=9000)
    (e,) = estimate_tiers(big, Assumptions(tiers=("aws_lambda",)), PRICES)
    assert not e.eligible and "10,240 MB" in e.reason
    (e,) = estimate_tiers(WORKLOAD, Assumptions(tiers=("aws_lambda",), gpu=True), PRICES)
    assert not e.eligible and "GPU" in e.reason


def test_lambda_excluded_over_the_account_concurrency_limit() -> None:
    a = Assumptions(tiers=("aws_lambda",), requests_per_month=15e9)  # peak 17,000/s x 80 ms
    (e,) = estimate_tiers(WORKLOAD, a, PRICES)
    assert not e.eligible and "account limit of 1,000" in e.reason
    assert e.priced and e.total_cost > 0


def test_a_tier_predicted_over_the_latency_limit_is_not_eligible() -> None:
    a = Assumptions(container_vcpu=0.25, tiers=("aws_fargate", "aws_ec2"))
    estimates = by_name(estimate_tiers(WORKLOAD, a, PRICES, latency_limit_ms=100))
    fargate = estimates["aws_fargate"]
    assert fargate.predicted_p95_ms == pytest.approx(320)  # 0.25 vCPU: 4x slower
    assert not fargate.eligible and "predicted p95 320 ms > latency limit 100 ms" in fargate.reason
    assert estimates["aws_ec2"].eligible


def test_speed_factor_scales_latency_and_throughput() -> None:
    a = Assumptions(tiers=("aws_ec2",), speed_factor=2.0)
    (slow,) = estimate_tiers(WORKLOAD, a, PRICES)
    assert slow.predicted_p95_ms == pytest.approx(160)
    (fast,) = estimate_tiers(WORKLOAD, dataclasses.replace(a, speed_factor=1.0), PRICES)
    assert slow.sizing is not None and fast.sizing is not None
    assert fast.sizing.utilisation is not None
    assert slow.sizing.utilisation == pytest.approx(2 * fast.sizing.utilisation)


def test_provisioned_fleets_scale_with_peak_traffic() -> None:
    a = Assumptions(requests_per_month=200e6, tiers=("aws_fargate", "aws_ec2", "aws_eks"))
    estimates = by_name(estimate_tiers(WORKLOAD, a, PRICES))
    # peak = 3 x 200e6 / 2,628,000 = 228.3/s; one 1-vCPU task does 15/s at 0.7: 22 tasks
    fargate = estimates["aws_fargate"]
    assert fargate.sizing is not None and fargate.sizing.replicas == 22
    assert fargate.usage_cost > 0 and fargate.provisioned_cost > 0
    ec2 = estimates["aws_ec2"]
    assert ec2.sizing is not None and ec2.sizing.replicas == 11  # 2 workers per c6i.large
    eks = estimates["aws_eks"]
    assert eks.sizing is not None and eks.sizing.nodes == 22  # one 1-vCPU pod per 2-vCPU node


def test_static_fleets_run_the_peak_all_month() -> None:
    a = Assumptions(requests_per_month=200e6, tiers=("aws_fargate",), autoscaling=False)
    (e,) = estimate_tiers(WORKLOAD, a, PRICES)
    assert e.sizing is not None and e.sizing.replica_hours == pytest.approx(22 * 730)
    assert e.usage_cost == 0


def test_arch_any_takes_the_cheaper_architecture() -> None:
    a = Assumptions(arch="any", tiers=("aws_lambda", "aws_fargate", "aws_eks"))
    estimates = by_name(estimate_tiers(WORKLOAD, a, PRICES))
    for name in ("aws_lambda", "aws_fargate", "aws_eks"):
        sizing = estimates[name].sizing
        assert sizing is not None and sizing.arch == "arm64", name


def test_gpu_models_are_priced_on_gpu_capable_tiers_only() -> None:
    a = Assumptions(gpu=True, gpu_memory_mb=8000, tiers=TIER_NAMES)
    estimates = by_name(estimate_tiers(WORKLOAD, a, PRICES))
    assert estimates["aws_ec2_gpu"].eligible
    assert estimates["aws_ec2_gpu"].total_cost == pytest.approx(1.006 * 730)
    assert estimates["cloud_run_instance"].eligible
    assert any("L4" in i.name for i in estimates["cloud_run_instance"].line_items)
    assert estimates["aws_eks"].eligible
    for name in ("aws_lambda", "cloud_run_request", "aws_fargate", "aws_ec2", "gke"):
        assert not estimates[name].eligible, name
    too_big = estimate_tiers(
        WORKLOAD, dataclasses.replace(a, gpu_memory_mb=30_000, tiers=("aws_ec2_gpu",)), PRICES
    )
    assert not too_big[0].eligible


def test_the_gpu_tier_is_not_eligible_for_cpu_models() -> None:
    estimates = by_name(estimate_tiers(WORKLOAD, Assumptions(), PRICES))
    assert not estimates["aws_ec2_gpu"].eligible
    assert estimates["aws_ec2_gpu"].to_dict()["monthly_usd"] is None


def test_gke_free_credit_covers_the_cluster_fee() -> None:
    a = Assumptions(tiers=("gke",), apply_free_tier=True)
    (e,) = estimate_tiers(WORKLOAD, a, PRICES)
    fee = next(i for i in e.line_items if "cluster fee" in i.name)
    assert fee.monthly_usd == 0


def test_cluster_share_splits_the_fee() -> None:
    (e,) = estimate_tiers(WORKLOAD, Assumptions(tiers=("aws_eks",), cluster_share=0.25), PRICES)
    fee = next(i for i in e.line_items if "cluster fee" in i.name)
    assert fee.monthly_usd == pytest.approx(18.25)


def test_egress_and_storage_line_items() -> None:
    a = Assumptions(
        tiers=("aws_lambda", "gke"), response_bytes=2_000, model_artifact_gb=2.0
    )  # 1e6 x 2 kB = 2 GB out
    estimates = by_name(estimate_tiers(WORKLOAD, a, PRICES))
    assert estimates["aws_lambda"].network_cost == pytest.approx(2 * 0.09)
    assert estimates["gke"].network_cost == pytest.approx(2 * 0.12)
    assert estimates["aws_lambda"].storage_cost == pytest.approx(2 * 0.023)


def test_fixed_instance_types_are_respected() -> None:
    a = Assumptions(
        tiers=("aws_ec2", "aws_eks"), ec2_instance_type="m6i.large", eks_node_type="t3.medium"
    )
    estimates = by_name(estimate_tiers(WORKLOAD, a, PRICES))
    assert estimates["aws_ec2"].sizing is not None
    assert estimates["aws_ec2"].sizing.instance_type == "m6i.large"
    assert estimates["aws_eks"].sizing is not None
    assert estimates["aws_eks"].sizing.instance_type == "t3.medium"


def test_no_node_type_fits_a_huge_pod() -> None:
    huge = Workload(mean_ms=60, p95_ms=80, memory_mb=50_000)
    (e,) = estimate_tiers(huge, Assumptions(tiers=("gke",)), PRICES)
    assert not e.eligible and not e.priced and "fits a pod" in e.reason


# --- recommendation ---------------------------------------------------------------------------


def _fake(name: str, cost: float, p95: float, eligible: bool = True) -> CostEstimate:
    item = LineItem("x", "usage", cost, "unit", 1.0)
    e = CostEstimate.from_items(
        name, [item], monthly_requests=1e6, avg_latency_ms=p95, predicted_p95_ms=p95
    )
    return e if eligible else e.with_reason("no")


def test_strategies_follow_power_tuning() -> None:
    pool = [
        _fake("aws_lambda", 10, 200),
        _fake("aws_fargate", 40, 50),
        _fake("aws_ec2", 5, 80, eligible=False),
        _fake("gke", 20, 100),
    ]
    assert recommend(pool, "cost").name == "aws_lambda"  # type: ignore[union-attr]
    assert recommend(pool, "speed").name == "aws_fargate"  # type: ignore[union-attr]
    # balanced: lambda .25w + (1 - w), fargate w + .25(1 - w), gke .5w + .5(1 - w)
    assert recommend(pool, "balanced", 0.5).name == "gke"  # type: ignore[union-attr]
    assert recommend(pool, "balanced", 0.9).name == "aws_lambda"  # type: ignore[union-attr]
    assert recommend(pool, "balanced", 0.1).name == "aws_fargate"  # type: ignore[union-attr]
    assert recommend(pool, "balanced", 1.0).name == "aws_lambda"  # type: ignore[union-attr]
    assert recommend(pool, "balanced", 0.0).name == "aws_fargate"  # type: ignore[union-attr]
    assert recommend([pool[2]], "cost") is None


def test_cost_ties_go_to_the_faster_tier() -> None:
    pool = [_fake("aws_lambda", 10.001, 200), _fake("aws_fargate", 10.0, 50)]
    assert recommend(pool, "cost").name == "aws_fargate"  # type: ignore[union-attr]


# --- the original vocabulary ------------------------------------------------------------------


def test_original_vocabulary_works_with_capacity_planning() -> None:
    optimizer = CostOptimizer(workload=WORKLOAD)
    estimate = optimizer.estimate_dedicated(5_000_000, 60, instance_type="c7g.large")
    assert estimate.tier is InfrastructureTier.DEDICATED
    assert estimate.monthly_requests == 5_000_000
    assert estimate.compute_cost == pytest.approx(0.0725 * 730)
    assert estimate.total_cost == estimate.compute_cost + estimate.storage_cost
    assert optimizer.estimate_container(5_000_000, 60).tier is InfrastructureTier.CONTAINER
    assert optimizer.estimate_kubernetes(5_000_000, 60).tier is InfrastructureTier.KUBERNETES
    assert optimizer.estimate_serverless(5_000_000, 60).tier is InfrastructureTier.SERVERLESS
    assert optimizer.recommend_tier(100_000, 500) is InfrastructureTier.SERVERLESS
    assert optimizer.recommend_tier(500_000_000, 500) is not InfrastructureTier.SERVERLESS
    assert optimizer.recommend_tier(100_000, 500, budget_max=0.01) is None
    assert (
        optimizer.recommend_tier(100_000, 500, avg_duration_ms=60, memory_mb=20_000)
        is not InfrastructureTier.SERVERLESS
    )
    with pytest.raises(CostConfigError, match="latency is needed"):
        CostOptimizer().recommend_tier(1_000_000, 100)
    with pytest.raises(CostConfigError, match="service"):
        optimizer.estimate_container(1_000_000, 60, service="heroku")


def test_static_instances_in_the_original_signature() -> None:
    optimizer = CostOptimizer(Assumptions(peak_to_average=1.0))
    estimate = optimizer.estimate_container(1_000_000, 60, instances=3, vcpus=1, memory_gb=2)
    assert estimate.sizing is not None and estimate.sizing.replicas == 3
    assert estimate.total_cost == pytest.approx(3 * 730 * (0.04048 + 2 * 0.004445))


# --- the plugin's entry point -----------------------------------------------------------------


def test_estimate_for_result_is_plain_json_with_every_field() -> None:
    entry = estimate_for_result(record(), Assumptions(requests_per_month=5e6))
    json.dumps(entry, allow_nan=False)
    assert entry["nodeid"] == "tests/test_fraud.py::test_fraud_model"
    assert entry["name"] == "LogisticRegression"
    assert entry["request"] == "one predict call on 1 row(s), as measured"
    assert [t["tier"] for t in entry["tiers"]] == list(TIER_NAMES)
    for row in entry["tiers"]:
        assert set(row) >= {
            "tier",
            "family",
            "monthly_usd",
            "provisioned_usd",
            "usage_usd",
            "line_items",
            "sizing",
            "eligible",
            "reason",
            "predicted_p95_ms",
        }
        assert set(row["sizing"]) >= {
            "memory_mb",
            "vcpu",
            "replicas",
            "nodes",
            "peak_concurrency",
            "utilisation",
        }
        for item in row["line_items"]:
            assert item["kind"] in ("provisioned", "usage")
            assert set(item) >= {"name", "kind", "quantity", "unit", "price", "monthly_usd"}
        if row["monthly_usd"] is not None:
            assert row["monthly_usd"] == pytest.approx(
                row["provisioned_usd"] + row["usage_usd"], abs=1e-5
            )
    assert entry["recommended"] in TIER_NAMES
    assert entry["strategy"] == "cost"
    assert entry["assumptions"]["requests_per_month"] == 5e6
    assert entry["prices_as_of"] == "2026-11-26"
    assert entry["stale_warning"] is None or "stale" in entry["stale_warning"]
    sens = entry["sensitivity"]
    assert [s["label"] for s in sens["scenarios"]] == [
        "assumed",
        "peak x0.5",
        "peak x2",
        "traffic x10",
    ]
    assert "Serverless" in sens["summary"] or "Provisioned" in sens["summary"]


def test_recommended_is_the_cheapest_eligible_tier() -> None:
    entry = estimate_for_result(record(), Assumptions(requests_per_month=5e6))
    eligible = [t for t in entry["tiers"] if t["eligible"]]
    cheapest = min(eligible, key=lambda t: t["monthly_usd"])
    assert entry["recommended"] == cheapest["tier"]
    assert entry["recommended_monthly_usd"] == pytest.approx(cheapest["monthly_usd"])


def test_the_crossover_is_where_serverless_stops_being_cheaper() -> None:
    a = Assumptions(requests_per_month=5e6, tiers=("aws_lambda", "aws_fargate"))
    entry = estimate_for_result(record(), a)
    crossover = entry["sensitivity"]["crossover_requests_per_month"]
    assert crossover is not None
    below = estimate_for_result(
        record(),
        dataclasses.replace(a, requests_per_month=crossover * 0.95),
        with_sensitivity=False,
    )
    above = estimate_for_result(
        record(),
        dataclasses.replace(a, requests_per_month=crossover * 1.05),
        with_sensitivity=False,
    )
    assert below["recommended"] == "aws_lambda"
    assert above["recommended"] == "aws_fargate"
    assert "up to about" in entry["sensitivity"]["summary"]


def test_stale_prices_are_flagged_against_an_injected_today() -> None:
    fresh = estimate_for_result(record(), today=dt.date(2027, 5, 25), with_sensitivity=False)
    assert fresh["stale_warning"] is None  # 180 days
    stale = estimate_for_result(record(), today=dt.date(2027, 5, 26), with_sensitivity=False)
    assert "181 days old" in stale["stale_warning"]
    old = load_prices({"as_of": "2025-01-01"})
    assert old.stale_warning(dt.date(2026, 11, 26)) is not None


def test_the_test_latency_limit_wins_over_the_configured_one() -> None:
    a = Assumptions(latency_limit_ms=1000)
    entry = estimate_for_result(record(), a, latency_limit_ms=50, with_sensitivity=False)
    assert entry["latency_limit_ms"] == 50
    assert entry["recommended"] is None
    assert all(not t["eligible"] for t in entry["tiers"])
    assert "no eligible tier" in entry["recommendation"]


def test_records_without_memory_or_throughput_are_estimated() -> None:
    entry = estimate_for_result(record(memory_mb=None, throughput_rps=0.0), with_sensitivity=False)
    assert entry["inputs"]["calls_per_second"] == pytest.approx(1000 / 60)
    assert any("not measured" in n for n in entry["notes"])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"latency_ms": {"mean": 0, "p95": 1}}, "mean_ms"),
        ({"latency_ms": {}}, "latency_ms.mean"),
        ({"memory_mb": -1}, "memory_mb"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_records_raise_the_cost_error(change: dict[str, Any], match: str) -> None:
    with pytest.raises(CostConfigError, match=match):
        estimate_for_result(record(**change), with_sensitivity=False)


# --- budgets ----------------------------------------------------------------------------------


def _entry(requests: float = 10e6, **assumptions: Any) -> dict[str, Any]:
    a = Assumptions(requests_per_month=requests, **assumptions)
    return estimate_for_result(record(), a, with_sensitivity=False)


def test_budget_fail_message_gives_both_figures_and_the_tier() -> None:
    entry = _entry(tiers=("aws_fargate",), min_replicas=10)
    verdict, message = check_budget(entry, 300)
    assert verdict == "fail"
    cost = entry["recommended_monthly_usd"]
    assert message == (
        f"monthly cost ${cost:,.2f} on aws_fargate > budget $300.00 "
        "(LogisticRegression, 10,000,000 requests/month)"
    )


def test_budget_pass_and_warn_levels() -> None:
    entry = _entry()
    cost = entry["recommended_monthly_usd"]
    assert check_budget(entry, cost + 1)[0] == "pass"
    verdict, message = check_budget(entry, cost + 1, warn_monthly_usd=cost / 2)
    assert verdict == "warn" and "warning level" in message
    assert check_budget(entry, None, warn_monthly_usd=cost / 2)[0] == "warn"
    assert check_budget(entry, cost / 2, warn_monthly_usd=cost / 4)[0] == "fail"


def test_budget_on_a_named_tier_or_group() -> None:
    entry = _entry()
    eks = next(t for t in entry["tiers"] if t["tier"] == "aws_eks")
    verdict, message = check_budget(entry, 100, tier="aws_eks")
    assert verdict == "fail" and "on aws_eks" in message
    assert f"${eks['monthly_usd']:,.2f}" in message
    verdict, message = check_budget(entry, 1000, tier="kubernetes")
    assert verdict == "pass" and "on gke" in message  # the cheaper of EKS and GKE
    with pytest.raises(CostConfigError, match="unknown tier"):
        check_budget(entry, 100, tier="heroku")
    only = _entry(tiers=("aws_lambda",))
    with pytest.raises(CostConfigError, match="was not estimated"):
        check_budget(only, 100, tier="aws_eks")


def test_budget_without_an_eligible_tier_fails() -> None:
    entry = estimate_for_result(record(), latency_limit_ms=1, with_sensitivity=False)
    verdict, message = check_budget(entry, 1000)
    assert verdict == "fail" and "no eligible tier" in message


def test_session_budget_sums_the_recommended_tiers() -> None:
    entries = [_entry(1e6), _entry(50e6)]
    total = sum(e["recommended_monthly_usd"] for e in entries)
    verdict, message = check_session_budget(entries, total - 1)
    assert verdict == "fail" and f"${total:,.2f}" in message and "2 benchmark(s)" in message
    assert check_session_budget(entries, total + 1)[0] == "pass"
    assert check_session_budget(entries, total + 1, warn_monthly_usd=total - 1)[0] == "warn"


def test_session_budget_section_of_a_run_and_of_merged_shards() -> None:
    entries = [_entry(1e6), _entry(50e6)]
    total = sum(e["recommended_monthly_usd"] for e in entries)
    assert session_budget(entries, None, None) is None  # no session budget: no section
    section = session_budget(entries, total - 1, None)
    assert section is not None
    assert section["verdict"] == "fail" and section["max_monthly_usd"] == total - 1
    assert section["message"] == check_session_budget(entries, total - 1)[1]
    assert merged_budget([None, {}], entries) is None  # no shard had a session budget
    shards = [None, {"max_monthly_usd": None, "warn_monthly_usd": total - 1}]
    merged = merged_budget(shards, entries)
    assert merged is not None and merged["verdict"] == "warn"
    assert merged["warn_monthly_usd"] == total - 1


def test_parse_budget_splits_limits_tier_and_overrides() -> None:
    spec = parse_budget(
        {
            "max_monthly_usd": 300,
            "requests_per_month": 10_000_000,
            "tier": "aws_fargate",
            "peak_to_average": 2,
        }
    )
    assert spec.max_monthly_usd == 300 and spec.tier == "aws_fargate"
    assert spec.overrides == {"requests_per_month": 10_000_000.0, "peak_to_average": 2.0}
    assert Assumptions().replace(spec.overrides).requests_per_month == 10_000_000


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "give max_monthly_usd"),
        ({"max_monthly_usd": -5}, "max_monthly_usd: expected a number above 0"),
        ({"max_monthly_usd": "300"}, "max_monthly_usd"),
        ({"max_monthly_usd": 100, "warn_monthly_usd": 200}, "above max_monthly_usd"),
        ({"max_monthly_usd": 100, "tier": "heroku"}, "unknown tier 'heroku'"),
        ({"max_monthly_usd": 100, "requests_per_month": 0}, "requests_per_month"),
        ({"max_monthly_usd": 100, "reqests_per_month": 5}, "did you mean 'requests_per_month'"),
    ],
)
def test_parse_budget_rejects_bad_marker_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(CostConfigError, match=match) as info:
        parse_budget(kwargs, where="test_x: budget marker")
    assert str(info.value).startswith("test_x: budget marker")


def test_cloud_run_has_at_most_8_vcpu() -> None:
    a = Assumptions(container_vcpu=16, tiers=("cloud_run_request", "aws_fargate"))
    estimates = by_name(estimate_tiers(WORKLOAD, a, PRICES))
    assert not estimates["cloud_run_request"].eligible
    assert "8 vCPU" in estimates["cloud_run_request"].reason
    assert estimates["aws_fargate"].eligible


def test_cloud_run_raises_vcpu_until_the_memory_fits() -> None:
    big = Workload(
        mean_ms=60, p95_ms=80, memory_mb=6000, throughput_rps=15
    )  # 7.32 GiB with headroom
    (e,) = estimate_tiers(big, Assumptions(tiers=("cloud_run_instance",)), PRICES)
    assert e.sizing is not None and e.sizing.vcpu == 2 and e.sizing.memory_mb == 7.5 * 1024
    assert e.sizing.utilisation == pytest.approx(WORKLOAD_PEAK / 15)  # still one call at a time
    assert e.eligible


def test_fargate_adds_vcpu_for_memory_without_adding_calls() -> None:
    big = Workload(mean_ms=60, p95_ms=80, memory_mb=8000, throughput_rps=15)  # 9.8 GB with headroom
    (e,) = estimate_tiers(big, Assumptions(tiers=("aws_fargate",)), PRICES)
    assert e.sizing is not None and (e.sizing.vcpu, e.sizing.memory_mb) == (2, 10 * 1024)
    assert e.sizing.utilisation == pytest.approx(WORKLOAD_PEAK / 15)
    huge = Workload(mean_ms=60, p95_ms=80, memory_mb=100_000)
    (e,) = estimate_tiers(huge, Assumptions(tiers=("aws_fargate",)), PRICES)
    assert not e.eligible and "120 GB" in e.reason
