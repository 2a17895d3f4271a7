"""UpdateFeatureGroup: adding features, and the additions the service refuses."""

from __future__ import annotations

import pytest

from .helpers import (
    LIMIT_EXCEEDED,
    U2,
    VALIDATION,
    base_definitions,
    expect_client_error,
    expect_update_rejected,
    feature,
    numbered_features,
    types_by_name,
)

pytestmark = pytest.mark.schema_evolution


@pytest.mark.clause("C-051", "C-017")
@pytest.mark.evidence("E-13", "E-14")
@pytest.mark.control_plane
def test_a_group_never_updated_has_no_last_update_status_nor_last_modified_time(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)
    # Feature metadata is not the group's definition: the group stays never-updated.
    backend.sagemaker.update_feature_metadata(
        FeatureGroupName=name, FeatureName="n_days_active", Description="days"
    )

    description = backend.describe(name)

    assert "LastUpdateStatus" not in description
    assert "LastModifiedTime" not in description


@pytest.mark.clause("C-051")
@pytest.mark.evidence("E-14")
@pytest.mark.control_plane
@pytest.mark.uncertain("C-051 (no U-number): LastModifiedTime once an update has completed")
def test_last_modified_time_appears_once_an_update_completes(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    created = backend.create_and_wait(request)
    assert "LastModifiedTime" not in created

    backend.sagemaker.update_feature_group(
        FeatureGroupName=name, FeatureAdditions=[feature("has_kids", "Integral")]
    )
    updated = backend.wait_for_update(name)

    assert updated["LastModifiedTime"] >= created["CreationTime"]


@pytest.mark.clause("C-050", "C-051")
def test_added_features_are_listed_with_their_types_once_the_update_succeeds(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]
    backend.wait_until_created(name)
    additions = [
        feature("has_kids", "Integral"),
        feature("lifetime_value", "Fractional"),
        feature("segment", "String"),
    ]

    response = backend.sagemaker.update_feature_group(
        FeatureGroupName=name, FeatureAdditions=additions
    )
    status_right_after = backend.describe(name)["LastUpdateStatus"]["Status"]

    assert response["FeatureGroupArn"] == arn
    assert status_right_after == "InProgress"
    description = backend.wait_for_update(name)
    assert description["LastUpdateStatus"]["Status"] == "Successful"
    assert types_by_name(description["FeatureDefinitions"]) == {
        "customer_id": "String",
        "event_time": "Fractional",
        "n_days_active": "Fractional",
        "is_married": "Integral",
        "has_kids": "Integral",
        "lifetime_value": "Fractional",
        "segment": "String",
    }


@pytest.mark.clause("C-050", "C-051")
@pytest.mark.requires(features=["feature_group_arn"])
def test_an_update_may_name_the_group_by_arn(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    arn = backend.sagemaker.create_feature_group(**request)["FeatureGroupArn"]
    backend.wait_until_created(name)

    backend.sagemaker.update_feature_group(
        FeatureGroupName=arn, FeatureAdditions=[feature("has_kids", "Integral")]
    )

    description = backend.wait_for_update(name)
    assert types_by_name(description["FeatureDefinitions"])["has_kids"] == "Integral"


@pytest.mark.clause("C-052", "C-013", "C-004")
@U2
@pytest.mark.parametrize(
    "additions",
    [
        pytest.param([feature("is_deleted", "String")], id="reserved-is_deleted"),
        pytest.param([feature("write_time", "String")], id="reserved-write_time"),
        pytest.param([feature("api_invocation_time", "String")], id="reserved-api_invocation_time"),
        pytest.param([feature("customer_id", "String")], id="existing-feature-same-type"),
        pytest.param([feature("n_days_active", "Integral")], id="existing-feature-other-type"),
        pytest.param([feature("segment"), feature("segment")], id="same-name-twice"),
    ],
)
def test_additions_that_reuse_or_reserve_a_name_are_refused(backend, additions):
    request = backend.feature_group_request()
    backend.create_and_wait(request)

    expect_update_rejected(backend, request, FeatureAdditions=additions)


@pytest.mark.clause("C-050", "C-003", "C-004")
@U2
def test_more_than_100_additions_in_one_call_are_refused(backend):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)

    expect_client_error(
        lambda: backend.sagemaker.update_feature_group(
            FeatureGroupName=name, FeatureAdditions=numbered_features(101, prefix="added")
        )
    )
    assert backend.describe(name).get("LastUpdateStatus", {}).get("Status") != "InProgress"


@pytest.mark.clause("C-052", "C-140", "C-010")
@pytest.mark.uncertain("U-2: ResourceLimitExceeded or a validation error past 2,500 features?")
def test_2500_features_is_the_most_a_group_can_hold(backend):
    definitions = [*base_definitions(), *numbered_features(2496)]
    request = backend.feature_group_request(definitions=definitions)
    name = request["FeatureGroupName"]
    assert len(backend.create_and_wait(request)["FeatureDefinitions"]) == 2500

    expect_client_error(
        lambda: backend.sagemaker.update_feature_group(
            FeatureGroupName=name, FeatureAdditions=[feature("one_too_many")]
        ),
        status=400,
        codes=LIMIT_EXCEEDED | VALIDATION,
    )


@pytest.mark.clause("C-050", "C-004")
@pytest.mark.control_plane
@U2
@pytest.mark.uncertain("U-15: does the service refuse none, or several, kinds of change?")
@pytest.mark.parametrize(
    "update",
    [
        pytest.param({}, id="nothing-to-change"),
        pytest.param(
            {
                "FeatureAdditions": [feature("has_kids", "Integral")],
                "ThroughputConfig": {"ThroughputMode": "OnDemand"},
            },
            id="additions-and-throughput",
            marks=pytest.mark.requires(members=["UpdateFeatureGroup.ThroughputConfig"]),
        ),
        pytest.param(
            {
                "FeatureAdditions": [feature("has_kids", "Integral")],
                "OnlineStoreConfig": {"TtlDuration": {"Unit": "Days", "Value": 1}},
            },
            id="additions-and-ttl",
            marks=pytest.mark.requires(
                members=["UpdateFeatureGroup.OnlineStoreConfig.TtlDuration"]
            ),
        ),
    ],
)
def test_an_update_changes_exactly_one_kind_of_setting(backend, update):
    request = backend.feature_group_request()
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)

    expect_client_error(
        lambda: backend.sagemaker.update_feature_group(FeatureGroupName=name, **update)
    )
    assert backend.describe(name).get("LastUpdateStatus", {}).get("Status") != "InProgress"
