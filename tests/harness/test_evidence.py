"""Self-tests of the public-evidence corpus (docs/evidence.toml), its page and its use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fsconformance import cli
from fsconformance.reporting import evidence, ledger, report
from fsconformance.reporting.evidence import EvidenceError
from tests.helpers import REPO

CORPUS = evidence.evidence_path()
CONTRACT = ledger.contract_path()


def corpus() -> evidence.Corpus:
    return evidence.load(CORPUS)


def clause_text(cid: str) -> str:
    """The clause's block in the contract (its rule, source, test lines)."""
    title, body = ledger._clause_blocks(CONTRACT.read_text(encoding="utf-8"))[cid]
    return title + body


def test_the_corpus_holds_at_least_13_observations_each_with_its_source() -> None:
    observations = corpus().observations

    assert len(observations) >= 13
    for o in observations:
        assert o.url or (o.repository and o.path and re.fullmatch(r"[0-9a-f]{8,40}", o.commit))
        assert o.observed.strip() and o.summary.strip(), o.id
        assert o.kind in evidence.KINDS


def test_the_page_is_generated_from_the_corpus() -> None:
    page = (REPO / "docs/evidence.md").read_text(encoding="utf-8")

    expected = evidence.render_markdown(corpus(), evidence.tests_by_evidence(REPO / "suites"))

    assert page == expected, (
        "docs/evidence.md is stale: python -m fsconformance.reporting.evidence > docs/evidence.md"
    )


def test_every_evidence_marker_of_the_suites_names_an_entry() -> None:
    tests = evidence.tests_by_evidence(REPO / "suites")

    assert evidence.check_markers(corpus(), tests) == []
    assert tests, "no suite test names its evidence"


def test_every_entry_that_settles_a_question_is_cited_by_its_clause_and_checked() -> None:
    tests = evidence.tests_by_evidence(REPO / "suites")
    for o in corpus().observations:
        if o.settles:
            assert f"EV {o.id}" in clause_text(o.clause) or re.search(
                rf"EV E-\d+[^.]*\b{o.id}\b", clause_text(o.clause)
            ), f"{o.clause} does not cite {o.id}"
            assert tests.get(o.id), f"{o.id} settles {o.clause} but no suite test checks it"


def test_an_entry_the_emulation_departs_from_says_why() -> None:
    for o in corpus().observations:
        if o.emulation == "differs":
            assert o.emulation_note
    page = (REPO / "docs/evidence.md").read_text(encoding="utf-8")
    differs = page[page.index("## Where the emulation differs") :]
    for o in corpus().observations:
        assert (f"| {o.id} |" in differs) == (o.emulation == "differs")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("observed"), "E-01: missing observed"),
        (lambda e: e.update(kind="blog"), "E-01: kind 'blog' is not one of"),
        (lambda e: e.update(clause="C-999"), "E-01: 'C-999' is not a clause of the contract"),
        (lambda e: e.update(date="25 Jan 2024"), "E-01: date '25 Jan 2024' is not YYYY"),
        (lambda e: e.pop("commit"), "E-01: give url, or repository, path and commit"),
        (lambda e: e.update(emulation="differs"), "E-01: emulation = differs needs"),
        (lambda e: e.update(colour="red"), "E-01: unknown field colour"),
    ],
)
def test_a_malformed_entry_is_refused_in_one_line_naming_file_and_entry(
    tmp_path: Path, change, message
) -> None:
    entry = {
        "id": "E-01",
        "clause": "C-010",
        "question": "q",
        "observed": "v",
        "kind": "recorded-response",
        "date": "2024-01-25",
        "repository": "o/r",
        "path": "p",
        "commit": "0123456789abcdef",
        "verdict": "confirms",
        "summary": "s",
    }
    change(entry)
    path = tmp_path / "evidence.toml"
    # JSON strings are TOML basic strings: enough to write one table by hand.
    lines = ["[[observation]]", *(f"{k} = {json.dumps(v)}" for k, v in entry.items())]
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(EvidenceError) as raised:
        evidence.load(path)

    text = str(raised.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    source = CORPUS.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"(?m)^\[\[observation\]\]$", source)]
    first = source[starts[0] : starts[1]]
    path = tmp_path / "evidence.toml"
    path.write_text(first + "\n" + first)

    with pytest.raises(EvidenceError, match="E-01 appears twice"):
        evidence.load(path)


def test_the_ledger_shows_public_evidence_per_clause_apart_from_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["uncertain", "--snapshots", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    blocks = {b.split("\n", 1)[0].split()[0]: b for b in re.split(r"\n(?=C-\d{3} )", out)}
    c051 = blocks["C-051"]
    assert "uncertain:" in c051 and "not yet observed" in c051  # no recording on AWS yet
    assert "observed in public evidence E-13 (2024-01-25, recorded response)" in c051
    # C-010's only question is settled: listed as such, with its evidence.
    assert "settled by public evidence" in blocks["C-010"]
    assert "E-02 (2024-01-25, recorded response)" in blocks["C-010"]
    assert re.search(r"(?m)^\d+ clauses settled by public evidence: .*C-010", out)


def test_the_report_has_a_public_evidence_column(tmp_path: Path) -> None:
    run = tmp_path / "run.xml"
    run.write_text(
        '<testsuites><testsuite name="pytest"><testcase classname="suites.test_x" name="t">'
        "<properties>"
        '<property name="fsconformance.backend" value="moto"/>'
        '<property name="fsconformance.boto3" value="1.0"/>'
        '<property name="fsconformance.clauses" value="C-019 C-051"/>'
        "</properties></testcase></testsuite></testsuites>"
    )

    built = report.build([run], tmp_path / "no-snapshots")
    text = report.to_markdown(built)
    page = report.to_html(built)

    assert "| UNCERTAIN: observed on AWS | observed in public evidence |" in text
    # C-019 is settled: nothing for the nightly run to observe, its evidence shown.
    assert "| C-019 | Creation quotas | pass (1) |  | E-09 (2024-10-21, recorded response) |" in (
        text
    )
    assert "| not yet observed | E-13 (2024-01-25, recorded response); E-14" in text
    assert "observed in public evidence" in page and "E-09 (2024-10-21" in page
