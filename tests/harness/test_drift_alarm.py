"""The drift alarm: what changed in the botocore models since the tested set, first line first.

``data/models-botocore-1.44.13.json`` is Athena's digest as botocore 1.44.13 installs it (the
last release on the package index whose Athena speaks ``json``), written by
``fsconformance drift --write`` under that release; the packaged digest is the tested set's.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import botocore
import pytest

from fsconformance import drift
from fsconformance.cli import main
from tests.helpers import REPO

BEFORE_REST_JSON = REPO / "tests" / "data" / "models-botocore-1.44.13.json"


def athena_only(digest: dict[str, Any]) -> dict[str, Any]:
    return {"botocore": digest["botocore"], "services": {"athena": digest["services"]["athena"]}}


def test_athenas_move_to_rest_json_is_named_in_the_first_line() -> None:
    before = json.loads(BEFORE_REST_JSON.read_text())
    after = athena_only(drift.tested())
    assert before["services"]["athena"]["protocol"] == "json"
    first = drift.report(before, after)[0]
    assert first.startswith(
        f"botocore {after['botocore']} against the tested set (botocore 1.44.13)"
    )
    assert "athena protocol json -> rest-json" in first


def test_every_kind_of_change_is_listed_protocol_first() -> None:
    before = drift.tested()
    after = copy.deepcopy(before)
    runtime = after["services"]["sagemaker-featurestore-runtime"]
    del runtime["operations"]["ListRecords"]
    runtime["operations"]["PutRecord"]["input"].append("NewMember")
    runtime["operations"]["GetRecord"]["output"].remove("ExpiresAt")
    runtime["operations"]["NewOperation"] = {"http": "POST /new", "input": [], "output": []}
    after["services"]["glue"]["protocol"] = "smithy-rpc-v2-cbor"
    after["services"]["glue"]["protocols"] = ["smithy-rpc-v2-cbor", "json"]
    lines = drift.report(before, after)
    assert "glue protocol json -> smithy-rpc-v2-cbor" in lines[0]
    assert "4 more changes" in lines[0]
    details = "\n".join(lines[1:])
    for expected in (
        "operations added: NewOperation",
        "operations removed: ListRecords",
        "PutRecord: input +NewMember",
        "GetRecord: output -ExpiresAt",
    ):
        assert expected in details


def test_the_installed_models_against_the_tested_set() -> None:
    before = drift.tested()
    found = drift.changes(before, drift.digest(tuple(before["services"])))
    if botocore.__version__ == before["botocore"]:
        assert found == [], "the tested digest is not the tested botocore's: refresh it"
    else:  # another cell of the matrix: the report names both versions
        first = drift.report(before, drift.digest(tuple(before["services"])))[0]
        assert botocore.__version__ in first and before["botocore"] in first


def test_the_command_reports_and_checks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["drift", "--against", str(BEFORE_REST_JSON)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"botocore {botocore.__version__} against the tested set")
    installed_athena = drift.digest(("athena",))["services"]["athena"]["protocol"]
    assert main(["drift", "--against", str(BEFORE_REST_JSON), "--check"]) == (
        1 if installed_athena != "json" or botocore.__version__ != "1.44.13" else 0
    )
    capsys.readouterr()
    missing = tmp_path / "none.json"
    assert main(["drift", "--against", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(missing) in err[0]
    written = tmp_path / "digest.json"
    assert main(["drift", "--write", str(written)]) == 0
    assert json.loads(written.read_text()) == drift.digest()


@pytest.mark.slow
def test_a_failure_names_the_drift_first(pytester: pytest.Pytester) -> None:
    # The tested set as if Athena had spoken the query protocol: whatever botocore this cell
    # installs, its models differ from that.
    pytester.makeconftest(
        """
from fsconformance import drift

_digest = drift.digest(("athena",))
_digest["services"]["athena"]["protocol"] = "query"
drift.tested = lambda: _digest
"""
    )
    pytester.makepyfile(test_fails="def test_fails():\n    assert 1 == 2\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "fsconformance.harness.conformance", "--junitxml=run.xml"
    )
    result.assert_outcomes(failed=1)
    header = [line for line in result.outlines if line.startswith("fsconformance drift:")]
    assert header, "the header names the drift"
    summary = [line for line in result.outlines if line.startswith("FAILED test_fails.py")]
    assert summary and summary[0].startswith(
        "FAILED test_fails.py::test_fails - fsconformance drift: botocore"
    )
    failure = ElementTree.parse(pytester.path / "run.xml").find(".//failure")
    assert failure is not None
    message = failure.get("message", "")
    assert message.startswith("fsconformance drift: botocore")
    assert "athena protocol query -> " in message
    assert message.endswith("assert 1 == 2"), "the test's own failure follows the drift"
