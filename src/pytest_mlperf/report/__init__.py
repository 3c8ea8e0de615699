"""Renderers of the report record, and atomic writing of the report files."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from ..files import new_temp_file
from .html import html_available, render_html
from .markdown import render_markdown


def atomic_write(path: str, text: str) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written file.

    The file gets the usual permissions (0666 less the umask), so CI can upload it.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = new_temp_file(folder, os.path.basename(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def report_json(report: Mapping[str, Any]) -> str:
    """The record as report.json holds it (a NaN or infinity raises ValueError: not JSON).

    One line per top-level key and per item of a top-level list (a result with its raw
    samples, a cost estimate, a comparison): still readable and diffable, and written by
    json's C encoder, which an indented dump cannot use (3x slower for a 20 MB record).
    """

    def dump(value: Any) -> str:
        return json.dumps(value, allow_nan=False, ensure_ascii=False)

    lines = []
    for key, value in report.items():
        if isinstance(value, list) and value:
            items = ",\n    ".join(dump(item) for item in value)
            lines.append(f"  {dump(key)}: [\n    {items}\n  ]")
        else:
            lines.append(f"  {dump(key)}: {dump(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_reports(report: dict[str, Any], directory: str, *, html: bool = True) -> list[str]:
    """Write report.json, report.md and, when jinja2 is importable, report.html; return the
    paths written. Without jinja2 the HTML is skipped: a test run must not fail for want of
    one page (`pytest-mlperf report --html` says how to get it)."""
    written = []
    renderers: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("report.json", report_json),
        ("report.md", render_markdown),
    ]
    if html and html_available():
        renderers.append(("report.html", render_html))
    for name, render in renderers:
        path = os.path.join(directory, name)
        atomic_write(path, render(report))
        written.append(path)
    return written


def append_step_summary(report: dict[str, Any]) -> str | None:
    """Append the Markdown to $GITHUB_STEP_SUMMARY when it is set; return that path."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(render_markdown(report) + "\n")
    return summary or None
