"""Self-tests of the pytest plugin, through ``pytester`` in subprocesses.

Subprocesses keep the moto mock, environment changes and the config stash of the inner runs
out of this process.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow  # every test here runs pytest in a child process

FEATURE_GROUP_NAME = re.compile(r"[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}")

PASSING = """
def test_nothing():
    pass
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "FSCONFORMANCE_BACKEND",
        "FSCONFORMANCE_REGION",
        "MOTO_ACCOUNT_ID",
        "PYTEST_ADDOPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FSCONFORMANCE_DELAY_CREATE", "0.01")
    monkeypatch.setenv("FSCONFORMANCE_DELAY_UPDATE", "0.01")
    monkeypatch.setenv("FSCONFORMANCE_DELAY_DELETE", "0.01")


def error_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.errlines + result.outlines if line.startswith("ERROR")]


def all_output(result: pytest.RunResult) -> str:
    return "\n".join(result.outlines + result.errlines)


CONFORMANCE = ("-p", "fsconformance.harness.conformance")
SUITES_CONFTEST = (REPO / "suites" / "conftest.py").read_text("utf-8")
HEAVY = ("moto", "boto3", "botocore", "duckdb", "pandas", "pyarrow", "hypothesis")


def test_a_suites_test_without_clause_fails_collection(pytester: pytest.Pytester) -> None:
    # The suites' own conftest.py marks every test below it as a conformance test.
    pytester.makepyfile(
        **{
            "suites/conftest": SUITES_CONFTEST,
            "suites/test_unmarked": """
import pytest

def test_unmarked():
    pass

@pytest.mark.clause("C-016")
def test_marked():
    pass
""",
        }
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = all_output(result)
    assert "suites/test_unmarked.py::test_unmarked: no @pytest.mark.clause" in output
    assert "test_marked" not in output
    result.assert_outcomes()  # nothing ran


def test_a_test_marked_conformance_must_name_a_clause(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mine="""
import pytest

@pytest.mark.conformance
def test_unmarked():
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "test_mine.py::test_unmarked: no @pytest.mark.clause" in all_output(result)


def test_unknown_clause_fails_collection(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{
            "suites/test_unknown": """
import pytest

@pytest.mark.clause("C-016", "C-999")
def test_unknown():
    pass
"""
        }
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "suites/test_unknown.py::test_unknown: 'C-999' is not a clause of the contract" in (
        all_output(result)
    )


def test_test_with_a_known_clause_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{
            "suites/conftest": SUITES_CONFTEST,
            "suites/test_known": """
import pytest

@pytest.mark.clause("C-016", "C-130")
def test_known():
    pass
""",
        }
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK


def test_a_projects_own_suites_folder_is_not_held_to_conformance_rules(
    pytester: pytest.Pytester,
) -> None:
    # A folder that happens to be called suites, with no conftest marking its tests.
    pytester.makepyfile(**{"suites/test_plain": PASSING, "test_other": PASSING})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_an_unrelated_run_loads_nothing_and_prints_no_fsconformance_line(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_first=f"""
import sys

def test_nothing_heavy_is_imported():
    loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
    assert loaded == []
    assert "fsconformance.harness.conformance" not in sys.modules
    assert "fsconformance.backends.base" not in sys.modules
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=1)
    # pytest's own "plugins:" line lists the installed distribution; no line is the plugin's.
    assert [line for line in all_output(result).splitlines() if line.startswith("fsconf")] == []


def test_the_entry_point_imports_the_standard_library_and_pytest_only(
    pytester: pytest.Pytester,
) -> None:
    script = pytester.makepyfile(
        probe="""
import sys

before = set(sys.modules)
import fsconformance.harness.plugin

allowed = ("fsconformance", "pytest", "_pytest", "pluggy", "iniconfig", "packaging", "py")
foreign = sorted(
    name
    for name in set(sys.modules) - before
    if name.split(".")[0] not in sys.stdlib_module_names
    and not name.startswith(tuple(allowed))
    and not name.startswith("_")
)
heavy = [n for n in sys.modules if n.startswith(("fsconformance.backends.", "fsconformance.emulator"))]
print("FOREIGN", foreign, heavy)
"""
    )
    result = pytester.runpython(script)
    assert "FOREIGN [] []" in all_output(result), all_output(result)


def test_backend_aws_is_one_error_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PASSING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *CONFORMANCE, "--backend=aws")
    assert result.ret != 0
    errors = error_lines(result)
    assert len(errors) == 1, all_output(result)
    assert errors[0].startswith("ERROR: fsconformance: ")
    assert "--backend=aws" in errors[0]
    assert "Traceback" not in all_output(result)
    assert [line for line in result.errlines if line.strip()] == errors


def test_unknown_backend_in_env_is_one_error_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FSCONFORMANCE_BACKEND", "bogus")
    pytester.makepyfile(test_plain=PASSING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *CONFORMANCE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = error_lines(result)
    assert len(errors) == 1, all_output(result)
    assert "FSCONFORMANCE_BACKEND='bogus'" in errors[0]
    assert "moto" in errors[0]
    assert "Traceback" not in all_output(result)
    assert [line for line in result.errlines if line.strip()] == errors


def test_report_header_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PASSING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *CONFORMANCE)
    result.stdout.fnmatch_lines(
        [
            "fsconformance backend: moto, region us-east-1",
            "fsconformance versions: boto3 *, botocore *, moto *",
        ]
    )


def test_report_header_region_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PASSING)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", *CONFORMANCE, "--region", "eu-west-1"
    )
    result.stdout.fnmatch_lines(["fsconformance backend: moto, region eu-west-1"])


def test_report_header_region_env(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FSCONFORMANCE_REGION", "ap-southeast-2")
    pytester.makepyfile(test_plain=PASSING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *CONFORMANCE)
    result.stdout.fnmatch_lines(["fsconformance backend: moto, region ap-southeast-2"])


def test_the_run_options_exist_in_a_conformance_run_only(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PASSING)
    plain = all_output(pytester.runpytest_subprocess("-p", "no:cacheprovider", "--help"))
    assert "--backend=" in plain
    assert "--region" not in plain and "--client" not in plain
    opted = all_output(
        pytester.runpytest_subprocess("-p", "no:cacheprovider", *CONFORMANCE, "--help")
    )
    assert "--region" in opted and "--client" in opted and "--endpoint-url" in opted


def test_the_backend_fixture_loads_the_backend_on_first_use(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_lazy="""
import sys

def test_before():
    assert "boto3" not in sys.modules

def test_with(backend):
    assert backend.name == "moto"
    assert "boto3" in sys.modules
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=2)
    assert "fsconformance backend" not in all_output(result)


def test_backend_fixture_unique_names(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_names="""
def test_names(backend):
    names = [backend.unique_name() for _ in range(1200)]
    assert len(set(names)) == len(names)
    print("NAMES", " ".join(names[:3] + names[-3:]))
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    printed = [line.partition("NAMES ")[2] for line in result.outlines if "NAMES " in line]
    assert len(printed) == 1
    names = printed[0].split()[:6]
    assert len(names) == 6
    for name in names:
        assert FEATURE_GROUP_NAME.fullmatch(name), name
        assert len(name) <= 64


def test_backend_fixture_region_and_account(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_region="""
def test_region(backend):
    assert backend.region == "eu-west-1"
    assert backend.account_id == "123456789012"
    assert backend.offline_s3_uri.startswith("s3://")
    bucket = backend.offline_s3_uri[len("s3://"):].split("/")[0]
    backend.s3.head_bucket(Bucket=bucket)
"""
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", *CONFORMANCE, "--region", "eu-west-1"
    )
    result.assert_outcomes(passed=1)


def test_groups_created_in_a_test_are_deleted_after_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_cleanup="""
NAMES = []

def test_create(backend):
    request = backend.feature_group_request()
    backend.create_and_wait(request)
    NAMES.append(request["FeatureGroupName"])

def test_was_deleted(backend):
    assert len(NAMES) == 1
    try:
        description = backend.describe(NAMES[0])
    except backend.sagemaker.exceptions.ResourceNotFound:
        return
    assert description["FeatureGroupStatus"] == "Deleting"

def test_other_groups_untouched(backend):
    listed = backend.sagemaker.list_feature_groups(FeatureGroupStatusEquals="Created")
    assert listed["FeatureGroupSummaries"] == []
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_backend_fixture_waits(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_waits="""
def test_lifecycle(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    assert backend.create_and_wait(request)["FeatureGroupStatus"] == "Created"
    backend.sagemaker.update_feature_group(
        FeatureGroupName=name,
        FeatureAdditions=[{"FeatureName": "extra", "FeatureType": "String"}],
    )
    description = backend.wait_for_update(name)
    assert description["FeatureDefinitions"][-1]["FeatureName"] == "extra"
    backend.sagemaker.delete_feature_group(FeatureGroupName=name)
    backend.wait_until_deleted(name)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PASSING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *CONFORMANCE, "--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.clause(*ids):*",
            "@pytest.mark.conformance:*",
            "@pytest.mark.uncertain(question):*",
            "@pytest.mark.control_plane:*",
            "@pytest.mark.slow:*",
        ]
    )
