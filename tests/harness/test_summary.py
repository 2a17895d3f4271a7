"""The end-of-run summary per contract section and ``--conformance-report``, also under xdist."""

from __future__ import annotations

import pytest

from fsconformance.harness.summary import clause_outcome, section_of

SUITE = """
import pytest

@pytest.mark.clause("C-016")
def test_passes(backend):
    assert backend.account_id

@pytest.mark.clause("C-016", "C-031")
def test_fails(backend):
    assert False, "a deliberate failure"

@pytest.mark.clause("C-041")
def test_known_gap(backend):
    assert False

@pytest.mark.clause("C-110")
@pytest.mark.requires(operations=["NoSuchFeatureStoreOperation"])
def test_needs_ttl(backend):
    pass

@pytest.mark.clause("C-130")
def test_waits(backend):
    backend.poll(lambda: True, budget="delete", what="nothing")
"""
EXPECTATIONS = """
[[expected_failure]]
test = "suites/test_fake.py::test_known_gap"
reason = "a gap this fake backend has"
"""


@pytest.fixture
def fake_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.mkdir("suites")
    pytester.path.joinpath("suites", "test_fake.py").write_text(SUITE, encoding="utf-8")
    pytester.path.joinpath("expectations.toml").write_text(EXPECTATIONS, encoding="utf-8")
    monkeypatch.setenv("FSCONFORMANCE_EXPECTATIONS", str(pytester.path / "expectations.toml"))
    return pytester


def _section_line(lines: list[str], letter: str) -> list[int]:
    line = next(line for line in lines if line.startswith(f"{letter}. "))
    return [int(word) for word in line.split()[-4:]]


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["0", "2"])
def test_summary_counts_clauses_per_section(fake_suite: pytest.Pytester, workers: str) -> None:
    out = fake_suite.path / "report"
    result = fake_suite.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", workers, "suites", "--conformance-report", str(out)
    )
    result.assert_outcomes(passed=2, failed=1, xfailed=1)
    lines = result.outlines
    assert any("clauses per contract section" in line for line in lines)
    # passed, failed, unsupported, expected gap
    assert _section_line(lines, "B") == [0, 1, 0, 0]  # C-016: one pass, one fail -> failed
    assert _section_line(lines, "D") == [0, 1, 0, 0]  # C-031
    assert _section_line(lines, "E") == [0, 0, 0, 1]  # C-041
    assert _section_line(lines, "K") == [0, 0, 1, 0]  # C-110
    assert _section_line(lines, "M") == [1, 0, 0, 0]  # C-130
    assert any("slowest waits:" in line for line in lines)
    assert any("delete" in line and "test_waits" in line for line in lines)
    markdown = (out / "conformance.md").read_text(encoding="utf-8")
    assert "test_fails" in markdown and "a deliberate failure" in markdown
    assert "| C-041 |" in markdown and "known gap (1)" in markdown
    assert "unsupported (1)" in markdown
    assert (out / "conformance.html").is_file()


@pytest.mark.slow
def test_clauses_option_keeps_every_test_of_those_clauses(fake_suite: pytest.Pytester) -> None:
    result = fake_suite.runpytest_subprocess(
        "-p", "no:cacheprovider", "suites", "--clauses", "C-016,C-130"
    )
    result.assert_outcomes(passed=2, failed=1, deselected=2)


@pytest.mark.slow
def test_an_unknown_clause_in_the_option_is_one_line(fake_suite: pytest.Pytester) -> None:
    result = fake_suite.runpytest_subprocess("-p", "no:cacheprovider", "--clauses", "C-999")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown clauses: C-999" in "\n".join(result.errlines)


def test_sections_and_clause_outcomes() -> None:
    assert section_of("C-001")[0] == "A"
    assert section_of("C-067")[0] == "G"
    assert section_of("C-085")[0] == "H"
    assert section_of("C-151")[0] == "O"
    assert clause_outcome({"passed": 3, "xfailed": 1}) == "expected gap"
    assert clause_outcome({"passed": 3, "xpassed": 1}) == "failed"
    assert clause_outcome({"unsupported": 2}) == "unsupported"
