"""The cost section of the reports: terminal lines and Markdown, from report.json's `costs`.

Renderers read only the JSON entries made by `pytest_mlperf.cost.estimate_for_result`, so a
report can be re-rendered later from the saved record. Text that users control (test ids,
model names, instance types, reasons that quote them) is escaped in Markdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..numbers import fmt, usd
from .common import text_table
from .escape import escape_md

COLUMNS = ("tier", "monthly", "provisioned", "usage", "sizing", "p95 ms", "eligible")


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return fmt(value, 3)


def _limit(value: float | None) -> str:
    return "none" if value is None else f"{_ms(value)} ms"


def _eligible(row: Mapping[str, Any], recommended: str | None) -> str:
    if not row["eligible"]:
        return f"no: {row['reason']}"
    return "yes (recommended)" if row["tier"] == recommended else "yes"


def _title(entry: Mapping[str, Any]) -> str:
    nodeid = str(entry.get("nodeid") or "")
    test = nodeid.rsplit("::", 1)[-1] if nodeid else ""
    name = str(entry.get("name") or entry.get("model") or "")
    return " - ".join(p for p in (test, name) if p) or "benchmark"


def _traffic(entry: Mapping[str, Any]) -> str:
    a = entry.get("assumptions", {})
    return (
        f"{a.get('requests_per_month', 0):,.0f} requests/month, peak {a.get('peak_to_average'):g}x "
        f"the mean for {a.get('peak_hours'):g} h/day"
    )


def _recommendation(entry: Mapping[str, Any]) -> str:
    best = entry.get("recommended")
    if best is None:
        return f"no tier recommended: {entry.get('recommendation', 'no eligible tier')}"
    return (
        f"recommended: {best} at {usd(entry.get('recommended_monthly_usd'))}/month "
        f"(strategy {entry.get('strategy')}: {entry.get('recommendation')})"
    )


def _scenarios(entry: Mapping[str, Any]) -> str:
    sens = entry.get("sensitivity") or {}
    parts = []
    for s in sens.get("scenarios", [])[1:]:
        best = s.get("recommended")
        parts.append(f"{s['label']}: {best or 'none'} {usd(s.get('recommended_usd'))}")
    return "; ".join(parts)


def _assumption_text(a: Mapping[str, Any]) -> str:
    util = a.get("target_utilization")
    util_text = "0.6 Cloud Run / 0.7 others" if util is None else f"{util:g}"
    mins = a.get("min_replicas")
    min_text = "0 pay-per-request / 1 others" if mins is None else str(mins)
    return (
        f"utilisation {util_text}; min replicas {min_text}; speed factor "
        f"{a.get('speed_factor'):g}; memory headroom {a.get('memory_headroom'):g}; base memory "
        f"{a.get('base_memory_mb'):g} MB; region {a.get('region')} / {a.get('gcp_region')}; arch "
        f"{a.get('arch')}; free tier {'on' if a.get('apply_free_tier') else 'off'}; autoscaling "
        f"{'on' if a.get('autoscaling') else 'off'}"
    )


def unit_price(value: float) -> str:
    """Unit prices as written on price lists: 0.0000166667, not 1.66667e-05."""
    return f"{value:.10f}".rstrip("0").rstrip(".") if value else "0"


def _quantity(value: float) -> str:
    if value == 0:
        return "0"
    return fmt(value)


def total_line(costs: Sequence[Mapping[str, Any]]) -> str | None:
    """The session total over recommended tiers, when there is more than one benchmark."""
    if len(costs) < 2:
        return None
    values = [c.get("recommended_monthly_usd") for c in costs]
    total = sum(v for v in values if v is not None)
    missing = sum(v is None for v in values)
    text = f"total over {len(costs)} benchmarks (recommended tiers): {usd(total)}/month"
    return text + (f" ({missing} without an eligible tier)" if missing else "")


# --- terminal ---------------------------------------------------------------------------------


SUMMARY_COLUMNS = ("test", "model", "batch", "requests/month", "recommended", "monthly",
                   "serverless cheaper up to")  # fmt: skip


def _summary_row(entry: Mapping[str, Any]) -> list[str]:
    crossover = (entry.get("sensitivity") or {}).get("crossover_requests_per_month")
    assumptions = entry.get("assumptions", {})
    return [
        _title(entry).split(" - ")[0],
        str(entry.get("name") or entry.get("model")),
        str(entry.get("batch_size")),
        f"{assumptions.get('requests_per_month', 0):,.0f}",
        str(entry.get("recommended") or "none eligible"),
        usd(entry.get("recommended_monthly_usd")),
        "-" if crossover is None else f"{crossover:,.0f} req/month",
    ]


def cost_terminal_lines(
    costs: Sequence[Mapping[str, Any]], *, detail: bool = True, verbose: bool = False
) -> list[str]:
    """Every tier with its sizing per benchmark (`detail`), else one line per benchmark;
    the assumptions and line items too with `verbose`."""
    if not costs:
        return []
    first = costs[0]
    lines = [
        f"pytest-mlperf cost estimates (USD/month, list prices as of {first.get('prices_as_of')})"
    ]
    if not detail:
        lines += text_table(SUMMARY_COLUMNS, [_summary_row(e) for e in costs], left=(0, 1, 4))
        lines.append("(every tier, sizing and line items: -v, or report.md)")
    for entry in costs if detail else ():
        recommended = entry.get("recommended")
        rows = [list(COLUMNS)]
        for row in entry.get("tiers", []):
            mark = "* " if row["tier"] == recommended else "  "
            rows.append(
                [
                    mark + row["tier"],
                    usd(row["monthly_usd"]),
                    usd(row["provisioned_usd"]),
                    usd(row["usage_usd"]),
                    row["sizing"].get("summary", "-"),
                    _ms(row["predicted_p95_ms"]),
                    _eligible(row, recommended),
                ]
            )
        rows[0][0] = "  " + rows[0][0]
        lines += ["", f"{_title(entry)}: {entry.get('request')}; {_traffic(entry)}"]
        lines += ["  " + line for line in text_table(rows[0], rows[1:], left=(0, 4, 6))]
        lines.append(f"  {_recommendation(entry)}")
        sens = entry.get("sensitivity")
        if sens:
            lines.append(f"  sensitivity: {_scenarios(entry)}")
            lines.append(f"  {sens.get('summary')}")
        if not verbose:
            continue
        lines.append(f"  assumptions: {_assumption_text(entry.get('assumptions', {}))}")
        for row in entry.get("tiers", []):
            for item in row.get("line_items", []):
                lines.append(
                    f"    {row['tier']}: {item['name']} [{item['kind']}] "
                    f"{_quantity(item['quantity'])} {item['unit']} "
                    f"x {unit_price(item['price'])} = {usd(item['monthly_usd'])}"
                )
    total = total_line(costs)
    if total:
        lines += ["", total]
    for warning in sorted({str(c["stale_warning"]) for c in costs if c.get("stale_warning")}):
        lines.append(f"WARNING: {warning}")
    return lines


# --- Markdown ---------------------------------------------------------------------------------


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def cost_markdown(costs: Sequence[Mapping[str, Any]], max_chars: int | None = None) -> str:
    """The cost section of report.md: one table per benchmark, details folded away.

    With `max_chars`, entries stop once the text is longer: a section that long is never
    shown whole, and a thousand benchmarks' tables would take a second to write.
    """
    if not costs:
        return ""
    first = costs[0]
    lines = [
        "### Monthly cost estimates",
        "",
        f"USD per month at list prices as of {escape_md(first.get('prices_as_of'))} "
        f"({escape_md(first.get('prices_origin', ''))}); no discounts, no taxes. "
        "A model, not a measurement: see the assumptions.",
        "",
    ]
    for warning in sorted({str(c["stale_warning"]) for c in costs if c.get("stale_warning")}):
        lines += [f"> **Warning:** {escape_md(warning)}", ""]
    total = total_line(costs)
    if total:
        lines += [f"**{escape_md(total[0].upper() + total[1:])}**", ""]
    size = 0
    for entry in costs:
        if max_chars is not None and size > max_chars:
            break
        added = _entry_markdown(entry)
        size += sum(len(line) + 1 for line in added)
        lines += added
    return "\n".join(lines)


def _entry_markdown(entry: Mapping[str, Any]) -> list[str]:
    recommended = entry.get("recommended")
    lines = [
        f"#### {escape_md(_title(entry))}",
        "",
        f"One request = {escape_md(entry.get('request'))}. {escape_md(_traffic(entry))}.",
        "",
    ]
    if recommended:
        lines.append(
            f"Recommended: **{escape_md(recommended)}** at "
            f"**{usd(entry.get('recommended_monthly_usd'))}/month** "
            f"(strategy {escape_md(entry.get('strategy'))}: "
            f"{escape_md(entry.get('recommendation'))})."
        )
    else:
        lines.append(f"**No tier recommended:** {escape_md(entry.get('recommendation'))}.")
    lines += [
        "",
        _md_row(COLUMNS),
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for row in entry.get("tiers", []):
        name = escape_md(row["tier"])
        lines.append(
            _md_row(
                [
                    f"**{name}**" if row["tier"] == recommended else name,
                    usd(row["monthly_usd"]),
                    usd(row["provisioned_usd"]),
                    usd(row["usage_usd"]),
                    escape_md(row["sizing"].get("summary", "-")),
                    _ms(row["predicted_p95_ms"]),
                    escape_md(_eligible(row, recommended)),
                ]
            )
        )
    sens = entry.get("sensitivity")
    if sens:
        lines += [
            "",
            f"**Sensitivity:** {escape_md(_scenarios(entry))}. {escape_md(sens.get('summary'))}",
        ]
    lines += [
        "",
        "<details><summary>Line items (provisioned vs usage)</summary>",
        "",
        _md_row(("tier", "item", "kind", "quantity", "unit", "price", "monthly")),
        "|---|---|---|---:|---|---:|---:|",
    ]
    for row in entry.get("tiers", []):
        for item in row.get("line_items", []):
            lines.append(
                _md_row(
                    [
                        escape_md(row["tier"]),
                        escape_md(item["name"]),
                        escape_md(item["kind"]),
                        _quantity(item["quantity"]),
                        escape_md(item["unit"]),
                        unit_price(item["price"]),
                        usd(item["monthly_usd"]),
                    ]
                )
            )
    a = entry.get("assumptions", {})
    lines += [
        "",
        "</details>",
        "",
        "<details><summary>Assumptions</summary>",
        "",
        f"- Traffic: {escape_md(_traffic(entry))}",
        f"- {escape_md(_assumption_text(a))}",
        f"- Latency limit (p95): {_limit(entry.get('latency_limit_ms'))}",
        f"- Prices as of {escape_md(entry.get('prices_as_of'))} "
        f"({escape_md(entry.get('currency'))}), {escape_md(entry.get('prices_origin'))}",
    ]
    lines += [f"- {escape_md(note)}" for note in entry.get("notes", [])]
    lines += ["", "</details>", ""]
    return lines
