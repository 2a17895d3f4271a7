"""Self-tests of the pure control-plane model, driven with explicit ``now`` values."""

from __future__ import annotations

from typing import Any

import pytest

from fsconformance.emulator.settings import delays_from_env
from fsconformance.model.control_plane import ControlPlane, Delays
from fsconformance.model.errors import ServiceError
from tests.helpers import create_request

ACCOUNT = "123456789012"
REGION = "us-east-1"
T0 = 1_700_000_000.0

# The model's decided answers where the contract marks the behaviour UNCERTAIN; the tests
# assert the decision, labelled so, and only codes, never the model's own message text.
U_CODE = pytest.mark.uncertain(
    "C-004 (2): is a control-plane validation error ValidationException?"
)
U_SECOND_UPDATE = pytest.mark.uncertain(
    "C-056 says a throughput update cannot start while another is in progress; is the same "
    "true of feature additions, and of an update while the group is Creating?"
)
U_LAST_MODIFIED = pytest.mark.uncertain(
    "C-051: LastModifiedTime after an update; the emulation sets it when the update completes"
)
U_REUSE = pytest.mark.uncertain("C-011: can a name be reused after deletion; is it case-blind?")


@pytest.fixture
def plane() -> ControlPlane:
    return ControlPlane(ACCOUNT, REGION, Delays(create=10, update=5, delete=3))


def request(name: str = "customers", **members: Any) -> dict[str, Any]:
    return create_request(name, **members)


def status(plane: ControlPlane, name: str, now: float) -> str:
    return plane.describe_feature_group({"FeatureGroupName": name}, now)["FeatureGroupStatus"]


def error_of(call: Any, *args: Any) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call(*args)
    return info.value


def created(plane: ControlPlane, name: str = "customers") -> None:
    plane.create_feature_group(request(name), T0)
    assert status(plane, name, T0 + 10) == "Created"


def test_create_returns_the_arn_with_the_name_as_given(plane: ControlPlane) -> None:
    # C-010: a recorded response kept "FG-online-only-inmemory" in its ARN (evidence E-02).
    response = plane.create_feature_group(request("Customers"), T0)
    assert response == {
        "FeatureGroupArn": "arn:aws:sagemaker:us-east-1:123456789012:feature-group/Customers"
    }


def test_creating_until_the_create_delay_has_passed(plane: ControlPlane) -> None:
    plane.create_feature_group(request(), T0)
    assert status(plane, "customers", T0) == "Creating"
    assert status(plane, "customers", T0 + 9.999) == "Creating"
    assert status(plane, "customers", T0 + 10) == "Created"
    assert status(plane, "customers", T0 + 1000) == "Created"


def test_update_in_progress_then_successful_and_additions_visible_after(
    plane: ControlPlane,
) -> None:
    created(plane)
    addition = {"FeatureName": "n_orders", "FeatureType": "Integral"}
    plane.update_feature_group(
        {"FeatureGroupName": "customers", "FeatureAdditions": [addition]}, T0 + 20
    )
    during = plane.describe_feature_group({"FeatureGroupName": "customers"}, T0 + 24.9)
    assert during["LastUpdateStatus"] == {"Status": "InProgress"}
    assert [d["FeatureName"] for d in during["FeatureDefinitions"]] == [
        "customer_id",
        "event_time",
    ]
    after = plane.describe_feature_group({"FeatureGroupName": "customers"}, T0 + 25)
    assert after["LastUpdateStatus"] == {"Status": "Successful"}
    assert [d["FeatureName"] for d in after["FeatureDefinitions"]] == [
        "customer_id",
        "event_time",
        "n_orders",
    ]


@U_LAST_MODIFIED
def test_last_modified_time_is_when_the_first_update_completed(plane: ControlPlane) -> None:
    created(plane)
    addition = {"FeatureName": "n_orders", "FeatureType": "Integral"}
    plane.update_feature_group(
        {"FeatureGroupName": "customers", "FeatureAdditions": [addition]}, T0 + 20
    )
    during = plane.describe_feature_group({"FeatureGroupName": "customers"}, T0 + 24.9)
    after = plane.describe_feature_group({"FeatureGroupName": "customers"}, T0 + 25)
    assert "LastModifiedTime" not in during
    assert after["LastModifiedTime"] == T0 + 25


def test_no_last_update_status_nor_last_modified_time_before_any_update(
    plane: ControlPlane,
) -> None:
    # C-051: three recorded Describes of never-updated groups have neither (E-13, E-14).
    created(plane)
    plane.update_feature_metadata(
        {"FeatureGroupName": "customers", "FeatureName": "event_time", "Description": "d"},
        T0 + 11,
    )
    description = plane.describe_feature_group({"FeatureGroupName": "customers"}, T0 + 12)
    assert "LastUpdateStatus" not in description
    assert "LastModifiedTime" not in description


def test_at_most_four_groups_are_creating_at_once(plane: ControlPlane) -> None:
    # C-019: the quota a user met on AWS, in its words (E-09).
    for index in range(4):
        plane.create_feature_group(request(f"g{index}"), T0 + index)
    error = error_of(plane.create_feature_group, request("g4"), T0 + 5)
    assert error.code == "ResourceLimitExceeded"
    assert error.message.startswith(
        "The account-level service limit 'Maximum number of feature group creation "
        "workflows executing in parallel' is 4 FeatureGroups, with current utilization of 4 "
        "FeatureGroups and a request delta of 1 FeatureGroups."
    )
    with pytest.raises(ServiceError):  # nothing was created under the refused name
        plane.describe_feature_group({"FeatureGroupName": "g4"}, T0 + 5)
    # g0 is Created at T0 + 10: a slot is free again.
    plane.create_feature_group(request("g4"), T0 + 10)
    assert plane.creating(T0 + 10) == 4


def test_a_deleting_group_holds_no_creation_slot(plane: ControlPlane) -> None:
    for index in range(4):
        plane.create_feature_group(request(f"g{index}"), T0)
    plane.delete_feature_group({"FeatureGroupName": "g0"}, T0 + 1)
    plane.create_feature_group(request("g4"), T0 + 1)
    assert plane.creating(T0 + 1) == 4


@U_CODE
@U_SECOND_UPDATE
def test_second_update_while_one_is_in_progress_is_rejected(plane: ControlPlane) -> None:
    created(plane)
    first = {"FeatureName": "a", "FeatureType": "String"}
    second = {"FeatureName": "b", "FeatureType": "String"}
    plane.update_feature_group(
        {"FeatureGroupName": "customers", "FeatureAdditions": [first]}, T0 + 20
    )
    error = error_of(
        plane.update_feature_group,
        {"FeatureGroupName": "customers", "FeatureAdditions": [second]},
        T0 + 21,
    )
    assert error.code == "ValidationException"
    # Once the first update has finished, the next one is accepted.
    plane.update_feature_group(
        {"FeatureGroupName": "customers", "FeatureAdditions": [second]}, T0 + 25
    )


@U_CODE
@U_SECOND_UPDATE
def test_update_while_creating_is_rejected(plane: ControlPlane) -> None:
    plane.create_feature_group(request(), T0)
    error = error_of(
        plane.update_feature_group,
        {
            "FeatureGroupName": "customers",
            "FeatureAdditions": [{"FeatureName": "a", "FeatureType": "String"}],
        },
        T0 + 1,
    )
    assert error.code == "ValidationException"


def test_delete_is_deleting_then_gone(plane: ControlPlane) -> None:
    created(plane)
    assert plane.delete_feature_group({"FeatureGroupName": "customers"}, T0 + 20) == {}
    assert status(plane, "customers", T0 + 20) == "Deleting"
    assert status(plane, "customers", T0 + 22.9) == "Deleting"
    error = error_of(plane.describe_feature_group, {"FeatureGroupName": "customers"}, T0 + 23)
    assert error.code == "ResourceNotFound"  # C-018
    assert plane.groups() == []


@U_REUSE
def test_name_is_taken_while_deleting_and_free_after(plane: ControlPlane) -> None:
    created(plane)
    plane.delete_feature_group({"FeatureGroupName": "customers"}, T0 + 20)
    error = error_of(plane.create_feature_group, request(), T0 + 21)
    assert error.code == "ResourceInUse"
    plane.create_feature_group(request(), T0 + 23)
    assert status(plane, "customers", T0 + 23) == "Creating"


@U_REUSE
def test_name_is_unique_ignoring_case(plane: ControlPlane) -> None:
    created(plane)
    assert error_of(plane.create_feature_group, request("CUSTOMERS"), T0 + 11).code == (
        "ResourceInUse"
    )


@U_REUSE
def test_describe_by_arn_or_name_in_any_case(plane: ControlPlane) -> None:
    created(plane, "Customers")
    arn = "arn:aws:sagemaker:us-east-1:123456789012:feature-group/Customers"
    for key in (arn, arn.lower(), "customers", "CUSTOMERS"):
        description = plane.describe_feature_group({"FeatureGroupName": key}, T0 + 11)
        assert description["FeatureGroupName"] == "Customers"
        assert description["FeatureGroupArn"] == arn


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sagemaker:us-east-1:210987654321:feature-group/customers",
        "arn:aws:sagemaker:eu-west-1:123456789012:feature-group/customers",
        "arn:aws-cn:sagemaker:us-east-1:123456789012:feature-group/customers",
        "arn:aws:sagemaker:us-east-1:123456789012:model/customers",
    ],
)
def test_arn_of_another_account_region_or_resource_is_not_found(
    plane: ControlPlane, arn: str
) -> None:
    created(plane)
    error = error_of(plane.describe_feature_group, {"FeatureGroupName": arn}, T0 + 11)
    assert error.code == "ResourceNotFound"


def test_missing_group_is_not_found(plane: ControlPlane) -> None:
    assert (
        error_of(plane.describe_feature_group, {"FeatureGroupName": "nope"}, T0).code
        == "ResourceNotFound"
    )


def list_names(response: dict[str, Any]) -> list[str]:
    return [s["FeatureGroupName"] for s in response["FeatureGroupSummaries"]]


def test_list_pages_with_next_token(plane: ControlPlane) -> None:
    for i in range(5):  # each Created before the next (C-019: 4 Creating at most)
        plane.create_feature_group(request(f"g{i}"), T0 + 10 * i)
    query = {"SortBy": "Name", "SortOrder": "Ascending", "MaxResults": 2}
    first = plane.list_feature_groups(query, T0 + 100)
    assert list_names(first) == ["g0", "g1"]
    second = plane.list_feature_groups({**query, "NextToken": first["NextToken"]}, T0 + 100)
    assert list_names(second) == ["g2", "g3"]
    third = plane.list_feature_groups({**query, "NextToken": second["NextToken"]}, T0 + 100)
    assert list_names(third) == ["g4"]
    assert "NextToken" not in third


@U_CODE
def test_next_token_reused_with_a_different_query_is_rejected(plane: ControlPlane) -> None:
    for i in range(3):
        plane.create_feature_group(request(f"g{i}"), T0 + i)
    first = plane.list_feature_groups({"SortBy": "Name", "MaxResults": 1}, T0 + 100)
    error = error_of(
        plane.list_feature_groups,
        {"SortBy": "CreationTime", "MaxResults": 1, "NextToken": first["NextToken"]},
        T0 + 100,
    )
    assert error.code == "ValidationException"
    # A different MaxResults is not a different query.
    plane.list_feature_groups(
        {"SortBy": "Name", "MaxResults": 2, "NextToken": first["NextToken"]}, T0 + 100
    )


@U_CODE
def test_garbage_next_token_is_rejected(plane: ControlPlane) -> None:
    error = error_of(plane.list_feature_groups, {"NextToken": "not-a-token!"}, T0)
    assert error.code == "ValidationException"


STEPS = ("CREATE", "UPDATE", "DELETE", "DATA_PLANE", "OFFLINE")


@pytest.fixture
def no_delay_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for step in STEPS:
        monkeypatch.delenv(f"FSCONFORMANCE_DELAY_{step}", raising=False)
    return monkeypatch


def test_delays_default(no_delay_env: pytest.MonkeyPatch) -> None:
    delays = delays_from_env()
    assert (delays.create, delays.update, delays.delete) == (0.1, 0.1, 0.1)
    assert delays == Delays()


def test_delays_from_env(no_delay_env: pytest.MonkeyPatch) -> None:
    no_delay_env.setenv("FSCONFORMANCE_DELAY_CREATE", "1.5")
    no_delay_env.setenv("FSCONFORMANCE_DELAY_UPDATE", "0")
    delays = delays_from_env()
    assert (delays.create, delays.update, delays.delete) == (1.5, 0.0, 0.1)
    no_delay_env.setenv("FSCONFORMANCE_DELAY_DELETE", "7")
    assert delays_from_env().delete == 7.0


@pytest.mark.parametrize("step", ["CREATE", "UPDATE", "DELETE"])
def test_delays_from_env_rejects_a_non_number(no_delay_env: pytest.MonkeyPatch, step: str) -> None:
    no_delay_env.setenv(f"FSCONFORMANCE_DELAY_{step}", "soon")
    with pytest.raises(ValueError) as info:
        delays_from_env()
    message = str(info.value)
    assert f"FSCONFORMANCE_DELAY_{step}" in message
    assert "'soon'" in message
    assert "\n" not in message


def provisioned(read: int, write: int) -> dict[str, Any]:
    return {
        "ThroughputMode": "Provisioned",
        "ProvisionedReadCapacityUnits": read,
        "ProvisionedWriteCapacityUnits": write,
    }


# The suites cannot test the Region's quota live: it would provision 80,000 units on a real
# account (C-140's test is "none directly"), so the model is held to the quota's text here.
def test_the_regions_provisioned_capacity_is_capped_over_all_groups(plane: ControlPlane) -> None:
    for name in ("a", "b"):
        plane.create_feature_group(request(name, ThroughputConfig=provisioned(40_000, 10)), T0)

    refused = error_of(
        plane.create_feature_group, request("c", ThroughputConfig=provisioned(1, 10)), T0
    )
    assert refused.code == "ResourceLimitExceeded"
    # Write capacity has a quota of its own; on-demand groups hold none.
    plane.create_feature_group(request("d", ThroughputConfig=provisioned(0, 39_970)), T0)
    plane.create_feature_group(request("e"), T0)


def test_an_update_counts_against_the_regions_capacity_and_a_deleted_group_does_not(
    plane: ControlPlane,
) -> None:
    for name, units in (("a", 40_000), ("b", 30_000), ("c", 5_000)):
        plane.create_feature_group(request(name, ThroughputConfig=provisioned(units, 1)), T0)
    created_at = T0 + 10
    raise_b = {
        "FeatureGroupName": "b",
        "ThroughputConfig": {"ProvisionedReadCapacityUnits": 40_000},
    }

    refused = error_of(plane.update_feature_group, raise_b, created_at)  # 85,000 in all
    assert refused.code == "ResourceLimitExceeded"

    plane.delete_feature_group({"FeatureGroupName": "c"}, created_at)
    plane.update_feature_group(raise_b, created_at)  # 80,000: at the quota, not past it


# advance keeps the next due moment so that an idle tick is one comparison: a step scheduled
# after an idle tick (or moved later by its answer) must still finish on time.
def test_an_update_scheduled_after_an_idle_advance_finishes(plane: ControlPlane) -> None:
    created(plane)
    plane.advance(T0 + 30)  # nothing due
    throughput = {"ThroughputMode": "OnDemand"}
    plane.update_feature_group(
        {"FeatureGroupName": "customers", "ThroughputConfig": throughput}, T0 + 40
    )
    plane.advance(T0 + 44.9)  # due at T0 + 45
    assert plane.groups()[0].pending is not None
    plane.advance(T0 + 45)
    assert plane.groups()[0].pending is None
    assert plane.groups()[0].last_update == {"Status": "Successful"}


def test_a_delete_scheduled_after_an_idle_advance_finishes(plane: ControlPlane) -> None:
    created(plane)
    created(plane, "other")
    plane.advance(T0 + 30)  # nothing due
    plane.delete_feature_group({"FeatureGroupName": "other"}, T0 + 40)  # gone at T0 + 43
    plane.advance(T0 + 42.9)
    assert sorted(g.request["FeatureGroupName"] for g in plane.groups()) == ["customers", "other"]
    plane.advance(T0 + 43)
    assert [g.request["FeatureGroupName"] for g in plane.groups()] == ["customers"]
