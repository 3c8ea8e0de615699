"""The vocabulary of the cost model: tiers, line items, sizing and the per-tier estimate.

`InfrastructureTier` and `CostEstimate` keep the names and fields that earlier cost code used
(docs/reference.md#compatibility-names); the estimate also carries its line items, its sizing
and whether the tier can serve the model at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Any, Literal


class InfrastructureTier(Enum):
    """The family a priced service belongs to, whatever the provider."""

    SERVERLESS = "serverless"  # Lambda
    CONTAINER = "container"  # Cloud Run, ECS on Fargate
    KUBERNETES = "kubernetes"  # EKS, GKE
    DEDICATED = "dedicated"  # EC2


@dataclass(frozen=True)
class TierInfo:
    """One priced service: its family, a readable kind, and whether it bills per request."""

    name: str
    family: InfrastructureTier
    kind: str
    provider: str  # "aws" | "gcp"
    pay_per_request: bool  # scales to zero and bills per request: "serverless" in the report


_S, _C, _K, _D = (
    InfrastructureTier.SERVERLESS,
    InfrastructureTier.CONTAINER,
    InfrastructureTier.KUBERNETES,
    InfrastructureTier.DEDICATED,
)
TIERS: dict[str, TierInfo] = {
    t.name: t
    for t in (
        TierInfo("aws_lambda", _S, "serverless function (AWS Lambda)", "aws", True),
        TierInfo("cloud_run_request", _C, "Cloud Run, request-based billing", "gcp", True),
        TierInfo("cloud_run_instance", _C, "Cloud Run, instance-based billing", "gcp", False),
        TierInfo("aws_fargate", _C, "managed containers (ECS on Fargate)", "aws", False),
        TierInfo("aws_eks", _K, "Kubernetes (Amazon EKS)", "aws", False),
        TierInfo("gke", _K, "Kubernetes (GKE Standard)", "gcp", False),
        TierInfo("aws_ec2", _D, "dedicated VMs (EC2, CPU)", "aws", False),
        TierInfo("aws_ec2_gpu", _D, "dedicated VMs (EC2, GPU)", "aws", False),
    )
}
TIER_NAMES: tuple[str, ...] = tuple(TIERS)
TIER_GROUPS: dict[str, tuple[str, ...]] = {
    "all": TIER_NAMES,
    "cloud_run": ("cloud_run_request", "cloud_run_instance"),
    "kubernetes": ("aws_eks", "gke"),
    **{
        family.value: tuple(n for n, t in TIERS.items() if t.family is family)
        for family in InfrastructureTier
        if family is not InfrastructureTier.KUBERNETES
    },
}


def expand_tiers(names: Iterable[str]) -> tuple[str, ...]:
    """Tier names with groups (`cloud_run`, `kubernetes`, a family) expanded, order kept."""
    out: list[str] = []
    for name in names:
        for tier in TIER_GROUPS.get(name, (name,)):
            if tier not in TIERS:
                raise KeyError(name)
            if tier not in out:
                out.append(tier)
    return tuple(out)


Kind = Literal["provisioned", "usage"]
Category = Literal["compute", "storage", "network"]


@dataclass(frozen=True)
class LineItem:
    """One billed quantity times one unit price, as infracost shows it.

    `kind` separates what is paid whether or not traffic comes (provisioned: minimum replicas
    x 730 h, cluster fees) from what grows with traffic (usage: requests, GB-seconds, extra
    replicas at peak, egress). Free tiers are already taken off `quantity`.
    """

    name: str
    kind: Kind
    quantity: float
    unit: str
    price: float
    category: Category = "compute"

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.price

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "category": self.category,
            "quantity": _round(self.quantity),
            "unit": self.unit,
            "price": self.price,
            "monthly_usd": _round(self.monthly_usd),
        }


@dataclass(frozen=True)
class Sizing:
    """How the tier would be deployed to carry the traffic: memory, vCPU, replicas, nodes."""

    summary: str
    memory_mb: float | None = None
    vcpu: float | None = None
    replicas: int | None = None  # at peak
    min_replicas: int | None = None
    nodes: int | None = None  # at peak
    instance_type: str | None = None
    arch: str | None = None
    peak_concurrency: float | None = None  # Little's law at peak, requests in flight
    utilisation: float | None = None  # at peak, of the replicas' capacity
    replica_hours: float | None = None
    billed_duration_ms: float | None = None
    busy_fraction: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: _round(v) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class CostEstimate:
    """The monthly cost of serving one model on one tier, and whether the tier can serve it.

    The first six fields, `total_cost` and `cost_per_1k_requests` are those earlier cost code
    read (docs/reference.md#compatibility-names). `name` is the priced service (``aws_lambda``),
    `tier` its family. `priced` is False when no size fits (then the costs are 0 and meaningless).
    """

    tier: InfrastructureTier
    monthly_requests: int
    avg_latency_ms: float
    compute_cost: float
    storage_cost: float = 0.0
    network_cost: float = 0.0
    name: str = ""
    line_items: tuple[LineItem, ...] = ()
    sizing: Sizing | None = None
    eligible: bool = True
    reason: str = ""
    predicted_p95_ms: float | None = None
    priced: bool = True

    @classmethod
    def from_items(
        cls,
        name: str,
        items: Iterable[LineItem],
        *,
        monthly_requests: float,
        avg_latency_ms: float,
        sizing: Sizing | None = None,
        predicted_p95_ms: float | None = None,
        reason: str = "",
    ) -> CostEstimate:
        """Sum the line items into compute, storage and network cost."""
        items = tuple(items)

        def total(category: Category) -> float:
            return sum(i.monthly_usd for i in items if i.category == category)

        return cls(
            tier=TIERS[name].family,
            monthly_requests=round(monthly_requests),
            avg_latency_ms=avg_latency_ms,
            compute_cost=total("compute"),
            storage_cost=total("storage"),
            network_cost=total("network"),
            name=name,
            line_items=items,
            sizing=sizing,
            eligible=not reason,
            reason=reason,
            predicted_p95_ms=predicted_p95_ms,
        )

    @classmethod
    def unpriced(
        cls, name: str, reason: str, *, monthly_requests: float, avg_latency_ms: float
    ) -> CostEstimate:
        """A tier that cannot be sized for this model at all (e.g. no GPU on offer)."""
        return cls(
            tier=TIERS[name].family,
            monthly_requests=round(monthly_requests),
            avg_latency_ms=avg_latency_ms,
            compute_cost=0.0,
            name=name,
            sizing=Sizing(summary="-"),
            eligible=False,
            reason=reason,
            priced=False,
        )

    @property
    def total_cost(self) -> float:
        return self.compute_cost + self.storage_cost + self.network_cost

    @property
    def cost_per_1k_requests(self) -> float:
        if self.monthly_requests == 0:
            return 0.0
        return self.total_cost / self.monthly_requests * 1000

    @property
    def provisioned_cost(self) -> float:
        return sum(i.monthly_usd for i in self.line_items if i.kind == "provisioned")

    @property
    def usage_cost(self) -> float:
        return sum(i.monthly_usd for i in self.line_items if i.kind == "usage")

    def with_reason(self, reason: str) -> CostEstimate:
        """The same estimate marked not eligible (keeps the first reason given)."""
        if not self.eligible:
            return self
        return replace(self, eligible=False, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used in report.json's `costs[].tiers`."""
        info = TIERS[self.name]

        def money(value: float) -> float | None:
            return _round(value) if self.priced else None

        return {
            "tier": self.name,
            "family": info.family.value,
            "kind": info.kind,
            "pay_per_request": info.pay_per_request,
            "monthly_usd": money(self.total_cost),
            "provisioned_usd": money(self.provisioned_cost),
            "usage_usd": money(self.usage_cost),
            "compute_usd": money(self.compute_cost),
            "storage_usd": money(self.storage_cost),
            "network_usd": money(self.network_cost),
            "cost_per_1k_requests": money(self.cost_per_1k_requests),
            "line_items": [i.to_dict() for i in self.line_items],
            "sizing": (self.sizing or Sizing(summary="-")).to_dict(),
            "eligible": self.eligible,
            "reason": self.reason or None,
            "predicted_p95_ms": None
            if self.predicted_p95_ms is None
            else _round(self.predicted_p95_ms),
        }


def _round(value: float | None) -> float | None:
    """Six decimals: cents stay exact, float noise goes."""
    return None if value is None else round(value, 6)
