"""Renderers of the report record, and atomic writing of the report files."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
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


Renderer = Callable[[dict[str, Any]], str]


class ReportSetError(Exception):
    """Some files of a report set could not be rendered or written; the others were.

    `failed` maps each missing file to why; `interrupted` says a Ctrl-C or SIGTERM stopped
    the rendering (the caller then ends the run as interrupted).
    """

    def __init__(self, written: list[str], failed: dict[str, str], interrupted: bool) -> None:
        self.written, self.failed, self.interrupted = written, failed, interrupted
        super().__init__("; ".join(f"{name} not written: {why}" for name, why in failed.items()))


SET_NAMES = ("report.json", "report.md", "report.html")


def write_reports(
    report: dict[str, Any],
    directory: str | None,
    *,
    html: bool = True,
    extra: Sequence[tuple[str, Renderer]] = (),
) -> list[str]:
    """Write report.json, report.md and, when jinja2 is importable, report.html (and
    `extra` (path, renderer) pairs, such as the pytest-benchmark export) as one set; return
    the paths written. Without jinja2 the HTML is skipped: a test run must not fail for want
    of one page (`pytest-mlperf report --html` says how to get it).

    Every file is rendered before any is written, so an interruption while rendering leaves
    the previous set untouched. Then the previous report.json goes first and the new one comes
    last, and a file of the set this run does not write is removed: a folder holding a
    report.json holds one whole set. A renderer that fails costs only its own file:
    `ReportSetError` says which, after the others are written.
    """
    renderers: list[tuple[str, Renderer]] = []
    if directory is not None:  # None: only the `extra` files
        renderers += [
            (os.path.join(directory, "report.json"), report_json),
            (os.path.join(directory, "report.md"), render_markdown),
        ]
        if html and html_available():
            renderers.append((os.path.join(directory, "report.html"), render_html))
    renderers += list(extra)
    texts: dict[str, str] = {}
    failed: dict[str, str] = {}
    interrupted = False
    for path, render in renderers:
        if interrupted:
            failed[path] = "interrupted"
            continue
        try:
            texts[path] = render(report)
        except KeyboardInterrupt:
            interrupted, failed[path] = True, "interrupted"
        except Exception as exc:  # a renderer's bug or a value it cannot show
            failed[path] = f"{type(exc).__name__}: {exc}"
    json_path = None if directory is None else os.path.join(directory, "report.json")
    if directory is not None:
        os.makedirs(directory, exist_ok=True)
        for name in SET_NAMES:  # the previous set's files: none may stay beside the new ones
            stale = os.path.join(directory, name)
            if (stale == json_path or stale not in texts) and os.path.exists(stale):
                os.remove(stale)
    written_now: set[str] = set()
    for path in sorted(texts, key=lambda p: p == json_path):  # report.json last
        try:
            atomic_write(path, texts[path])
        except OSError as exc:  # a folder in the way, a full disk: this file only
            failed[path] = str(exc.strerror or exc)
            continue
        written_now.add(path)
    written = [path for path, _ in renderers if path in written_now]
    if failed:
        raise ReportSetError(written, failed, interrupted)
    return written


def append_step_summary(report: dict[str, Any]) -> str | None:
    """Append the Markdown to $GITHUB_STEP_SUMMARY when it is set; return that path."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(render_markdown(report) + "\n")
    return summary or None
