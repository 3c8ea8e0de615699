"""The comparison record: one metric of one result against a stored run or a side-by-side baseline.

Stored-run comparison (:mod:`.compare`), side-by-side A/B (:mod:`.ab`), the report, its
renderers and the exit status all read this one type. :attr:`Comparison.fails_run` is the
only place that says whether a comparison fails the run, and :meth:`Comparison.to_dict` /
:meth:`Comparison.from_dict` are the only places that know its JSON shape
(``docs/report-schema.md``, ``comparisons[]``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Comparison", "ComparisonKind", "ComparisonVerdict", "comparisons_of", "flagged"]


class ComparisonVerdict(enum.StrEnum):
    """What a comparison found; the value is the JSON spelling, :attr:`label` the human one.

    A regression on a comparison that does not gate (a baseline from another machine, a metric
    an A/B comparison is not judged on, an A/B call without the regression marker) is ``WARN``:
    ``REGRESSION`` always fails the run. A member also compares equal to its upper-case name,
    the spelling ``ABResult.verdict`` was compared with (``result.verdict == "REGRESSION"``).
    """

    REGRESSION = "regression"
    WARN = "warn"
    SAME = "same"
    UNKNOWN = "unknown"
    IMPROVEMENT = "improvement"
    NEW = "new"
    MISSING = "missing"

    @property
    def label(self) -> str:
        """How people read it: upper case for what needs a look (``REGRESSION``, ``WARN``)."""
        return self.value.upper() if self.flagged else self.value

    @property
    def flagged(self) -> bool:
        """A finding a reader must see: a regression, gating or not."""
        return self in (ComparisonVerdict.REGRESSION, ComparisonVerdict.WARN)

    @classmethod
    def parse(cls, value: Any) -> ComparisonVerdict:
        """The verdict a record spells (either case); anything else reads as ``UNKNOWN``."""
        try:
            return cls(str(value).lower())
        except ValueError:
            return cls.UNKNOWN

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.value == other.lower()
        return NotImplemented

    __hash__ = str.__hash__


class ComparisonKind(enum.StrEnum):
    """Against a stored run (``--mlperf-compare``) or side by side in this process (``ab``)."""

    STORED = "stored"
    AB = "ab"


def _figure(value: Any) -> float | None:
    """A finite number as a float; anything else (text, NaN, an int too large) is absent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _counts(value: Any) -> dict[str, int] | None:
    """``blocks``: the integer entries of a JSON object (a damaged one keeps what is whole)."""
    if not isinstance(value, Mapping):
        return None
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def _spread(value: Any) -> dict[str, Any] | None:
    """``run_spread``: its figures (finite) and words; anything else is left out."""
    if not isinstance(value, Mapping):
        return None
    kept = {str(k): v if isinstance(v, str) else _figure(v) for k, v in value.items()}
    return {k: v for k, v in kept.items() if v is not None}


@dataclass(frozen=True)
class Comparison:
    """One metric of one result compared with its baseline, and the verdict.

    ``ratio`` is current over baseline (for throughput below 1 means slower), ``ci`` its
    interval at ``confidence``; ``p_value`` is one-sided in the direction of the change and
    ``p_adjusted`` the same after the multiple-testing correction (stored runs only).
    ``gating``: whether a regression here fails the run; a ``REGRESSION`` verdict given to a
    comparison that does not gate is recorded as ``WARN``, so the verdict alone says it.
    """

    kind: ComparisonKind
    nodeid: str
    name: str
    batch_size: int | None
    metric: str
    unit: str
    verdict: ComparisonVerdict
    message: str = ""
    baseline: float | None = None
    current: float | None = None
    ratio: float | None = None
    ci: tuple[float, float] | None = None
    confidence: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    test: str | None = None
    blocks: dict[str, int] | None = None
    run_spread: dict[str, Any] | None = None
    tolerance_pct: float | None = None
    same_machine: bool = True
    gating: bool = True
    baseline_path: str | None = None

    def __post_init__(self) -> None:
        if self.verdict is ComparisonVerdict.REGRESSION and not self.gating:
            object.__setattr__(self, "verdict", ComparisonVerdict.WARN)

    @property
    def fails_run(self) -> bool:
        """The gating rule: a regression on a comparison that gates fails the run."""
        return self.verdict is ComparisonVerdict.REGRESSION and self.gating

    def to_dict(self) -> dict[str, Any]:
        """The ``comparisons[]`` entry of report.json (``docs/report-schema.md``)."""
        data: dict[str, Any] = {
            "kind": self.kind.value,
            "nodeid": self.nodeid,
            "name": self.name,
            "batch_size": self.batch_size,
            "metric": self.metric,
            "unit": self.unit,
            "baseline": self.baseline,
            "current": self.current,
            "ratio": self.ratio,
            "ci": None if self.ci is None else list(self.ci),
            "confidence": self.confidence,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "test": self.test,
            "blocks": None if self.blocks is None else dict(self.blocks),
        }
        if self.kind is ComparisonKind.STORED:
            data["run_spread"] = None if self.run_spread is None else dict(self.run_spread)
        data.update(
            tolerance_pct=self.tolerance_pct,
            verdict=self.verdict.value,
            same_machine=self.same_machine,
            gating=self.gating,
            message=self.message,
        )
        if self.baseline_path is not None:
            data["baseline_path"] = self.baseline_path
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Comparison:
        """Read an entry of any report.json, however old or damaged: nothing here raises.

        Absent or unusable fields read as absent; ``gating`` is true unless the entry says
        otherwise. Reports written before the verdict was normalised hold ``regression``
        with ``gating: false`` for a regression that did not gate; it reads as ``WARN``.
        """
        d: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        ci = d.get("ci")
        low, high = (
            (_figure(ci[0]), _figure(ci[1]))
            if isinstance(ci, list | tuple) and len(ci) == 2
            else (None, None)
        )
        batch = d.get("batch_size")
        kind = ComparisonKind.AB if d.get("kind") == "ab" else ComparisonKind.STORED
        path = d.get("baseline_path")
        return cls(
            kind=kind,
            nodeid=_text(d.get("nodeid")),
            name=_text(d.get("name")),
            batch_size=batch if isinstance(batch, int) and not isinstance(batch, bool) else None,
            metric=_text(d.get("metric")),
            unit=_text(d.get("unit")),
            verdict=ComparisonVerdict.parse(d.get("verdict")),
            message=_text(d.get("message")),
            baseline=_figure(d.get("baseline")),
            current=_figure(d.get("current")),
            ratio=_figure(d.get("ratio")),
            ci=None if low is None or high is None else (low, high),
            confidence=_figure(d.get("confidence")),
            p_value=_figure(d.get("p_value")),
            p_adjusted=_figure(d.get("p_adjusted")),
            test=None if d.get("test") is None else str(d["test"]),
            blocks=_counts(d.get("blocks")),
            # a side-by-side comparison has no run-to-run spread: to_dict writes none
            run_spread=_spread(d.get("run_spread")) if kind is ComparisonKind.STORED else None,
            tolerance_pct=_figure(d.get("tolerance_pct")),
            same_machine=d.get("same_machine") is not False,
            gating=d.get("gating") is not False,
            baseline_path=None if path is None else str(path),
        )


def comparisons_of(report: Mapping[str, Any]) -> list[Comparison]:
    """The typed comparisons of a report record (any entry, however damaged, reads)."""
    entries = report.get("comparisons")
    return [Comparison.from_dict(c) for c in entries] if isinstance(entries, list) else []


def flagged(comparisons: Iterable[Comparison]) -> list[Comparison]:
    """The comparisons a reader must see (regressions and warnings), in their order."""
    return [c for c in comparisons if c.verdict.flagged]
