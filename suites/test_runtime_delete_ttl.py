"""DeleteRecord, time to live and collection types in the online store."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fsconformance.backends import Backend

from .helpers import U2, VALIDATION, check_client_error, error_seen, expect_client_error
from .runtime_helpers import (
    RUNTIME_VALIDATION,
    T_2020_10_29,
    T_2020_10_30,
    T_2020_10_31,
    create_iso_group,
    feature,
    get,
    iso_definitions,
    iso_now,
    parse_iso,
    put,
)

pytestmark = pytest.mark.online_store

RECORD = {"customer_id": "c1", "event_time": T_2020_10_30, "name": "John Lee"}

# What each group of tests needs the installed boto3 to express (C-110, C-111, C-120).
GROUP_TTL = pytest.mark.requires(
    members=[
        "CreateFeatureGroup.OnlineStoreConfig.TtlDuration",
        "GetRecord.ExpirationTimeResponse",
    ],
    features=["ttl"],
)
RECORD_TTL = pytest.mark.requires(
    members=["CreateFeatureGroup.OnlineStoreConfig.TtlDuration", "PutRecord.TtlDuration"],
    features=["ttl"],
)
COLLECTIONS = pytest.mark.requires(
    members=[
        "CreateFeatureGroup.FeatureDefinitions.CollectionType",
        "CreateFeatureGroup.OnlineStoreConfig.StorageType",
    ]
)


def _delete(backend: Backend, group: str, event_time: str, **members: Any) -> dict[str, Any]:
    return backend.runtime.delete_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1", EventTime=event_time, **members
    )


def _batch_records(
    backend: Backend, group: str, identifier: str = "c1", **members: Any
) -> list[dict[str, Any]]:
    response = backend.runtime.batch_get_record(
        Identifiers=[{"FeatureGroupName": group, "RecordIdentifiersValueAsString": [identifier]}],
        **members,
    )
    return response["Records"]


# -- DeleteRecord --------------------------------------------------------------------------


@pytest.mark.clause("C-100")
def test_delete_record_answers_an_empty_200(backend):
    group = create_iso_group(backend)
    put(backend, group, RECORD)

    response = _delete(backend, group, T_2020_10_31)

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(response) == {"ResponseMetadata"}


@pytest.mark.clause("C-101", "C-100")
@pytest.mark.parametrize("mode", ["SoftDelete", "HardDelete"])
def test_a_later_delete_hides_the_record_from_both_reads(backend, mode):
    group = create_iso_group(backend)
    put(backend, group, RECORD)

    _delete(backend, group, T_2020_10_31, DeletionMode=mode)

    assert get(backend, group, "c1") is None
    assert _batch_records(backend, group) == []


@pytest.mark.clause("C-101", "C-100")
def test_soft_delete_is_the_default_mode_and_hides_the_record(backend):
    group = create_iso_group(backend)
    put(backend, group, RECORD)

    _delete(backend, group, T_2020_10_31)

    assert get(backend, group, "c1") is None


@pytest.mark.clause("C-102", "C-004")
@pytest.mark.observes("C-004", "error for a HardDelete not later than the record")
@pytest.mark.parametrize("event_time", [T_2020_10_29, T_2020_10_30], ids=["older", "equal"])
def test_a_hard_delete_not_later_than_the_record_is_refused(backend, observe, event_time):
    group = create_iso_group(backend)
    put(backend, group, RECORD)

    seen, error = error_seen(lambda: _delete(backend, group, event_time, DeletionMode="HardDelete"))

    observe("error for a HardDelete not later than the record", seen)
    assert error is not None, "the hard delete was accepted"
    check_client_error(error, status=400, codes=RUNTIME_VALIDATION)

    assert get(backend, group, "c1") == RECORD


@pytest.mark.clause("C-102")
def test_an_older_soft_delete_succeeds_but_leaves_the_record(backend):
    group = create_iso_group(backend)
    put(backend, group, RECORD)

    response = _delete(backend, group, T_2020_10_29, DeletionMode="SoftDelete")

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert get(backend, group, "c1") == RECORD


@pytest.mark.clause("C-103")
def test_a_historic_put_after_a_hard_delete_is_readable(backend):
    group = create_iso_group(backend)
    put(backend, group, RECORD)
    _delete(backend, group, iso_now(), DeletionMode="HardDelete")
    historic = {"customer_id": "c1", "event_time": T_2020_10_29, "name": "Historic"}

    put(backend, group, historic)

    assert get(backend, group, "c1") == historic


# -- TTL -----------------------------------------------------------------------------------


def _ttl(unit: str, value: int) -> dict[str, Any]:
    return {"Unit": unit, "Value": value}


def _ttl_group(backend: Backend, ttl: dict[str, Any] | None) -> str:
    online: dict[str, Any] = {"EnableOnlineStore": True}
    if ttl is not None:
        online["TtlDuration"] = ttl
    return create_iso_group(backend, OnlineStoreConfig=online)


def _expires_at_offset(expires_at: str, event_time: str) -> dt.timedelta:
    return parse_iso(expires_at) - parse_iso(event_time)


@pytest.mark.clause("C-110")
@GROUP_TTL
def test_expires_at_is_event_time_plus_the_group_ttl(backend):
    group = _ttl_group(backend, _ttl("Hours", 1))
    event_time = iso_now()
    put(backend, group, {"customer_id": "c1", "event_time": event_time})

    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1", ExpirationTimeResponse="Enabled"
    )
    batch = _batch_records(backend, group, ExpirationTimeResponse="Enabled")

    assert _expires_at_offset(response["ExpiresAt"], event_time) == dt.timedelta(hours=1)
    assert len(batch) == 1
    # BatchGetRecord too: from the contract's sum, not from GetRecord's answer.
    assert _expires_at_offset(batch[0]["ExpiresAt"], event_time) == dt.timedelta(hours=1)


@pytest.mark.clause("C-110")
@pytest.mark.parametrize("flag", [None, "Disabled"], ids=["not-asked", "disabled"])
@GROUP_TTL
def test_expires_at_is_absent_unless_asked_for(backend, flag):
    group = _ttl_group(backend, _ttl("Hours", 1))
    put(backend, group, {"customer_id": "c1", "event_time": iso_now()})
    members = {} if flag is None else {"ExpirationTimeResponse": flag}

    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1", **members
    )
    batch = _batch_records(backend, group, **members)

    assert "Record" in response
    assert "ExpiresAt" not in response
    assert len(batch) == 1
    assert "ExpiresAt" not in batch[0]


@pytest.mark.clause("C-110")
@GROUP_TTL
def test_expires_at_is_absent_when_no_ttl_applies(backend):
    group = _ttl_group(backend, None)
    put(backend, group, {"customer_id": "c1", "event_time": iso_now()})

    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1", ExpirationTimeResponse="Enabled"
    )

    assert "Record" in response
    assert "ExpiresAt" not in response


@pytest.mark.clause("C-110")
@pytest.mark.parametrize("group_ttl", [_ttl("Hours", 1), None], ids=["over-group-ttl", "alone"])
@RECORD_TTL
def test_a_record_ttl_overrides_the_group_ttl(backend, group_ttl):
    group = _ttl_group(backend, group_ttl)
    event_time = iso_now()
    put(
        backend,
        group,
        {"customer_id": "c1", "event_time": event_time},
        TtlDuration=_ttl("Days", 2),
    )

    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1", ExpirationTimeResponse="Enabled"
    )

    assert _expires_at_offset(response["ExpiresAt"], event_time) == dt.timedelta(days=2)


@pytest.mark.clause("C-111")
@GROUP_TTL
def test_a_record_past_its_group_ttl_is_invisible(backend):
    group = _ttl_group(backend, _ttl("Seconds", 30))
    # 2020-10-30 plus 30 seconds is long over, so the record is expired as soon as it lands.
    put(backend, group, RECORD)

    assert get(backend, group, "c1") is None
    assert _batch_records(backend, group) == []


@pytest.mark.clause("C-111", "C-110")
@RECORD_TTL
def test_a_record_past_its_own_ttl_is_invisible_despite_a_longer_group_ttl(backend):
    group = _ttl_group(backend, _ttl("Weeks", 1))
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    put(backend, group, {"customer_id": "c1", "event_time": old}, TtlDuration=_ttl("Days", 1))
    put(backend, group, {"customer_id": "c2", "event_time": old})

    assert get(backend, group, "c1") is None
    assert _batch_records(backend, group) == []
    # The same event time under the group's week is still live.
    assert get(backend, group, "c2") == {"customer_id": "c2", "event_time": old}


# -- collection types ----------------------------------------------------------------------


@U2
@pytest.mark.clause("C-120", "C-004")
@COLLECTIONS
def test_a_collection_type_on_a_standard_online_store_is_refused(backend):
    request = backend.feature_group_request(
        definitions=iso_definitions(feature("tags", "String", CollectionType="List")),
        OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": "Standard"},
    )

    expect_client_error(
        lambda: backend.sagemaker.create_feature_group(**request), status=400, codes=VALIDATION
    )


@pytest.mark.clause("C-120", "C-021")
@COLLECTIONS
def test_a_list_collection_round_trips_on_an_in_memory_group(backend):
    group = create_iso_group(
        backend,
        feature("tags", "String", CollectionType="List"),
        offline=False,
        OnlineStoreConfig={"EnableOnlineStore": True, "StorageType": "InMemory"},
    )

    put(backend, group, {"customer_id": "c1", "event_time": T_2020_10_30, "tags": ["val1", "val2"]})

    response = backend.runtime.get_record(
        FeatureGroupName=group, RecordIdentifierValueAsString="c1"
    )
    tags = [item for item in response["Record"] if item["FeatureName"] == "tags"]
    assert tags == [{"FeatureName": "tags", "ValueAsStringList": ["val1", "val2"]}]
