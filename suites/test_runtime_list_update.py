"""ListRecords (C-166, C-167) and UpdateRecord (C-168-C-171)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from fsconformance.backends import Backend
from fsconformance.offline import OfflineStore

from .helpers import expect_client_error
from .offline_helpers import query, wait_for_rows
from .runtime_helpers import (
    T_2020_10_29,
    T_2020_10_30,
    T_2020_10_31,
    U1,
    as_record,
    create_iso_group,
    expect_runtime_error,
    feature,
    get,
    iso_now,
    parse_iso,
    put,
)

pytestmark = pytest.mark.online_store

LIST = pytest.mark.requires(operations=["ListRecords"])
UPDATE = pytest.mark.requires(
    operations=["UpdateRecord"],
    members=["CreateFeatureGroup.OnlineStoreConfig.StorageType=Standard_V2"],
)
NOT_FOUND = {"ResourceNotFound"}
STANDARD_V2 = {"EnableOnlineStore": True, "StorageType": "Standard_V2"}


def customer(identifier: str, event_time: str = T_2020_10_30, **values: str) -> dict[str, str]:
    return {"customer_id": identifier, "event_time": event_time, **values}


def listed(backend: Backend, group: str, **members: Any) -> list[str]:
    """Every identifier over all pages of the botocore paginator (C-166)."""
    paginator = backend.runtime.get_paginator("list_records")
    identifiers: list[str] = []
    for page in paginator.paginate(FeatureGroupName=group, **members):
        identifiers += page["RecordIdentifiers"]
    return identifiers


def update(backend: Backend, group: str, identifier: str, values: dict[str, Any], **members: Any):
    return backend.runtime.update_record(
        FeatureGroupName=group,
        RecordIdentifierValueAsString=identifier,
        Features=as_record(values),
        **members,
    )


def v2_group(backend: Backend, *extra: dict[str, Any]) -> str:
    return create_iso_group(backend, *extra, OnlineStoreConfig=dict(STANDARD_V2))


# -- ListRecords ---------------------------------------------------------------------------


@pytest.mark.clause("C-166", "C-167")
@LIST
def test_paginated_list_records_gives_every_identifier_once(backend):
    group = create_iso_group(backend)
    identifiers = [f"c{i}" for i in range(7)]
    for identifier in identifiers:
        put(backend, group, customer(identifier))

    seen = listed(backend, group, PaginationConfig={"PageSize": 3})

    assert sorted(seen) == sorted(identifiers)  # C-167: no order is documented
    assert len(seen) == len(set(seen))


@pytest.mark.clause("C-166")
@LIST
def test_a_page_holds_at_most_max_results_on_a_standard_group(backend):
    group = create_iso_group(backend)
    for identifier in ("a", "b", "c"):
        put(backend, group, customer(identifier))

    page = backend.runtime.list_records(FeatureGroupName=group, MaxResults=2)

    assert 1 <= len(page["RecordIdentifiers"]) <= 2
    assert page.get("NextToken")


@pytest.mark.clause("C-167", "C-101")
@LIST
def test_soft_deleted_records_are_listed_only_when_asked_for(backend):
    group = create_iso_group(backend)
    for identifier in ("A", "B", "C"):
        put(backend, group, customer(identifier))
    backend.runtime.delete_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="B", EventTime=T_2020_10_31
    )

    assert set(listed(backend, group)) == {"A", "C"}
    assert set(listed(backend, group, IncludeSoftDeletedRecords=True)) == {"A", "B", "C"}


@pytest.mark.clause("C-167")
@pytest.mark.uncertain("C-167: do hard-deleted records ever appear in ListRecords?")
@LIST
def test_hard_deleted_records_are_not_listed(backend):
    group = create_iso_group(backend)
    for identifier in ("A", "B"):
        put(backend, group, customer(identifier))
    backend.runtime.delete_record(
        FeatureGroupName=group,
        RecordIdentifierValueAsString="B",
        EventTime=T_2020_10_31,
        DeletionMode="HardDelete",
    )

    assert set(listed(backend, group, IncludeSoftDeletedRecords=True)) == {"A"}


@pytest.mark.clause("C-166")
@LIST
def test_list_records_of_a_missing_group_is_resource_not_found(backend):
    expect_client_error(
        lambda: backend.runtime.list_records(FeatureGroupName=backend.unique_name()),
        status=404,
        codes=NOT_FOUND,
    )


@pytest.mark.clause("C-166")
@LIST
def test_list_records_bounds_are_checked_client_side(backend):
    with pytest.raises(ParamValidationError):
        backend.runtime.list_records(FeatureGroupName="any", MaxResults=0)
    with pytest.raises(ParamValidationError):
        backend.runtime.list_records(FeatureGroupName="any", NextToken="")


@U1
@pytest.mark.clause("C-166", "C-004")
@LIST
def test_max_results_above_100_is_refused_by_the_service(backend):
    group = create_iso_group(backend)

    expect_runtime_error(
        lambda: backend.runtime.list_records(FeatureGroupName=group, MaxResults=101)
    )


# -- UpdateRecord --------------------------------------------------------------------------


@pytest.mark.clause("C-169", "C-168")
@UPDATE
def test_update_record_changes_only_the_features_it_names(backend):
    group = v2_group(backend)
    put(backend, group, customer("c1", name="x", email="y"))

    response = update(backend, group, "c1", {"name": "z"})

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(response) == {"ResponseMetadata"}
    assert get(backend, group, "c1") == customer("c1", name="z", email="y")


@pytest.mark.clause("C-169")
@UPDATE
def test_update_record_never_creates_a_record(backend):
    group = v2_group(backend)

    expect_client_error(
        lambda: update(backend, group, "new", {"name": "z"}), status=404, codes=NOT_FOUND
    )

    assert get(backend, group, "new") is None


@pytest.mark.clause("C-169", "C-101")
@UPDATE
def test_update_record_of_a_soft_deleted_record_is_resource_not_found(backend):
    group = v2_group(backend)
    put(backend, group, customer("c1", name="x"))
    backend.runtime.delete_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1", EventTime=T_2020_10_31
    )

    expect_client_error(
        lambda: update(backend, group, "c1", {"name": "z"}), status=404, codes=NOT_FOUND
    )


@U1
@pytest.mark.clause("C-169", "C-172")
@pytest.mark.uncertain("C-169: the error for UpdateRecord on a Standard group")
@UPDATE
def test_update_record_on_a_standard_group_is_refused(backend):
    group = create_iso_group(backend)
    put(backend, group, customer("c1", name="x"))

    expect_runtime_error(lambda: update(backend, group, "c1", {"name": "z"}))

    assert get(backend, group, "c1") == customer("c1", name="x")


@pytest.mark.clause("C-170")
@UPDATE
def test_an_older_event_time_is_a_409_conflict_and_changes_nothing(backend):
    group = v2_group(backend)
    put(backend, group, customer("c1", T_2020_10_30, name="x"))

    with pytest.raises(backend.runtime.exceptions.ConflictException) as raised:
        update(backend, group, "c1", {"event_time": T_2020_10_29, "name": "z"})

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert raised.value.response["Error"]["Message"]
    assert get(backend, group, "c1") == customer("c1", T_2020_10_30, name="x")


@pytest.mark.clause("C-170")
@UPDATE
@pytest.mark.parametrize("event_time", [T_2020_10_30, T_2020_10_31], ids=["equal", "newer"])
def test_an_equal_or_newer_event_time_is_applied(backend, event_time):
    group = v2_group(backend)
    put(backend, group, customer("c1", T_2020_10_30, name="x", email="e"))

    update(backend, group, "c1", {"event_time": event_time, "name": "z"})

    assert get(backend, group, "c1") == customer("c1", event_time, name="z", email="e")


@pytest.mark.clause("C-170", "C-168")
@UPDATE
def test_without_the_event_time_the_stored_one_is_kept(backend):
    group = v2_group(backend)
    put(backend, group, customer("c1", T_2020_10_30, name="x"))

    update(backend, group, "c1", {"name": "z"})

    assert get(backend, group, "c1")["event_time"] == T_2020_10_30


@U1
@pytest.mark.clause("C-170")
@UPDATE
def test_a_ttl_without_an_event_time_is_refused_and_changes_nothing(backend):
    group = v2_group(backend)
    put(backend, group, customer("c1", name="x"))

    expect_runtime_error(
        lambda: update(
            backend, group, "c1", {"name": "z"}, TtlDuration={"Unit": "Hours", "Value": 1}
        )
    )

    assert get(backend, group, "c1") == customer("c1", name="x")


@pytest.mark.clause("C-170", "C-110")
@UPDATE
@pytest.mark.requires(members=["PutRecord.TtlDuration", "GetRecord.ExpirationTimeResponse"])
def test_without_a_ttl_the_record_keeps_its_ttl_setting(backend):
    group = v2_group(backend)
    first = iso_now()
    put(backend, group, customer("c1", first), TtlDuration={"Unit": "Hours", "Value": 1})
    later = (parse_iso(first) + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")

    update(backend, group, "c1", {"event_time": later})

    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1", ExpirationTimeResponse="Enabled"
    )
    assert parse_iso(response["ExpiresAt"]) == parse_iso(later) + dt.timedelta(hours=1)


@U1
@pytest.mark.clause("C-169", "C-022")
@UPDATE
def test_a_value_of_the_wrong_type_is_refused_and_changes_nothing(backend):
    group = v2_group(backend)
    put(backend, group, customer("c1", name="x", is_married="1"))

    expect_runtime_error(
        lambda: update(backend, group, "c1", {"name": "z", "is_married": "not-a-number"})
    )

    assert get(backend, group, "c1") == customer("c1", name="x", is_married="1")


@pytest.mark.clause("C-168")
@UPDATE
def test_update_record_has_no_event_time_member_and_needs_features(backend):
    with pytest.raises(ParamValidationError):
        backend.runtime.update_record(
            FeatureGroupName="any",
            RecordIdentifierValueAsString="c1",
            Features=as_record({"name": "z"}),
            EventTime=T_2020_10_30,
        )
    with pytest.raises(ParamValidationError):
        backend.runtime.update_record(
            FeatureGroupName="any", RecordIdentifierValueAsString="c1", Features=[]
        )


@U1
@pytest.mark.clause("C-168")
@pytest.mark.uncertain("C-168: the error for more than 100 features in one UpdateRecord")
@UPDATE
def test_more_than_100_features_in_one_update_are_refused(backend):
    extra = [feature(f"f{i}", "String") for i in range(101)]
    group = v2_group(backend, *extra)
    put(backend, group, customer("c1"))

    expect_runtime_error(lambda: update(backend, group, "c1", {f"f{i}": "v" for i in range(101)}))

    assert get(backend, group, "c1") == customer("c1")


@pytest.mark.clause("C-169", "C-171")
@UPDATE
def test_an_update_with_both_target_stores_reaches_the_online_store(backend):
    group = v2_group(backend)
    put(backend, group, customer("c1", name="x"))

    update(backend, group, "c1", {"name": "z"}, TargetStores=["OnlineStore", "OfflineStore"])

    assert get(backend, group, "c1") == customer("c1", name="z")


@pytest.mark.clause("C-171", "C-067")
@pytest.mark.uncertain("C-171: what row does the offline store receive for an UpdateRecord?")
@pytest.mark.offline_store
@pytest.mark.requires(features=["offline_store", "athena"])
@UPDATE
def test_an_update_reaches_the_offline_store_as_a_second_row(backend):
    group = v2_group(backend)
    store = OfflineStore.of(backend.describe(group))
    put(backend, group, customer("c1", name="x", email="y"))

    update(backend, group, "c1", {"name": "z"})
    wait_for_rows(backend, store, 2)

    rows = query(backend, store, f"SELECT * FROM {store.qualified} WHERE customer_id = 'c1'")
    assert sorted(row["name"] for row in rows) == ["x", "z"]
