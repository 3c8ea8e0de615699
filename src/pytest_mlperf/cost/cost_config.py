"""Reading cost assumptions and price overrides from pyproject.toml or a standalone TOML file.

`load_cost_config(path)` turns a path into validated objects, so a malformed file or an unknown
key is reported once, naming the file, table and key, before any test runs.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assumptions import Assumptions, check_against_prices
from .errors import CostConfigError
from .pricing import PriceTable, bundled_prices, load_prices

TOOL = "pytest-mlperf"


@dataclass(frozen=True)
class CostConfig:
    """Validated assumptions and prices, and the file they came from (None: defaults)."""

    assumptions: Assumptions = field(default_factory=Assumptions)
    prices: PriceTable = field(default_factory=bundled_prices)
    source: str | None = None

    def with_overrides(self, overrides: Mapping[str, Any], *, where: str) -> CostConfig:
        """The same config with flat assumption overrides (a marker's, the CLI's) applied."""
        if not overrides:
            return self
        assumptions = self.assumptions.replace(overrides, where=where)
        check_against_prices(assumptions, self.prices, where=where)
        return CostConfig(assumptions, self.prices, self.source)


def load_cost_config(path: str | os.PathLike[str] | None = None) -> CostConfig:
    """Read `[tool.pytest-mlperf.cost]` / `.pricing` (or a standalone file's `[cost]` and
    `[pricing]`) from `path`; None gives the defaults and the bundled prices.

    A pyproject.toml without those tables is fine and gives the defaults too.
    """
    if path is None:
        return CostConfig()
    label = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CostConfigError(f"{label}: cannot read the cost configuration: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CostConfigError(f"{label}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CostConfigError(f"{label}: not UTF-8 text: {exc}") from None
    except RecursionError:
        raise CostConfigError(f"{label}: nested too deeply to be a configuration") from None
    cost, pricing, prefix = _sections(data, label)
    return config_from_mapping(cost, pricing, where=f"{label}: {prefix}", source=label)


def config_from_mapping(
    cost: Mapping[str, Any] | None,
    pricing: Mapping[str, Any] | None,
    *,
    where: str = f"[tool.{TOOL}.",
    source: str | None = None,
) -> CostConfig:
    """Validated config from already-parsed tables (e.g. what pytest read from an ini file).

    `where` prefixes the table names in messages: ``"pyproject.toml: [tool.pytest-mlperf."``
    gives ``"pyproject.toml: [tool.pytest-mlperf.cost]: peak_to_average: ..."``.
    """
    cost_where, pricing_where = f"{where}cost]", f"{where}pricing]"
    for table, name in ((cost, cost_where), (pricing, pricing_where)):
        if table is not None and not isinstance(table, Mapping):
            raise CostConfigError(f"{name}: expected a table, got {table!r}")
    prices = load_prices(pricing or None, where=pricing_where)
    assumptions = Assumptions().replace(cost or {}, where=cost_where)
    check_against_prices(assumptions, prices, where=cost_where)
    return CostConfig(assumptions, prices, source)


def _sections(
    data: Mapping[str, Any], label: str
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, str]:
    tool = data.get("tool")
    if (isinstance(tool, Mapping) and TOOL in tool) or Path(label).name == "pyproject.toml":
        section = tool.get(TOOL, {}) if isinstance(tool, Mapping) else {}
        if not isinstance(section, Mapping):
            raise CostConfigError(f"{label}: [tool.{TOOL}]: expected a table")
        return section.get("cost"), section.get("pricing"), f"[tool.{TOOL}."
    for key in data:
        if key not in ("cost", "pricing"):
            raise CostConfigError(
                f"{label}: unknown top-level key {key!r}: expected [cost] and [pricing] tables "
                f"(or [tool.{TOOL}.cost] and [tool.{TOOL}.pricing])"
            )
    return data.get("cost"), data.get("pricing"), "["
