"""Sizing each tier for the measured workload and the assumed traffic, then pricing it.

Every estimator takes one `Context` and returns one `CostEstimate` with its line items, its
sizing and, when the tier cannot serve the model, the reason. Formulas, tier by tier:
docs/cost-model.md#tiers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import charges
from .assumptions import Assumptions
from .model import TIERS, CostEstimate, LineItem, Sizing
from .pricing import Instance, PriceTable
from .traffic import Level, billed_instance_fraction, in_flight, replicas_for, two_level_day
from .workload import Workload

# A pod's memory request is never below this: a Python process serving a model keeps a few
# hundred MB resident (interpreter, NumPy, scikit-learn), whatever one call adds.
POD_MIN_MB = 256.0

_EPS = 1e-9
ALLOCATABLE = 0.9  # share of a node's or VM's CPU and memory left for the model (assumption)
FARGATE_SIZES: dict[float, tuple[float, ...]] = {
    0.25: (0.5, 1.0, 2.0),
    0.5: (1.0, 2.0, 3.0, 4.0),
    1.0: tuple(float(g) for g in range(2, 9)),
    2.0: tuple(float(g) for g in range(4, 17)),
    4.0: tuple(float(g) for g in range(8, 31)),
    8.0: tuple(float(g) for g in range(16, 61, 4)),
    16.0: tuple(float(g) for g in range(32, 121, 8)),
}
CLOUD_RUN_VCPUS = (1.0, 2.0, 4.0, 6.0, 8.0)
CLOUD_RUN_GIB_PER_VCPU = 4.0
CLOUD_RUN_MAX_GIB = 32.0


@dataclass(frozen=True)
class Context:
    """The workload on the target hardware, the traffic, and the prices: what tiers size from."""

    workload: Workload
    assumptions: Assumptions
    prices: PriceTable
    latency_limit_ms: float | None = None
    # False when the latencies given are already those of the sized deployment (the
    # CostOptimizer calculators): then no CPU-share slowdown is applied.
    cpu_scaling: bool = True

    @property
    def requests(self) -> float:
        return self.assumptions.requests_per_month

    @property
    def seconds(self) -> float:
        return self.prices.seconds_per_month

    @property
    def hours(self) -> float:
        return self.prices.hours_per_month

    @property
    def levels(self) -> tuple[Level, ...]:
        a = self.assumptions
        return two_level_day(a.requests_per_month, a.peak_to_average, a.peak_hours, self.seconds)

    @property
    def peak_rate(self) -> float:
        return max(level.rate for level in self.levels)

    @property
    def mean_ms(self) -> float:
        """Mean latency of one call on one full vCPU of the target (CI x speed_factor)."""
        return self.workload.mean_ms * self.assumptions.speed_factor

    @property
    def p95_ms(self) -> float:
        return self.workload.p95_ms * self.assumptions.speed_factor

    @property
    def calls_per_second(self) -> float:
        """Requests one worker on one full vCPU of the target completes per second: the
        measured capacity per worker when there is one, else from single-call latency."""
        measured = self.workload.measured_calls_per_second
        per_worker = self.workload.calls_per_second if measured is None else measured
        return per_worker / self.assumptions.speed_factor

    def need_mb(self, concurrent: int) -> float:
        """Memory for a process serving `concurrent` calls: (base + k x peak) x headroom.

        The base is `base_memory_mb` when set, else the measuring process's resident memory.
        """
        a = self.assumptions
        per_call = self.workload.memory_mb or 0.0
        base = a.base_memory_mb or self.workload.rss_mb or 0.0
        return (base + concurrent * per_call) * a.memory_headroom

    def replica_rps(self, vcpu: float) -> float:
        """Requests per second one replica of `vcpu` vCPUs completes at full load."""
        return self.calls_per_second * workers(vcpu) / self.slowdown(vcpu)

    def slowdown(self, vcpu: float) -> float:
        return slowdown(vcpu) if self.cpu_scaling else 1.0

    def extras(self, provider: str) -> list[LineItem]:
        """Egress and artifact storage, the same on every tier of a provider."""
        a = self.assumptions
        return [
            *charges.egress_items(
                self.requests,
                a.response_bytes,
                provider,
                self.prices,
                free_tier=a.apply_free_tier,
            ),
            *charges.storage_items(a.model_artifact_gb, self.prices),
        ]


def workers(vcpu: float) -> int:
    """Single-threaded calls a replica runs at once: one per whole vCPU, at least one."""
    return max(1, math.floor(vcpu + _EPS))


def slowdown(vcpu: float) -> float:
    """How much longer one call takes on a fraction of a vCPU (CPU share), 1 from one vCPU."""
    return max(1.0, 1.0 / vcpu)


@dataclass(frozen=True)
class Fleet:
    """Replicas over the month: at peak, the floor, and hours always on versus scaled out."""

    peak: int
    minimum: int
    replica_hours: float
    baseline_hours: float

    @property
    def scaled_hours(self) -> float:
        return max(0.0, self.replica_hours - self.baseline_hours)


def size_fleet(ctx: Context, per_replica_rps: float, utilization: float, minimum: int) -> Fleet:
    """Autoscaled: each level of the day gets ceil(rate / (u·μ)) replicas, at least `minimum`.

    Static (autoscaling = false): the peak count runs all month.
    """
    peak = replicas_for(ctx.peak_rate, per_replica_rps, utilization, minimum)
    if not ctx.assumptions.autoscaling:
        hours = peak * ctx.hours
        return Fleet(peak, peak, hours, hours)
    hours = ctx.hours * sum(
        level.share * replicas_for(level.rate, per_replica_rps, utilization, minimum)
        for level in ctx.levels
    )
    return Fleet(peak, minimum, hours, minimum * ctx.hours)


def _span(low: int, high: int, noun: str) -> str:
    """ "1 task", "1-3 tasks": a fleet that autoscales between its floor and its peak."""
    count = f"{high}" if low == high else f"{low}-{high}"
    return f"{count} {noun}" + ("" if high == 1 else "s")


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def _gb(value: float) -> str:
    return f"{value:g} GB"


def _price(
    ctx: Context,
    name: str,
    items: Iterable[LineItem],
    sizing: Sizing,
    predicted_p95_ms: float,
    reason: str = "",
) -> CostEstimate:
    return CostEstimate.from_items(
        name,
        [*items, *ctx.extras(TIERS[name].provider)],
        monthly_requests=ctx.requests,
        avg_latency_ms=ctx.mean_ms,
        sizing=sizing,
        predicted_p95_ms=predicted_p95_ms,
        reason=reason,
    )


def _unpriced(ctx: Context, name: str, reason: str) -> CostEstimate:
    return CostEstimate.unpriced(
        name, reason, monthly_requests=ctx.requests, avg_latency_ms=ctx.mean_ms
    )


def _cheapest(options: Sequence[CostEstimate]) -> CostEstimate:
    """The cheapest option by exact total (the first on a tie). Rounding the totals first made
    a tiny bill pick the dearer architecture, so a slower model could cost less."""
    return min(options, key=lambda e: e.total_cost)


# --- serverless functions -------------------------------------------------------------------


def estimate_lambda(ctx: Context) -> CostEstimate:
    """Memory from peak memory x headroom, raised to `lambda_min_vcpu` x 1,769 MB; CPU share
    mem/1,769 scales the duration; billed per 1 ms; cheapest allowed architecture."""
    name, a, lp = "aws_lambda", ctx.assumptions, ctx.prices.aws_lambda
    if a.gpu:
        return _unpriced(ctx, name, "Lambda has no GPUs")
    need = math.ceil(ctx.need_mb(1) - _EPS)
    reason = ""
    if a.lambda_memory_mb is not None:
        memory = float(a.lambda_memory_mb)
        if memory < need:
            reason = f"lambda_memory_mb {a.lambda_memory_mb:,} is below the {need:,} MB needed"
    else:
        floor = math.ceil(lp.mb_per_vcpu * a.lambda_min_vcpu - _EPS)
        memory = float(min(max(need, floor, lp.min_memory_mb), lp.max_memory_mb))
    if need > lp.max_memory_mb:
        reason = f"needs {need:,} MB of memory, over Lambda's {lp.max_memory_mb:,.0f} MB"
    scale = max(1.0, lp.mb_per_vcpu / memory) if ctx.cpu_scaling else 1.0
    duration = ctx.mean_ms * scale
    billed = max(1.0, float(math.ceil(duration - _EPS)))
    p95 = ctx.p95_ms * scale
    concurrency = in_flight(ctx.peak_rate, p95 / 1000.0)
    if not reason and duration > lp.max_duration_ms:
        reason = f"a call takes {duration / 1000:,.0f} s, over Lambda's 900 s timeout"
    if not reason and concurrency > a.account_concurrency:
        reason = (
            f"peak concurrency {concurrency:,.0f} exceeds the account limit of "
            f"{a.account_concurrency:,} (account_concurrency)"
        )
    options = []
    for arch in a.archs():
        items = charges.lambda_items(
            ctx.requests, memory, billed, arch, lp, free_tier=a.apply_free_tier
        )
        sizing = Sizing(
            summary=f"{_mb(memory)} ({memory / lp.mb_per_vcpu:.2f} vCPU), {arch}, "
            f"billed {billed:,.0f} ms",
            memory_mb=memory,
            vcpu=memory / lp.mb_per_vcpu,
            arch=arch,
            peak_concurrency=concurrency,
            billed_duration_ms=billed,
        )
        options.append(_price(ctx, name, items, sizing=sizing, predicted_p95_ms=p95, reason=reason))
    return _cheapest(options)


# --- Cloud Run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RunSize:
    vcpu: float
    gib: float
    concurrency: int


def _cloud_run_size(ctx: Context, *, gpu: bool) -> _RunSize | str:
    """`container_vcpu` vCPU (4 with a GPU) running floor(vCPU) calls at once (one on a GPU);
    memory for those calls rounded up to 0.25 GiB (at least 0.5 GiB, 16 GiB with a GPU); vCPU
    raised until the memory fits Cloud Run's 4 GiB per vCPU (extra vCPUs only carry memory)."""
    vcpu = max(ctx.assumptions.container_vcpu, 4.0 if gpu else 0.0)
    if vcpu > CLOUD_RUN_VCPUS[-1]:
        return f"container_vcpu {vcpu:g} is over Cloud Run's {CLOUD_RUN_VCPUS[-1]:g} vCPU"
    k = 1 if gpu else min(int(ctx.prices.cloud_run.concurrency), workers(vcpu))
    gib = max(0.5, math.ceil(ctx.need_mb(k) / 1024.0 * 4 - _EPS) / 4)
    if gpu:
        gib = max(gib, 16.0)
    if gib > CLOUD_RUN_MAX_GIB:
        return f"needs {gib:g} GiB per instance, over Cloud Run's {CLOUD_RUN_MAX_GIB:g} GiB"
    while gib > CLOUD_RUN_GIB_PER_VCPU * max(vcpu, 1.0):
        vcpu = next(v for v in CLOUD_RUN_VCPUS if v > vcpu)
    return _RunSize(vcpu, gib, k)


def _run_rps(ctx: Context, size: _RunSize) -> float:
    """Requests per second one Cloud Run instance completes at full load."""
    return ctx.calls_per_second * size.concurrency / ctx.slowdown(size.vcpu)


def estimate_cloud_run_request(ctx: Context) -> CostEstimate:
    """Billed only while a request is in flight: busy time from 1 - e^(-L) per level of the day."""
    name, a, cr = "cloud_run_request", ctx.assumptions, ctx.prices.cloud_run
    if a.gpu:
        return _unpriced(ctx, name, "GPUs need instance-based billing (see cloud_run_instance)")
    size = _cloud_run_size(ctx, gpu=False)
    if isinstance(size, str):
        return _unpriced(ctx, name, size)
    scale = ctx.slowdown(size.vcpu)
    seconds_per_call = ctx.mean_ms * scale / 1000.0
    u = a.utilization(name)
    busy = ctx.seconds * sum(
        level.share
        * billed_instance_fraction(in_flight(level.rate, seconds_per_call), size.concurrency, u)
        for level in ctx.levels
    )
    minimum = a.min_replicas_for(name, pay_per_request=True)
    items = charges.cloud_run_request_items(
        ctx.requests,
        busy,
        size.vcpu,
        size.gib,
        minimum * ctx.seconds,
        cr,
        free_tier=a.apply_free_tier,
    )
    load = in_flight(ctx.peak_rate, seconds_per_call)
    peak = max(minimum, 1, math.ceil(load / (u * size.concurrency) - _EPS))
    p95 = ctx.p95_ms * scale
    sizing = Sizing(
        summary=f"{size.vcpu:g} vCPU, {size.gib:g} GiB, up to {_span(peak, peak, 'instance')}, "
        f"busy {busy / ctx.seconds:.1%} of the month",
        memory_mb=size.gib * 1024,
        vcpu=size.vcpu,
        replicas=peak,
        min_replicas=minimum,
        peak_concurrency=in_flight(ctx.peak_rate, p95 / 1000.0),
        utilisation=load / (peak * size.concurrency),
        busy_fraction=busy / ctx.seconds,
    )
    return _price(ctx, name, items, sizing=sizing, predicted_p95_ms=p95)


def estimate_cloud_run_instance(ctx: Context) -> CostEstimate:
    """Billed for every second an instance exists; autoscaled between min instances and peak."""
    name, a, cr = "cloud_run_instance", ctx.assumptions, ctx.prices.cloud_run
    size = _cloud_run_size(ctx, gpu=a.gpu)
    if isinstance(size, str):
        return _unpriced(ctx, name, size)
    scale = 1.0 if a.gpu else ctx.slowdown(size.vcpu)
    rps = _run_rps(ctx, size)
    u = a.utilization(name)
    fleet = size_fleet(ctx, rps, u, a.min_replicas_for(name, pay_per_request=False))
    items = charges.cloud_run_instance_items(
        fleet.baseline_hours * 3600,
        fleet.scaled_hours * 3600,
        size.vcpu,
        size.gib,
        cr,
        gpu=a.gpu,
        free_tier=a.apply_free_tier,
    )
    p95 = ctx.p95_ms * scale
    sizing = Sizing(
        summary=f"{size.vcpu:g} vCPU, {size.gib:g} GiB"
        + (" + L4 GPU" if a.gpu else "")
        + f", {_span(fleet.minimum, fleet.peak, 'instance')}",
        memory_mb=size.gib * 1024,
        vcpu=size.vcpu,
        replicas=fleet.peak,
        min_replicas=fleet.minimum,
        peak_concurrency=in_flight(ctx.peak_rate, p95 / 1000.0),
        utilisation=ctx.peak_rate / (fleet.peak * rps),
        replica_hours=fleet.replica_hours,
    )
    return _price(ctx, name, items, sizing=sizing, predicted_p95_ms=p95)


# --- managed containers -----------------------------------------------------------------------


def _fargate_size(ctx: Context) -> tuple[float, float, int] | None:
    """(vCPU, GB, calls at once): the smallest valid task with at least `container_vcpu` whose
    memory holds floor(requested vCPU) calls; vCPUs added only for memory carry no calls."""
    requested = next((v for v in FARGATE_SIZES if v + _EPS >= ctx.assumptions.container_vcpu), 16)
    k = workers(requested)
    need = ctx.need_mb(k) / 1024.0
    for vcpu, memories in FARGATE_SIZES.items():
        if vcpu < requested:
            continue
        fits = [g for g in memories if g + _EPS >= need]
        if fits:
            return vcpu, fits[0], k
    return None


def estimate_fargate(ctx: Context) -> CostEstimate:
    """Task-hours of the smallest valid task size, autoscaled like an HPA with min tasks."""
    name, a = "aws_fargate", ctx.assumptions
    if a.gpu:
        return _unpriced(ctx, name, "Fargate has no GPUs")
    size = _fargate_size(ctx)
    if size is None:
        return _unpriced(ctx, name, "needs more memory than Fargate's largest task (120 GB)")
    vcpu, memory_gb, calls = size
    rps = ctx.calls_per_second * calls / ctx.slowdown(vcpu)
    fleet = size_fleet(
        ctx, rps, a.utilization(name), a.min_replicas_for(name, pay_per_request=False)
    )
    p95 = ctx.p95_ms * ctx.slowdown(vcpu)
    options = []
    for arch in a.archs():
        items = charges.fargate_items(
            fleet.baseline_hours, fleet.scaled_hours, vcpu, memory_gb, arch, ctx.prices
        )
        sizing = Sizing(
            summary=f"{vcpu:g} vCPU, {_gb(memory_gb)} ({arch}), "
            f"{_span(fleet.minimum, fleet.peak, 'task')}",
            memory_mb=memory_gb * 1024,
            vcpu=vcpu,
            replicas=fleet.peak,
            min_replicas=fleet.minimum,
            arch=arch,
            peak_concurrency=in_flight(ctx.peak_rate, p95 / 1000.0),
            utilisation=ctx.peak_rate / (fleet.peak * rps),
            replica_hours=fleet.replica_hours,
        )
        options.append(_price(ctx, name, items, sizing=sizing, predicted_p95_ms=p95))
    return _cheapest(options)


# --- Kubernetes -------------------------------------------------------------------------------


def _candidates(
    table: Mapping[str, Instance], named: str | None, a: Assumptions, *, gpu: bool
) -> list[Instance]:
    """The named instance type, or every priced one of the right kind and architecture
    (burstable types only when named: sustained inference would exhaust their credits)."""
    if named is not None:
        return [table[named]]
    return [
        i
        for i in table.values()
        if i.has_gpu == gpu and not i.burstable and (a.arch == "any" or i.arch == a.arch)
    ]


def _how_many(room: float, each: float, cap: int) -> int:
    """floor(room / each), at most `cap` (safe for tiny or zero `each`)."""
    if room < 0:
        return 0
    if each * cap <= room:
        return cap
    return min(cap, math.floor(room / each + _EPS))


def _fits(pod_vcpu: float, pod_gb: float, node: Instance) -> int:
    """Pods of this size one node holds in its allocatable CPU and memory."""
    by_cpu = math.floor(node.vcpu * ALLOCATABLE / pod_vcpu + _EPS)
    return _how_many(node.memory_gb * ALLOCATABLE, pod_gb, by_cpu)


def estimate_cluster(ctx: Context, name: str) -> CostEstimate:
    """Pods sized like containers, packed onto the cheapest node type that fits them, plus the
    control-plane fee x cluster_share (GKE: less the free credit when free tiers are on)."""
    a, clusters = ctx.assumptions, ctx.prices.clusters
    eks = name == "aws_eks"
    table = dict(ctx.prices.aws_ec2 if eks else ctx.prices.gce)
    named = a.eks_node_type if eks else a.gke_node_type
    pod_vcpu = a.container_vcpu
    concurrent = 1 if a.gpu else workers(pod_vcpu)
    pod_mb = max(ctx.need_mb(concurrent), POD_MIN_MB)
    pod_gb = pod_mb / 1024.0
    rps = ctx.calls_per_second if a.gpu else ctx.replica_rps(pod_vcpu)
    u = a.utilization(name)
    minimum = a.min_replicas_for(name, pay_per_request=False)
    pods = size_fleet(ctx, rps, u, minimum)
    pods_by_level = [
        (level.share, replicas_for(level.rate, rps, u, minimum))
        if a.autoscaling
        else (level.share, pods.peak)
        for level in ctx.levels
    ]
    fee_hourly = clusters.eks_h if eks else clusters.gke_h
    credit = clusters.gke_free_credit if (not eks and a.apply_free_tier) else 0.0
    fee = charges.cluster_fee_item(
        ctx.hours, fee_hourly, a.cluster_share, credit, "EKS" if eks else "GKE"
    )
    options = []
    for node in _candidates(table, named, a, gpu=a.gpu):
        fit = _fits(pod_vcpu, pod_gb, node)
        if a.gpu:
            fit = min(fit, 1) if node.gpu_memory_gb * 1024 >= a.gpu_memory_mb else 0
        if fit < 1:
            continue
        nodes_peak = max(1, math.ceil(pods.peak / fit))
        node_hours = ctx.hours * sum(
            share * max(1, math.ceil(n / fit)) for share, n in pods_by_level
        )
        baseline = ctx.hours * (
            max(1, math.ceil(pods.minimum / fit)) if a.autoscaling else nodes_peak
        )
        items = [fee, *charges.instance_items(baseline, node_hours - baseline, node, "nodes")]
        sizing = Sizing(
            summary=f"{_span(pods.minimum, pods.peak, 'pod')} of {pod_vcpu:g} vCPU/{_mb(pod_mb)} "
            f"on {_span(max(1, math.ceil(pods.minimum / fit)), nodes_peak, node.name + ' node')}",
            memory_mb=pod_gb * 1024,
            vcpu=pod_vcpu,
            replicas=pods.peak,
            min_replicas=pods.minimum,
            nodes=nodes_peak,
            instance_type=node.name,
            arch=node.arch,
            peak_concurrency=in_flight(ctx.peak_rate, ctx.p95_ms * ctx.slowdown(pod_vcpu) / 1000.0),
            utilisation=ctx.peak_rate / (pods.peak * rps),
            replica_hours=pods.replica_hours,
        )
        p95 = ctx.p95_ms * (1.0 if a.gpu else ctx.slowdown(pod_vcpu))
        options.append(_price(ctx, name, items, sizing=sizing, predicted_p95_ms=p95))
    if not options:
        what = "GPU " if a.gpu else ""
        return _unpriced(
            ctx,
            name,
            f"no priced {what}node type ({a.arch}) fits a pod of {pod_vcpu:g} vCPU / {_mb(pod_mb)}",
        )
    return _cheapest(options)


def estimate_eks(ctx: Context) -> CostEstimate:
    return estimate_cluster(ctx, "aws_eks")


def estimate_gke(ctx: Context) -> CostEstimate:
    return estimate_cluster(ctx, "gke")


# --- dedicated VMs ----------------------------------------------------------------------------


def _vm_workers(ctx: Context, vm: Instance) -> int:
    """One call per vCPU, fewer if the VM's memory cannot hold that many calls at once."""
    by_cpu = workers(vm.vcpu)
    per_call = ctx.workload.memory_mb or 0.0
    if per_call <= 0:
        return by_cpu if ctx.need_mb(0) <= vm.memory_gb * 1024 * ALLOCATABLE else 0
    room = vm.memory_gb * 1024 * ALLOCATABLE / ctx.assumptions.memory_headroom
    return _how_many(room - ctx.assumptions.base_memory_mb, per_call, by_cpu)


def _estimate_vms(ctx: Context, name: str, *, gpu: bool) -> CostEstimate:
    """A static fleet of the cheapest instance type: max(min replicas, ceil(peak / (u·μ)))."""
    a = ctx.assumptions
    options = []
    for vm in _candidates(dict(ctx.prices.aws_ec2), a.ec2_instance_type, a, gpu=gpu):
        if gpu:
            fits = vm.has_gpu and vm.gpu_memory_gb * 1024 >= a.gpu_memory_mb
            count = 1 if fits and ctx.need_mb(1) <= vm.memory_gb * 1024 * ALLOCATABLE else 0
            rps = ctx.calls_per_second * count
        else:
            count = _vm_workers(ctx, vm)
            rps = ctx.calls_per_second * count
        if count < 1:
            continue
        n = replicas_for(
            ctx.peak_rate, rps, a.utilization(name), a.min_replicas_for(name, pay_per_request=False)
        )
        n = max(n, 1)
        items = charges.instance_items(n * ctx.hours, 0.0, vm, "instances")
        sizing = Sizing(
            summary=f"{n} x {vm.name} ({vm.vcpu:g} vCPU, {_gb(vm.memory_gb)}"
            + (f", {vm.gpu_memory_gb:g} GB GPU" if vm.has_gpu else "")
            + f"), {_span(count, count, 'worker')} each",
            memory_mb=vm.memory_gb * 1024,
            vcpu=vm.vcpu,
            replicas=n,
            min_replicas=n,
            nodes=n,
            instance_type=vm.name,
            arch=vm.arch,
            peak_concurrency=in_flight(ctx.peak_rate, ctx.p95_ms / 1000.0),
            utilisation=ctx.peak_rate / (n * rps),
            replica_hours=n * ctx.hours,
        )
        options.append(_price(ctx, name, items, sizing=sizing, predicted_p95_ms=ctx.p95_ms))
    if not options:
        kind = "GPU instance type with enough GPU memory" if gpu else "instance type"
        return _unpriced(ctx, name, f"no priced {kind} ({a.arch}) holds the model")
    return _cheapest(options)


def estimate_ec2(ctx: Context) -> CostEstimate:
    if ctx.assumptions.gpu:
        return _unpriced(ctx, "aws_ec2", "the model needs a GPU (see aws_ec2_gpu)")
    return _estimate_vms(ctx, "aws_ec2", gpu=False)


def estimate_ec2_gpu(ctx: Context) -> CostEstimate:
    if not ctx.assumptions.gpu:
        return _unpriced(
            ctx, "aws_ec2_gpu", "the model does not need a GPU (set gpu = true to price one)"
        )
    return _estimate_vms(ctx, "aws_ec2_gpu", gpu=True)


ESTIMATORS: dict[str, Callable[[Context], CostEstimate]] = {
    "aws_lambda": estimate_lambda,
    "cloud_run_request": estimate_cloud_run_request,
    "cloud_run_instance": estimate_cloud_run_instance,
    "aws_fargate": estimate_fargate,
    "aws_eks": estimate_eks,
    "gke": estimate_gke,
    "aws_ec2": estimate_ec2,
    "aws_ec2_gpu": estimate_ec2_gpu,
}


def estimate_tiers(
    workload: Workload,
    assumptions: Assumptions,
    prices: PriceTable,
    latency_limit_ms: float | None = None,
    *,
    cpu_scaling: bool = True,
) -> list[CostEstimate]:
    """One estimate per tier in `assumptions.tiers`; a tier whose predicted p95 breaks the
    latency limit (the argument, else `assumptions.latency_limit_ms`) is not eligible."""
    limit = latency_limit_ms if latency_limit_ms is not None else assumptions.latency_limit_ms
    ctx = Context(workload, assumptions, prices, limit, cpu_scaling)
    out = []
    for tier in assumptions.tiers:
        estimate = ESTIMATORS[tier](ctx)
        p95 = estimate.predicted_p95_ms
        if limit is not None and p95 is not None and p95 > limit:
            estimate = estimate.with_reason(
                f"predicted p95 {p95:,.4g} ms > latency limit {limit:,.4g} ms"
            )
        out.append(estimate)
    return out
