"""Self-tests of expectations files: strict xfail, stale entries, proposals."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsconformance.cli import main
from fsconformance.harness import expectations
from tests.helpers import REPO

TESTS = """
def test_known_gap():
    assert 1 == 2, "the backend gets this wrong"

def test_fixed_gap():
    pass

def test_fine():
    pass
"""


def _expect(pytester: pytest.Pytester, body: str) -> None:
    (pytester.path / "expectations").mkdir(exist_ok=True)
    (pytester.path / "expectations" / "moto.toml").write_text(body)


@pytest.mark.slow
def test_entries_are_strict_xfails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_gaps=TESTS)
    _expect(
        pytester,
        '[[expected_failure]]\ntest = "test_gaps.py::test_known_gap"\nreason = "not emulated"\n'
        '[[expected_failure]]\ntest = "test_gaps.py::test_fixed_*"\nreason = "was broken"\n',
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rxX")
    assert result.parseoutcomes() == {"failed": 1, "passed": 1, "xfailed": 1}
    result.stdout.fnmatch_lines(["*XFAIL test_gaps.py::test_known_gap - moto.toml: not emulated*"])
    result.stdout.fnmatch_lines(["*XPASS(strict)*moto.toml: was broken*"])


@pytest.mark.slow
def test_an_entry_matching_no_test_stops_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_gaps=TESTS)
    _expect(pytester, '[[expected_failure]]\ntest = "test_gaps.py::test_renamed"\nreason = "old"\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*expectations/moto.toml: entry 'test_gaps.py::test_renamed' matches no test*"]
    )


@pytest.mark.slow
def test_entries_for_modules_outside_the_run_are_not_stale(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_gaps=TESTS, test_other="def test_x():\n    pass\n")
    _expect(
        pytester,
        '[[expected_failure]]\ntest = "test_gaps.py::test_known_gap"\nreason = "not emulated"\n',
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_other.py")
    assert result.parseoutcomes() == {"passed": 1}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[expected_failure]]\ntest = "t.py::a"\n', "'t.py::a' has no 'reason'"),
        ('[[expected_failure]]\nreason = "r"\n', "#1 has no 'test'"),
        ("[[expected_failures]]\n", "unknown table"),
        ("test = [", "not valid TOML"),
    ],
)
def test_a_malformed_file_is_one_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "moto.toml"
    path.write_text(body)
    with pytest.raises(expectations.ExpectationsError) as raised:
        expectations.load(path)
    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_shipped_files_load() -> None:
    root = REPO
    for name in ("moto", "moto-server", "aws"):
        path = expectations.default_path(root, name)
        assert path.is_file(), path
        for entry in expectations.load(path):
            assert entry.reason


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="suites.test_a" name="test_broken" time="0.1">
  <properties><property name="fsconformance.nodeid" value="suites/test_a.py::test_broken"/>
  <property name="fsconformance.backend" value="moto"/></properties>
  <failure message="AssertionError: assert &apos;x&apos; == &apos;y&apos;">trace</failure>
</testcase>
<testcase classname="suites.test_a" name="test_known" time="0.1">
  <properties><property name="fsconformance.nodeid" value="suites/test_a.py::test_known"/>
  <property name="fsconformance.backend" value="moto"/>
  <property name="fsconformance.expectation" value="reviewed reason"/></properties>
  <skipped type="pytest.xfail" message="moto.toml: reviewed reason"/>
</testcase>
<testcase classname="suites.test_a" name="test_ok" time="0.1">
  <properties><property name="fsconformance.nodeid" value="suites/test_a.py::test_ok"/>
  <property name="fsconformance.backend" value="moto"/></properties>
</testcase>
</testsuite></testsuites>
"""


def test_a_proposal_lists_failures_and_keeps_reviewed_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "expectations").mkdir()
    (tmp_path / "expectations" / "moto.toml").write_text(
        '[[expected_failure]]\ntest = "suites/test_a.py::test_known"\nreason = "reviewed reason"\n'
    )
    run = tmp_path / "run.xml"
    run.write_text(JUNIT)
    code = main(
        ["expectations", "--from-junit", str(run), "--backend", "moto", "--root", str(tmp_path)]
    )
    assert code == 0
    proposed = capsys.readouterr().out
    proposal = tmp_path / "proposed.toml"
    proposal.write_text(proposed)
    entries = expectations.load(proposal)
    assert [(e.test, e.reason) for e in entries] == [
        ("suites/test_a.py::test_broken", "TODO review: AssertionError: assert 'x' == 'y'"),
        ("suites/test_a.py::test_known", "reviewed reason"),
    ]


def test_a_missing_run_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["expectations", "--from-junit", str(tmp_path / "none.xml")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
