"""report.html in a real browser: headless Chromium (Debian's `chromium` package).

Two runs of the browser, a few seconds each. The first opens a copy of a page full of hostile
test ids with a probe script added (allowed by a nonce added to the page's own policy): the
probe records errors and policy violations, measures every figure and checks that the hostile
ids are shown as text and never ran; `--dump-dom` hands the result back. The second opens the
page as written, with console logging on, and takes the screenshot used in the docs: any
console message at all fails the test, since the page has no scripts of its own.

Set UPDATE_SCREENSHOTS=1 to copy the screenshot to docs/screenshots/report.png.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jinja2", reason="report.html needs jinja2")

from test_html import HOSTILE, HOSTILE_IMG, many, sample_report

from pytest_mlperf.report.html import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not found: install Debian's package (apt-get install chromium) to run the "
    "browser test of report.html; .ci/run installs it",
)
NARROW = "<style>html { width: 420px; }</style>"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "report.png"
WINDOW = (1280, 2400)
PROBE_HEAD = """<script nonce="probe">
window.__problems = [];
addEventListener("error", (e) => window.__problems.push("error: " + (e.message ||
  (e.target && e.target.outerHTML ? e.target.outerHTML.slice(0, 200) : "resource"))), true);
addEventListener("securitypolicyviolation", (e) =>
  window.__problems.push("policy: " + e.violatedDirective + " " + e.blockedURI));
</script>
"""
PROBE_BODY = """<script nonce="probe">
function reach(el) {
  // the right edge of what shows: a scroll container's content scrolls inside it instead
  let right = el.getBoundingClientRect().right;
  if (getComputedStyle(el).overflowX !== "visible") return right;
  for (const child of el.children) right = Math.max(right, reach(child));
  return right;
}
function probe() {
  // passing benchmarks and cost details are folded: one click away, as a reader opens them
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const figures = [...document.querySelectorAll("svg, img")].map((el) => {
    const box = el.getBoundingClientRect();
    return {tag: el.tagName, width: box.width, height: box.height,
            visible: el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}),
            drawn: el.querySelectorAll("path, rect, polyline, polygon, circle").length};
  });
  const text = document.body.innerText;
  const out = document.getElementById("probe") || document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    problems: window.__problems, figures: figures, pwned: window.__pwned || 0,
    hostile_shown: [text.includes(%s), text.includes(%s)],
    page_width: document.documentElement.scrollWidth,
    content_right: reach(document.querySelector("main")),
  });
  document.body.appendChild(out);
}
probe();
addEventListener("load", probe);
</script>
"""


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def with_probe(page: str) -> str:
    """The page plus the probe; the page's policy gains only the probe's nonce."""
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert policy in page
    page = page.replace(policy, policy + "; script-src 'nonce-probe'", 1)
    page = page.replace("<title>", PROBE_HEAD + "<title>", 1)
    body = PROBE_BODY % tuple(js_string(s) for s in (HOSTILE, HOSTILE_IMG))
    return page.replace("</body>", body + "</body>", 1)


def js_string(text: str) -> str:
    """A JavaScript string literal that cannot end the script element it sits in."""
    return json.dumps(text).replace("<", "\\u003c")


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("browser")
    page = folder / "report.html"
    page.write_text(with_probe(render_html(sample_report(hostile=True))), encoding="utf-8")
    done = chromium(
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--dump-dom",
        page.as_uri(),
        profile=folder / "profile",
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"no probe result from Chromium (exit {done.returncode}):\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    result["console"] = console_lines(done.stderr)
    return result


def test_page_loads_without_errors(probed: dict[str, Any]) -> None:
    assert probed["problems"] == []
    assert probed["console"] == []


def test_every_figure_is_visible(probed: dict[str, Any]) -> None:
    figures = probed["figures"]
    assert len(figures) == 4 + 1 + 2  # per benchmark, the sweep, two cost entries
    for figure in figures:
        assert figure["visible"], figure
        assert figure["width"] > 300 and figure["height"] > 80, figure
        assert figure["drawn"] > 5, figure


def test_hostile_ids_show_as_text_and_never_run(probed: dict[str, Any]) -> None:
    assert probed["pwned"] == 0
    assert probed["hostile_shown"] == [True, True]


def test_page_fits_the_window(probed: dict[str, Any]) -> None:
    assert probed["page_width"] <= WINDOW[0]


@pytest.mark.parametrize("report", ["sample", "a thousand benchmarks"])
def test_a_phone_width_page_never_scrolls_sideways(tmp_path: Path, report: str) -> None:
    """At 420 px wide tables scroll inside their cards; the page itself never does."""
    record = sample_report(hostile=True)
    if report != "sample":
        record = many(record, 1000)
    page = tmp_path / "report.html"
    # headless Chromium's window is at least 500 px wide: the page's own box is narrowed to
    # 420 px instead (its narrow-screen styles apply below 600 px either way)
    narrow = with_probe(render_html(record)).replace("</head>", NARROW + "</head>", 1)
    page.write_text(narrow, encoding="utf-8")
    done = chromium(
        "--window-size=500,900", "--dump-dom", page.as_uri(), profile=tmp_path / "profile"
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, done.stderr[-3000:]
    result = json.loads(html.unescape(found.group(1)))
    assert result["problems"] == []
    assert result["content_right"] <= 420


def test_screenshot_without_console_messages(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(sample_report()), encoding="utf-8")
    shot = tmp_path / "report.png"
    done = chromium(
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--screenshot={shot}",
        page.as_uri(),
        profile=tmp_path / "profile",
    )
    assert console_lines(done.stderr) == []
    assert shot.exists(), done.stderr[-3000:]
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == WINDOW
    if os.environ.get("UPDATE_SCREENSHOTS"):
        save_screenshot(shot, SCREENSHOT)


def save_screenshot(source: Path, target: Path) -> None:
    """Copy to the docs as a 256-colour PNG: the same picture at a third of the size."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            target, optimize=True
        )
