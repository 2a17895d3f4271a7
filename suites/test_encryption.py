"""Customer-managed KMS keys: the offline store's objects and the online store's grant (C-191).

What AWS's KMS sample shows (evidence E-26, E-27): the offline objects of a group created with
an offline ``KmsKeyId`` are encrypted SSE-KMS under that key, and the online store's key gets
a grant named after the group. Each test makes its own key, usable by the Feature Store role
as the sample sets it up, and schedules its deletion afterwards.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsconformance.backends import Backend

from .helpers import feature
from .offline_helpers import OfflineStore, object_keys, record, wait_for_rows

pytestmark = pytest.mark.control_plane

# C-191: the grant's name and the operations the sample lists for it (E-27).
GRANT_PREFIX = "SageMakerFeatureStore-"
GRANT_OPERATIONS = [
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "ReEncryptFrom",
    "ReEncryptTo",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
]


@pytest.fixture
def kms_key(backend: Backend) -> Iterator[dict[str, Any]]:
    """A symmetric key the account administers and the Feature Store role may use."""
    kms = backend.client("kms")
    partition = backend.role_arn.split(":")[1] if backend.role_arn else "aws"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{backend.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": backend.role_arn},
                "Action": [f"kms:{operation}" for operation in GRANT_OPERATIONS],
                "Resource": "*",
            },
        ],
    }
    key = kms.create_key(Description="fsconformance C-191", Policy=json.dumps(policy))
    try:
        yield key["KeyMetadata"]
    finally:
        kms.schedule_key_deletion(KeyId=key["KeyMetadata"]["KeyId"], PendingWindowInDays=7)


def grants_named(backend: Backend, key_id: str, name: str) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = []
    for page in backend.client("kms").get_paginator("list_grants").paginate(KeyId=key_id):
        grants += [grant for grant in page["Grants"] if grant.get("Name") == name]
    return grants


def table_root(store: OfflineStore) -> OfflineStore:
    """The group's whole offline prefix: ``data/`` and, for Iceberg, ``metadata/`` (C-064)."""
    return dataclasses.replace(store, s3_uri=store.s3_uri.rstrip("/").removesuffix("/data"))


def offline_group_with_one_row(
    backend: Backend, table_format: str, event_time: str, kms_key_id: str | None
) -> OfflineStore:
    """An offline-only group of the format, one record put, and the row queryable."""
    event_type = "String" if table_format == "Iceberg" else "Fractional"  # C-015
    request = backend.feature_group_request(
        definitions=[feature("customer_id", "String"), feature("event_time", event_type)],
        online=False,
    )
    request["OfflineStoreConfig"]["TableFormat"] = table_format
    if kms_key_id is not None:
        request["OfflineStoreConfig"]["S3StorageConfig"]["KmsKeyId"] = kms_key_id
    description = backend.create_and_wait(request)
    backend.runtime.put_record(
        FeatureGroupName=request["FeatureGroupName"],
        Record=record(customer_id="c1", event_time=event_time),
    )
    store = OfflineStore.of(description)
    wait_for_rows(backend, store, 1)
    return store


def encryption_of(backend: Backend, store: OfflineStore, key: str) -> list[tuple[Any, Any]]:
    """(ServerSideEncryption, SSEKMSKeyId) as HeadObject and then GetObject report them."""
    head = backend.s3.head_object(Bucket=store.bucket, Key=key)
    got = backend.s3.get_object(Bucket=store.bucket, Key=key)
    got["Body"].read()
    return [(r.get("ServerSideEncryption"), r.get("SSEKMSKeyId")) for r in (head, got)]


@pytest.mark.clause("C-191", "C-061", "C-064")
@pytest.mark.evidence("E-26")
@pytest.mark.offline_store
@pytest.mark.parametrize(
    ("table_format", "event_time"),
    [
        ("Glue", "1709618828"),
        pytest.param(
            "Iceberg",
            "2024-03-05T06:07:08Z",
            marks=pytest.mark.no_snapshot(
                "it reads Iceberg metadata whose keys carry per-run random names, which the "
                "normaliser cannot pair"
            ),
        ),
    ],
)
def test_every_offline_object_of_a_group_with_an_offline_key_is_sse_kms(
    backend, kms_key, table_format, event_time
):
    store = offline_group_with_one_row(backend, table_format, event_time, kms_key["Arn"])

    keys = object_keys(backend, table_root(store))

    assert any(key.endswith(".parquet") for key in keys), keys
    for key in keys:
        assert encryption_of(backend, store, key) == [("aws:kms", kms_key["Arn"])] * 2, key


@pytest.mark.clause("C-191", "C-061")
@pytest.mark.evidence("E-26")
@pytest.mark.offline_store
def test_without_an_offline_key_the_objects_get_the_buckets_default_encryption(backend):
    store = offline_group_with_one_row(backend, "Glue", "1709618828", None)
    try:
        rules = backend.s3.get_bucket_encryption(Bucket=store.bucket)[
            "ServerSideEncryptionConfiguration"
        ]["Rules"]
        default = rules[0]["ApplyServerSideEncryptionByDefault"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        default = {}  # a bucket with no default: objects written without a choice have none

    keys = object_keys(backend, table_root(store))

    assert keys
    for key in keys:
        for algorithm, key_id in encryption_of(backend, store, key):
            assert algorithm == default.get("SSEAlgorithm"), key
            if default.get("KMSMasterKeyID"):
                assert key_id is not None and key_id.endswith(
                    default["KMSMasterKeyID"].rpartition("/")[2]
                ), key
            elif algorithm != "aws:kms":
                assert key_id is None, key


def online_group_with_key(backend: Backend, key_arn: str) -> str:
    request = backend.feature_group_request(offline=False)
    request["OnlineStoreConfig"]["SecurityConfig"] = {"KmsKeyId": key_arn}
    backend.create_and_wait(request)
    return request["FeatureGroupName"]


@pytest.mark.clause("C-191")
@pytest.mark.evidence("E-27")
@pytest.mark.online_store
def test_the_online_stores_key_gets_a_grant_named_after_the_group(backend, kms_key):
    name = online_group_with_key(backend, kms_key["Arn"])

    (grant,) = grants_named(backend, kms_key["KeyId"], f"{GRANT_PREFIX}{name}")

    assert sorted(grant["Operations"]) == sorted(GRANT_OPERATIONS)
    assert grant["KeyId"] in (kms_key["Arn"], kms_key["KeyId"])


@pytest.mark.clause("C-191", "C-130")
@pytest.mark.evidence("E-27")
@pytest.mark.online_store
@pytest.mark.uncertain("C-191 (no U-number): is the grant retired when the group is deleted?")
def test_the_grant_goes_when_the_group_is_deleted(backend, kms_key):
    name = online_group_with_key(backend, kms_key["Arn"])
    grant_name = f"{GRANT_PREFIX}{name}"
    assert grants_named(backend, kms_key["KeyId"], grant_name)

    backend.sagemaker.delete_feature_group(FeatureGroupName=name)
    backend.wait_until_deleted(name)

    backend.poll(
        lambda: not grants_named(backend, kms_key["KeyId"], grant_name),
        budget="delete",
        what=f"the grant {grant_name} retired",
    )
