"""Self-tests of the conformance report, from small hand-written JUnit XML runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsconformance.cli import main
from fsconformance.reporting import report


def _case(name: str, outcome_xml: str = "", **properties: str) -> str:
    props = {"nodeid": f"suites/test_a.py::{name}", **properties}
    rows = "".join(
        f'<property name="fsconformance.{key.replace("_", ".", 1) if key.startswith("wait_") else key}" value="{value}"/>'
        for key, value in props.items()
    )
    return (
        f'<testcase classname="suites.test_a" name="{name}" time="0.5">'
        f"<properties>{rows}</properties>{outcome_xml}</testcase>"
    )


def _run(path: Path, *cases: str) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        + "".join(cases)
        + "</testsuite></testsuites>"
    )
    return path


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    moto = dict(backend="moto", boto3="1.43.11")
    old = dict(backend="moto", boto3="1.26.150")
    return [
        _run(
            tmp_path / "latest.xml",
            _case("test_create", clauses="C-010 C-016", wait_create="0.250", **moto),
            _case("test_update", clauses="C-051", wait_update="0.300", **moto),
            _case(
                "test_property",
                '<failure message="AssertionError: lost a row">Falsifying example\n'
                "You can add @seed(1234) to this test or run pytest with "
                "--hypothesis-seed=1234 to reproduce this failure.</failure>",
                clauses="C-053",
                wait_create="0.350",
                **moto,
            ),
            _case(
                "test_gap",
                '<skipped type="pytest.xfail" message="moto.toml: not emulated"/>',
                clauses="C-062",
                **moto,
            ),
        ),
        _run(
            tmp_path / "oldest.xml",
            _case(
                "test_create", clauses="C-010 C-016", wait_create="0.150", tox_env="oldest", **old
            ),
            _case(
                "test_ttl",
                '<skipped type="pytest.skip" message="unsupported: needs member '
                'CreateFeatureGroup.OnlineStoreConfig.TtlDuration (not in botocore)"/>',
                clauses="C-110",
                tox_env="oldest",
                **old,
            ),
            _case(
                "test_update",
                '<error message="failed on setup">boom</error>',
                clauses="C-051",
                tox_env="oldest",
                **old,
            ),
        ),
    ]


def test_outcomes_are_read_from_junit(runs: list[Path]) -> None:
    cases = {c["nodeid"].split("::")[1]: c for c in report.parse_junit(runs[1])}
    assert cases["test_create"]["outcome"] == "passed"
    assert cases["test_ttl"]["outcome"] == "unsupported"
    assert cases["test_update"]["outcome"] == "error"
    latest = {c["nodeid"].split("::")[1]: c["outcome"] for c in report.parse_junit(runs[0])}
    assert latest == {
        "test_create": "passed",
        "test_update": "passed",
        "test_property": "failed",
        "test_gap": "xfailed",
    }


def test_each_clause_has_an_outcome_per_backend_and_boto3(runs: list[Path]) -> None:
    built = report.build(runs)
    assert built.cells == ["moto / boto3 1.43.11", "moto / boto3 1.26.150"]
    assert built.clauses["C-010"] == {
        "moto / boto3 1.43.11": {"passed": 1},
        "moto / boto3 1.26.150": {"passed": 1},
    }
    assert report.cell_summary(built.clauses["C-110"].get("moto / boto3 1.26.150")) == (
        "unsupported (1)"
    )
    assert report.cell_summary(built.clauses["C-110"].get("moto / boto3 1.43.11")) == "—"
    assert report.cell_summary({"passed": 3, "failed": 1}) == "FAIL (1 FAIL, 3 pass)"
    assert built.totals["moto / boto3 1.26.150"]["unsupported"] == 1
    assert built.totals["moto / boto3 1.43.11"]["xfailed"] == 1


def test_failures_come_with_a_reproduce_command(runs: list[Path]) -> None:
    commands = {f["nodeid"]: f["command"] for f in report.build(runs).failures}
    assert commands == {
        "suites/test_a.py::test_property": "pytest --backend=moto "
        "'suites/test_a.py::test_property' --hypothesis-seed=1234",
        "suites/test_a.py::test_update": "tox -e oldest -- --backend=moto "
        "'suites/test_a.py::test_update'",
    }


def test_wait_durations_per_backend_and_kind(runs: list[Path]) -> None:
    built = report.build(runs)
    assert sorted(built.waits["moto"]["create"]) == [0.15, 0.25, 0.35]
    markdown = report.to_markdown(built)
    assert "| moto | create | 3 | 0.150 | 0.250 | 0.350 |" in markdown
    assert "| moto | update | 1 | 0.300 | 0.300 | 0.300 |" in markdown


def test_the_command_writes_markdown_and_self_contained_html(
    runs: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    assert main(["report", *map(str, runs), "--out", str(out)]) == 0
    markdown = (out / "conformance.md").read_text()
    assert "| C-010 | Required members of CreateFeatureGroup | pass (1) | pass (1) |" in markdown
    assert "| C-110 | ExpiresAt = EventTime + TtlDuration | — | unsupported (1) |" in markdown
    assert "reproduce: `pytest --backend=moto 'suites/test_a.py::test_property'" in markdown
    page = (out / "conformance.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page and "<script" not in page and "<link" not in page
    assert "ExpiresAt = EventTime + TtlDuration" in page
    assert "&#x27;suites/test_a.py::test_property&#x27;" in page


def test_a_run_without_plugin_properties_still_reads(tmp_path: Path) -> None:
    path = _run(
        tmp_path / "plain.xml",
        '<testcase classname="tests.test_x" name="test_y" time="0.1"/>',
    )
    (case,) = report.parse_junit(path)
    assert case["nodeid"].endswith("test_x.py::test_y")
    assert report.build([path]).cells == ["unknown / boto3 ?"]


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "missing.xml")]) == 2
    bad = tmp_path / "bad.xml"
    bad.write_text("<testsuites>")
    assert main(["report", str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "missing.xml" in err and "cannot read" in err


@pytest.mark.slow
def test_the_plugin_records_the_properties(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_props="""
        import pytest
        from fsconformance.waiters import eventually

        @pytest.mark.clause("C-016")
        @pytest.mark.uncertain("how long?")
        def test_waits():
            eventually(lambda: True, timeout=1, interval=0.01, kind="create")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml=run.xml")
    assert result.ret == 0
    (case,) = report.parse_junit(pytester.path / "run.xml")
    properties = case["properties"]
    assert properties["fsconformance.nodeid"] == ["test_props.py::test_waits"]
    assert properties["fsconformance.backend"] == ["moto"]
    assert properties["fsconformance.clauses"] == ["C-016"]
    assert properties["fsconformance.uncertain"] == ["how long?"]
    assert "fsconformance.boto3" in properties
    assert len(properties["fsconformance.wait.create"]) == 1
