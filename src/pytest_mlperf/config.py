"""Run-wide settings: command-line options with ini twins, validated once into a frozen object.

Kept free of pytest imports: `plugin.py` hands over a lookup function for each option.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

INCONCLUSIVE_POLICIES = ("warn", "fail", "pass")
DEFAULT_REPORT_DIR = "mlperf-report"


class SettingsError(ValueError):
    """An option or ini value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    report_dir: str | None = None
    disable: bool = False
    max_time: float = 10.0
    confidence: float = 0.95
    inconclusive: str = "warn"

    @classmethod
    def from_lookup(cls, get: Callable[[str], Any]) -> Settings:
        """Build from `get(name)`, which returns the option (or its ini twin) or None."""
        return cls(
            report_dir=_report_dir(get("report")),
            disable=_boolean("mlperf_disable", get("disable")),
            max_time=_positive("mlperf_max_time", get("max_time"), 10.0),
            confidence=_confidence(get("confidence")),
            inconclusive=_choice("mlperf_inconclusive", get("inconclusive")),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "confidence": self.confidence,
            "max_time": self.max_time,
            "inconclusive": self.inconclusive,
            "disable": self.disable,
        }


def _report_dir(value: Any) -> str | None:
    if value in (None, "", False):
        return None
    text = str(value)
    if "::" in text or text.endswith(".py"):
        # `pytest --mlperf-report tests/test_x.py` takes the test path as the folder
        raise SettingsError(
            f"--mlperf-report got {text!r}, which looks like a test path, not a folder: "
            "write --mlperf-report=DIR, or put the test paths before --mlperf-report"
        )
    return text


def _boolean(name: str, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def parse_positive_float(text: Any) -> float:
    """Argparse-style converter: a finite number above zero."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise SettingsError(f"expected a number, got {text!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise SettingsError(f"expected a positive number, got {text!r}")
    return number


def parse_confidence(text: Any) -> float:
    number = parse_positive_float(text)
    if not 0.5 <= number < 1:
        raise SettingsError(f"expected a confidence between 0.5 and 1 (e.g. 0.95), got {text!r}")
    return number


def _positive(name: str, value: Any, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        return parse_positive_float(value)
    except SettingsError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _confidence(value: Any) -> float:
    if value in (None, ""):
        return 0.95
    try:
        return parse_confidence(value)
    except SettingsError as exc:
        raise SettingsError(f"mlperf_confidence: {exc}") from None


def _choice(name: str, value: Any) -> str:
    if value in (None, ""):
        return "warn"
    text = str(value).strip().lower()
    if text not in INCONCLUSIVE_POLICIES:
        raise SettingsError(
            f"{name} must be one of {', '.join(INCONCLUSIVE_POLICIES)}, got {value!r}"
        )
    return text
