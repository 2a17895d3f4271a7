"""The ``aws`` backend's safety, run against a local ``fsconformance serve`` endpoint.

Everything here goes over HTTP to an in-process server on 127.0.0.1: the account check, the
tags, teardown of the group with its S3 prefix and Glue table, ``sweep`` and the creation slots.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.client import BaseClient
from botocore.config import Config

from fsconformance.backends import BackendUnavailable, make_backend
from fsconformance.backends.aws import (
    TAG_CREATED,
    TAG_RUN,
    AwsBackend,
    AwsOptions,
    CreationSlots,
    offline_prefix,
)
from fsconformance.backends.moto_server import reset_server
from fsconformance.backends.sweep import find_candidates, parse_age, sweep, sweep_clients
from fsconformance.cli import main
from fsconformance.emulator import settings
from fsconformance.emulator.transports.wsgi import EmulatorServer
from fsconformance.model.control_plane import Delays
from fsconformance.waiters import eventually
from tests.helpers import ID_AND_TIME, REPO, create_request, record, wait_created

ACCOUNT = "123456789012"  # the account moto reports for any fake credentials
BUCKET = "fsct-bootstrap"


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A fresh local endpoint with the bootstrap's bucket and role, and fake credentials."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A run id of this test's own (restored afterwards: the backend sets it when missing).
    monkeypatch.setenv("FSCONFORMANCE_RUN_ID", uuid.uuid4().hex[:6])
    monkeypatch.delenv("FSCONFORMANCE_AWS_ACCOUNT_ID", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # this test's own creation slots
    server = EmulatorServer(
        "127.0.0.1", 0, Delays(create=0.02, update=0.02, delete=0, data_plane=0, offline=0)
    )
    url = server.start()
    reset_server(url)
    plain(url, "s3").create_bucket(Bucket=BUCKET)
    try:
        yield url
    finally:
        server.shutdown()
        settings.configure(settings.delays_from_env())


def plain(url: str, service: str) -> BaseClient:
    """A client that is not the backend's: what an operator would see."""
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def options(url: str, **changes: Any) -> AwsOptions:
    values: dict[str, Any] = {
        "account_id": ACCOUNT,
        "offline_s3_uri": f"s3://{BUCKET}/offline-store",
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/fs",
        "endpoint_url": url,
        "poll_interval": 0.02,
        "max_poll_interval": 0.2,
    }
    values.update(changes)
    return AwsOptions(**values)


def started(url: str, **changes: Any) -> AwsBackend:
    backend = make_backend("aws", "us-east-1", {"aws": options(url, **changes)})
    assert isinstance(backend, AwsBackend)
    backend.start()
    backend.begin_test()
    return backend


def listed_groups(url: str) -> list[str]:
    summaries = plain(url, "sagemaker").list_feature_groups()["FeatureGroupSummaries"]
    return [summary["FeatureGroupName"] for summary in summaries]


def s3_keys(url: str, prefix: str = "") -> list[str]:
    listing = plain(url, "s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


# -- the account check ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("account", "message"),
    [("", "needs the account id"), ("999999999999", "belong to account 123456789012")],
    ids=["missing", "wrong"],
)
def test_wrong_or_missing_account_stops_before_anything_is_created(
    endpoint: str, pytester: pytest.Pytester, account: str, message: str
) -> None:
    pytester.makepyfile(
        test_creates="""
def test_create(backend):
    backend.create_and_wait(backend.feature_group_request())
"""
    )
    args = ["-p", "no:cacheprovider", "--backend=aws", f"--endpoint-url={endpoint}"]
    args += [
        f"--offline-s3-uri=s3://{BUCKET}/x",
        f"--feature-store-role-arn=arn:aws:iam::{ACCOUNT}:role/fs",
    ]
    if account:
        args.append(f"--aws-account-id={account}")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.errlines if line.strip()]
    assert len(errors) == 1, result.errlines
    assert errors[0].startswith("ERROR: fsconformance: --backend=aws")
    assert message in errors[0] and "nothing was created" in errors[0]
    assert "Traceback" not in "\n".join(result.outlines + result.errlines)
    assert listed_groups(endpoint) == []


@pytest.mark.slow
def test_the_right_account_passes_and_cleans_up_through_pytest(
    endpoint: str, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_creates="""
def test_create(backend):
    backend.create_and_wait(backend.feature_group_request())
"""
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--backend=aws",
        f"--endpoint-url={endpoint}",
        f"--aws-account-id={ACCOUNT}",
        f"--offline-s3-uri=s3://{BUCKET}/offline-store",
        f"--feature-store-role-arn=arn:aws:iam::{ACCOUNT}:role/fs",
        "--aws-poll-interval=0.02",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"fsconformance backend: aws, region us-east-1, account {ACCOUNT}*"]
    )
    assert listed_groups(endpoint) == []


@pytest.mark.slow
def test_a_leftover_is_listed_at_the_end_and_fails_the_session(
    endpoint: str, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_leaves="""
def test_offline_store_in_a_bucket_nobody_made(backend):
    request = backend.feature_group_request()
    request["OfflineStoreConfig"]["S3StorageConfig"]["S3Uri"] = "s3://fsct-no-such-bucket/x"
    backend.create_and_wait(request)
"""
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--backend=aws",
        f"--endpoint-url={endpoint}",
        f"--aws-account-id={ACCOUNT}",
        f"--offline-s3-uri=s3://{BUCKET}/offline-store",
        f"--feature-store-role-arn=arn:aws:iam::{ACCOUNT}:role/fs",
        "--aws-poll-interval=0.02",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, errors=1)  # the test passed; its teardown did not
    result.stdout.fnmatch_lines(
        ["*fsconformance: resources left behind*", "s3://fsct-no-such-bucket/x/*NoSuchBucket*"]
    )
    assert listed_groups(endpoint) == []  # the group itself was deleted


def test_missing_offline_settings_are_one_line(endpoint: str) -> None:
    with pytest.raises(BackendUnavailable, match="--offline-s3-uri"):
        make_backend("aws", "us-east-1", {"aws": options(endpoint, offline_s3_uri="")})


# -- tags and teardown ------------------------------------------------------------------------


def test_groups_are_tagged_but_the_suites_see_only_their_own_tags(endpoint: str) -> None:
    backend = started(endpoint)
    request = backend.feature_group_request(Tags=[{"Key": "team", "Value": "a"}])
    arn = backend.create_and_wait(request)["FeatureGroupArn"]
    assert backend.sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    raw = {
        t["Key"]: t["Value"]
        for t in plain(endpoint, "sagemaker").list_tags(ResourceArn=arn)["Tags"]
    }
    assert raw[TAG_RUN] == backend.run_id
    assert raw[TAG_CREATED].endswith("Z")
    assert request["Tags"] == [{"Key": "team", "Value": "a"}]  # the caller's list untouched
    assert backend.end_test() == []


def test_teardown_deletes_the_group_its_s3_prefix_and_glue_table(endpoint: str) -> None:
    backend = started(endpoint)
    request = backend.feature_group_request()
    description = backend.create_and_wait(request)
    name = request["FeatureGroupName"]
    backend.runtime.put_record(
        FeatureGroupName=name,
        Record=record(customer_id="c1", event_time="1700000000"),
    )
    bucket, prefix = offline_prefix(description) or ("", "")
    assert bucket == BUCKET
    eventually(lambda: s3_keys(endpoint, prefix), timeout=10, interval=0.02, what="offline rows")
    plain(endpoint, "s3").put_object(Bucket=BUCKET, Key="offline-store/not-ours.txt", Body=b"x")
    catalog = description["OfflineStoreConfig"]["DataCatalogConfig"]
    glue = plain(endpoint, "glue")
    assert glue.get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])

    assert backend.end_test() == []

    assert name not in listed_groups(endpoint)
    assert s3_keys(endpoint, prefix) == []
    assert s3_keys(endpoint, "offline-store/") == ["offline-store/not-ours.txt"]
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])
    assert backend.session_leftovers() == []


def test_teardown_also_cleans_up_after_a_group_the_test_deleted(endpoint: str) -> None:
    backend = started(endpoint)
    request = backend.feature_group_request()
    description = backend.create_and_wait(request)
    backend.sagemaker.delete_feature_group(FeatureGroupName=request["FeatureGroupName"])
    backend.wait_until_deleted(request["FeatureGroupName"])
    catalog = description["OfflineStoreConfig"]["DataCatalogConfig"]
    assert backend.end_test() == []
    with pytest.raises(plain(endpoint, "glue").exceptions.EntityNotFoundException):
        plain(endpoint, "glue").get_table(
            DatabaseName=catalog["Database"], Name=catalog["TableName"]
        )


def test_a_glue_table_the_group_did_not_create_is_kept(endpoint: str) -> None:
    glue = plain(endpoint, "glue")
    glue.create_database(DatabaseInput={"Name": "mine"})
    glue.create_table(DatabaseName="mine", TableInput={"Name": "table"})
    backend = started(endpoint)
    request = backend.feature_group_request()
    request["OfflineStoreConfig"].update(
        DisableGlueTableCreation=True,
        DataCatalogConfig={"Catalog": "AwsDataCatalog", "Database": "mine", "TableName": "table"},
    )
    backend.create_and_wait(request)
    assert backend.end_test() == []
    assert glue.get_table(DatabaseName="mine", Name="table")


def test_athena_results_of_the_test_are_deleted(endpoint: str) -> None:
    backend = started(endpoint)
    plain(endpoint, "s3").put_object(Bucket=BUCKET, Key="athena-results/other.csv", Body=b"x")
    query = backend.athena.start_query_execution(
        QueryString="SELECT 1", ResultConfiguration={"OutputLocation": backend.athena_output}
    )["QueryExecutionId"]
    eventually(
        lambda: (
            backend.athena.get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"][
                "State"
            ]
            == "SUCCEEDED"
        ),
        timeout=10,
        interval=0.02,
    )
    assert s3_keys(endpoint, "athena-results/") != ["athena-results/other.csv"]
    assert backend.end_test() == []
    assert s3_keys(endpoint, "athena-results/") == ["athena-results/other.csv"]


def test_keep_on_failure_keeps_and_lists_a_failed_tests_groups(endpoint: str) -> None:
    backend = started(endpoint, keep_on_failure=True)
    request = backend.feature_group_request()
    backend.create_and_wait(request)
    assert backend.end_test(failed=True) == []
    assert request["FeatureGroupName"] in listed_groups(endpoint)
    assert request["FeatureGroupName"] in backend.session_kept()


def test_an_interrupted_run_is_cleaned_up_when_the_session_stops(endpoint: str) -> None:
    backend = started(endpoint)
    backend.sagemaker.create_feature_group(**backend.feature_group_request())
    backend.stop()  # no end_test: the test never finished
    assert listed_groups(endpoint) == []
    assert backend.session_leftovers() == []


# -- creation slots ---------------------------------------------------------------------------


def test_at_most_four_creations_hold_a_slot(tmp_path: Path) -> None:
    processes = [CreationSlots(tmp_path) for _ in range(5)]  # one flock each, like processes
    assert [slots.try_acquire(f"g{i}") for i, slots in enumerate(processes)] == [
        True,
        True,
        True,
        True,
        False,
    ]
    processes[2].release("g2")
    assert processes[4].try_acquire("g4")
    for slots in processes:
        slots.release_all()


def test_one_process_can_create_more_groups_than_slots_without_waiting(endpoint: str) -> None:
    backend = started(endpoint)
    names = []
    for _ in range(6):  # more than four: slots are freed as earlier groups become Created
        request = backend.feature_group_request(offline=False)
        backend.sagemaker.create_feature_group(**request)
        names.append(request["FeatureGroupName"])
    for name in names:
        backend.wait_until_created(name)
    assert backend._slots is not None and not backend._slots.held
    assert backend.end_test() == []


# -- sweep ------------------------------------------------------------------------------------


def _create(url: str, name: str, tags: list[dict[str, str]]) -> None:
    offline = f"s3://{BUCKET}/offline-store"
    request = create_request(
        name, ID_AND_TIME, online=False, offline=offline, role=f"arn:aws:iam::{ACCOUNT}:role/fs"
    )
    if tags:
        request["Tags"] = tags
    plain(url, "sagemaker").create_feature_group(**request)


def test_sweep_lists_and_deletes_only_tagged_old_groups(endpoint: str) -> None:
    old = [{"Key": TAG_RUN, "Value": "r1"}, {"Key": TAG_CREATED, "Value": "2020-01-01T00:00:00Z"}]
    young = [{"Key": TAG_RUN, "Value": "r2"}, {"Key": TAG_CREATED, "Value": "2999-01-01T00:00:00Z"}]
    _create(endpoint, "fsct-old-tagged", old)
    _create(endpoint, "fsct-young-tagged", young)
    _create(endpoint, "fsct-old-untagged", [])
    _create(endpoint, "fsct-half-tagged", old[:1])
    sagemaker = plain(endpoint, "sagemaker")
    for name in listed_groups(endpoint):
        wait_created(sagemaker, name)
    clients = sweep_clients("us-east-1", None, endpoint)
    assert [c.name for c in find_candidates(clients, parse_age("6h"))] == ["fsct-old-tagged"]

    out = io.StringIO()
    assert (
        main(["sweep", "--older-than", "6h", "--endpoint-url", endpoint, "--region", "us-east-1"])
        == 0
    )
    code = sweep(
        region="us-east-1",
        profile=None,
        endpoint_url=endpoint,
        older_than=parse_age("6h"),
        apply=False,
        out=out,
    )
    assert code == 0
    assert "would delete feature group fsct-old-tagged" in out.getvalue()
    assert "untagged" not in out.getvalue() and "young" not in out.getvalue()
    assert len(listed_groups(endpoint)) == 4  # a dry run deletes nothing

    described = sagemaker.describe_feature_group(FeatureGroupName="fsct-old-tagged")
    catalog = described["OfflineStoreConfig"]["DataCatalogConfig"]
    out = io.StringIO()
    assert (
        sweep(
            region="us-east-1",
            profile=None,
            endpoint_url=endpoint,
            older_than=parse_age("6h"),
            apply=True,
            out=out,
            budgets=started(endpoint).budgets,
        )
        == 0
    ), out.getvalue()
    assert sorted(listed_groups(endpoint)) == [
        "fsct-half-tagged",
        "fsct-old-untagged",
        "fsct-young-tagged",
    ]
    with pytest.raises(plain(endpoint, "glue").exceptions.EntityNotFoundException):
        plain(endpoint, "glue").get_table(
            DatabaseName=catalog["Database"], Name=catalog["TableName"]
        )


def test_sweep_age_parsing() -> None:
    assert parse_age("90m").total_seconds() == 5400
    assert parse_age("6h").total_seconds() == 21600
    assert parse_age("2d").total_seconds() == 172800
    with pytest.raises(ValueError, match="older-than"):
        parse_age("soon")


# -- the infrastructure files -----------------------------------------------------------------


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short intrinsic tags (!Ref, !Sub, !GetAtt, ...)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def test_bootstrap_template_parses_and_has_what_feature_store_needs() -> None:
    template = yaml.load(
        (REPO / "infra" / "bootstrap.yaml").read_text(), Loader=_CloudFormationLoader
    )
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert {
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::IAM::Role",
        "AWS::Athena::WorkGroup",
    } <= types
    assert template["Outputs"]


def test_runner_policy_is_valid_json_without_wildcard_actions() -> None:
    policy = json.loads((REPO / "infra" / "runner-policy.json").read_text())
    actions = [
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert "sts:GetCallerIdentity" in actions
    assert "*" not in actions and not any(a.endswith(":*") for a in actions)


def test_nightly_workflow_runs_the_aws_backend_with_oidc() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "nightly.yml").read_text())
    jobs = workflow["jobs"]
    job = next(iter(jobs.values()))
    assert job["permissions"]["id-token"] == "write"
    steps = json.dumps(job["steps"])
    assert "--backend=aws" in steps and "upload-artifact" in steps
