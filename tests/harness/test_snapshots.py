"""Self-tests of snapshots: the transformer, the comparison, bad snapshot input, and the whole
round trip (record through the aws backend against ``fsconformance serve``, replay on moto,
and a mutant of the emulation caught by the replay)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from fsconformance.harness.snapshots import FORMAT
from fsconformance.harness.snapshots.compare import compare_exchanges, compare_observations
from fsconformance.harness.snapshots.normalise import Normaliser, compact
from fsconformance.harness.snapshots.record import (
    SnapshotError,
    check_manifest,
    read_snapshot,
    snapshot_path,
    write_manifest,
)
from tests.helpers import REPO, Wire, serving

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/fsconformance-feature-store-us-east-1"

# -- the transformer --------------------------------------------------------------------------


def test_volatile_values_become_placeholders_and_generated_names_are_numbered() -> None:
    backend = SimpleNamespace(
        account_id=ACCOUNT, offline_s3_uri="s3://bucket/off", role_arn=ROLE, athena_output=""
    )
    now = dt.datetime.now(dt.timezone.utc)
    epoch = int(now.timestamp())
    normaliser = Normaliser.for_backend(backend)

    value = normaliser.value(
        {
            "FeatureGroupArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:feature-group/fsct-ab12cd-gw0-7",
            "Other": "fsct-ab12cd-gw1-3",
            "TableName": f"fsct_ab12cd_gw0_7_{epoch}",
            "Resolved": f"s3://bucket/off/{ACCOUNT}/sagemaker/us-east-1/offline-store/"
            f"fsct-ab12cd-gw0-7-{epoch}/data",
            "RoleArn": ROLE,
            "CreationTime": now,
            "QueryExecutionId": "0b9d8a7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "EventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Old": "2020-10-30T03:43:21Z",
            "Tags": [{"Key": "fsconformance:run", "Value": "ab12cd"}],
            "NextToken": "opaque",
            "Key": "off/year=2024/1f0c9b2e7d3a4c5e9b8a7f6e5d4c3b2a-0.parquet",
            "ETag": '"9e107d9d372bb6826bd81d3542a419d6"',
        }
    )

    assert value == {
        "FeatureGroupArn": "arn:aws:sagemaker:us-east-1:<account>:feature-group/<name-1>",
        "Other": "<name-2>",
        "TableName": "<name_1>_<epoch>",
        "Resolved": "<offline-s3-uri>/<account>/sagemaker/us-east-1/offline-store/"
        "<name-1>-<epoch>/data",
        "RoleArn": "<role-arn>",
        "CreationTime": "<datetime>",
        "QueryExecutionId": "<uuid>",
        "EventTime": "<now:iso>",
        "Old": "2020-10-30T03:43:21Z",  # a test's constant, not the run's time
        "NextToken": "<token>",
        "Key": "off/year=2024/<uuid>-0.parquet",  # as pyarrow names the files it writes
        "ETag": '"9e107d9d372bb6826bd81d3542a419d6"',  # a content hash stays what it is
    }


def test_credentials_and_response_metadata_are_never_kept() -> None:
    value = Normaliser().value(
        {
            "Credentials": {"AccessKeyId": "AKIA", "SecretAccessKey": "s", "SessionToken": "t"},
            "Authorization": "AWS4-HMAC-SHA256 ...",
            "ResponseMetadata": {"RequestId": "r", "HTTPHeaders": {"authorization": "x"}},
            "kept": {"aws_secret_access_key": "s", "name": "n"},
        }
    )

    assert value == {"kept": {"name": "n"}}


def test_only_the_backends_own_tags_are_removed() -> None:
    tags = ["odd", {"Key": "fsconformance:run", "Value": "r"}, {"Key": "team", "Value": "a"}]

    assert Normaliser().value({"Tags": tags}) == {"Tags": ["odd", {"Key": "team", "Value": "a"}]}
    assert Normaliser().value({"Tags": tags[1:2]}) == {}  # the test itself sent no tags


def test_long_requests_are_cut_to_a_digest_that_still_tells_them_apart() -> None:
    features = [{"FeatureName": f"f{i}", "FeatureType": "String"} for i in range(2500)]
    other = features[:-1] + [{"FeatureName": "g", "FeatureType": "String"}]

    cut = compact({"FeatureDefinitions": features, "Value": "x" * 400000})

    assert cut["FeatureDefinitions"][:3] == features[:3]
    assert cut["FeatureDefinitions"][3].startswith("<2497 more, sha256 ")
    assert cut["Value"].startswith("<400000 characters, sha256 ")
    assert cut == compact({"FeatureDefinitions": list(features), "Value": "x" * 400000})
    assert compact({"FeatureDefinitions": other}) != compact({"FeatureDefinitions": features})


# -- the comparison ---------------------------------------------------------------------------


def _exchange(response: dict | None = None, **members: object) -> dict:
    exchange = {
        "service": "sagemaker",
        "operation": "DescribeFeatureGroup",
        "request": {"FeatureGroupName": "<name-1>"},
        "status": 200,
        "response": response
        if response is not None
        else {
            "FeatureGroupName": "<name-1>",
            "FeatureGroupStatus": "Created",
            "OnlineStoreConfig": {"EnableOnlineStore": True, "StorageType": "Standard"},
            "FeatureDefinitions": [{"FeatureName": "a", "FeatureType": "String"}],
        },
    }
    exchange.update(members)
    return exchange


def test_identical_shapes_compare_clean_and_polls_compare_their_last_answer() -> None:
    creating = _exchange()
    creating["response"] = {**creating["response"], "FeatureGroupStatus": "Creating"}

    assert compare_exchanges([creating, _exchange()], [_exchange()]) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda r: r["OnlineStoreConfig"].pop("StorageType"), "OnlineStoreConfig.StorageType"),
        (lambda r: r.update(Extra=1), "DescribeFeatureGroup.Extra"),
        (lambda r: r["OnlineStoreConfig"].update(EnableOnlineStore="true"), "EnableOnlineStore"),
        (lambda r: r["OnlineStoreConfig"].update(StorageType="InMemory"), "StorageType"),
        (
            lambda r: r["FeatureDefinitions"].append(dict(r["FeatureDefinitions"][0])),
            "FeatureDefinitions: recorded 1 items",
        ),
        (lambda r: r.update(FeatureGroupName="plain"), "FeatureGroupName"),
    ],
    ids=["missing key", "extra key", "type", "enum", "list length", "format"],
)
def test_a_changed_field_is_named_in_the_difference(change, named) -> None:
    replay = _exchange()
    change(replay["response"])

    differences = compare_exchanges([_exchange()], [replay])

    assert differences, "the change went unnoticed"
    assert any(named in line for line in differences), differences


def test_status_and_error_code_are_compared_exactly() -> None:
    recorded = _exchange(status=400, error={"Code": "ValidationException", "Message": "m"})
    del recorded["response"]
    replay = dict(recorded, error={"Code": "ValidationError", "Message": "m"})

    assert compare_exchanges([recorded], [replay]) == [
        "sagemaker.DescribeFeatureGroup Error.Code: recorded 'ValidationException', "
        "replay 'ValidationError'"
    ]


def test_a_call_missing_from_the_replay_is_a_difference() -> None:
    assert compare_exchanges([_exchange()], []) != []


def test_an_observation_that_differs_is_a_difference() -> None:
    recorded = [{"clause": "C-035", "what": "name", "value": "again"}]

    assert compare_observations(recorded, [{"clause": "C-035", "what": "name", "value": "first"}])
    assert not compare_observations(recorded, recorded)


# -- bad snapshot input -----------------------------------------------------------------------


def test_a_directory_of_another_format_is_refused_naming_its_manifest(tmp_path: Path) -> None:
    (tmp_path / "SNAPSHOTS.json").write_text(json.dumps({"project": "fsconformance", "format": 0}))

    with pytest.raises(SnapshotError) as raised:
        check_manifest(tmp_path)

    assert str(raised.value).startswith(str(tmp_path / "SNAPSHOTS.json"))
    assert "\n" not in str(raised.value)


def test_a_corrupted_or_missing_snapshot_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = snapshot_path(tmp_path, "suites/test_a.py::test_b[x]")
    path.parent.mkdir(parents=True)
    path.write_text('{"format": 1, "exchanges": [')

    for target in (path, tmp_path / "test_a" / "missing.json"):
        with pytest.raises(SnapshotError) as raised:
            read_snapshot(target)
        assert str(raised.value).startswith(str(target)) and "\n" not in str(raised.value)


# -- the round trip, through real pytest runs -------------------------------------------------

PUT = "suites/test_runtime_put.py"
SELECTION = "replaces_the_whole or equal_event_time_overwrites or answers_200"


def _pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FSCONFORMANCE_", "PYTEST_")) and key != "AWS_PROFILE"
    }
    environment.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-q", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def serve() -> Iterator[str]:
    """A served emulation holding what the aws backend needs: the bucket and the role."""
    with serving() as url:
        wire = Wire("serve", url)
        wire.client("s3").create_bucket(Bucket="fsct-offline")
        wire.client("iam").create_role(
            RoleName="fsconformance-feature-store-us-east-1", AssumeRolePolicyDocument="{}"
        )
        yield url


@pytest.fixture(scope="module")
def recording(serve: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("snapshots")
    result = _pytest(
        PUT,
        "-k",
        SELECTION,
        "--backend=aws",
        f"--endpoint-url={serve}",
        f"--aws-account-id={ACCOUNT}",
        "--offline-s3-uri=s3://fsct-offline/offline-store",
        f"--feature-store-role-arn={ROLE}",
        "--aws-poll-interval=0.05",
        f"--record-snapshots={directory}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return directory


@pytest.mark.slow
def test_a_recording_through_the_aws_backend_replays_clean_on_moto(recording: Path) -> None:
    files = sorted(recording.glob("*/*.json"))
    assert len(files) == 3, files  # one per test
    text = "".join(path.read_text() for path in files)
    assert "testing" not in text and ACCOUNT not in text and "fsct-" not in text
    document = json.loads((recording / "SNAPSHOTS.json").read_text())
    assert document == {"project": "fsconformance", "format": FORMAT}

    result = _pytest(PUT, "-k", SELECTION, "--backend=moto", f"--compare-snapshots={recording}")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


@pytest.mark.slow
def test_a_mutant_of_the_emulation_fails_the_replay_naming_the_field(recording: Path) -> None:
    result = _pytest(
        PUT,
        "-k",
        "replaces_the_whole",
        "-p",
        "mutants",  # tests/mutants.py, on the path below
        "--backend=moto",
        f"--compare-snapshots={recording}",
        FSCONFORMANCE_MUTANT="put_merges",
        PYTHONPATH=str(REPO / "tests"),
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "snapshot differs" in result.stdout
    assert "sagemaker-featurestore-runtime.GetRecord.Record: recorded" in result.stdout, (
        result.stdout
    )


@pytest.mark.slow
def test_a_missing_or_corrupted_snapshot_fails_the_test(recording: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    write_manifest(broken)
    corrupted = snapshot_path(
        broken, f"{PUT}::test_a_put_replaces_the_whole_record_instead_of_merging"
    )
    corrupted.parent.mkdir(parents=True)
    corrupted.write_text("{not json")

    result = _pytest(
        PUT, "-k", "replaces_the_whole or answers_200", f"--compare-snapshots={broken}"
    )

    assert result.returncode == 1, result.stdout
    assert "2 failed" in result.stdout
    assert f"{corrupted}: corrupted" in result.stdout
    missing = snapshot_path(
        broken, f"{PUT}::test_put_record_answers_200_with_nothing_but_response_metadata"
    )
    assert f"{missing}: no snapshot recorded for this test" in result.stdout
