"""BatchWriteRecord (C-161-C-165): up to 25 PutRecords in one call, failures reported per entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from fsconformance.backends import Backend
from fsconformance.offline import OfflineStore

from .helpers import check_client_error
from .offline_helpers import query, wait_for_rows
from .runtime_helpers import (
    RUNTIME_VALIDATION,
    T_2020_10_29,
    T_2020_10_30,
    U1,
    as_record,
    create_iso_group,
    expect_runtime_error,
    get,
    iso_now,
    parse_iso,
    put,
)

pytestmark = [pytest.mark.online_store, pytest.mark.requires(operations=["BatchWriteRecord"])]

BATCH_TTL = pytest.mark.requires(
    members=[
        "BatchWriteRecord.TtlDuration",
        "BatchWriteRecord.Entries.TtlDuration",
        "GetRecord.ExpirationTimeResponse",
    ],
    features=["ttl"],
)


def entry(group: str, values: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {"FeatureGroupName": group, "Record": as_record(values), **members}


def customer(identifier: str, event_time: str = T_2020_10_30, **values: str) -> dict[str, str]:
    return {"customer_id": identifier, "event_time": event_time, **values}


def batch_write(backend: Backend, entries: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    response = backend.runtime.batch_write_record(Entries=entries, **members)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200, response
    return response


@pytest.mark.clause("C-161", "C-162")
def test_25_entries_are_written_and_both_lists_come_back_empty(backend):
    group = create_iso_group(backend)
    entries = [entry(group, customer(f"c{i}", name=f"n{i}")) for i in range(25)]

    response = batch_write(backend, entries)

    assert response["Errors"] == []
    assert response["UnprocessedEntries"] == []
    for i in (0, 12, 24):
        assert get(backend, group, f"c{i}") == customer(f"c{i}", name=f"n{i}")


@U1
@pytest.mark.clause("C-161", "C-004")
def test_26_entries_are_refused_by_the_service_and_none_is_written(backend):
    group = create_iso_group(backend)
    entries = [entry(group, customer(f"c{i}")) for i in range(26)]

    expect_runtime_error(lambda: backend.runtime.batch_write_record(Entries=entries))

    assert get(backend, group, "c0") is None


@pytest.mark.clause("C-161")
def test_no_entries_is_refused_client_side(backend):
    with pytest.raises(ParamValidationError):
        backend.runtime.batch_write_record(Entries=[])


@pytest.mark.clause("C-162", "C-163")
@pytest.mark.uncertain("C-162: which ErrorCode names an entry without its event time?")
def test_a_bad_entry_is_reported_with_its_entry_as_sent_and_the_others_are_written(backend):
    group = create_iso_group(backend)
    first = entry(group, customer("c1", name="A"))
    # No event-time feature, so this entry cannot be a record (C-032).
    middle = entry(group, {"customer_id": "c2", "name": "B"}, TargetStores=["OnlineStore"])
    last = entry(group, customer("c3", name="C"))

    response = batch_write(backend, [first, middle, last])

    assert len(response["Errors"]) == 1, response["Errors"]
    error = response["Errors"][0]
    assert error["Entry"] == middle  # C-163: structurally equal, so the SDK can find the row
    assert error["ErrorCode"] and len(error["ErrorMessage"]) <= 2048
    assert response["UnprocessedEntries"] == []
    assert get(backend, group, "c1") == customer("c1", name="A")
    assert get(backend, group, "c3") == customer("c3", name="C")
    assert get(backend, group, "c2") is None


@pytest.mark.clause("C-162", "C-164", "C-020")
def test_a_refused_entry_leaves_the_stored_record_as_it_was(backend):
    group = create_iso_group(backend)
    before = customer("c1", T_2020_10_29, name="Before", is_married="1")
    put(backend, group, before)
    bad = entry(group, customer("c1", name="After", is_married="not-a-number"))

    response = batch_write(backend, [bad])

    assert [e["Entry"] for e in response["Errors"]] == [bad]
    assert get(backend, group, "c1") == before


@pytest.mark.clause("C-161")
def test_entries_may_name_different_feature_groups_by_name_or_arn(backend):
    first = create_iso_group(backend)
    second = create_iso_group(backend)
    second_arn = backend.describe(second)["FeatureGroupArn"]

    response = batch_write(
        backend,
        [entry(first, customer("a")), entry(second_arn, customer("b"))],
    )

    assert response["Errors"] == []
    assert get(backend, first, "a") == customer("a")
    assert get(backend, second, "b") == customer("b")
    assert get(backend, first, "b") is None


@pytest.mark.clause("C-164", "C-031")
def test_each_entry_is_a_full_overwrite_like_put_record(backend):
    group = create_iso_group(backend)
    put(backend, group, customer("c1", T_2020_10_29, name="Old", email="old@example.com"))

    batch_write(backend, [entry(group, customer("c1", T_2020_10_30, name="New"))])

    assert get(backend, group, "c1") == customer("c1", T_2020_10_30, name="New")


@pytest.mark.clause("C-164", "C-036")
def test_an_offline_only_entry_does_not_reach_the_online_store(backend):
    group = create_iso_group(backend)

    response = batch_write(backend, [entry(group, customer("c1"), TargetStores=["OfflineStore"])])

    assert response["Errors"] == []
    assert get(backend, group, "c1") is None


@pytest.mark.clause("C-164", "C-110")
@BATCH_TTL
def test_an_entry_ttl_overrides_the_request_ttl(backend):
    group = create_iso_group(backend)
    event_time = iso_now()
    hours = {"Unit": "Hours", "Value": 2}

    batch_write(
        backend,
        [
            entry(group, customer("short", event_time)),
            entry(group, customer("long", event_time), TtlDuration=hours),
        ],
        TtlDuration={"Unit": "Hours", "Value": 1},
    )

    for identifier, ttl in (("short", 1), ("long", 2)):
        response = backend.runtime.get_record(
            FeatureGroupName=group,
            RecordIdentifierValueAsString=identifier,
            ExpirationTimeResponse="Enabled",
        )
        expected = parse_iso(event_time) + dt.timedelta(hours=ttl)
        assert parse_iso(response["ExpiresAt"]) == expected, (identifier, response)


@pytest.mark.clause("C-165")
@pytest.mark.uncertain("C-165: does a missing group fail the call (404) or only its entry?")
def test_an_entry_for_a_missing_group_is_refused(backend):
    group = create_iso_group(backend)
    missing = entry(backend.unique_name(), customer("c1"))
    kept = entry(group, customer("c2"))

    try:
        response = backend.runtime.batch_write_record(Entries=[missing, kept])
    except ClientError as error:
        check_client_error(error, status=404, codes={"ResourceNotFound"})
        return
    assert [e["Entry"] for e in response["Errors"]] == [missing]
    assert response["Errors"][0]["ErrorCode"] in RUNTIME_VALIDATION | {"ResourceNotFound"}
    assert get(backend, group, "c2") == customer("c2")


@pytest.mark.clause("C-164", "C-065")
@pytest.mark.offline_store
@pytest.mark.requires(features=["offline_store", "athena"])
def test_batch_written_entries_reach_the_offline_store_as_puts_do(backend):
    request = backend.feature_group_request()
    description = backend.create_and_wait(request)
    group, store = request["FeatureGroupName"], OfflineStore.of(description)
    rows = [
        {"FeatureName": "customer_id", "ValueAsString": "c1"},
        {"FeatureName": "event_time", "ValueAsString": "100"},
        {"FeatureName": "n_days_active", "ValueAsString": "7"},
    ]
    bad = [{"FeatureName": "customer_id", "ValueAsString": "c2"}]  # no event time

    batch_write(
        backend,
        [
            {"FeatureGroupName": group, "Record": rows},
            {"FeatureGroupName": group, "Record": bad},
        ],
    )
    wait_for_rows(backend, store, 1)

    found = query(backend, store, f"SELECT * FROM {store.qualified}")
    assert [(r["customer_id"], float(r["n_days_active"]), r["is_deleted"]) for r in found] == [
        ("c1", 7.0, "false")
    ]
