"""TTL expiry and the offline store (C-180, C-111, C-102, C-065).

C-180 documents that an expired record is hard-deleted from the online store and that "the
deleted record is added to the offline store". The shape of that row is UNCERTAIN (U-17); the
tests expect the DeleteRecord marker's shape (C-102): the identifier, ``is_deleted = true``,
NULL for the other features, and the expiry (event time + TTL, C-110) as its event time. The
record is never read here: expiry must happen without a GetRecord to trigger it.
"""

from __future__ import annotations

import pytest

from .helpers import feature
from .offline_helpers import OfflineStore, query, record, wait_for_rows

pytestmark = [pytest.mark.offline_store, pytest.mark.slow]

TTL = pytest.mark.requires(
    members=["CreateFeatureGroup.OnlineStoreConfig.TtlDuration", "PutRecord.TtlDuration"],
    features=["ttl"],
)
U17 = pytest.mark.uncertain(
    "U-17: the offline row of an expired record: marker shape, event time, write_time"
)
EVENT_TIME = 1_600_000_000.0  # 2020-09-13: with a TTL of 30 s, long expired when it lands
TTL_SECONDS = 30


def create_ttl_group(backend) -> tuple[str, OfflineStore]:
    request = backend.feature_group_request(
        definitions=[
            feature("customer_id", "String"),
            feature("event_time", "Fractional"),
            feature("n_days_active", "Fractional"),
        ],
        OnlineStoreConfig={
            "EnableOnlineStore": True,
            "TtlDuration": {"Unit": "Seconds", "Value": TTL_SECONDS},
        },
    )
    description = backend.create_and_wait(request)
    return request["FeatureGroupName"], OfflineStore.of(description)


@pytest.mark.clause("C-180", "C-111", "C-102", "C-065")
@TTL
@U17
def test_an_expired_record_is_added_to_the_offline_store_without_a_read(backend):
    name, store = create_ttl_group(backend)
    backend.runtime.put_record(
        FeatureGroupName=name,
        Record=record(customer_id="c1", event_time=EVENT_TIME, n_days_active=3.0),
    )

    wait_for_rows(backend, store, 2)  # the put, then the expired record
    rows = query(
        backend,
        store,
        f"SELECT customer_id, event_time, n_days_active, is_deleted FROM {store.qualified} "
        "ORDER BY is_deleted",
    )
    put_row, expired = rows
    assert (put_row["customer_id"], put_row["is_deleted"]) == ("c1", "false")
    assert expired["customer_id"] == "c1"
    assert expired["is_deleted"] == "true"
    assert expired["n_days_active"] is None
    assert float(expired["event_time"]) == EVENT_TIME + TTL_SECONDS


@pytest.mark.clause("C-180", "C-110")
@TTL
@U17
def test_a_record_with_a_later_expiry_adds_no_offline_row(backend):
    name, store = create_ttl_group(backend)
    # The record's own TTL (a week) overrides the group's 30 s (C-110): it has not expired.
    backend.runtime.put_record(
        FeatureGroupName=name,
        Record=record(customer_id="c1", event_time=EVENT_TIME, n_days_active=3.0),
        TtlDuration={"Unit": "Weeks", "Value": 5000},
    )
    backend.runtime.put_record(
        FeatureGroupName=name,
        Record=record(customer_id="c2", event_time=EVENT_TIME, n_days_active=4.0),
    )

    wait_for_rows(backend, store, 3)  # two puts, and c2's expiry only
    deleted = query(backend, store, f"SELECT customer_id FROM {store.qualified} WHERE is_deleted")
    assert deleted == [{"customer_id": "c2"}]
