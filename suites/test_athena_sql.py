"""Athena's SQL surface through the Glue catalog (C-187, C-188, C-185, C-094).

The statements are the ones the SageMaker SDK's DatasetBuilder and awswrangler send: the
DataFrame base's temporary OpenCSVSerde table, the point-in-time join with its dedup and
deleted-record CTEs, CTAS to Parquet, DROP TABLE, SHOW, DESCRIBE, UNLOAD. Expected values
come from the contract and the data each test writes.
"""

from __future__ import annotations

import datetime as dt
import io

import pyarrow.parquet as pq
import pytest

from fsconformance.offline import OfflineStore

from .athena_helpers import (
    DATABASE,
    dropped_afterwards,
    rows,
    run,
    s3_parts,
    select,
    succeeded,
    table_name,
)
from .offline_helpers import record, wait_for_rows

pytestmark = [pytest.mark.offline_store, pytest.mark.slow]

# C-187: the SerDe and properties DatasetBuilder's temporary table is created with.
OPEN_CSV = (
    "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' "
    'WITH SERDEPROPERTIES ("separatorChar" = ",", "quoteChar" = "`", "escapeChar" = "\\\\")'
)
UNCERTAIN_SHOW = pytest.mark.uncertain("no clause: SHOW's StatementType is taken to be DDL")


def create_group(backend) -> tuple[str, OfflineStore]:
    request = backend.feature_group_request()
    return request["FeatureGroupName"], OfflineStore.of(backend.create_and_wait(request))


def upload_frame(backend, folder: str, lines: list[str]) -> str:
    """A DataFrame written as ``to_csv(index=False, header=False)`` would be (C-187 step 1)."""
    bucket, prefix = s3_parts(f"{backend.athena_output.rstrip('/')}/{folder}/")
    backend.s3.put_object(
        Bucket=bucket, Key=f"{prefix}data.csv", Body="".join(f"{x}\n" for x in lines).encode()
    )
    return f"s3://{bucket}/{prefix}"


def dataframe_table(backend, location: str, columns: str) -> str:
    """C-187 step 2: the temporary table, named ``dataframe_dataframe_base_...``."""
    name = table_name(backend, "dataframe_dataframe_base")
    found = succeeded(
        backend, f"CREATE EXTERNAL TABLE {name} ({columns}) {OPEN_CSV} LOCATION '{location}'"
    )
    assert found["StatementType"] == "DDL"  # C-185
    return name


@pytest.mark.clause("C-187", "C-185")
def test_dataframe_base_temporary_table_is_a_glue_table_athena_reads(backend):
    create_group(backend)  # the Feature Store database exists once a group does (C-080)
    location = upload_frame(
        backend, "frame", ["1,1700000000.0", "2,1700000001.5", "3,1700000002.0"]
    )
    name = dataframe_table(backend, location, "id INT, event_time DOUBLE")
    with dropped_afterwards(backend, name):
        table = backend.glue.get_table(DatabaseName=DATABASE, Name=name)["Table"]
        serde = table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
        assert serde == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
        assert table["StorageDescriptor"]["Location"].rstrip("/") == location.rstrip("/")

        data = select(backend, f'SELECT id, event_time FROM "{DATABASE}"."{name}" ORDER BY id')
        # C-094: doubles print as Athena's engine prints them.
        assert data == [
            ["1", "1.7E9"],
            ["2", "1.7000000015E9"],
            ["3", "1.700000002E9"],
        ]


@pytest.mark.no_snapshot("its SQL embeds the backend's own S3 location and temporary table name")
@pytest.mark.clause("C-188", "C-187", "C-093", "C-067")
def test_point_in_time_join_of_a_dataframe_base_with_a_feature_group(backend):
    name, store = create_group(backend)
    for values in [
        {"customer_id": "C1", "event_time": 1000.0, "n_days_active": 1.0},
        {"customer_id": "C1", "event_time": 2000.0, "n_days_active": 2.0},
        {"customer_id": "C2", "event_time": 1000.0, "n_days_active": 5.0},
        {"customer_id": "C3", "event_time": 1500.0, "n_days_active": 7.0},
    ]:
        backend.runtime.put_record(FeatureGroupName=name, Record=record(**values))
    backend.runtime.delete_record(
        FeatureGroupName=name, RecordIdentifierValueAsString="C3", EventTime="1600"
    )
    wait_for_rows(backend, store, 5)  # four puts and one delete marker (C-067, C-100)

    location = upload_frame(backend, "base", ["C1,1800.0", "C2,500.0", "C3,2000.0"])
    base = dataframe_table(backend, location, "customer_id STRING, event_time DOUBLE")
    as_of = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    fg = f'"{store.database}"."{store.table}"'
    # The shape DatasetBuilder sends (C-188): CTEs nested in CTEs, unaliased FROM
    # subqueries, dedup and deleted-record ranking, a point-in-time join, a write-time bound.
    sql = f"""WITH fg_base AS (WITH table_base AS (
SELECT *
FROM (
SELECT *, row_number() OVER (
PARTITION BY origin_base."customer_id", origin_base."event_time"
) AS dedup_row_base
FROM "{DATABASE}"."{base}" origin_base
)
)
SELECT table_base."customer_id", table_base."event_time"
FROM (
SELECT table_base."customer_id", table_base."event_time"
FROM table_base
) AS table_base
),
fg_0 AS (WITH table_0 AS (
SELECT *
FROM (
SELECT *, row_number() OVER (
PARTITION BY origin_0."customer_id", origin_0."event_time"
ORDER BY origin_0."api_invocation_time" DESC, origin_0."write_time" DESC
) AS dedup_row_0
FROM {fg} origin_0
WHERE origin_0."write_time" <= to_timestamp('{as_of}', 'yyyy-mm-dd hh24:mi:ss')
)
WHERE dedup_row_0 = 1
),
deleted_0 AS (
SELECT *
FROM (
SELECT *, row_number() OVER (
PARTITION BY origin_0."customer_id"
ORDER BY origin_0."event_time" DESC, origin_0."api_invocation_time" DESC, origin_0."write_time" DESC
) AS deleted_row_0
FROM {fg} origin_0
WHERE is_deleted
 AND origin_0."write_time" <= to_timestamp('{as_of}', 'yyyy-mm-dd hh24:mi:ss')
)
WHERE deleted_row_0 = 1
)
SELECT table_0."customer_id", table_0."event_time", table_0."n_days_active"
FROM (
SELECT table_0."customer_id", table_0."event_time", table_0."n_days_active", table_0."write_time"
FROM table_0
LEFT JOIN deleted_0
ON table_0."customer_id" = deleted_0."customer_id"
WHERE deleted_0."customer_id" IS NULL
UNION ALL
SELECT table_0."customer_id", table_0."event_time", table_0."n_days_active", table_0."write_time"
FROM deleted_0
JOIN table_0
ON table_0."customer_id" = deleted_0."customer_id"
AND (
table_0."event_time" > deleted_0."event_time"
OR (table_0."event_time" = deleted_0."event_time" AND table_0."api_invocation_time" > deleted_0."api_invocation_time")
)
) AS table_0
)
SELECT customer_id, event_time, "n_days_active.1"
FROM (
SELECT fg_base.customer_id, fg_base.event_time, fg_0."n_days_active" as "n_days_active.1", row_number() OVER (
PARTITION BY fg_base."customer_id"
ORDER BY fg_base."event_time" DESC, fg_0."event_time" DESC
) AS row_recent
FROM fg_base
JOIN fg_0
ON fg_base."customer_id" = fg_0."customer_id"
AND from_unixtime(fg_base."event_time") >= from_unixtime(fg_0."event_time")
)
WHERE row_recent <= 1
LIMIT 10"""
    with dropped_afterwards(backend, base):
        found = succeeded(backend, sql)
        result = rows(backend, found["QueryExecutionId"])
    # C1 at 1800 takes its 1000 version (2000 is later than the base row); C2's only version
    # is later than its base row; C3's latest version is a delete, so it is left out.
    assert result == [["customer_id", "event_time", "n_days_active.1"], ["C1", "1800.0", "1.0"]]


@pytest.mark.clause("C-188")
def test_trino_time_functions_agree(backend):
    create_group(backend)
    checks = [
        "to_timestamp('2024-03-05 07:15:00', 'yyyy-mm-dd hh24:mi:ss') = from_unixtime(1709622900)",
        "from_iso8601_timestamp('2024-03-05T07:15:00Z') = from_unixtime(1709622900)",
        "from_unixtime(1709622900.5) > from_iso8601_timestamp('2024-03-05T07:15:00.250Z')",
        "date_format(from_unixtime(1709622900), '%Y-%m-%d %H:%i:%s') = '2024-03-05 07:15:00'",
        "date_parse('2024-03-05 07:15:00', '%Y-%m-%d %H:%i:%s') = "
        "to_timestamp('2024-03-05 07:15:00', 'yyyy-mm-dd hh24:mi:ss')",
    ]
    sql = "SELECT " + ", ".join(f"({check}) AS c{i}" for i, check in enumerate(checks))
    assert select(backend, sql) == [["true"] * len(checks)]


@pytest.mark.clause("C-185", "C-061")
def test_ctas_writes_parquet_and_a_glue_table_then_drop_removes_the_table(backend):
    create_group(backend)
    name = table_name(backend, "ctas")
    location = f"{backend.athena_output.rstrip('/')}/{name}/"
    with dropped_afterwards(backend, name):
        found = succeeded(
            backend,
            f'CREATE TABLE "{DATABASE}"."{name}" '
            f"WITH (format = 'PARQUET', external_location = '{location}') "
            "AS SELECT * FROM (VALUES (1, 'one'), (2, 'two')) AS t(number, word)",
        )
        assert found["StatementType"] == "DML"  # C-185: the model doc classes CTAS as DML
        columns = backend.glue.get_table(DatabaseName=DATABASE, Name=name)["Table"][
            "StorageDescriptor"
        ]["Columns"]
        assert [c["Name"] for c in columns] == ["number", "word"]
        bucket, prefix = s3_parts(location)
        keys = [
            o["Key"]
            for o in backend.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
        ]
        assert keys
        tables = [
            pq.read_table(io.BytesIO(backend.s3.get_object(Bucket=bucket, Key=k)["Body"].read()))
            for k in keys
        ]
        assert sum(t.num_rows for t in tables) == 2
        assert select(backend, f'SELECT word FROM "{name}" ORDER BY number') == [["one"], ["two"]]

        dropped = succeeded(backend, f"DROP TABLE `{name}`")
        assert dropped["StatementType"] == "DDL"
        with pytest.raises(backend.glue.exceptions.EntityNotFoundException):
            backend.glue.get_table(DatabaseName=DATABASE, Name=name)
        assert run(backend, f"DROP TABLE `{name}`")["Status"]["State"] == "FAILED"
        succeeded(backend, f"DROP TABLE IF EXISTS `{name}`")


@pytest.mark.clause("C-185", "C-083")
def test_show_and_describe_read_the_catalog(backend):
    _, store = create_group(backend)

    # Whether a DDL result has a header row is not in the contract: look at every row.
    tables = rows(backend, succeeded(backend, "SHOW TABLES")["QueryExecutionId"])
    assert store.table.lower() in [(t[0] or "").lower() for t in tables if t]
    found = succeeded(backend, f"SHOW COLUMNS IN `{store.table}`")
    columns = [(r[0] or "").strip() for r in rows(backend, found["QueryExecutionId"]) if r]
    assert {"customer_id", "event_time", "write_time", "is_deleted"} <= set(columns)
    described = succeeded(backend, f"DESCRIBE `{store.table}`")
    assert described["StatementType"] == "UTILITY"  # C-185: DESCRIBE TABLE is the model's example


@pytest.mark.clause("C-185")
@UNCERTAIN_SHOW
def test_show_tables_is_a_ddl_statement(backend):
    create_group(backend)
    assert succeeded(backend, "SHOW TABLES")["StatementType"] == "DDL"


@pytest.mark.clause("C-185", "C-061")
def test_unload_writes_parquet_files(backend):
    create_group(backend)
    location = f"{backend.athena_output.rstrip('/')}/{table_name(backend, 'unload')}/"
    succeeded(
        backend,
        f"UNLOAD (SELECT 1 AS number, 'one' AS word) TO '{location}' WITH (format = 'PARQUET')",
    )
    bucket, prefix = s3_parts(location)
    keys = [
        o["Key"]
        for o in backend.s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    ]
    assert keys
    body = backend.s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert pq.read_table(io.BytesIO(body)).to_pylist() == [{"number": 1, "word": "one"}]
