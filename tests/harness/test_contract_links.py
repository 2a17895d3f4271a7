"""Every clause id on the report and the scoreboard links to its clause in the contract page
written beside them, and every link lands on an anchor of that page."""

from __future__ import annotations

import re
from pathlib import Path

from fsconformance.contract import CLAUSES
from fsconformance.reporting import contract_page, report, scoreboard

LINK = re.compile(r'href="contract\.html#(C-\d{3})"')
ANCHOR = re.compile(r'<a id="(C-\d{3})"></a>')


def _junit(path: Path, clauses: list[str]) -> Path:
    cases = "".join(
        f'<testcase classname="suites.test_a" name="t{n}"><properties>'
        f'<property name="fsconformance.nodeid" value="suites/test_a.py::t{n}"/>'
        f'<property name="fsconformance.backend" value="moto"/>'
        f'<property name="fsconformance.boto3" value="1.44.13"/>'
        f'<property name="fsconformance.clauses" value="{clause}"/>'
        "</properties></testcase>"
        for n, clause in enumerate(clauses)
    )
    path.write_text(f"<testsuites><testsuite>{cases}</testsuite></testsuites>", encoding="utf-8")
    return path


def test_the_contract_page_has_an_anchor_for_every_clause(tmp_path: Path) -> None:
    page = contract_page.write(tmp_path).read_text("utf-8")
    assert set(ANCHOR.findall(page)) == set(CLAUSES)


def test_report_clause_ids_resolve_in_the_contract_page(tmp_path: Path) -> None:
    run = _junit(tmp_path / "run.xml", ["C-016", "C-030 C-031", "C-190"])
    _, page = report.write([run], tmp_path / "out")
    links = LINK.findall(page.read_text("utf-8"))
    assert sorted(links) == ["C-016", "C-030", "C-031", "C-190"]
    anchors = set(ANCHOR.findall((tmp_path / "out" / "contract.html").read_text("utf-8")))
    assert set(links) <= anchors


def test_scoreboard_clause_ids_resolve_in_the_contract_page(tmp_path: Path) -> None:
    board = scoreboard.build({"moto": _junit(tmp_path / "run.xml", ["C-016", "C-110"])})
    _, page = scoreboard.write(board, tmp_path / "board")
    links = LINK.findall(page.read_text("utf-8"))
    assert sorted(links) == ["C-016", "C-110"]
    anchors = set(ANCHOR.findall((tmp_path / "board" / "contract.html").read_text("utf-8")))
    assert set(links) <= anchors


def test_an_id_the_contract_lacks_is_not_linked(tmp_path: Path) -> None:
    run = _junit(tmp_path / "run.xml", ["C-016", "C-999"])
    _, page = report.write([run], tmp_path / "out")
    text = page.read_text("utf-8")
    assert LINK.findall(text) == ["C-016"]
    assert "C-999" in text
