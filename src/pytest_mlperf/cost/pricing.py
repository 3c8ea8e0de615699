"""The price table: bundled list prices with a source for every number, user overrides, staleness.

Prices are data, not code: `pytest_mlperf/pricing/default.toml` holds them with `as_of` and a
source per key, and a user's `[tool.pytest-mlperf.pricing]` table overrides any of them with the
same layout. Nothing here touches the network.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import CostConfigError

STALE_AFTER_DAYS = 180
BUNDLED = "bundled price table (pytest_mlperf/pricing/default.toml)"
ARCHES = ("x86_64", "arm64")


@dataclass(frozen=True)
class Tiered:
    """A unit price that falls with volume: cumulative (upper bound, price) steps.

    A flat price is one step with an infinite bound. `split` says how much of a monthly
    quantity falls in each step, which is how AWS bills Lambda GB-seconds and data transfer.
    """

    steps: tuple[tuple[float, float], ...]

    @classmethod
    def flat(cls, price: float) -> Tiered:
        return cls(((math.inf, price),))

    @property
    def first_price(self) -> float:
        return self.steps[0][1]

    def split(self, quantity: float) -> list[tuple[float, float]]:
        """(quantity in step, unit price) for each step the quantity reaches."""
        parts: list[tuple[float, float]] = []
        lower = 0.0
        for upper, price in self.steps:
            if quantity <= lower:
                break
            parts.append((min(quantity, upper) - lower, price))
            lower = upper
        return parts

    def cost(self, quantity: float) -> float:
        return sum(q * p for q, p in self.split(quantity))


@dataclass(frozen=True)
class Instance:
    """A priced VM type: what Kubernetes nodes and dedicated fleets are made of."""

    name: str
    hourly: float
    vcpu: float
    memory_gb: float
    arch: str
    gpu_memory_gb: float = 0.0
    burstable: bool = False
    source: str = ""

    @property
    def has_gpu(self) -> bool:
        return self.gpu_memory_gb > 0


@dataclass(frozen=True)
class LambdaPrices:
    request_per_million: float
    gb_s_x86: Tiered
    gb_s_arm64: Tiered
    free_requests: float
    free_gb_s: float
    mb_per_vcpu: float
    min_memory_mb: float
    max_memory_mb: float
    max_duration_ms: float

    def gb_s(self, arch: str) -> Tiered:
        return self.gb_s_arm64 if arch == "arm64" else self.gb_s_x86


@dataclass(frozen=True)
class CloudRunPrices:
    req_vcpu_s: float
    req_gib_s: float
    req_per_million: float
    req_free_vcpu_s: float
    req_free_gib_s: float
    req_free_requests: float
    inst_vcpu_s: float
    inst_gib_s: float
    inst_free_vcpu_s: float
    inst_free_gib_s: float
    gpu_l4_h: float
    concurrency: float


@dataclass(frozen=True)
class FargatePrices:
    vcpu_h_x86: float
    gb_h_x86: float
    vcpu_h_arm: float
    gb_h_arm: float

    def rates(self, arch: str) -> tuple[float, float]:
        """(USD per vCPU-hour, USD per GB-hour) for the architecture."""
        if arch == "arm64":
            return self.vcpu_h_arm, self.gb_h_arm
        return self.vcpu_h_x86, self.gb_h_x86


@dataclass(frozen=True)
class ClusterPrices:
    eks_h: float
    gke_h: float
    gke_free_credit: float


@dataclass(frozen=True)
class EgressPrices:
    aws_per_gb: Tiered
    aws_free_gb: float
    gcp_per_gb: Tiered
    gcp_free_gb: float


@dataclass(frozen=True)
class StoragePrices:
    s3_gb_month: float


@dataclass(frozen=True)
class PriceTable:
    """Every price the tiers use, with `as_of` and the source of each number."""

    as_of: dt.date
    currency: str
    hours_per_month: float
    aws_region: str
    gcp_region: str
    aws_lambda: LambdaPrices
    cloud_run: CloudRunPrices
    aws_fargate: FargatePrices
    clusters: ClusterPrices
    egress: EgressPrices
    storage: StoragePrices
    aws_ec2: Mapping[str, Instance]
    gce: Mapping[str, Instance]
    sources: Mapping[str, str] = field(default_factory=dict)
    origin: str = BUNDLED

    @property
    def seconds_per_month(self) -> float:
        return self.hours_per_month * 3600.0

    def age_days(self, today: dt.date | None = None) -> int:
        return ((today or dt.date.today()) - self.as_of).days

    def stale_warning(self, today: dt.date | None = None) -> str | None:
        """A warning once the table is older than 180 days, else None."""
        age = self.age_days(today)
        if age <= STALE_AFTER_DAYS:
            return None
        return (
            f"prices as of {self.as_of.isoformat()} are {age} days old (over "
            f"{STALE_AFTER_DAYS}): prices may be stale; check them against the providers' "
            "pricing pages or override them under [tool.pytest-mlperf.pricing]"
        )


# Which keys each section holds, and what kind of number each is.
_PRICE, _POSITIVE, _TIERED = "price", "positive", "tiered"
_SECTIONS: dict[str, dict[str, str]] = {
    "aws_lambda": {
        "request_per_million": _PRICE,
        "gb_s_x86": _TIERED,
        "gb_s_arm64": _TIERED,
        "free_requests": _PRICE,
        "free_gb_s": _PRICE,
        "mb_per_vcpu": _POSITIVE,
        "min_memory_mb": _POSITIVE,
        "max_memory_mb": _POSITIVE,
        "max_duration_ms": _POSITIVE,
    },
    "cloud_run": {
        "req_vcpu_s": _PRICE,
        "req_gib_s": _PRICE,
        "req_per_million": _PRICE,
        "req_free_vcpu_s": _PRICE,
        "req_free_gib_s": _PRICE,
        "req_free_requests": _PRICE,
        "inst_vcpu_s": _PRICE,
        "inst_gib_s": _PRICE,
        "inst_free_vcpu_s": _PRICE,
        "inst_free_gib_s": _PRICE,
        "gpu_l4_h": _PRICE,
        "concurrency": _POSITIVE,
    },
    "aws_fargate": {
        "vcpu_h_x86": _PRICE,
        "gb_h_x86": _PRICE,
        "vcpu_h_arm": _PRICE,
        "gb_h_arm": _PRICE,
    },
    "clusters": {"eks_h": _PRICE, "gke_h": _PRICE, "gke_free_credit": _PRICE},
    "egress": {
        "aws_per_gb": _TIERED,
        "aws_free_gb": _PRICE,
        "gcp_per_gb": _TIERED,
        "gcp_free_gb": _PRICE,
    },
    "storage": {"s3_gb_month": _PRICE},
}
_SECTION_TYPES: dict[str, Any] = {
    "aws_lambda": LambdaPrices,
    "cloud_run": CloudRunPrices,
    "aws_fargate": FargatePrices,
    "clusters": ClusterPrices,
    "egress": EgressPrices,
    "storage": StoragePrices,
}
_INSTANCE_SECTIONS = ("aws_ec2", "gce")
_INSTANCE_KEYS = ("hourly", "vcpu", "memory_gb", "arch", "gpu_memory_gb", "burstable", "source")
_TOP_KEYS = ("as_of", "currency", "hours_per_month", "aws_region", "gcp_region", "sources")


@lru_cache(maxsize=1)
def _bundled_raw() -> dict[str, Any]:
    text = resources.files("pytest_mlperf").joinpath("pricing/default.toml").read_text("utf-8")
    return tomllib.loads(text)


def bundled_prices() -> PriceTable:
    """The bundled table, parsed (cached: it is immutable)."""
    return _bundled_table()


@lru_cache(maxsize=1)
def _bundled_table() -> PriceTable:
    return _parse(copy.deepcopy(_bundled_raw()), {}, BUNDLED)


def load_prices(
    overrides: Mapping[str, Any] | None = None, *, where: str = "overrides"
) -> PriceTable:
    """The bundled table with `overrides` (same layout as the TOML) merged over it.

    `where` names the origin in error messages and in the sources of overridden numbers, e.g.
    ``"pyproject.toml: [tool.pytest-mlperf.pricing]"``.
    """
    if not overrides:
        return bundled_prices()
    if not isinstance(overrides, Mapping):
        raise CostConfigError(f"{where}: expected a table of prices, got {overrides!r}")
    merged = copy.deepcopy(_bundled_raw())
    origins: dict[str, str] = {}
    for key, value in overrides.items():
        if key in _SECTIONS:
            _merge_section(merged, key, value, where, origins)
        elif key in _INSTANCE_SECTIONS:
            _merge_instances(merged, key, value, where, origins)
        elif key in _TOP_KEYS and key != "sources":
            merged[key] = value
            origins[key] = where
        else:
            raise CostConfigError(f"{where}: unknown key {key!r}{_suggest(key, _all_top())}")
    return _parse(merged, origins, where)


def _all_top() -> list[str]:
    return [*_TOP_KEYS, *_SECTIONS, *_INSTANCE_SECTIONS]


def _merge_section(
    merged: dict[str, Any], name: str, value: Any, where: str, origins: dict[str, str]
) -> None:
    if not isinstance(value, Mapping):
        raise CostConfigError(f"{where}: {name}: expected a table, got {value!r}")
    target = merged.setdefault(name, {})
    for key, item in value.items():
        dotted = f"{name}.{key}"
        if key == "sources":
            if not isinstance(item, Mapping) or not all(isinstance(v, str) for v in item.values()):
                raise CostConfigError(f"{where}: {dotted}: expected a table of strings")
            target.setdefault("sources", {}).update(item)
            continue
        if key not in _SECTIONS[name]:
            raise CostConfigError(
                f"{where}: unknown key {dotted!r}{_suggest(key, list(_SECTIONS[name]))}"
            )
        target[key] = item
        origins[dotted] = where
        target.setdefault("sources", {})[key] = f"override in {where}"


def _merge_instances(
    merged: dict[str, Any], name: str, value: Any, where: str, origins: dict[str, str]
) -> None:
    if not isinstance(value, Mapping):
        raise CostConfigError(f"{where}: {name}: expected a table of instance types")
    target = merged.setdefault(name, {})
    for itype, item in value.items():
        dotted = f"{name}.{itype}"
        if isinstance(item, Mapping):
            unknown = [k for k in item if k not in _INSTANCE_KEYS]
            if unknown:
                raise CostConfigError(
                    f"{where}: unknown key {dotted + '.' + unknown[0]!r}"
                    f"{_suggest(unknown[0], list(_INSTANCE_KEYS))}"
                )
            entry = dict(target.get(itype, {}))
            entry.update(item)
            if "source" not in item:
                entry["source"] = f"override in {where}"
        elif itype in target:
            entry = dict(target[itype])
            entry["hourly"] = item
            entry["source"] = f"override in {where}"
        else:
            raise CostConfigError(
                f"{where}: {dotted}: unknown instance type; give it as a table with hourly, "
                "vcpu, memory_gb and arch"
            )
        target[itype] = entry
        origins[dotted] = where


def _parse(raw: Mapping[str, Any], origins: Mapping[str, str], where: str) -> PriceTable:
    def origin(dotted: str) -> str:
        return origins.get(dotted, BUNDLED)

    sources: dict[str, str] = {}
    for key, text in (raw.get("sources") or {}).items():
        sources[str(key)] = str(text)
    sections: dict[str, Any] = {}
    for name, kinds in _SECTIONS.items():
        table = raw.get(name)
        if not isinstance(table, Mapping):
            raise CostConfigError(f"{origin(name)}: {name}: missing price table")
        values: dict[str, Any] = {}
        for key, kind in kinds.items():
            dotted = f"{name}.{key}"
            if key not in table:
                raise CostConfigError(f"{origin(dotted)}: {dotted}: missing price")
            values[key] = _value(table[key], kind, f"{origin(dotted)}: {dotted}")
            src = (table.get("sources") or {}).get(key)
            if src:
                sources[dotted] = str(src)
        sections[name] = _SECTION_TYPES[name](**values)
    instances: dict[str, dict[str, Instance]] = {}
    for name in _INSTANCE_SECTIONS:
        instances[name] = {}
        for itype, item in (raw.get(name) or {}).items():
            dotted = f"{name}.{itype}"
            instances[name][str(itype)] = _instance(str(itype), item, f"{origin(dotted)}: {dotted}")
            sources[dotted] = instances[name][str(itype)].source
    hours = _value(
        raw.get("hours_per_month"), _POSITIVE, f"{origin('hours_per_month')}: hours_per_month"
    )
    return PriceTable(
        as_of=_date(raw.get("as_of"), f"{origin('as_of')}: as_of"),
        currency=_text(raw.get("currency"), f"{origin('currency')}: currency"),
        hours_per_month=hours,
        aws_region=_text(raw.get("aws_region"), f"{origin('aws_region')}: aws_region"),
        gcp_region=_text(raw.get("gcp_region"), f"{origin('gcp_region')}: gcp_region"),
        aws_ec2=instances["aws_ec2"],
        gce=instances["gce"],
        sources=sources,
        origin=BUNDLED if not origins else f"{BUNDLED}, overridden by {where}",
        **sections,
    )


def _instance(name: str, item: Any, where: str) -> Instance:
    if not isinstance(item, Mapping):
        raise CostConfigError(f"{where}: expected a table with hourly, vcpu, memory_gb, arch")
    for key in ("hourly", "vcpu", "memory_gb", "arch"):
        if key not in item:
            raise CostConfigError(f"{where}.{key}: missing")
    arch = item["arch"]
    if arch not in ARCHES:
        raise CostConfigError(f"{where}.arch: expected one of {', '.join(ARCHES)}, got {arch!r}")
    burstable = item.get("burstable", False)
    if not isinstance(burstable, bool):
        raise CostConfigError(f"{where}.burstable: expected true or false, got {burstable!r}")
    return Instance(
        name=name,
        hourly=_value(item["hourly"], _PRICE, f"{where}.hourly"),
        vcpu=_value(item["vcpu"], _POSITIVE, f"{where}.vcpu"),
        memory_gb=_value(item["memory_gb"], _POSITIVE, f"{where}.memory_gb"),
        arch=arch,
        gpu_memory_gb=_value(item.get("gpu_memory_gb", 0.0), _PRICE, f"{where}.gpu_memory_gb"),
        burstable=burstable,
        source=str(item.get("source", "")),
    )


MAX_FIGURE = 1e15  # a price, a size or a count: anything larger is a typo, and sums overflow


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value(value: Any, kind: str, where: str) -> Any:
    if kind == _TIERED:
        return _tiered(value, where)
    if not _is_number(value) or not abs(value) < math.inf:  # a huge int is compared exactly
        raise CostConfigError(f"{where}: expected a number, got {value!r}")
    if value < 0 or (kind == _POSITIVE and value == 0):
        bound = "above zero" if kind == _POSITIVE else "zero or more"
        raise CostConfigError(f"{where}: expected a number {bound}, got {value!r}")
    if value > MAX_FIGURE:
        raise CostConfigError(f"{where}: expected a number up to {MAX_FIGURE:g}, got {value!r}")
    return float(value)


def _tiered(value: Any, where: str) -> Tiered:
    if _is_number(value):
        return Tiered.flat(_value(value, _PRICE, where))
    problem = f"{where}: expected a price or a list of [up_to, price] pairs, got {value!r}"
    if not isinstance(value, list) or not value:
        raise CostConfigError(problem)
    steps: list[tuple[float, float]] = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2 or not all(map(_is_number, pair)):
            raise CostConfigError(problem)
        try:
            upper, price = float(pair[0]), float(pair[1])
        except OverflowError:  # an integer too large for a float
            raise CostConfigError(problem) from None
        if upper <= (steps[-1][0] if steps else 0) or not 0 <= price <= MAX_FIGURE:
            raise CostConfigError(f"{where}: bounds must increase and prices be >= 0: {value!r}")
        steps.append((upper, price))
    if steps[-1][0] != math.inf:
        raise CostConfigError(f"{where}: the last step must be unbounded (inf): {value!r}")
    return Tiered(tuple(steps))


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CostConfigError(f"{where}: expected a date like 2026-11-26, got {value!r}") from None


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise CostConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _suggest(key: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(key, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
