"""The HTML pages as a browser shows them: headless Chromium at 1280 px wide.

Each page is rendered with ``--dump-dom`` after a small script appended to a copy of it has
measured the document: its scroll width against the viewport (no horizontal scroll), the clause
table's rows, and whether every link to a failure lands on an element of the page. Without
Chromium the tests are skipped locally with that reason; CI installs it (``.ci/run``) and there
a missing browser fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fsconformance.reporting import report, scoreboard

WIDTH = 1280
_MEASURE = """
<script>
window.addEventListener("load", () => {
  const root = document.documentElement;
  const links = [...document.querySelectorAll('a[href^="#"]')];
  const out = document.createElement("pre");
  out.id = "fsct-measure";
  out.textContent = JSON.stringify({
    scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth,
    tables: document.querySelectorAll("table").length,
    clauseRows: document.querySelectorAll("#clauses tr").length,
    links: links.length,
    broken: links.filter(a => !document.getElementById(a.getAttribute("href").slice(1))).length,
  });
  document.body.appendChild(out);
});
</script>
"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed, and CI must have it (.ci/run installs it)")
    pytest.skip("chromium is not installed here (apt-get install chromium); CI installs it")


def _browser(*args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={WIDTH},900",
        "--virtual-time-budget=3000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def measure(page: Path) -> dict[str, int]:
    """What Chromium sees of ``page`` at 1280 px."""
    probe = page.with_name(page.stem + ".measure.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _MEASURE + "</body>"))
    done = _browser("--dump-dom", probe.as_uri())
    match = re.search(r'<pre id="fsct-measure">(.*?)</pre>', done.stdout, re.S)
    assert match, f"no measurement in Chromium's DOM: {done.stderr[-500:]}"
    return json.loads(match.group(1).replace("&quot;", '"'))


LONG = (
    "suites/test_runtime_put.py::test_"
    + "a_rather_long_test_name_" * 4
    + "[param-"
    + "x" * 80
    + "]"
)


def _junit(path: Path, backend: str, cases: list[tuple[str, str, str]]) -> Path:
    """A JUnit file as the plugin writes it: (nodeid, clauses, outcome) per case."""
    body = []
    for nodeid, clauses, outcome in cases:
        props = (
            f'<property name="fsconformance.nodeid" value="{nodeid}"/>'
            f'<property name="fsconformance.backend" value="{backend}"/>'
            f'<property name="fsconformance.boto3" value="1.40.0"/>'
            f'<property name="fsconformance.clauses" value="{clauses}"/>'
        )
        if outcome == "xfailed":
            props += '<property name="fsconformance.expectation" value="moto has no PutRecord"/>'
        inner = {
            "passed": "",
            "failed": '<failure message="AssertionError: a value that is long enough to need '
            "wrapping in the page, " + "and more words " * 20 + '">trace</failure>',
            "xfailed": '<skipped type="pytest.xfail" message="expected"/>',
            "unsupported": '<skipped type="pytest.skip" message="unsupported: needs ttl"/>',
        }[outcome]
        name = nodeid.split("::")[-1].replace('"', "")
        body.append(
            f'<testcase classname="suites.x" name="{name}"><properties>{props}</properties>'
            f"{inner}</testcase>"
        )
    path.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest">'
        + "".join(body)
        + "</testsuite></testsuites>",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    many = [(f"suites/test_a.py::test_{n}", clause, "passed") for n, clause in enumerate(CLAUSES)]
    return {
        "moto": _junit(tmp_path / "moto.xml", "moto", [*many, (LONG, "C-031 C-035", "failed")]),
        "moto-plain": _junit(
            tmp_path / "plain.xml",
            "moto-plain",
            [(f"suites/test_a.py::test_{n}", c, "xfailed") for n, c in enumerate(CLAUSES)]
            + [("suites/test_b.py::test_ttl", "C-110", "unsupported")],
        ),
        "endpoint": _junit(
            tmp_path / "endpoint.xml", "endpoint", [*many, (LONG, "C-031", "failed")]
        ),
    }


CLAUSES = ["C-016", "C-017", "C-031", "C-035", "C-041", "C-055", "C-060", "C-093", "C-110"]


def test_the_scoreboard_fits_1280_pixels_and_links_every_failure(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    board = scoreboard.build(runs)
    _, page = scoreboard.write(board, tmp_path / "board")
    seen = measure(page)
    assert seen["scrollWidth"] <= seen["clientWidth"] <= WIDTH, seen
    assert seen["clauseRows"] == 1 + len(CLAUSES), seen  # header + one row per clause
    assert seen["links"] >= 3 and seen["broken"] == 0, seen  # C-031 and C-035 on moto, C-031


def test_the_conformance_report_fits_1280_pixels(runs: dict[str, Path], tmp_path: Path) -> None:
    _, page = report.write(list(runs.values()), tmp_path / "report")
    seen = measure(page)
    assert seen["scrollWidth"] <= seen["clientWidth"] <= WIDTH, seen
    assert seen["tables"] >= 2, seen
    assert seen["links"] >= 2 and seen["broken"] == 0, seen


def test_a_page_that_is_too_wide_is_caught(tmp_path: Path) -> None:
    """The measurement itself: a page 2,000 px wide must not pass."""
    chromium()
    page = tmp_path / "wide.html"
    page.write_text('<!DOCTYPE html><html><body><div style="width:2000px">wide</div></body></html>')
    seen = measure(page)
    assert seen["scrollWidth"] > WIDTH, seen
