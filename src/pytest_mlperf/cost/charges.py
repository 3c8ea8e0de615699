"""Line items from billed quantities and list prices: the bill of one sized deployment.

These functions know prices and free tiers, not traffic or sizing (that is `tiers.py`), so the
worked numbers of docs/cost-model.md#worked-numbers-checked-by-the-tests can be checked against
them directly.
"""

from __future__ import annotations

import math

from .model import Category, Kind, LineItem
from .pricing import CloudRunPrices, Instance, LambdaPrices, PriceTable, Tiered


def _split_free(quantities: list[float], free: float) -> list[float]:
    """Take a free allowance off several quantities in order (provisioned first)."""
    out = []
    for quantity in quantities:
        used = min(quantity, free)
        free -= used
        out.append(quantity - used)
    return out


def _tiered_items(
    name: str, kind: Kind, quantity: float, unit: str, tiers: Tiered, category: Category
) -> list[LineItem]:
    parts = tiers.split(quantity) or [(0.0, tiers.first_price)]
    if len(parts) == 1:
        return [LineItem(name, kind, parts[0][0], unit, parts[0][1], category)]
    return [
        LineItem(f"{name}, step {i + 1}", kind, q, unit, price, category)
        for i, (q, price) in enumerate(parts)
    ]


def lambda_items(
    requests: float,
    memory_mb: float,
    billed_ms: float,
    arch: str,
    prices: LambdaPrices,
    *,
    free_tier: bool,
) -> list[LineItem]:
    """Requests at $/1M plus GB-seconds (memory x billed duration) on the tiered rate."""
    free_requests = prices.free_requests if free_tier else 0.0
    free_gb_s = prices.free_gb_s if free_tier else 0.0
    gb_s = requests * memory_mb / 1024.0 * billed_ms / 1000.0
    note = " after free tier" if free_tier else ""
    return [
        LineItem(
            f"requests{note}",
            "usage",
            max(0.0, requests - free_requests) / 1e6,
            "1M requests",
            prices.request_per_million,
        ),
        *_tiered_items(
            f"duration ({arch}){note}",
            "usage",
            max(0.0, gb_s - free_gb_s),
            "GB-s",
            prices.gb_s(arch),
            "compute",
        ),
    ]


def cloud_run_request_items(
    requests: float,
    busy_seconds: float,
    vcpu: float,
    gib: float,
    min_instance_seconds: float,
    prices: CloudRunPrices,
    *,
    free_tier: bool,
) -> list[LineItem]:
    """Request-based billing: vCPU-s and GiB-s while serving, a fee per request.

    Minimum instances are charged at the instance-based rate for the whole month (Cloud Run's
    reduced idle rate is not in the price table, so this errs high).
    """
    note = " after free tier" if free_tier else ""
    items = [
        LineItem(
            f"vCPU-seconds while serving{note}",
            "usage",
            max(0.0, vcpu * busy_seconds - (prices.req_free_vcpu_s if free_tier else 0.0)),
            "vCPU-s",
            prices.req_vcpu_s,
        ),
        LineItem(
            f"GiB-seconds while serving{note}",
            "usage",
            max(0.0, gib * busy_seconds - (prices.req_free_gib_s if free_tier else 0.0)),
            "GiB-s",
            prices.req_gib_s,
        ),
        LineItem(
            f"requests{note}",
            "usage",
            max(0.0, requests - (prices.req_free_requests if free_tier else 0.0)) / 1e6,
            "1M requests",
            prices.req_per_million,
        ),
    ]
    if min_instance_seconds > 0:
        items += [
            LineItem(
                "min instances, vCPU (instance-based rate)",
                "provisioned",
                vcpu * min_instance_seconds,
                "vCPU-s",
                prices.inst_vcpu_s,
            ),
            LineItem(
                "min instances, memory (instance-based rate)",
                "provisioned",
                gib * min_instance_seconds,
                "GiB-s",
                prices.inst_gib_s,
            ),
        ]
    return items


def cloud_run_instance_items(
    baseline_seconds: float,
    scaled_seconds: float,
    vcpu: float,
    gib: float,
    prices: CloudRunPrices,
    *,
    gpu: bool,
    free_tier: bool,
) -> list[LineItem]:
    """Instance-based billing: every second an instance exists, no per-request fee."""
    note = " after free tier" if free_tier else ""
    free_vcpu = prices.inst_free_vcpu_s if free_tier else 0.0
    free_gib = prices.inst_free_gib_s if free_tier else 0.0
    base_v, scaled_v = _split_free([vcpu * baseline_seconds, vcpu * scaled_seconds], free_vcpu)
    base_m, scaled_m = _split_free([gib * baseline_seconds, gib * scaled_seconds], free_gib)
    items = [
        LineItem(f"min instances, vCPU{note}", "provisioned", base_v, "vCPU-s", prices.inst_vcpu_s),
        LineItem(f"min instances, memory{note}", "provisioned", base_m, "GiB-s", prices.inst_gib_s),
    ]
    if scaled_seconds > 0:
        items += [
            LineItem(
                f"scaled-out instances, vCPU{note}", "usage", scaled_v, "vCPU-s", prices.inst_vcpu_s
            ),
            LineItem(
                f"scaled-out instances, memory{note}", "usage", scaled_m, "GiB-s", prices.inst_gib_s
            ),
        ]
    if gpu:
        items.append(
            LineItem(
                "L4 GPU, min instances",
                "provisioned",
                baseline_seconds / 3600,
                "GPU-hours",
                prices.gpu_l4_h,
            )
        )
        if scaled_seconds > 0:
            items.append(
                LineItem(
                    "L4 GPU, scaled out",
                    "usage",
                    scaled_seconds / 3600,
                    "GPU-hours",
                    prices.gpu_l4_h,
                )
            )
    return items


def fargate_items(
    baseline_hours: float,
    scaled_hours: float,
    vcpu: float,
    memory_gb: float,
    arch: str,
    prices: PriceTable,
) -> list[LineItem]:
    """Task-hours x (vCPU x $/vCPU-h + GB x $/GB-h), minimum tasks apart from scaled ones."""
    vcpu_h, gb_h = prices.aws_fargate.rates(arch)
    items = [
        LineItem(
            f"min tasks, vCPU ({arch})", "provisioned", vcpu * baseline_hours, "vCPU-hours", vcpu_h
        ),
        LineItem(
            f"min tasks, memory ({arch})",
            "provisioned",
            memory_gb * baseline_hours,
            "GB-hours",
            gb_h,
        ),
    ]
    if scaled_hours > 0:
        items += [
            LineItem(
                f"scaled-out tasks, vCPU ({arch})",
                "usage",
                vcpu * scaled_hours,
                "vCPU-hours",
                vcpu_h,
            ),
            LineItem(
                f"scaled-out tasks, memory ({arch})",
                "usage",
                memory_gb * scaled_hours,
                "GB-hours",
                gb_h,
            ),
        ]
    return items


def cluster_fee_item(
    hours: float, hourly: float, share: float, credit: float, label: str
) -> LineItem:
    """The control-plane fee, times the share of the cluster this model carries, less a credit."""
    fee = max(0.0, hours * hourly * share - credit)
    quantity = fee / hourly if hourly > 0 else 0.0
    name = f"{label} cluster fee" + (f" (share {share:g})" if share != 1 else "")
    if credit > 0:
        name += f" after ${credit:,.2f} credit"
    return LineItem(name, "provisioned", quantity, "cluster-hours", hourly)


def instance_items(
    baseline_hours: float, scaled_hours: float, instance: Instance, what: str
) -> list[LineItem]:
    """Instance-hours at the on-demand hourly price (730 h per always-on instance)."""
    items = [
        LineItem(
            f"{what} ({instance.name}), always on",
            "provisioned",
            baseline_hours,
            "instance-hours",
            instance.hourly,
        )
    ]
    if scaled_hours > 0:
        items.append(
            LineItem(
                f"{what} ({instance.name}), scaled out",
                "usage",
                scaled_hours,
                "instance-hours",
                instance.hourly,
            )
        )
    return items


def egress_items(
    requests: float, response_bytes: float, provider: str, prices: PriceTable, *, free_tier: bool
) -> list[LineItem]:
    """Data sent back to callers over the internet, on the provider's tiered rate."""
    if response_bytes <= 0:
        return []
    gb = requests * response_bytes / 1e9
    if provider == "gcp":
        free = prices.egress.gcp_free_gb * 1.073741824 if free_tier else 0.0
        tiers = prices.egress.gcp_per_gb
    else:
        free = prices.egress.aws_free_gb if free_tier else 0.0
        tiers = prices.egress.aws_per_gb
    return _tiered_items("data transfer out", "usage", max(0.0, gb - free), "GB", tiers, "network")


def storage_items(artifact_gb: float, prices: PriceTable) -> list[LineItem]:
    """The model artifact kept in object storage (priced at S3 Standard on every tier)."""
    if artifact_gb <= 0 or math.isnan(artifact_gb):
        return []
    return [
        LineItem(
            "model artifact storage (S3 Standard price)",
            "provisioned",
            artifact_gb,
            "GB-month",
            prices.storage.s3_gb_month,
            "storage",
        )
    ]
