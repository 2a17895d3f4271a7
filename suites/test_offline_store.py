"""The offline store: the Glue table, Parquet files in S3 and Athena queries (C-054, C-060-C-067,
C-080-C-084, C-090-C-094, C-102, C-036).

Every expected value below comes from the contract. Waiting is by polling Athena or Glue with
the backend's budgets: seconds on the emulation, the contract's deadlines on AWS.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest

from .helpers import base_definitions, feature
from .offline_helpers import (
    OfflineStore,
    finished,
    glue_columns,
    object_keys,
    put_after_update,
    query,
    read_parquet,
    record,
    scalar,
    start_query,
    wait_for_glue_columns,
    wait_for_rows,
)

pytestmark = [pytest.mark.offline_store, pytest.mark.slow]

# C-063: the Glue-format layout under ResolvedOutputS3Uri.
OBJECT_KEY = re.compile(
    r"/data/year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/(\d{8}T\d{6}Z)_[A-Za-z0-9]{16}"
    r"\.parquet$"
)
# C-066 (INFERRED, U-6): feature type -> Glue column type; the added bookkeeping columns.
GLUE_TYPES = {"Integral": "bigint", "Fractional": "double", "String": "string"}
BOOKKEEPING = {
    "write_time": "timestamp",
    "api_invocation_time": "timestamp",
    "is_deleted": "boolean",
}
U6 = pytest.mark.uncertain("U-6: exact Glue column types are inferred, not documented")

SEED_IDS = ["C1", "C2", "C3", "C4"]  # N = 4, as the NB-INTRO customers seed (C-091)


def utc_epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


def create_offline_group(backend, **kwargs) -> tuple[str, OfflineStore]:
    request = backend.feature_group_request(**kwargs)
    description = backend.create_and_wait(request)
    return request["FeatureGroupName"], OfflineStore.of(description)


def put(backend, name: str, **values) -> None:
    backend.runtime.put_record(FeatureGroupName=name, Record=record(**values))


def ingest_update_reingest(backend) -> tuple[str, OfflineStore]:
    """The project flow (C-091): N puts, add ``email``, N puts with it at a later time."""
    name, store = create_offline_group(backend)
    for index, customer in enumerate(SEED_IDS):
        put(
            backend,
            name,
            customer_id=customer,
            event_time=1000.0,
            n_days_active=index,
            is_married=0,
        )
    backend.sagemaker.update_feature_group(
        FeatureGroupName=name, FeatureAdditions=[feature("email", "String")]
    )
    backend.wait_for_update(name)
    for index, customer in enumerate(SEED_IDS):
        put_after_update(
            backend,
            name,
            {
                "customer_id": customer,
                "event_time": 2000.0,
                "n_days_active": 10 + index,
                "is_married": 1,
                "email": f"{customer.lower()}@example.com",
            },
            added=["email"],
        )
    return name, store


# -- the Glue table ------------------------------------------------------------------------


@pytest.mark.clause("C-080", "C-081", "C-083", "C-066")
@U6
def test_created_group_has_a_parquet_glue_table_named_by_describe(backend):
    definitions = [
        feature("Customer_ID", "String"),
        feature("EventTime", "Fractional"),
        feature("age_18-29", "Integral"),
        feature("Score", "Fractional"),
        feature("Email", "String"),
    ]
    name, store = create_offline_group(
        backend, definitions=definitions, record_identifier="Customer_ID", event_time="EventTime"
    )

    assert (store.catalog, store.database) == ("AwsDataCatalog", "sagemaker_featurestore")
    assert name.lower().replace("-", "_") in store.table.lower().replace("-", "_")
    table = backend.glue.get_table(DatabaseName=store.database, Name=store.table)["Table"]
    descriptor = table["StorageDescriptor"]
    assert descriptor["Location"].rstrip("/") == store.s3_uri.rstrip("/")
    formats = " ".join(
        [
            descriptor.get("InputFormat", ""),
            descriptor.get("SerdeInfo", {}).get("SerializationLibrary", ""),
        ]
    )
    assert "parquet" in formats.lower()
    expected = {d["FeatureName"].lower(): GLUE_TYPES[d["FeatureType"]] for d in definitions}
    assert glue_columns(backend, store) == expected | BOOKKEEPING


@pytest.mark.clause("C-080", "C-083", "C-090")
@U6
def test_athenas_catalogue_describes_the_table_the_group_registered(backend):
    """Athena's ``AwsDataCatalog`` is the account's Glue catalogue: the database and table
    DescribeFeatureGroup names are the ones its catalogue operations show (pyathena's
    ``get_table_metadata`` and its SQLAlchemy dialect read them)."""
    definitions = [*base_definitions(), feature("Email_Address", "String")]
    name, store = create_offline_group(backend, definitions=definitions)
    athena = backend.athena

    catalog = athena.get_data_catalog(Name=store.catalog)["DataCatalog"]
    assert (catalog["Name"], catalog["Type"]) == (store.catalog, "GLUE")
    listed = {c["CatalogName"] for c in athena.list_data_catalogs()["DataCatalogsSummary"]}
    assert store.catalog in listed
    databases = [
        d["Name"]
        for page in athena.get_paginator("list_databases").paginate(CatalogName=store.catalog)
        for d in page["DatabaseList"]
    ]
    assert store.database in databases
    found = athena.get_database(CatalogName=store.catalog, DatabaseName=store.database)
    assert found["Database"]["Name"] == store.database

    table = athena.get_table_metadata(
        CatalogName=store.catalog, DatabaseName=store.database, TableName=store.table
    )["TableMetadata"]
    assert table["Name"].lower() == store.table.lower()
    expected = {d["FeatureName"].lower(): GLUE_TYPES[d["FeatureType"]] for d in definitions}
    assert {c["Name"]: c["Type"] for c in table["Columns"]} == expected | BOOKKEEPING
    # C-082 leaves partition keys open: whatever Glue declares, Athena shows.
    glue_table = backend.glue.get_table(DatabaseName=store.database, Name=store.table)["Table"]
    assert [k["Name"] for k in table.get("PartitionKeys", [])] == [
        k["Name"] for k in glue_table.get("PartitionKeys", [])
    ]
    tables = [
        t["Name"].lower()
        for page in athena.get_paginator("list_table_metadata").paginate(
            CatalogName=store.catalog, DatabaseName=store.database, Expression=f"{store.table[:4]}*"
        )
        for t in page["TableMetadataList"]
    ]
    assert store.table.lower() in tables

    with pytest.raises(athena.exceptions.MetadataException):
        athena.get_table_metadata(
            CatalogName=store.catalog, DatabaseName=store.database, TableName=f"{name}-absent"
        )


@pytest.mark.clause("C-054", "C-083")
def test_update_adds_the_new_features_as_glue_columns(backend):
    name, store = create_offline_group(backend)
    backend.sagemaker.update_feature_group(
        FeatureGroupName=name,
        FeatureAdditions=[feature("has_kids", "Integral"), feature("Email_Address", "String")],
    )
    backend.wait_for_update(name)

    columns = wait_for_glue_columns(backend, store, {"has_kids", "email_address"})

    originals = {d["FeatureName"] for d in base_definitions()}
    assert originals | {"has_kids", "email_address"} | set(BOOKKEEPING) == set(columns)


# -- files in S3 ---------------------------------------------------------------------------


@pytest.mark.clause("C-061", "C-063", "C-065", "C-066")
@U6
def test_offline_files_are_parquet_in_hourly_event_time_partitions(backend):
    name, store = create_offline_group(backend)
    event_times = {
        "C1": utc_epoch("2024-03-05T07:15:00"),
        "C2": utc_epoch("2024-03-05T07:45:30"),
        "C3": utc_epoch("2024-03-05T09:05:00"),
        "C4": utc_epoch("2023-12-31T23:59:59"),
    }
    for customer, event_time in event_times.items():
        put(backend, name, customer_id=customer, event_time=event_time, n_days_active=1.5)
    wait_for_rows(backend, store, len(event_times))

    keys = [k for k in object_keys(backend, store) if k.endswith(".parquet")]
    assert keys
    seen = set()
    for key in keys:
        match = OBJECT_KEY.search(key)
        assert match, f"{key} does not follow the C-063 layout"
        year, month, day, hour, stamp = match.groups()
        table = read_parquet(backend, store.bucket, key)
        times = [
            dt.datetime.fromtimestamp(t, dt.timezone.utc) for t in table["event_time"].to_pylist()
        ]
        for moment in times:
            assert (int(year), int(month), int(day), int(hour)) == (
                moment.year,
                moment.month,
                moment.day,
                moment.hour,
            ), key
        assert stamp == max(times).strftime("%Y%m%dT%H%M%SZ"), key
        schema = table.schema
        assert schema.field("customer_id").type == pa.string()
        assert schema.field("event_time").type == pa.float64()
        assert schema.field("n_days_active").type == pa.float64()
        assert schema.field("is_married").type == pa.int64()
        assert pa.types.is_timestamp(schema.field("write_time").type)
        assert pa.types.is_timestamp(schema.field("api_invocation_time").type)
        assert schema.field("is_deleted").type == pa.bool_()
        seen.update(table["customer_id"].to_pylist())
    assert seen == set(event_times)


# -- Athena: the project flow --------------------------------------------------------------


@pytest.mark.clause("C-067", "C-091", "C-092", "C-065", "C-090")
def test_reingest_after_update_gives_two_rows_per_identifier(backend):
    name, store = ingest_update_reingest(backend)
    n = len(SEED_IDS)

    wait_for_rows(backend, store, 2 * n)

    per_id = query(
        backend,
        store,
        f'SELECT "customer_id", count(*) AS "rows" FROM {store.qualified} GROUP BY 1',
    )
    assert {row["customer_id"]: row["rows"] for row in per_id} == {c: "2" for c in SEED_IDS}
    null_email = f'SELECT count(*) FROM {store.qualified} WHERE "email" IS NULL'
    assert scalar(backend, store, null_email) == str(n)
    set_email = f'SELECT count(*) FROM {store.qualified} WHERE "email" IS NOT NULL'
    assert scalar(backend, store, set_email) == str(n)
    bookkeeping = query(
        backend,
        store,
        f'SELECT "write_time", "api_invocation_time", "is_deleted", '
        f'"write_time" >= "api_invocation_time" AS "ordered" FROM {store.qualified}',
    )
    assert len(bookkeeping) == 2 * n
    for row in bookkeeping:
        assert row["write_time"] is not None and row["api_invocation_time"] is not None
        assert row["is_deleted"] == "false"
        assert row["ordered"] == "true"


@pytest.mark.clause("C-093", "C-083", "C-035")
def test_dedup_query_returns_the_post_update_values(backend):
    # Both ingests use the same event time: the later api_invocation_time decides (C-093).
    definitions = base_definitions() + [feature("age_18-29", "Integral")]
    name, store = create_offline_group(backend, definitions=definitions)
    for customer in SEED_IDS:
        put(
            backend, name, customer_id=customer, event_time=1000.0, is_married=0, **{"age_18-29": 1}
        )
    backend.sagemaker.update_feature_group(
        FeatureGroupName=name, FeatureAdditions=[feature("has_kids", "Integral")]
    )
    backend.wait_for_update(name)
    for customer in SEED_IDS:
        put_after_update(
            backend,
            name,
            {
                "customer_id": customer,
                "event_time": 1000.0,
                "is_married": 1,
                "age_18-29": 2,
                "has_kids": 3,
            },
            added=["has_kids"],
        )
    wait_for_rows(backend, store, 2 * len(SEED_IDS))

    latest = query(
        backend,
        store,
        f"""
        SELECT * FROM (
            SELECT *, row_number() OVER (
                PARTITION BY "customer_id"
                ORDER BY "event_time" DESC, "api_invocation_time" DESC, "write_time" DESC
            ) AS row_num
            FROM {store.qualified}
        )
        WHERE row_num = 1 AND NOT is_deleted
        """,
    )

    assert sorted(row["customer_id"] for row in latest) == SEED_IDS
    for row in latest:
        assert (row["is_married"], row["age_18-29"], row["has_kids"]) == ("1", "2", "3"), row


@pytest.mark.clause("C-094", "C-093", "C-066")
@U6
def test_fractional_event_time_is_a_double_compared_with_epoch_seconds(backend):
    name, store = create_offline_group(backend)
    put(backend, name, customer_id="C1", event_time=100.0, n_days_active=1)
    put(backend, name, customer_id="C1", event_time=200.0, n_days_active=2)
    wait_for_rows(backend, store, 2)

    assert glue_columns(backend, store)["event_time"] == "double"
    travelled = query(
        backend,
        store,
        f'SELECT "n_days_active" FROM {store.qualified} WHERE "event_time" <= 150',
    )
    assert [float(row["n_days_active"]) for row in travelled] == [1.0]


# -- deletes, routing, deletion of the group -----------------------------------------------


@pytest.mark.clause("C-102", "C-067", "C-065")
def test_delete_record_appends_a_marker_row(backend):
    name, store = create_offline_group(backend)
    put(backend, name, customer_id="C1", event_time=100.0, n_days_active=7, is_married=1)
    backend.runtime.delete_record(
        FeatureGroupName=name, RecordIdentifierValueAsString="C1", EventTime="200"
    )
    wait_for_rows(backend, store, 2)

    markers = query(backend, store, f"SELECT * FROM {store.qualified} WHERE is_deleted")
    assert len(markers) == 1
    marker = markers[0]
    assert marker["customer_id"] == "C1"
    assert float(marker["event_time"]) == 200.0
    assert marker["n_days_active"] is None and marker["is_married"] is None
    kept = scalar(backend, store, f"SELECT count(*) FROM {store.qualified} WHERE NOT is_deleted")
    assert kept == "1"


@pytest.mark.clause("C-102")
def test_soft_delete_older_than_the_record_still_writes_a_marker(backend):
    name, store = create_offline_group(backend)
    put(backend, name, customer_id="C1", event_time=100.0, n_days_active=7)
    backend.runtime.delete_record(
        FeatureGroupName=name,
        RecordIdentifierValueAsString="C1",
        EventTime="50",
        DeletionMode="SoftDelete",
    )
    wait_for_rows(backend, store, 2)

    markers = query(backend, store, f'SELECT "event_time" FROM {store.qualified} WHERE is_deleted')
    assert [float(row["event_time"]) for row in markers] == [50.0]


@pytest.mark.clause("C-036")
def test_online_only_puts_never_reach_the_offline_store(backend):
    name, store = create_offline_group(backend)
    put(backend, name, customer_id="both", event_time=100.0)
    for customer in ("online-1", "online-2", "online-3"):
        backend.runtime.put_record(
            FeatureGroupName=name,
            Record=record(customer_id=customer, event_time=100.0),
            TargetStores=["OnlineStore"],
        )
    backend.runtime.put_record(
        FeatureGroupName=name,
        Record=record(customer_id="offline-only", event_time=100.0),
        TargetStores=["OfflineStore"],
    )
    wait_for_rows(backend, store, 2)

    ids = query(backend, store, f'SELECT "customer_id" FROM {store.qualified}')
    assert sorted(row["customer_id"] for row in ids) == ["both", "offline-only"]


@pytest.mark.clause("C-084", "C-130")
def test_delete_feature_group_keeps_the_glue_table_and_s3_objects(backend):
    name, store = create_offline_group(backend)
    put(backend, name, customer_id="C1", event_time=100.0)
    wait_for_rows(backend, store, 1)
    keys = object_keys(backend, store)
    assert keys

    backend.sagemaker.delete_feature_group(FeatureGroupName=name)
    backend.wait_until_deleted(name)

    assert backend.glue.get_table(DatabaseName=store.database, Name=store.table)["Table"]
    assert set(keys) <= set(object_keys(backend, store))
    assert scalar(backend, store, f"SELECT count(*) FROM {store.qualified}") == "1"


@pytest.mark.clause("C-090")
def test_query_of_a_missing_table_fails_with_a_reason(backend):
    _, store = create_offline_group(backend)
    query_id = start_query(
        backend, store, f'SELECT count(*) FROM "{store.database}"."no_such_table_fsct"'
    )

    execution = finished(backend, query_id)

    assert execution["Status"]["State"] == "FAILED"
    assert execution["Status"].get("StateChangeReason")
