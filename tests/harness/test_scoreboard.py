"""The scoreboard: counts per clause and backend, reproduce commands, and the docs page's table.

``test_the_page_rows_match_a_fresh_run`` is what keeps docs/scoreboard.md honest between CI
runs: it runs the suites for a few clauses on the emulation and on plain moto, in subprocesses,
and requires the page's rows for those clauses to be exactly what the scoreboard writes from
that run. (CI checks the whole table against its full runs with ``--check-page``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fsconformance.cli import main
from fsconformance.reporting import scoreboard
from tests.helpers import REPO

# Small, fast clauses with passes on both backends and gaps on plain moto.
FRESH_CLAUSES = ("C-012", "C-037", "C-080")


def _junit(path: Path, backend: str, cases: list[tuple[str, str, str]]) -> Path:
    body = []
    for nodeid, clauses, outcome in cases:
        props = (
            f'<property name="fsconformance.nodeid" value="{nodeid}"/>'
            f'<property name="fsconformance.backend" value="{backend}"/>'
            f'<property name="fsconformance.clauses" value="{clauses}"/>'
        )
        if outcome == "xfailed":
            props += '<property name="fsconformance.expectation" value="moto has no PutRecord"/>'
        inner = {
            "passed": "",
            "failed": '<failure message="AssertionError: wrong">trace</failure>',
            "xfailed": '<skipped type="pytest.xfail" message="x"/>',
            "unsupported": '<skipped type="pytest.skip" message="unsupported: needs ttl"/>',
        }[outcome]
        body.append(
            f'<testcase classname="suites.t" name="{nodeid.rsplit("::", 1)[-1]}">'
            f"<properties>{props}</properties>{inner}</testcase>"
        )
    path.write_text(
        "<testsuites><testsuite>" + "".join(body) + "</testsuite></testsuites>", encoding="utf-8"
    )
    return path


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    return {
        "moto": _junit(
            tmp_path / "moto.xml",
            "moto",
            [
                ("suites/test_a.py::test_put", "C-030 C-031", "passed"),
                ("suites/test_a.py::test_ttl", "C-110", "unsupported"),
                ("suites/test_a.py::test_bad", "C-031", "failed"),
                ("tests/test_self.py::test_not_a_suite", "", "failed"),
            ],
        ),
        "endpoint": _junit(
            tmp_path / "endpoint.xml",
            "endpoint",
            [
                ("suites/test_a.py::test_put", "C-030 C-031", "xfailed"),
                ("suites/test_a.py::test_bad", "C-031", "failed"),
            ],
        ),
    }


def test_counts_per_clause_and_backend(runs: dict[str, Path]) -> None:
    board = scoreboard.build(runs)
    assert board.backends == ["moto", "endpoint"]
    assert board.cells["C-031"]["moto"] == {"pass": 1, "fail": 1, "unsupported": 0, "gap": 0}
    assert board.cells["C-031"]["endpoint"] == {"pass": 0, "fail": 1, "unsupported": 0, "gap": 1}
    assert board.cells["C-110"]["moto"]["unsupported"] == 1
    assert "endpoint" not in board.cells["C-110"]
    assert board.totals["moto"] == {"pass": 1, "fail": 1, "unsupported": 1, "gap": 0}
    assert [f.nodeid for f in board.failures] == ["suites/test_a.py::test_bad"] * 2
    assert board.gaps["endpoint"] == [("suites/test_a.py::test_put", "moto has no PutRecord")]
    assert scoreboard.cell_text(board.cells["C-031"]["endpoint"]) == "1 fail, 1 gap"


def test_pages_list_each_failure_with_a_command(runs: dict[str, Path], tmp_path: Path) -> None:
    board = scoreboard.build(runs)
    board.endpoint_url = "http://127.0.0.1:5123"
    for failure in board.failures:
        failure.command = scoreboard.reproduce(failure.backend, failure.nodeid, board.endpoint_url)
    md, page = scoreboard.write(board, tmp_path / "out")
    markdown = md.read_text(encoding="utf-8")
    assert (
        "| C-031 | PutRecord replaces the whole record; it does not merge | 1 pass, 1 fail |"
        in (markdown)
    )
    assert "reproduce: `fsconformance run --backend=moto 'suites/test_a.py::test_bad'`" in markdown
    assert "--endpoint-url http://127.0.0.1:5123 'suites/test_a.py::test_bad'" in markdown
    assert "test_not_a_suite" not in markdown
    text = page.read_text(encoding="utf-8")
    assert '<a href="#failure-1">' in text and 'id="failure-1"' in text
    assert "$" not in text.replace("$ ", "")  # every template placeholder was filled


def test_page_check_fails_when_stale(runs: dict[str, Path], tmp_path: Path) -> None:
    page = tmp_path / "scoreboard.md"
    page.write_text(
        f"# x\n\n{scoreboard.PAGE_BEGIN}\n| old |\n{scoreboard.PAGE_END}\n", encoding="utf-8"
    )
    args = ["scoreboard", "--from-junit", f"moto={runs['moto']}", "--out", str(tmp_path / "o")]
    assert main([*args, "--check-page", str(page)]) == 1
    assert main([*args, "--page", str(page)]) == 0
    assert main([*args, "--check-page", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    # In the docs each clause id links to its anchor in the contract page.
    assert "| [C-031](contract.md#C-031) | PutRecord replaces the whole record" in text
    assert text.startswith(f"# x\n\n{scoreboard.PAGE_BEGIN}\n") and text.endswith("-->\n")


def test_the_readme_option_names_still_work(runs: dict[str, Path], tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"{scoreboard.PAGE_BEGIN}\n{scoreboard.PAGE_END}\n", encoding="utf-8")
    args = ["scoreboard", "--from-junit", f"moto={runs['moto']}", "--out", str(tmp_path / "o")]
    assert main([*args, "--check-readme", str(page)]) == 1
    assert main([*args, "--readme", str(page)]) == 0
    assert main([*args, "--check-readme", str(page)]) == 0


@pytest.mark.parametrize("text", [None, "# a page without the markers\n"])
def test_a_page_that_cannot_hold_the_table_is_one_line(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None
) -> None:
    page = tmp_path / "scoreboard.md"
    if text is not None:
        page.write_text(text, encoding="utf-8")
    args = ["scoreboard", "--from-junit", f"moto={runs['moto']}", "--out", str(tmp_path / "o")]
    for option in ("--check-page", "--page"):
        assert main([*args, option, str(page)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(page) in err


def test_a_missing_run_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scoreboard", "--from-junit", f"moto={tmp_path / 'nope.xml'}"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def _rows(markdown: str, clauses: tuple[str, ...]) -> dict[str, str]:
    """The rows of these clauses, keyed by clause id, with a linked id read as the plain id."""
    rows = {}
    for line in markdown.splitlines():
        first, _, rest = line.removeprefix("| ").partition(" | ")
        clause = first.removeprefix("[").split("]", 1)[0]
        if line.startswith("| ") and clause in clauses:
            rows[clause] = f"| {clause} | {rest}"
    return rows


@pytest.mark.slow
def test_the_page_rows_match_a_fresh_run(tmp_path: Path) -> None:
    page = (REPO / scoreboard.PAGE).read_text(encoding="utf-8")
    block = scoreboard.page_table(page)
    assert block, f"{scoreboard.PAGE} has no scoreboard markers"
    board = scoreboard.run(
        scoreboard.PAGE_BACKENDS,
        tmp_path,
        workers=0,
        extra=["--clauses", ",".join(FRESH_CLAUSES)],
        cwd=REPO,
    )
    fresh = _rows(scoreboard.markdown_table(board, scoreboard.PAGE_BACKENDS), FRESH_CLAUSES)
    assert sorted(fresh) == sorted(FRESH_CLAUSES)
    assert _rows(block, FRESH_CLAUSES) == fresh, (
        f"{scoreboard.PAGE}'s scoreboard is stale: run "
        f"'fsconformance scoreboard --page {scoreboard.PAGE}'"
    )
