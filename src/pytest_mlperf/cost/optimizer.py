"""`CostOptimizer`: price one configuration, or every tier, with real capacity planning.

Its `estimate_*` methods price one configuration the caller describes (the latency given is
the latency *on that configuration*, so no CPU-share scaling is applied); sizes the caller
leaves out are planned from the traffic. `estimate_all` and `recommend` run the full model on a
measured `Workload`, as the plugin does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .assumptions import Assumptions, check_against_prices
from .errors import CostConfigError
from .model import CostEstimate, InfrastructureTier
from .pricing import PriceTable, bundled_prices
from .recommend import recommend
from .tiers import estimate_tiers
from .workload import Workload

_CONTAINER_SERVICES = ("aws_fargate", "cloud_run_request", "cloud_run_instance")
_KUBERNETES_SERVICES = ("aws_eks", "gke")


class CostOptimizer:
    """Estimate and compare monthly costs per infrastructure tier."""

    def __init__(
        self,
        assumptions: Assumptions | None = None,
        prices: PriceTable | None = None,
        *,
        workload: Workload | None = None,
    ) -> None:
        self.assumptions = assumptions or Assumptions()
        self.prices = prices or bundled_prices()
        self.workload = workload
        check_against_prices(self.assumptions, self.prices, where="CostOptimizer")

    def _one(
        self,
        tier: str,
        monthly_requests: float,
        avg_duration_ms: float,
        p95_ms: float | None,
        **changes: Any,
    ) -> CostEstimate:
        overrides = {"requests_per_month": monthly_requests, **changes}
        assumptions = self.assumptions.replace(overrides, where=f"CostOptimizer ({tier})")
        assumptions = dataclasses.replace(assumptions, tiers=(tier,))
        workload = Workload(
            mean_ms=avg_duration_ms, p95_ms=p95_ms or avg_duration_ms, memory_mb=0.0
        )
        return estimate_tiers(workload, assumptions, self.prices, cpu_scaling=False)[0]

    def estimate_serverless(
        self,
        monthly_requests: float,
        avg_duration_ms: float,
        memory_mb: int = 256,
        *,
        p95_ms: float | None = None,
        arch: str | None = None,
    ) -> CostEstimate:
        """AWS Lambda at `memory_mb`, each call taking `avg_duration_ms` at that size.

        Billed duration is rounded up to 1 ms; requests at $0.20 per million.
        """
        changes: dict[str, Any] = {
            "lambda_memory_mb": memory_mb,
            "base_memory_mb": 0.0,
            "memory_headroom": 1.0,
        }
        if arch is not None:
            changes["arch"] = arch
        return self._one("aws_lambda", monthly_requests, avg_duration_ms, p95_ms, **changes)

    def estimate_container(
        self,
        monthly_requests: float,
        avg_duration_ms: float,
        instances: int | None = None,
        vcpus: float = 1.0,
        memory_gb: float = 2.0,
        *,
        service: str = "aws_fargate",
        p95_ms: float | None = None,
    ) -> CostEstimate:
        """Containers of `vcpus` / `memory_gb` on Fargate or Cloud Run (`service`).

        `instances` fixes a static fleet of at least that many; None autoscales from the
        traffic between the minimum replicas and the peak.
        """
        if service not in _CONTAINER_SERVICES:
            raise CostConfigError(
                f"estimate_container: service: expected one of {', '.join(_CONTAINER_SERVICES)}"
                f", got {service!r}"
            )
        changes = self._sizes(vcpus, memory_gb, instances)
        return self._one(service, monthly_requests, avg_duration_ms, p95_ms, **changes)

    def estimate_kubernetes(
        self,
        monthly_requests: float,
        avg_duration_ms: float,
        pods: int | None = None,
        vcpus: float = 1.0,
        memory_gb: float = 2.0,
        *,
        service: str = "aws_eks",
        node_type: str | None = None,
        p95_ms: float | None = None,
    ) -> CostEstimate:
        """Pods of `vcpus` / `memory_gb` on EKS or GKE nodes plus the cluster fee."""
        if service not in _KUBERNETES_SERVICES:
            raise CostConfigError(
                f"estimate_kubernetes: service: expected one of "
                f"{', '.join(_KUBERNETES_SERVICES)}, got {service!r}"
            )
        changes = self._sizes(vcpus, memory_gb, pods)
        if node_type is not None:
            changes["eks_node_type" if service == "aws_eks" else "gke_node_type"] = node_type
            check_against_prices(
                self.assumptions.replace(changes, where="estimate_kubernetes"),
                self.prices,
                where="estimate_kubernetes",
            )
        return self._one(service, monthly_requests, avg_duration_ms, p95_ms, **changes)

    def estimate_dedicated(
        self,
        monthly_requests: float,
        avg_duration_ms: float,
        instances: int | None = None,
        instance_type: str | None = None,
        *,
        gpu: bool = False,
        p95_ms: float | None = None,
    ) -> CostEstimate:
        """A static fleet of EC2 instances (the cheapest type unless `instance_type`)."""
        changes: dict[str, Any] = {"gpu": gpu}
        if instances is not None:
            changes["min_replicas"] = instances
        if instance_type is not None:
            changes["ec2_instance_type"] = instance_type
            check_against_prices(
                self.assumptions.replace(changes, where="estimate_dedicated"),
                self.prices,
                where="estimate_dedicated",
            )
        tier = "aws_ec2_gpu" if gpu else "aws_ec2"
        return self._one(tier, monthly_requests, avg_duration_ms, p95_ms, **changes)

    @staticmethod
    def _sizes(vcpus: float, memory_gb: float, replicas: int | None) -> dict[str, Any]:
        changes: dict[str, Any] = {
            "container_vcpu": vcpus,
            "base_memory_mb": memory_gb * 1024,
            "memory_headroom": 1.0,
        }
        if replicas is not None:
            changes.update(min_replicas=replicas, autoscaling=False)
        return changes

    def estimate_all(
        self, workload: Workload | None = None, latency_limit_ms: float | None = None
    ) -> list[CostEstimate]:
        """Every tier in `assumptions.tiers`, sized for a measured workload."""
        workload = workload or self.workload
        if workload is None:
            raise CostConfigError("CostOptimizer: no workload: pass workload=Workload(...)")
        return estimate_tiers(workload, self.assumptions, self.prices, latency_limit_ms)

    def recommend(
        self,
        workload: Workload | None = None,
        latency_limit_ms: float | None = None,
        budget_max: float | None = None,
    ) -> CostEstimate | None:
        """The recommended estimate (by `assumptions.strategy`) within `budget_max`, or None."""
        estimates = self.estimate_all(workload, latency_limit_ms)
        if budget_max is not None:
            estimates = [
                e if e.total_cost <= budget_max else e.with_reason("over budget") for e in estimates
            ]
        a = self.assumptions
        return recommend(estimates, a.strategy, a.balanced_weight)

    def recommend_tier(
        self,
        monthly_requests: float,
        latency_requirement_ms: float | None = None,
        budget_max: float | None = None,
        *,
        avg_duration_ms: float | None = None,
        p95_ms: float | None = None,
        memory_mb: float | None = None,
    ) -> InfrastructureTier | None:
        """The family of the recommended tier for this traffic, latency limit and budget.

        The model's latency comes from `avg_duration_ms` (and `p95_ms`, `memory_mb`) or from
        the optimizer's workload. None when no tier is eligible within the budget.
        """
        if avg_duration_ms is not None:
            workload = Workload(avg_duration_ms, p95_ms or avg_duration_ms, memory_mb)
        elif self.workload is not None:
            workload = self.workload
        else:
            raise CostConfigError(
                "recommend_tier: the model's latency is needed: pass avg_duration_ms= or "
                "create the optimizer with workload="
            )
        assumptions = self.assumptions.replace(
            {"requests_per_month": monthly_requests}, where="recommend_tier"
        )
        optimizer = CostOptimizer(assumptions, self.prices)
        best = optimizer.recommend(workload, latency_requirement_ms, budget_max)
        return best.tier if best else None
