"""What the installed botocore models promise about Feature Store (OFFLINE-MODEL, OFFLINE-STUB).

These tests read the models through the backend's clients and never reach a service.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

pytestmark = pytest.mark.control_plane

LIFECYCLE_OPERATIONS = [
    "CreateFeatureGroup",
    "DescribeFeatureGroup",
    "UpdateFeatureGroup",
    "DeleteFeatureGroup",
    "ListFeatureGroups",
    "UpdateFeatureMetadata",
    "DescribeFeatureMetadata",
]
RECORD_PATH = "/FeatureGroup/{FeatureGroupName}"


@pytest.mark.clause("C-001")
def test_lifecycle_calls_use_the_json_protocol_of_the_sagemaker_client(backend):
    client = backend.sagemaker
    model = client.meta.service_model

    assert model.metadata["protocol"] == "json"
    assert model.api_version == "2017-07-24"
    assert model.endpoint_prefix == "api.sagemaker"
    assert model.signing_name == "sagemaker"
    for operation in LIFECYCLE_OPERATIONS:
        http = model.operation_model(operation).http
        assert (http["method"], http["requestUri"]) == ("POST", "/"), operation
        assert callable(getattr(client, botocore.xform_name(operation))), operation


@pytest.mark.clause("C-001")
@pytest.mark.parametrize(
    ("operation", "method", "uri", "uri_members", "query_members"),
    [
        ("PutRecord", "PUT", RECORD_PATH, {"FeatureGroupName"}, {}),
        pytest.param(
            "GetRecord",
            "GET",
            RECORD_PATH,
            {"FeatureGroupName"},
            {
                "RecordIdentifierValueAsString": "RecordIdentifierValueAsString",
                "FeatureNames": "FeatureName",
                "ExpirationTimeResponse": "ExpirationTimeResponse",
            },
            marks=pytest.mark.requires(members=["GetRecord.ExpirationTimeResponse"]),
        ),
        (
            "DeleteRecord",
            "DELETE",
            RECORD_PATH,
            {"FeatureGroupName"},
            {
                "RecordIdentifierValueAsString": "RecordIdentifierValueAsString",
                "EventTime": "EventTime",
                "TargetStores": "TargetStores",
                "DeletionMode": "DeletionMode",
            },
        ),
        ("BatchGetRecord", "POST", "/BatchGetRecord", set(), {}),
    ],
)
def test_record_calls_use_rest_json_routes_of_the_runtime_client(
    backend, operation, method, uri, uri_members, query_members
):
    model = backend.runtime.meta.service_model
    operation_model = model.operation_model(operation)
    members = operation_model.input_shape.members

    assert model.metadata["protocol"] == "rest-json"
    assert model.api_version == "2020-07-01"
    assert model.endpoint_prefix == "featurestore-runtime.sagemaker"
    assert operation_model.http["method"] == method
    assert operation_model.http["requestUri"] == uri
    in_uri = {n for n, s in members.items() if s.serialization.get("location") == "uri"}
    in_query = {
        n: s.serialization["name"]
        for n, s in members.items()
        if s.serialization.get("location") == "querystring"
    }
    assert in_uri == uri_members
    assert in_query == query_members


@pytest.mark.clause("C-004", "C-018", "C-019")
@pytest.mark.parametrize(
    ("operation", "declared"),
    [
        ("CreateFeatureGroup", {"ResourceInUse", "ResourceLimitExceeded"}),
        ("DescribeFeatureGroup", {"ResourceNotFound"}),
        # The same botocore release declared ResourceLimitExceeded here and ThroughputConfig.
        pytest.param(
            "UpdateFeatureGroup",
            {"ResourceLimitExceeded", "ResourceNotFound"},
            marks=pytest.mark.requires(members=["UpdateFeatureGroup.ThroughputConfig"]),
        ),
        ("DeleteFeatureGroup", {"ResourceNotFound"}),
        ("ListFeatureGroups", set()),
        ("UpdateFeatureMetadata", {"ResourceNotFound"}),
        ("DescribeFeatureMetadata", {"ResourceNotFound"}),
    ],
)
def test_lifecycle_operations_declare_only_the_resource_errors(backend, operation, declared):
    model = backend.sagemaker.meta.service_model

    errors = {shape.name for shape in model.operation_model(operation).error_shapes}

    assert errors == declared


@pytest.mark.clause("C-002")
def test_there_is_no_feature_group_waiter_so_callers_must_poll(backend):
    waiters = [name for name in backend.sagemaker.waiter_names if "feature" in name.lower()]

    assert waiters == []


@pytest.mark.clause("C-002", "C-131")
def test_list_feature_groups_has_a_paginator_on_next_token(backend):
    paginators = botocore.session.get_session().get_paginator_model("sagemaker")

    assert backend.sagemaker.can_paginate("list_feature_groups")
    assert paginators.get_paginator("ListFeatureGroups") == {
        "input_token": "NextToken",
        "output_token": "NextToken",
        "limit_key": "MaxResults",
        "result_key": "FeatureGroupSummaries",
    }


@pytest.mark.clause("C-052", "C-050")
@pytest.mark.requires(
    members=[
        "UpdateFeatureGroup.OnlineStoreConfig.TtlDuration",
        "UpdateFeatureGroup.ThroughputConfig",
    ]
)
def test_update_feature_group_can_only_add_features(backend):
    model = backend.sagemaker.meta.service_model
    update = model.operation_model("UpdateFeatureGroup").input_shape

    assert set(update.members) == {
        "FeatureGroupName",
        "FeatureAdditions",
        "OnlineStoreConfig",
        "ThroughputConfig",
    }
    assert update.required_members == ["FeatureGroupName"]
    assert update.members["FeatureAdditions"].metadata["min"] == 1
    assert update.members["FeatureAdditions"].metadata["max"] == 100
    # Newer models let an update change more online-store settings (C-005), never a feature.
    online_update = set(update.members["OnlineStoreConfig"].members)
    assert "TtlDuration" in online_update
    assert not any("Feature" in member for member in online_update)
    removals = [
        method
        for method in dir(backend.sagemaker)
        if method.startswith(("remove_feature", "delete_feature", "rename_feature"))
        and method != "delete_feature_group"
    ]
    assert removals == []


@pytest.mark.clause("C-130")
def test_delete_feature_group_takes_a_name_and_no_arn(backend):
    model = backend.sagemaker.meta.service_model
    request = model.operation_model("DeleteFeatureGroup").input_shape

    assert list(request.members) == ["FeatureGroupName"]
    name = request.members["FeatureGroupName"]
    assert name.metadata["max"] == 64
    assert "arn" not in name.metadata["pattern"]


# -- C-003: what botocore checks before any request leaves the client -------------------

_DEFINITIONS = [
    {"FeatureName": "customer_id", "FeatureType": "String"},
    {"FeatureName": "event_time", "FeatureType": "Fractional"},
]
_CREATE = {
    "FeatureGroupName": "stubbed-group",
    "RecordIdentifierFeatureName": "customer_id",
    "EventTimeFeatureName": "event_time",
    "FeatureDefinitions": _DEFINITIONS,
    "OnlineStoreConfig": {"EnableOnlineStore": True},
}
_RECORD = [
    {"FeatureName": "customer_id", "ValueAsString": "1"},
    {"FeatureName": "event_time", "ValueAsString": "1700000000.0"},
]


def _create(**members: Any) -> tuple[str, str, dict[str, Any]]:
    return "sagemaker", "create_feature_group", {**_CREATE, **members}


def _without(member: str) -> tuple[str, str, dict[str, Any]]:
    return "sagemaker", "create_feature_group", {k: v for k, v in _CREATE.items() if k != member}


def _update(**members: Any) -> tuple[str, str, dict[str, Any]]:
    return "sagemaker", "update_feature_group", {"FeatureGroupName": "stubbed-group", **members}


def _put(**members: Any) -> tuple[str, str, dict[str, Any]]:
    return (
        "sagemaker-featurestore-runtime",
        "put_record",
        {"FeatureGroupName": "stubbed-group", "Record": _RECORD, **members},
    )


@functools.cache
def _offline_client(service: str, region: str) -> BaseClient:
    """A client with dummy credentials; built once, since loading a model takes a while."""
    session = boto3.session.Session(
        aws_access_key_id="stub", aws_secret_access_key="stub", region_name=region
    )
    return session.client(service)


@pytest.fixture
def stubbed(backend) -> Iterator[dict[str, tuple[BaseClient, Stubber]]]:
    """Clients with a Stubber attached: nothing they send reaches any endpoint."""
    stubs = {}
    for service in ("sagemaker", "sagemaker-featurestore-runtime"):
        client = _offline_client(service, backend.region)
        stubber = Stubber(client)
        stubber.activate()
        stubs[service] = (client, stubber)
    yield stubs
    for _, stubber in stubs.values():
        stubber.deactivate()


@pytest.mark.clause("C-003", "C-010")
@pytest.mark.parametrize(
    ("service", "method", "params"),
    [
        pytest.param(*_without("FeatureGroupName"), id="create-without-name"),
        pytest.param(*_without("RecordIdentifierFeatureName"), id="create-without-identifier"),
        pytest.param(*_without("EventTimeFeatureName"), id="create-without-event-time"),
        pytest.param(*_without("FeatureDefinitions"), id="create-without-definitions"),
        pytest.param(*_create(FeatureDefinitions=[]), id="create-empty-definitions"),
        pytest.param(*_create(FeatureGroupName=""), id="create-empty-name"),
        pytest.param(
            *_create(FeatureDefinitions=[*_DEFINITIONS, {"FeatureName": "untyped"}]),
            id="create-definition-without-type",
            # FeatureType became required when collection types were added.
            marks=pytest.mark.requires(
                members=["CreateFeatureGroup.FeatureDefinitions.CollectionType"]
            ),
        ),
        pytest.param(
            *_create(
                FeatureDefinitions=[
                    *_DEFINITIONS,
                    {
                        "FeatureName": "embedding",
                        "FeatureType": "Fractional",
                        "CollectionType": "Vector",
                        "CollectionConfig": {"VectorConfig": {"Dimension": 0}},
                    },
                ]
            ),
            id="create-vector-dimension-0",
        ),
        pytest.param(
            *_create(
                OnlineStoreConfig={
                    "EnableOnlineStore": True,
                    "TtlDuration": {"Unit": "Seconds", "Value": 0},
                }
            ),
            id="create-ttl-value-0",
        ),
        pytest.param(
            *_create(
                OfflineStoreConfig={"S3StorageConfig": {}},
                RoleArn="arn:aws:iam::123456789012:role/feature-store",
            ),
            id="create-offline-without-s3-uri",
        ),
        pytest.param(*_create(RoleArn="arn:x"), id="create-role-arn-too-short"),
        pytest.param(*_update(FeatureAdditions=[]), id="update-empty-additions"),
        pytest.param(*_put(Record=[]), id="put-empty-record"),
        pytest.param(*_put(TtlDuration={"Value": 1}), id="put-ttl-without-unit"),
        pytest.param(
            *_put(Record=[*_RECORD, {"FeatureName": "n_days_active", "ValueAsString": 1}]),
            id="put-int-value",
        ),
    ],
)
def test_botocore_rejects_before_sending(stubbed, service, method, params):
    client, stubber = stubbed[service]
    stubber.add_response(method, _STUB_RESPONSES[method])

    with pytest.raises(ParamValidationError):
        getattr(client, method)(**params)
    with pytest.raises(AssertionError):  # the stubbed answer is still queued: nothing was sent
        stubber.assert_no_pending_responses()


@pytest.mark.clause("C-003")
@pytest.mark.parametrize(
    ("service", "method", "params"),
    [
        pytest.param(*_create(FeatureGroupName="a" * 65), id="create-65-char-name"),
        pytest.param(*_create(FeatureGroupName="_bad name"), id="create-name-pattern"),
        pytest.param(
            *_create(
                FeatureDefinitions=[*_DEFINITIONS, {"FeatureName": "b", "FeatureType": "Boolean"}]
            ),
            id="create-unknown-feature-type",
        ),
        pytest.param(
            *_create(
                FeatureDefinitions=[
                    *_DEFINITIONS,
                    *({"FeatureName": f"f{i}", "FeatureType": "String"} for i in range(2499)),
                ]
            ),
            id="create-2501-definitions",
        ),
        pytest.param(
            *_update(
                FeatureAdditions=[
                    {"FeatureName": f"f{i}", "FeatureType": "String"} for i in range(101)
                ]
            ),
            id="update-101-additions",
        ),
        pytest.param(*_update(), id="update-name-only"),
    ],
)
def test_botocore_leaves_these_to_the_service(stubbed, service, method, params):
    """Max lengths, patterns and enums pass the client; only the service can refuse them."""
    client, stubber = stubbed[service]
    stubber.add_response(method, _STUB_RESPONSES[method])

    getattr(client, method)(**params)

    stubber.assert_no_pending_responses()


_STUB_ARN = "arn:aws:sagemaker:us-east-1:123456789012:feature-group/stubbed-group"
_STUB_RESPONSES: dict[str, dict[str, Any]] = {
    "create_feature_group": {"FeatureGroupArn": _STUB_ARN},
    "update_feature_group": {"FeatureGroupArn": _STUB_ARN},
    "put_record": {},
}
