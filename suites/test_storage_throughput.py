"""Online storage types and throughput modes (C-172-C-175)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fsconformance.backends import Backend

from .helpers import LIMIT_EXCEEDED, U2, VALIDATION, check_client_error, expect_client_error
from .runtime_helpers import T_2020_10_30, create_iso_group, get, put

pytestmark = pytest.mark.control_plane

STANDARD_V2 = pytest.mark.requires(
    members=["CreateFeatureGroup.OnlineStoreConfig.StorageType=Standard_V2"]
)
MIGRATION = pytest.mark.requires(
    operations=["UpdateRecord"],
    members=["UpdateFeatureGroup.OnlineStoreConfig.StorageType=Standard_V2"],
)
THROUGHPUT = pytest.mark.requires(
    members=["CreateFeatureGroup.ThroughputConfig", "UpdateFeatureGroup.ThroughputConfig"],
    features=["throughput"],
)
IN_MEMORY = pytest.mark.requires(members=["CreateFeatureGroup.OnlineStoreConfig.StorageType"])

RECORD = {"customer_id": "c1", "event_time": T_2020_10_30, "name": "x", "email": "e"}


def provisioned(read: int, write: int) -> dict[str, Any]:
    return {
        "ThroughputMode": "Provisioned",
        "ProvisionedReadCapacityUnits": read,
        "ProvisionedWriteCapacityUnits": write,
    }


def settled(backend: Backend, name: str) -> dict[str, Any]:
    """The description once LastUpdateStatus has left InProgress (C-051)."""

    def probe() -> dict[str, Any] | None:
        description = backend.describe(name)
        status = description.get("LastUpdateStatus", {}).get("Status")
        return None if status in (None, "InProgress") else description

    return backend.poll(probe, budget="update", what=f"update of {name} settling")


def refused_update(backend: Backend, name: str, **update: Any) -> None:
    """An update the service must refuse: a 400 at once, or LastUpdateStatus Failed later
    (C-175 leaves the form open)."""
    try:
        backend.sagemaker.update_feature_group(FeatureGroupName=name, **update)
    except ClientError as error:
        check_client_error(error, status=400, codes=VALIDATION)
        return
    assert settled(backend, name)["LastUpdateStatus"]["Status"] == "Failed"


# -- storage types ---------------------------------------------------------------------------


@pytest.mark.clause("C-172")
@STANDARD_V2
def test_a_standard_v2_group_is_described_as_standard_v2(backend):
    request = backend.feature_group_request(
        OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": "Standard_V2"}
    )

    description = backend.create_and_wait(request)

    assert description["OnlineStoreConfig"]["StorageType"] == "Standard_V2"


@pytest.mark.clause("C-173", "C-051", "C-169")
@pytest.mark.uncertain("C-173: is the migration asynchronous, and do records survive it?")
@MIGRATION
def test_standard_migrates_to_standard_v2_asynchronously_and_keeps_records(backend):
    group = create_iso_group(backend)
    put(backend, group, RECORD)

    backend.sagemaker.update_feature_group(
        FeatureGroupName=group, OnlineStoreConfig={"StorageType": "Standard_V2"}
    )

    description = backend.wait_for_update(group)
    assert description["OnlineStoreConfig"]["StorageType"] == "Standard_V2"
    assert get(backend, group, "c1") == RECORD
    backend.runtime.update_record(
        FeatureGroupName=group,
        RecordIdentifierValueAsString="c1",
        Features=[{"FeatureName": "name", "ValueAsString": "z"}],
    )
    assert get(backend, group, "c1") == dict(RECORD, name="z")


@U2
@pytest.mark.clause("C-173")
@pytest.mark.uncertain("C-173: which storage transitions are refused, and with which code?")
@MIGRATION
def test_the_migration_cannot_be_reversed(backend):
    group = create_iso_group(backend)
    backend.sagemaker.update_feature_group(
        FeatureGroupName=group, OnlineStoreConfig={"StorageType": "Standard_V2"}
    )
    backend.wait_for_update(group)

    refused_update(backend, group, OnlineStoreConfig={"StorageType": "Standard"})

    assert backend.describe(group)["OnlineStoreConfig"]["StorageType"] == "Standard_V2"


@U2
@pytest.mark.clause("C-173")
@pytest.mark.uncertain("C-173: which storage transitions are refused, and with which code?")
@MIGRATION
def test_a_standard_group_cannot_become_in_memory(backend):
    group = create_iso_group(backend, offline=False)

    refused_update(backend, group, OnlineStoreConfig={"StorageType": "InMemory"})

    assert backend.describe(group)["OnlineStoreConfig"]["StorageType"] == "Standard"


# -- throughput ------------------------------------------------------------------------------


@pytest.mark.clause("C-174")
@THROUGHPUT
def test_an_offline_only_group_can_be_provisioned(backend):
    request = backend.feature_group_request(online=False, ThroughputConfig=provisioned(5, 5))

    throughput = backend.create_and_wait(request)["ThroughputConfig"]

    assert throughput == provisioned(5, 5)


@pytest.mark.clause("C-174")
@pytest.mark.uncertain("C-174: is Provisioned on InMemory refused or turned into OnDemand?")
@THROUGHPUT
@IN_MEMORY
def test_an_in_memory_group_is_never_provisioned(backend):
    request = backend.feature_group_request(
        offline=False,
        OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": "InMemory"},
        ThroughputConfig=provisioned(5, 5),
    )

    try:
        description = backend.create_and_wait(request)
    except ClientError as error:
        check_client_error(error, status=400, codes=VALIDATION)
        return
    # "For other storage configurations, the On-demand throughput mode is used."
    assert description["ThroughputConfig"]["ThroughputMode"] == "OnDemand"


@pytest.mark.clause("C-174", "C-140")
@pytest.mark.uncertain("C-174: the code that refuses capacity above the per-group quota")
@THROUGHPUT
def test_capacity_above_the_per_group_quota_is_refused(backend):
    request = backend.feature_group_request(ThroughputConfig=provisioned(40_001, 5))

    expect_client_error(
        lambda: backend.sagemaker.create_feature_group(**request),
        status=400,
        codes=VALIDATION | LIMIT_EXCEEDED,
    )


@U2
@pytest.mark.clause("C-175", "C-051")
@pytest.mark.uncertain("C-175: is the second switch refused at once or as a Failed update?")
@THROUGHPUT
def test_a_second_switch_to_on_demand_within_24_hours_is_refused(backend):
    request = backend.feature_group_request(ThroughputConfig=provisioned(5, 5))
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)
    for config in ({"ThroughputMode": "OnDemand"}, provisioned(5, 5)):
        backend.sagemaker.update_feature_group(FeatureGroupName=name, ThroughputConfig=config)
        backend.wait_for_update(name)

    refused_update(backend, name, ThroughputConfig={"ThroughputMode": "OnDemand"})

    assert backend.describe(name)["ThroughputConfig"]["ThroughputMode"] == "Provisioned"


@U2
@pytest.mark.clause("C-175")
@pytest.mark.uncertain("C-175: the code that refuses a decrease beyond the quota")
@THROUGHPUT
def test_decreases_are_limited_to_four_in_an_hour(backend):
    request = backend.feature_group_request(ThroughputConfig=provisioned(100, 100))
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)

    # Four decreases at most in the first hour of a UTC day, one an hour after it: whatever
    # the hour, one of five decreases in a row is refused.
    refusals = 0
    for units in (90, 80, 70, 60, 50):
        try:
            backend.sagemaker.update_feature_group(
                FeatureGroupName=name, ThroughputConfig=provisioned(units, units)
            )
        except ClientError as error:
            check_client_error(error, status=400, codes=VALIDATION)
            refusals += 1
            continue
        if settled(backend, name)["LastUpdateStatus"]["Status"] == "Failed":
            refusals += 1

    assert refusals >= 1
    assert backend.describe(name)["ThroughputConfig"]["ProvisionedReadCapacityUnits"] > 50


@pytest.mark.clause("C-175")
@THROUGHPUT
def test_increases_are_not_limited(backend):
    request = backend.feature_group_request(ThroughputConfig=provisioned(10, 10))
    name = request["FeatureGroupName"]
    backend.create_and_wait(request)

    for units in (20, 30, 40, 50, 60):
        backend.sagemaker.update_feature_group(
            FeatureGroupName=name, ThroughputConfig=provisioned(units, units)
        )
        backend.wait_for_update(name)

    assert backend.describe(name)["ThroughputConfig"] == provisioned(60, 60)
