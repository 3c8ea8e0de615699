"""The comparison record's JSON edge: any entry of any report.json reads without raising, and
what is written reads back to the same record."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_hostile_files import HOSTILE_VALUES

from pytest_mlperf.regression.comparison import Comparison, ComparisonVerdict

FIELDS = [
    "kind", "nodeid", "name", "batch_size", "metric", "unit", "baseline", "current", "ratio",
    "ci", "confidence", "p_value", "p_adjusted", "test", "blocks", "run_spread",
    "tolerance_pct", "verdict", "same_machine", "gating", "message", "baseline_path",
]  # fmt: skip
VALUES = HOSTILE_VALUES | st.sampled_from([v.value for v in ComparisonVerdict] + ["ab"])


@settings(deadline=None)
@given(
    entry=st.dictionaries(
        st.sampled_from(FIELDS),
        VALUES | st.dictionaries(st.sampled_from(["sd", "source", "size"]), VALUES, max_size=3),
    )
    | VALUES
)
def test_any_entry_reads_and_writes_back_to_the_same_record(entry: Any) -> None:
    record = Comparison.from_dict(entry)
    written = json.loads(json.dumps(record.to_dict(), allow_nan=False))
    assert Comparison.from_dict(written) == record
    assert record.fails_run == (record.verdict is ComparisonVerdict.REGRESSION)
    assert not (record.verdict is ComparisonVerdict.REGRESSION and not record.gating)


def test_a_regression_that_does_not_gate_is_a_warning() -> None:
    entry = {"kind": "ab", "nodeid": "t.py::test_ab", "metric": "p95", "verdict": "regression"}
    assert Comparison.from_dict(entry).fails_run  # gating is true when a record omits it
    quiet = Comparison.from_dict({**entry, "gating": False})
    assert quiet.verdict is ComparisonVerdict.WARN and not quiet.fails_run
    assert quiet.to_dict()["verdict"] == "warn" and quiet.verdict.label == "WARN"
    assert ComparisonVerdict.SAME.label == "same" and ComparisonVerdict.SAME == "SAME"
