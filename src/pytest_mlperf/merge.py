"""One report from the reports of CI shards, each result keeping the machine it ran on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .cost.budget import merged_budget
from .files import UnreadableJson, read_json
from .regression.comparison import Comparison
from .regression.store import BaselineError, validate_run
from .results import SCHEMA, build_report


class MergeError(ValueError):
    """Reports that cannot be merged: unreadable, of another schema, or overlapping."""


def load_report(path: str) -> dict[str, Any]:
    """Read one report.json, refusing anything that is not a pytest-mlperf/1 record."""
    try:
        data = read_json(path)
    except UnreadableJson as exc:
        raise MergeError(str(exc)) from None
    if isinstance(data, dict) and "benchmarks" in data and "machine_info" in data:
        raise MergeError(
            f"{path}: a pytest-benchmark file, not a {SCHEMA} report "
            "(pytest-mlperf reads the report.json it wrote)"
        )
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise MergeError(f"{path}: not a {SCHEMA} report (schema: {found!r})")
    for key in ("results", "environment", "settings"):
        if key not in data:
            raise MergeError(f"{path}: {SCHEMA} report without {key!r}")
    try:
        validate_run(data, path)  # each result's figures: present, finite, not absurd
    except BaselineError as exc:
        raise MergeError(str(exc)) from None
    return data


def merge_reports(
    reports: Sequence[tuple[str, dict[str, Any]]], *, created: str, plugin_version: str
) -> dict[str, Any]:
    """Merge (path, report) pairs; a result measured in two shards is an error."""
    if not reports:
        raise MergeError("no reports to merge")
    seen: dict[tuple[str, str, int], tuple[str, str]] = {}
    entries: list[dict[str, Any]] = []
    shards: list[dict[str, Any]] = []
    for index, (path, report) in enumerate(reports):
        fingerprint = str(report["environment"].get("fingerprint"))
        for entry in report["results"]:
            key = (entry["nodeid"], entry["name"], int(entry["batch_size"]))
            if key in seen:
                other_path, other_fp = seen[key]
                where = "another machine" if other_fp != fingerprint else "the same machine"
                raise MergeError(
                    f"{entry['nodeid']} (batch {key[2]}) is in both {other_path} and {path} "
                    f"(measured on {where}): each test must come from one shard"
                )
            seen[key] = (path, fingerprint)
            entries.append({**entry, "shard": index})
        shards.append(
            {
                "source": path,
                "created": report.get("created"),
                "environment": report["environment"],
                "settings": report["settings"],
            }
        )
    fingerprints = {s["environment"].get("fingerprint") for s in shards}
    warnings = [w for _, r in reports for w in r.get("warnings", [])]
    if len({str(s["settings"].get("confidence")) for s in shards}) > 1:
        warnings.append("the shards were measured at different confidence levels")
    if len(fingerprints) > 1:
        warnings.append(
            f"merged from {len(fingerprints)} different machines: compare figures across "
            "shards with care (each result names its shard)"
        )

    def gather(section: str) -> list[Any]:
        return [item for _, r in reports for item in r.get(section) or []]

    costs = gather("costs")
    merged = build_report(
        entries,
        shards[0]["environment"],
        {k: v for k, v in shards[0]["settings"].items() if k != "percentile_method"},
        created=created,
        plugin_version=plugin_version,
        errors=gather("errors"),
        warnings=warnings,
        sweeps=gather("sweeps"),
        costs=costs,
        budget=merged_budget([r.get("budget") for _, r in reports], costs),
        # written in today's form: a regression that did not gate is a warning
        comparisons=[Comparison.from_dict(c).to_dict() for c in gather("comparisons")],
        recommendations=gather("recommendations"),
        lost=[str(test) for test in gather("lost")],
        interrupted=any(r.get("interrupted") for _, r in reports),
    )
    merged["shards"] = shards
    return merged
