"""Feature metadata (Update/DescribeFeatureMetadata) and tags on feature groups."""

from __future__ import annotations

import datetime

import pytest

from .helpers import NOT_FOUND, U2, expect_client_error

pytestmark = pytest.mark.control_plane


@pytest.mark.clause("C-132")
@pytest.mark.requires(features=["feature_group_arn"])
def test_feature_metadata_keeps_the_description_when_a_parameter_is_removed(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]
    backend.wait_until_created(name)

    response = backend.sagemaker.update_feature_metadata(
        FeatureGroupName=name,
        FeatureName="n_days_active",
        Description="days with at least one order",
        ParameterAdditions=[
            {"Key": "key1", "Value": "value1"},
            {"Key": "key2", "Value": "value2"},
        ],
    )
    assert set(response) - {"ResponseMetadata"} == set()
    described = backend.sagemaker.describe_feature_metadata(
        FeatureGroupName=name, FeatureName="n_days_active"
    )
    assert described["FeatureGroupArn"] == arn
    assert described["FeatureGroupName"] == name
    assert described["FeatureName"] == "n_days_active"
    assert described["FeatureType"] == "Fractional"
    assert isinstance(described["CreationTime"], datetime.datetime)
    assert isinstance(described["LastModifiedTime"], datetime.datetime)
    assert described["Description"] == "days with at least one order"
    assert sorted(described["Parameters"], key=lambda p: p["Key"]) == [
        {"Key": "key1", "Value": "value1"},
        {"Key": "key2", "Value": "value2"},
    ]

    backend.sagemaker.update_feature_metadata(
        FeatureGroupName=name, FeatureName="n_days_active", ParameterRemovals=["key1"]
    )

    described = backend.sagemaker.describe_feature_metadata(
        FeatureGroupName=arn, FeatureName="n_days_active"
    )
    assert described["Parameters"] == [{"Key": "key2", "Value": "value2"}]
    assert described["Description"] == "days with at least one order"


@pytest.mark.clause("C-132", "C-004")
@pytest.mark.parametrize(
    ("method", "members"),
    [
        ("describe_feature_metadata", {}),
        ("update_feature_metadata", {"Description": "nothing to describe"}),
    ],
)
def test_metadata_of_an_unknown_feature_is_resource_not_found(backend, method, members):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)

    expect_client_error(
        lambda: getattr(backend.sagemaker, method)(
            FeatureGroupName=name, FeatureName="not_a_feature", **members
        ),
        status=400,
        codes=NOT_FOUND,
    )


@pytest.mark.clause("C-132", "C-004")
@U2
@pytest.mark.parametrize(
    "members",
    [
        pytest.param({"Description": "d" * 256}, id="256-character-description"),
        pytest.param(
            {"ParameterAdditions": [{"Key": f"k{i}", "Value": "v"} for i in range(26)]},
            id="26-parameters",
        ),
    ],
)
def test_metadata_over_its_model_maximum_is_refused(backend, members):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)

    expect_client_error(
        lambda: backend.sagemaker.update_feature_metadata(
            FeatureGroupName=name, FeatureName="n_days_active", **members
        )
    )


@pytest.mark.clause("C-010")
def test_tags_given_at_creation_are_listed_on_the_arn(backend):
    request = backend.feature_group_request(
        offline=False, Tags=[{"Key": "key1", "Value": "value1"}]
    )
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]
    backend.wait_until_created(request["FeatureGroupName"])

    tags = backend.sagemaker.list_tags(ResourceArn=arn)["Tags"]

    assert tags == [{"Key": "key1", "Value": "value1"}]


@pytest.mark.clause("C-010")
def test_tags_can_be_added_and_deleted_after_creation(backend):
    request = backend.feature_group_request(Tags=[{"Key": "team", "Value": "growth"}])
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]
    backend.wait_until_created(request["FeatureGroupName"])

    backend.sagemaker.add_tags(
        ResourceArn=arn,
        Tags=[{"Key": "stage", "Value": "test"}, {"Key": "team", "Value": "data"}],
    )
    after_add = backend.sagemaker.list_tags(ResourceArn=arn)["Tags"]
    backend.sagemaker.delete_tags(ResourceArn=arn, TagKeys=["stage"])
    after_delete = backend.sagemaker.list_tags(ResourceArn=arn)["Tags"]

    assert sorted(after_add, key=lambda t: t["Key"]) == [
        {"Key": "stage", "Value": "test"},
        {"Key": "team", "Value": "data"},
    ]
    assert after_delete == [{"Key": "team", "Value": "data"}]


@pytest.mark.clause("C-010")
def test_a_128_character_description_and_50_tags_are_accepted(backend):
    tags = [{"Key": f"key{i:02d}", "Value": f"value{i}"} for i in range(50)]
    request = backend.feature_group_request(Description="d" * 128, Tags=tags)
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]

    description = backend.wait_until_created(request["FeatureGroupName"])

    assert description["Description"] == "d" * 128
    listed = [
        tag
        for page in backend.sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn)
        for tag in page["Tags"]
    ]
    assert sorted(listed, key=lambda t: t["Key"]) == tags
