"""`pytest-mlperf merge A/report.json B/report.json -o merged/`: one report from CI shards, exit 1
when the merged verdict is FAIL (so CI can gate on it), 2 on files that cannot be merged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_markdown import ENVIRONMENT, comparison, record, result

from pytest_mlperf.cli import main


def shard(tmp_path: Path, name: str, *nodes: str, fingerprint: str, fail: str = "") -> str:
    """One shard's report.json in its own folder, as each CI job would upload it."""
    report = record([result(n, "fail" if n == fail else "pass") for n in nodes])
    report["environment"] = {**ENVIRONMENT, "fingerprint": fingerprint}
    folder = tmp_path / name
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(report))
    return str(folder / "report.json")


def test_merges_shards_into_one_report_and_says_where(tmp_path: Path, capsys: Any) -> None:
    a = shard(tmp_path, "a", "t.py::test_1", "t.py::test_2", fingerprint="aaa")
    b = shard(tmp_path, "b", "t.py::test_3", fingerprint="bbb")
    out = tmp_path / "merged"
    assert main(["merge", a, b, "-o", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    written = [line.removeprefix("pytest-mlperf: wrote ") for line in printed[:-1]]
    assert [Path(p).name for p in written][:2] == ["report.json", "report.md"]
    assert all(Path(p).parent == out for p in written)
    assert printed[-1] == "pytest-mlperf: 3 benchmarks, 0 failed checks, 0 errors -> PASS"
    merged = json.loads((out / "report.json").read_text())
    assert [(e["nodeid"], e["shard"]) for e in merged["results"]] == [
        ("t.py::test_1", 0),
        ("t.py::test_2", 0),
        ("t.py::test_3", 1),
    ]
    assert [s["environment"]["fingerprint"] for s in merged["shards"]] == ["aaa", "bbb"]
    markdown = (out / "report.md").read_text()
    assert markdown.startswith("## ✅ pytest-mlperf: PASS")
    assert "2 different machines" in markdown and "Shard 1:" in markdown
    assert main(["report", str(out / "report.json"), "-q"]) == 0  # the merged record reads back


def test_a_failing_shard_fails_the_merged_report(tmp_path: Path, capsys: Any) -> None:
    a = shard(tmp_path, "a", "t.py::test_1", fingerprint="aaa")
    b = shard(tmp_path, "b", "t.py::test_2", fingerprint="aaa", fail="t.py::test_2")
    assert main(["merge", a, b, "-o", str(tmp_path / "merged")]) == 1
    assert capsys.readouterr().out.splitlines()[-1].endswith("1 failed checks, 0 errors -> FAIL")
    assert (tmp_path / "merged" / "report.json").is_file()  # written before the gate


def test_the_same_test_in_two_shards_is_refused(tmp_path: Path, capsys: Any) -> None:
    a = shard(tmp_path, "a", "t.py::test_1", fingerprint="aaa")
    b = shard(tmp_path, "b", "t.py::test_1", fingerprint="bbb")
    assert main(["merge", a, b, "-o", str(tmp_path / "merged")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"pytest-mlperf merge: error: t.py::test_1 (batch 1) is in both {a} and {b} "
        "(measured on another machine): each test must come from one shard"
    )
    assert not (tmp_path / "merged").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"schema": "pytest-mlperf/2", "results": []}, "not a pytest-mlperf/1 report"),
        ({"machine_info": {}, "benchmarks": []}, "not a pytest-mlperf/1 report"),
        ("", "the file is empty"),
    ],
)
def test_other_files_are_refused_naming_them(
    tmp_path: Path, capsys: Any, content: Any, message: str
) -> None:
    a = shard(tmp_path, "a", "t.py::test_1", fingerprint="aaa")
    other = tmp_path / "other.json"
    other.write_text(content if isinstance(content, str) else json.dumps(content))
    assert main(["merge", a, str(other), "-o", str(tmp_path / "merged")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"pytest-mlperf merge: error: {other}: ") and message in err
    assert "\n" not in err


def test_an_unwritable_output_exits_2(tmp_path: Path, capsys: Any) -> None:
    a = shard(tmp_path, "a", "t.py::test_1", fingerprint="aaa")
    (tmp_path / "taken").write_text("a file, not a folder")
    assert main(["merge", a, "-o", str(tmp_path / "taken")]) == 2
    assert f"cannot write to {tmp_path / 'taken'}" in capsys.readouterr().err


def test_output_is_required(tmp_path: Path, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["merge", shard(tmp_path, "a", "t.py::test_1", fingerprint="aaa")])
    assert exit_info.value.code == 2
    assert "-o/--output" in capsys.readouterr().err


def test_a_shard_that_regressed_fails_the_merged_report(tmp_path: Path) -> None:
    report = record(
        [result("t.py::test_1")], comparisons=[comparison("t.py::test_1", "regression")]
    )
    assert report["summary"]["verdict"] == "fail"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "report.json").write_text(json.dumps(report))
    assert main(["merge", str(tmp_path / "a" / "report.json"), "-o", str(tmp_path / "m")]) == 1
