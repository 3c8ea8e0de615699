"""Hostile files and values outside a test run: each sub-command answers an unusable file
with exit status 2 and one line naming it, whatever is wrong with it; report sets are written
whole; validators refuse what arithmetic cannot use, with one line naming the argument."""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_markdown import record, result

from pytest_mlperf import report as report_package
from pytest_mlperf import validate
from pytest_mlperf.bench import Benchmarker
from pytest_mlperf.cli import main
from pytest_mlperf.cost import CostConfigError, parse_budget, validate_overrides
from pytest_mlperf.marks import MARKERS, MarkerError, parse_marker
from pytest_mlperf.neutral import neutral
from pytest_mlperf.plugin.manager import Manager
from pytest_mlperf.plugin.transport import SPOOL_KEY, Records, append_spool
from pytest_mlperf.report import ReportSetError, write_reports
from pytest_mlperf.settings import OPTIONS, Settings, SettingsError

GOOD = record([result("t.py::test_a"), result("t.py::test_b", "fail")])


def _damaged(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    change(data)
    return data


# family: (file content, what the one line says)
FILES: dict[str, tuple[bytes, str]] = {
    "not_utf8": (b'{"schema": "\xe9\xff"}', "not UTF-8 text"),
    "deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "empty": (b"", "the file is empty"),
    "truncated": (json.dumps(GOOD).encode()[:200], "not valid JSON"),
    "not_an_object": (b"[1, 2]", "not a pytest-mlperf"),
    "pytest_benchmark": (
        json.dumps({"benchmarks": [], "machine_info": {}}).encode(),
        "a pytest-benchmark file",
    ),
    "results_not_a_list": (
        json.dumps(_damaged(lambda d: d.update(results="x"))).encode(),
        "'results' is missing or not a list",
    ),
    "huge_figure": (
        json.dumps(_damaged(lambda d: d["results"][0]["latency_ms"].update(p95=1e308))).encode(),
        "result #0 has no valid 'latency_ms'",
    ),
    "huge_int": (
        json.dumps(_damaged(lambda d: d["results"][0].update(throughput_rps=10**400))).encode(),
        "result #0 has no valid 'throughput_rps'",
    ),
    "infinity": (
        json.dumps(_damaged(lambda d: d["results"][0]["latency_ms"].update(p50=math.inf))).encode(),
        "result #0 has no valid 'latency_ms'",
    ),
    "huge_samples": (
        json.dumps(_damaged(lambda d: d["results"][0].update(samples_ms=[1e308] * 5))).encode(),
        "result #0 has invalid 'samples_ms'",
    ),
    "bad_probe_readings": (
        json.dumps(
            _damaged(lambda d: d["results"][0].update(stability={"probe_windows_ms": ["x"]}))
        ).encode(),
        "result #0 has invalid 'stability.probe_windows_ms'",
    ),
}


@pytest.mark.parametrize("family", sorted(FILES))
@pytest.mark.parametrize("command", ["report", "merge", "compare"])
def test_unusable_files_exit_2_with_one_line(
    tmp_path: Path, capsys: Any, family: str, command: str
) -> None:
    content, message = FILES[family]
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    args = {
        "report": ["report", str(bad), "--json", str(tmp_path / "out" / "x.json")],
        "merge": ["merge", str(good), str(bad), "-o", str(tmp_path / "out")],
        "compare": ["compare", str(good), str(bad)],
    }[command]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"pytest-mlperf {command}: error: {bad}: ") and message in err
    assert "\n" not in err
    assert not (tmp_path / "out").exists()  # nothing written before the error


def test_a_record_without_a_summary_writes_nothing(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_damaged(lambda d: d.pop("summary"))))
    assert main(["report", str(path), "--json", str(tmp_path / "out" / "x.json")]) == 2
    assert "missing field 'summary'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("section", ["lost", "interrupted"])
def test_lost_or_interrupted_records_fail_in_report_and_merge(
    tmp_path: Path, capsys: Any, section: str
) -> None:
    extra: dict[str, Any] = {"lost": ["t.py::test_c"]} if section == "lost" else {}
    data = record([result("t.py::test_a")], interrupted=section == "interrupted", **extra)
    assert data["summary"]["verdict"] == "fail"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    assert main(["report", str(path)]) == 1
    assert main(["merge", str(path), "-o", str(tmp_path / "merged")]) == 1
    merged = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert merged.get(section) == data[section]
    shown = capsys.readouterr().out
    assert ("LOST t.py::test_c" if section == "lost" else "INTERRUPTED:") in shown


def test_the_html_page_says_a_run_is_partial() -> None:
    pytest.importorskip("jinja2")
    from pytest_mlperf.report.html import render_html

    page = render_html(record([result("t.py::a")], lost=["t.py::b"], interrupted=True))
    assert "Interrupted: the run was stopped before its end" in page
    assert "Lost (their worker crashed): t.py::b" in page


@pytest.mark.parametrize(
    "flag", ["--requests-per-month", "--p95-ms", "--peak-to-average", "--throughput-rps"]
)
def test_cost_refuses_huge_figures(capsys: Any, flag: str) -> None:
    assert main(["cost", "--p95-ms", "5", flag, "1e308"]) == 2
    err = capsys.readouterr().err.strip()
    assert "at most" in err and "1e+308" in err and "\n" not in err


PRICING = "[tool.pytest-mlperf.pricing.aws_lambda]\n"
CONFIGS = {
    "huge_price": (PRICING + "gb_s_x86 = 1e308\n", "gb_s_x86: expected a number up to 1e+15"),
    "huge_int": (PRICING + f"gb_s_x86 = {10**80}\n", "gb_s_x86: expected a number up to 1e+15"),
    "huge_tier": (
        PRICING + f"gb_s_x86 = [[1, {10**400}]]\n",
        "gb_s_x86: expected a price or a list of [up_to, price] pairs",
    ),
    "huge_traffic": (
        "[tool.pytest-mlperf.cost]\nrequests_per_month = 1e308\n",
        "requests_per_month: expected a number above 0 and at most 1e+15",
    ),
    "deep": ("[tool.pytest-mlperf.cost]\na = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
}


@pytest.mark.parametrize("family", sorted(CONFIGS))
def test_unusable_cost_configs_exit_2_with_one_line(
    tmp_path: Path, capsys: Any, family: str
) -> None:
    text, message = CONFIGS[family]
    config = tmp_path / "costs.toml"
    config.write_text(text)
    assert main(["cost", "--p95-ms", "5", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"pytest-mlperf cost: error: {config}") and message in err
    assert "\n" not in err


def test_compare_output_is_neutralised(tmp_path: Path, capsys: Any) -> None:
    hostile = "\x1b[2J\u202eevil|a\n|b\x00"
    base, new = tmp_path / "a.json", tmp_path / "b.json"
    base.write_text(json.dumps(GOOD))
    new.write_text(json.dumps(record([result("t.py::test_a", name=hostile)])))
    for form in ("table", "md"):
        main(["compare", str(base), str(new), "--format", form])
        out = capsys.readouterr().out
        assert not any(c in out for c in ("\x1b", "\x00", "\u202e"))


# -- report sets ----------------------------------------------------------------------------


def test_a_failing_renderer_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "report.md").write_text("the previous run")

    def broken(report: Any) -> str:
        raise ValueError("cannot draw")

    monkeypatch.setattr(report_package, "render_markdown", broken)
    with pytest.raises(ReportSetError) as caught:
        write_reports(GOOD, str(tmp_path), html=False)
    assert caught.value.failed == {str(tmp_path / "report.md"): "ValueError: cannot draw"}
    assert caught.value.written == [str(tmp_path / "report.json")]
    # the previous run's Markdown is gone: it must not pass for this run's
    assert sorted(os.listdir(tmp_path)) == ["report.json"]


def test_a_file_that_cannot_be_written_costs_only_itself(tmp_path: Path) -> None:
    taken = tmp_path / "export.json"
    taken.mkdir()  # a folder where the pytest-benchmark export should go
    with pytest.raises(ReportSetError) as caught:
        write_reports(GOOD, str(tmp_path / "out"), html=False, extra=[(str(taken), str)])
    assert list(caught.value.failed) == [str(taken)]
    assert sorted(os.listdir(tmp_path / "out")) == ["report.json", "report.md"]


def test_an_interrupted_rendering_leaves_one_whole_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_reports(record([result("t.py::old")]), str(tmp_path), html=False)

    def stopped(report: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(report_package, "render_markdown", stopped)
    with pytest.raises(ReportSetError) as caught:
        write_reports(GOOD, str(tmp_path), html=False, extra=[(str(tmp_path / "b.json"), str)])
    assert caught.value.interrupted
    assert set(caught.value.failed) == {str(tmp_path / "report.md"), str(tmp_path / "b.json")}
    assert sorted(os.listdir(tmp_path)) == ["report.json"]  # no old Markdown beside it
    assert "t.py::test_a" in (tmp_path / "report.json").read_text()


# -- validators, with hostile values ---------------------------------------------------------

HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(10**400),
)


@settings(deadline=None)
@given(key=st.sampled_from(sorted(validate.BENCHMARKER_CHECKS)), value=HOSTILE_VALUES)
def test_benchmarker_settings_are_refused_in_one_line_or_usable(key: str, value: Any) -> None:
    try:
        bench = Benchmarker(**{key: value})
    except validate.ArgumentError as exc:
        assert str(exc).startswith(f"{key} must be ") and "\n" not in str(exc)
        return
    # accepted: finite, in range, and seconds that turn into nanoseconds without overflow
    assert math.isfinite(bench.max_time) and int(bench.max_time * 1e9) >= 0
    assert int(bench.warmup_time * 1e9) >= 0 and bench.samples >= 2


@given(
    key=st.sampled_from(sorted({*validate.AB_CHECKS, *validate.ADVISE_CHECKS})),
    value=HOSTILE_VALUES,
)
def test_ab_and_advise_options_are_refused_in_one_line(key: str, value: Any) -> None:
    table = validate.AB_CHECKS if key in validate.AB_CHECKS else validate.ADVISE_CHECKS
    try:
        validate.settings({key: value}, table)
    except validate.ArgumentError as exc:
        assert str(exc).startswith(f"{key} must be ") and "\n" not in str(exc)


@settings(deadline=None)
@given(
    marker=st.sampled_from(sorted(MARKERS)),
    kwargs=st.dictionaries(
        st.sampled_from(["p50_ms", "p95_ms", "p99_ms", "mean_ms", "min_rps", "max_mb", "p95"]),
        HOSTILE_VALUES,
        max_size=3,
    ),
)
def test_marker_kwargs_are_refused_in_one_line_or_usable(
    marker: str, kwargs: dict[str, Any]
) -> None:
    try:
        limits = parse_marker(marker, (), kwargs)
    except MarkerError as exc:
        assert str(exc).startswith(f"@pytest.mark.{marker}") and "\n" not in str(exc)
        return
    assert limits and all(math.isfinite(lim.value) and lim.value > 0 for lim in limits)


@settings(deadline=None)
@given(option=st.sampled_from([o for o in OPTIONS if not o.flag]), value=HOSTILE_VALUES)
def test_option_values_are_refused_in_one_line_or_usable(option: Any, value: Any) -> None:
    try:
        Settings.from_lookup(lambda name: value if name == option.name else None)
    except SettingsError as exc:
        assert str(exc).startswith(option.ini) and "\n" not in str(exc)


@settings(deadline=None)
@given(
    key=st.sampled_from(["requests_per_month", "peak_to_average", "speed_factor", "min_replicas"]),
    value=HOSTILE_VALUES,
)
def test_cost_assumptions_are_refused_in_one_line_or_finite(key: str, value: Any) -> None:
    try:
        checked = validate_overrides({key: value}, where="test")
    except CostConfigError as exc:
        assert str(exc).startswith(f"test: {key}: ") and "\n" not in str(exc)
        return
    number = checked[key]
    assert number is None or (math.isfinite(number) and number <= 1e15)


@given(st.text())
def test_neutral_text_holds_no_control_or_bidi_character(text: str) -> None:
    shown = neutral(text)
    assert not any(
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u061c\u200e\u200f" for c in shown
    )
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in shown)
    assert neutral(shown) == shown  # neutralising twice changes nothing


@settings(deadline=None)
@given(
    path=st.sampled_from(
        [
            ("summary",),
            ("results",),
            ("results", 0),
            ("results", 0, "latency_ms"),
            ("results", 0, "checks"),
            ("environment",),
            ("settings",),
            ("costs",),
            ("errors",),
        ]
    ),
    value=HOSTILE_VALUES,
)
def test_corrupted_records_never_raise_in_report(
    tmp_path_factory: pytest.TempPathFactory, path: tuple[Any, ...], value: Any
) -> None:
    data: Any = copy.deepcopy(GOOD)
    target = data
    for step in path[:-1]:
        target = target[step]
    try:
        target[path[-1]] = value
    except (TypeError, IndexError):
        return
    folder = tmp_path_factory.mktemp("corrupt")
    file = folder / "r.json"
    file.write_text(json.dumps(data, default=repr))
    assert main(["report", str(file)]) in (0, 1, 2)
    assert main(["report", str(file), "--md", str(folder / "r.md")]) in (0, 1, 2)


@settings(deadline=None)
@given(
    kwargs=st.dictionaries(
        st.sampled_from(["max_monthly_usd", "warn_monthly_usd", "tier", "requests_per_month"]),
        HOSTILE_VALUES,
        max_size=3,
    )
)
def test_budget_kwargs_are_refused_in_one_line_or_usable(kwargs: dict[str, Any]) -> None:
    try:
        spec = parse_budget(kwargs, where="@pytest.mark.budget")
    except CostConfigError as exc:
        assert str(exc).startswith("@pytest.mark.budget") and "\n" not in str(exc)
        return
    limit = spec.max_monthly_usd if spec.max_monthly_usd is not None else spec.warn_monthly_usd
    assert limit is not None and math.isfinite(limit) and limit > 0


@given(X=HOSTILE_VALUES, method=HOSTILE_VALUES, name=HOSTILE_VALUES)
def test_call_arguments_are_refused_in_one_line_or_usable(X: Any, method: Any, name: Any) -> None:
    try:
        validate.call(X, method, name)
    except validate.ArgumentError as exc:
        assert str(exc).split(" ")[0] in ("X", "method", "name") and "\n" not in str(exc)
        return
    assert isinstance(method, str) and (name is None or isinstance(name, str))


def _unsafe(text: str, *, lines: bool = False) -> list[str]:
    """Characters a terminal or parser would obey; `lines`: line breaks are the page's own."""
    return [c for c in text if not (lines and c == "\n") and neutral(c) != c]


@settings(deadline=None, max_examples=50)
@given(name=st.text(min_size=1, max_size=12), message=st.text(max_size=12))
def test_hostile_names_reach_no_output_raw(name: str, message: str) -> None:
    from pytest_mlperf.plugin.review import junit_properties
    from pytest_mlperf.report.markdown import render_markdown
    from pytest_mlperf.report.terminal import render_terminal

    data = record(
        [result(f"t.py::test_[{name}]", "fail", name=name)],
        errors=[{"nodeid": "t.py::test_b", "message": message}],
        lost=[name],
    )
    lines = render_terminal(data, verbose=True)
    assert not [line for line in lines if _unsafe(line)]
    assert not _unsafe(render_markdown(data), lines=True)
    props = junit_properties(Records(entries=data["results"]))
    assert not [p for p in props if _unsafe(p[0]) or _unsafe(str(p[1]))]


# -- xdist bookkeeping ------------------------------------------------------------------------


def _manager() -> Manager:
    return Manager(SimpleNamespace(), Settings(), None, None)  # type: ignore[arg-type]


def test_a_worker_reported_down_twice_is_counted_once(tmp_path: Path) -> None:
    manager = _manager()
    manager.gather.spool = str(tmp_path)
    append_spool(str(tmp_path), "gw0", Records(entries=[{"nodeid": "t.py::a"}]))
    node = SimpleNamespace(workerinput={"workerid": "gw0", "workercount": 2}, workeroutput={})
    manager.pytest_testnodedown(node, "interrupted")
    manager.pytest_testnodedown(node, "interrupted")  # as xdist does for an interrupted worker
    assert manager.gather.records.entries == [{"nodeid": "t.py::a"}]
    assert manager.gather.crashed == ["gw0"]


def test_workers_that_never_finished_are_read_and_the_spool_removed() -> None:
    manager = _manager()
    node = SimpleNamespace(workerinput={"workerid": "gw1"})
    manager.pytest_configure_node(node)
    folder = node.workerinput[SPOOL_KEY]
    append_spool(folder, "gw1", Records(entries=[{"nodeid": "t.py::b"}]))
    manager.gather.gather_unfinished_workers()  # a Ctrl-C: xdist never reported gw1 down
    assert manager.gather.records.entries == [{"nodeid": "t.py::b"}]
    assert not os.path.exists(folder)
