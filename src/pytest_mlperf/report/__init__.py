"""Renderers of the report record, and atomic writing of the report files."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from .markdown import render_markdown


def atomic_write(path: str, text: str) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_reports(report: dict[str, Any], directory: str) -> list[str]:
    """Write report.json and report.md; return their paths."""
    json_path = os.path.join(directory, "report.json")
    md_path = os.path.join(directory, "report.md")
    atomic_write(json_path, json.dumps(report, indent=2, allow_nan=False) + "\n")
    atomic_write(md_path, render_markdown(report))
    return [json_path, md_path]


def append_step_summary(report: dict[str, Any]) -> str | None:
    """Append the Markdown to $GITHUB_STEP_SUMMARY when it is set; return that path."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(render_markdown(report) + "\n")
    return summary or None
