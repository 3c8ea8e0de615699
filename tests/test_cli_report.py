"""`pytest-mlperf report REPORT.json [--html] [--md] [--json]` and the files a run writes:
exit 1 on a FAIL record, 2 on unusable input with one clear line and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_markdown import HOSTILE, record, result

from pytest_mlperf import report as report_package
from pytest_mlperf.cli import main
from pytest_mlperf.report import html as html_module
from pytest_mlperf.report import write_reports
from pytest_mlperf.report.html import HtmlUnavailable


def write(path: Path, data: Any) -> str:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


@pytest.fixture
def passing(tmp_path: Path) -> str:
    return write(tmp_path / "pass.json", record([result("t.py::test_a")]))


@pytest.fixture
def failing(tmp_path: Path) -> str:
    nodeid = f"t.py::test_b[{HOSTILE}]"
    return write(tmp_path / "fail.json", record([result("t.py::test_a"), result(nodeid, "fail")]))


@pytest.fixture
def no_html(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if jinja2 were not installed."""

    def missing() -> None:
        raise HtmlUnavailable(html_module.INSTALL_HINT + " (No module named 'jinja2')")

    monkeypatch.setattr(html_module, "_modules", missing)
    monkeypatch.setattr(report_package, "html_available", lambda: False)


@pytest.fixture
def with_html() -> None:
    """report.html needs jinja2 (a dependency)."""
    pytest.importorskip("jinja2")


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)


def test_without_flags_prints_the_terminal_summary(passing: str, capsys: Any) -> None:
    assert main(["report", passing]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["test", "model", "batch"]
    assert out[-1] == "pytest-mlperf: 1 benchmarks, 1 checks, 0 failed, 0 inconclusive -> PASS"


def test_a_failed_record_exits_1_and_quiet_keeps_only_the_problems(
    failing: str, capsys: Any
) -> None:
    assert main(["report", failing, "-q"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL t.py::test_b[<script>") and out[-1].endswith("-> FAIL")
    assert len(out) == 2


def test_writes_each_format_asked_for_and_they_parse(
    failing: str, tmp_path: Path, capsys: Any, with_html: None
) -> None:
    out = tmp_path / "out"
    args = ["--json", str(out / "r.json"), "--md", str(out / "r.md"), "--html", str(out / "r.html")]
    assert main(["report", failing, *args]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[:3] == [
        f"pytest-mlperf: wrote {out / name}" for name in ("r.json", "r.md", "r.html")
    ]
    assert printed[3].endswith("-> FAIL")
    assert json.loads((out / "r.json").read_text()) == json.loads(Path(failing).read_text())
    markdown = (out / "r.md").read_text()
    assert markdown.startswith("## ❌ pytest-mlperf: FAIL") and "<script>" not in markdown
    page = (out / "r.html").read_text()
    tags = Tags()
    tags.feed(page)
    assert "html" in tags.tags and "script" not in tags.tags  # the hostile id stayed text
    assert not [p for p in os.listdir(out) if p.startswith(".tmp-")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ({"machine_info": {}, "benchmarks": []}, "not a pytest-mlperf/1 report"),
        ({"schema": "pytest-mlperf/2", "results": []}, "not a pytest-mlperf/1 report"),
        (None, "cannot be read"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    tmp_path: Path, capsys: Any, content: Any, message: str
) -> None:
    path = (
        str(tmp_path / "missing.json") if content is None else write(tmp_path / "r.json", content)
    )
    assert main(["report", path, "--md", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"pytest-mlperf report: error: {path}: ") and message in err
    assert "\n" not in err and not (tmp_path / "r.md").exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("summary", "cannot render this report (damaged or edited by hand?): missing field "),
        ("latency_ms", "result #0 has no valid 'latency_ms' with p50 and p95"),
    ],
)
def test_a_damaged_record_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: Any, damage: str, message: str
) -> None:
    data = record([result("t.py::test_a")])
    if damage == "summary":
        del data["summary"]
    else:
        del data["results"][0]["latency_ms"]
    path = write(tmp_path / "r.json", data)
    target = tmp_path / "r.json.copy"
    assert main(["report", path, "--json", str(target), "--md", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not target.exists()  # rendered everything first: no half of the outputs
    assert main(["report", path]) == 2


def test_html_without_the_extra_exits_2_saying_how_to_install(
    passing: str, tmp_path: Path, capsys: Any, no_html: None
) -> None:
    md = tmp_path / "r.md"
    assert main(["report", passing, "--md", str(md), "--html", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'pytest-mlperf[html]'" in err
    assert not md.exists()
    assert main(["report", passing, "--md", str(md)]) == 0  # the rest works without it


def test_write_reports_adds_html_when_the_extra_is_there(tmp_path: Path, with_html: None) -> None:
    paths = write_reports(record([result("t.py::test_a")]), str(tmp_path))
    assert [Path(p).name for p in paths] == ["report.json", "report.md", "report.html"]
    assert Path(paths[2]).read_text().lstrip().lower().startswith("<!doctype html>")
    assert sorted(os.listdir(tmp_path)) == ["report.html", "report.json", "report.md"]


def test_write_reports_skips_html_silently_without_the_extra(tmp_path: Path, no_html: None) -> None:
    paths = write_reports(record([result("t.py::test_a")]), str(tmp_path))
    assert [Path(p).name for p in paths] == ["report.json", "report.md"]
    assert sorted(os.listdir(tmp_path)) == ["report.json", "report.md"]


def test_the_console_script_prints_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path / "r.json", "[]")
    done = subprocess.run(
        [sys.executable, "-m", "pytest_mlperf.cli", "report", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"pytest-mlperf report: error: {path}: not a pytest-mlperf/1 report (schema: 'list')"
    )


def test_reports_get_the_usual_permissions_not_private_ones(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        paths = write_reports(record([result("t.py::test_a")]), str(tmp_path))
    finally:
        os.umask(umask)
    assert {oct(os.stat(p).st_mode & 0o777) for p in paths} == {oct(0o644)}
