"""benchmarks/replay.py, the source of section 11's figures, on one kept hour."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_replay_counts_every_run_of_a_kept_hour(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    try:
        import replay

        hour = BENCHMARKS / "data" / "streams" / "20261207-125538.json.gz"
        assert replay.main([str(hour)]) == 0
        out = capsys.readouterr().out
        assert replay.main(["--metric", "p99", str(hour)]) == 0
    finally:  # benchmarks/stability.py must not stay importable as `stability`
        sys.modules.pop("replay", None)
        sys.modules.pop("stability", None)
    p99 = capsys.readouterr().out
    # p99 limits: no verdict before 300 calls, so a model 5x over its limit FAILs at 300
    assert "2 hour x model streams; p99 limits" in p99
    far = next(line for line in p99.splitlines() if line.startswith("| 0.2x |"))
    assert [cell.strip() for cell in far.strip("|").split("|")][1:6] == ["0", "16", "0", "0", "0"]
    # four loops, two runs cut from each, per model; on this steady hour (loops within x1.12)
    # no limit flips, every clear limit is decided and every interval covers
    assert "1 recorded hours (20261207-125538), 2 hour x model streams; p95 limits" in out
    row = next(line for line in out.splitlines() if line.startswith("| 15% |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1:4] == ["0 of 4", "16 / 16", "16 / 16"]
    assert cells[6] == "16 / 16"
    assert "| 20261207-125538 | forest | 4.02-4.32 (x1.07) | `ffffffff` | `pppppppp` |" in out
    # per limit, over both models' 16 runs: a model 5x under its limit PASSes in every run
    five = next(line for line in out.splitlines() if line.startswith("| 5x |"))
    assert [cell.strip() for cell in five.strip("|").split("|")][1:4] == ["16", "0", "0"]
    sys.modules.pop("replay", None)
    sys.modules.pop("stability", None)
