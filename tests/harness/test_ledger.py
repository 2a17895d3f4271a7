"""Self-tests of the UNCERTAIN ledger against the contract text, counted independently."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fsconformance import cli
from fsconformance.reporting import ledger, report

CONTRACT = ledger.contract_path()
needs_contract = pytest.mark.skipif(
    not CONTRACT.is_file(), reason=f"the contract is not at {CONTRACT} in this checkout"
)


def _independent_count(text: str) -> set[str]:
    """Clause ids by a plain line scan: the clause a line belongs to says UNCERTAIN, or the
    open-questions table names it."""
    ids: set[str] = set()
    current = None
    for line in text.splitlines():
        start = re.match(r"\*\*(C-\d{3}) ", line)
        if start:
            current = start[1]
        elif line.startswith("#"):
            current = None
        if current and "UNCERTAIN" in line:
            ids.add(current)
    table = text[text.index("## 6.") : text.index("## 7.")]
    for row in re.findall(r"(?m)^\| U-\d+ \|.*\| ([^|]*) \|$", table):
        ids.update(re.findall(r"C-\d{3}", row))
    return ids


@needs_contract
def test_the_ledger_lists_every_uncertain_clause_of_the_contract() -> None:
    text = CONTRACT.read_text(encoding="utf-8")

    listed = set(ledger.uncertain_clauses(text))

    assert listed == _independent_count(text)
    assert len(listed) >= 50  # the contract of this writing has 55


@needs_contract
def test_every_uncertain_word_of_the_contract_is_accounted_for() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    clauses = ledger.uncertain_clauses(text)
    outside = text[: text.index("## 2.")]  # the definitions, and section 1's sentences
    in_clauses = sum(body.count("UNCERTAIN") for _, body in ledger._clause_blocks(text).values())

    assert in_clauses + outside.count("UNCERTAIN") == text.count("UNCERTAIN")
    for line in outside.splitlines():  # a section 1 sentence names its clause
        for cid in re.findall(r"C-\d{3}", line if "UNCERTAIN" in line else ""):
            assert any(line.strip() in spot for spot in clauses[cid].spots)


@needs_contract
def test_the_command_prints_every_clause_and_what_was_observed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "test_describe" / "test_generated_data_catalog_entry.json"
    snapshot.parent.mkdir(parents=True)
    observation = {
        "clause": "C-080",
        "what": "generated Glue TableName",
        "value": "<name-1>_<epoch>",
    }
    snapshot.write_text(
        json.dumps(
            {
                "format": 1,
                "nodeid": "suites/test_describe.py::test_generated_data_catalog_entry",
                "recorded": "2026-12-01",
                "region": "eu-west-1",
                "target": "aws",
                "observations": [observation],
                "exchanges": [],
            }
        )
    )

    assert cli.main(["uncertain", "--snapshots", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    for cid in ledger.uncertain_clauses(CONTRACT.read_text(encoding="utf-8")):
        assert re.search(rf"(?m)^{cid} ", out), cid
    assert 'generated Glue TableName: "<name-1>_<epoch>" (2026-12-01, eu-west-1)' in out
    assert "not yet observed" in out
    assert "suites/test_describe.py::test_generated_data_catalog_entry" not in out  # -v only
    c080 = out[out.index("C-080 ") :].split("\nC-")[0]
    assert "tests: 0" not in c080  # the static scan found the clause markers


@needs_contract
def test_the_report_shows_the_observation_and_a_contradicting_backend(tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    (snapshots / "t").mkdir(parents=True)
    observed = {"clause": "C-035", "what": "name after an equal put", "value": "again"}
    (snapshots / "t" / "x.json").write_text(
        json.dumps(
            {
                "format": 1,
                "recorded": "2026-12-01",
                "region": "us-east-1",
                "target": "aws",
                "observations": [observed],
                "exchanges": [],
            }
        )
    )
    run = tmp_path / "run.xml"
    emulation = json.dumps({**observed, "value": "first"}, sort_keys=True).replace('"', "&quot;")
    run.write_text(
        '<testsuites><testsuite name="pytest"><testcase classname="suites.test_x" name="t">'
        "<properties>"
        '<property name="fsconformance.backend" value="moto"/>'
        '<property name="fsconformance.boto3" value="1.0"/>'
        '<property name="fsconformance.clauses" value="C-035"/>'
        f'<property name="fsconformance.observed" value="{emulation}"/>'
        "</properties></testcase></testsuite></testsuites>"
    )

    text = report.to_markdown(report.build([run], snapshots))

    assert (
        "| C-035 | Event-time ordering decides what the online store keeps | pass (1) | name"
        in text
    )
    assert (
        "C-035 'name after an equal put': AWS answered \"again\" (2026-12-01, us-east-1); "
        'moto / boto3 1.0 answers "first"'
    ) in text
