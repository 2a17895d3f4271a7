"""Athena reads what Spark, Hive and other engines write (C-061, C-066, C-090, C-091, C-094).

The Spark connector writes a group's offline rows itself: Parquet files straight into the
group's ``ResolvedOutputS3Uri``, partitioned by event time, with ``write_time`` and
``api_invocation_time`` as Spark's default INT96 timestamps (C-066). Hive, pandas and other
engines write the same table with other physical types, encodings, codecs and file names.
Athena reads all of them: every file below the table's location except the hidden ones
(``_``/``.`` names and folders), any Parquet timestamp into a ``timestamp`` column at
millisecond precision (Athena's Hive connector rounds finer values), dictionary and other
encodings, snappy, gzip and zstd.

Each file here is written by pyarrow with the options that make it what the named engine
writes; the expected rows are the rows written, with timestamps as Athena prints them.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fsconformance.offline import OfflineStore

from .athena_helpers import DATABASE, dropped_afterwards, s3_parts, select, succeeded, table_name
from .offline_helpers import query

pytestmark = [pytest.mark.offline_store, pytest.mark.slow]

# Microsecond values Spark holds, chosen so that rounding and truncation to milliseconds
# differ (.123500 rounds up to .124; truncation would give .123).
WRITTEN = dt.datetime(2024, 3, 5, 10, 11, 12, 123500)
INVOKED = dt.datetime(2024, 3, 5, 10, 11, 11, 987_499)
# As Athena prints a Hive timestamp: milliseconds, rounded half up.
WRITTEN_TEXT = "2024-03-05 10:11:12.124"
INVOKED_TEXT = "2024-03-05 10:11:11.987"


def create_group(backend) -> OfflineStore:
    return OfflineStore.of(backend.create_and_wait(backend.feature_group_request()))


def rows_table(ids: list[str], time_type: pa.DataType, *, dictionary: bool = False) -> pa.Table:
    """The connector's columns for the default group (C-066): Integral as long, Fractional as
    double, String as string, the two time columns as timestamps, is_deleted as boolean."""
    n = len(ids)
    customer = pa.array(ids, pa.string())
    if dictionary:
        customer = customer.dictionary_encode()
    return pa.table(
        {
            "customer_id": customer,
            "event_time": pa.array([1_709_633_471.0 + i for i in range(n)], pa.float64()),
            "n_days_active": pa.array([0.5 + i for i in range(n)], pa.float64()),
            "is_married": pa.array([i % 2 for i in range(n)], pa.int64()),
            "api_invocation_time": pa.array([INVOKED] * n, pa.timestamp("us")).cast(
                time_type, safe=False
            ),
            "write_time": pa.array([WRITTEN] * n, pa.timestamp("us")).cast(time_type, safe=False),
            "is_deleted": pa.array([False] * n, pa.bool_()),
        }
    )


def parquet_bytes(table: pa.Table, **options: Any) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def put(backend, store: OfflineStore, relative_key: str, body: bytes) -> None:
    backend.s3.put_object(Bucket=store.bucket, Key=f"{store.prefix}/{relative_key}", Body=body)


PARTITION = "year=2024/month=03/day=05/hour=10"


def spark_name(task: int = 0) -> str:
    return f"part-{task:05d}-{uuid.uuid4()}.c000.snappy.parquet"


# What each engine writes, as pyarrow options: (physical timestamp type, write options,
# file name, dictionary-typed id column).
WRITERS = {
    # Spark's defaults (spark.sql.parquet.outputTimestampType=INT96, snappy, dictionary
    # pages); Spark stores no Arrow schema in the file.
    "spark-int96-snappy": (
        pa.timestamp("us"),
        {"use_deprecated_int96_timestamps": True, "compression": "snappy", "store_schema": False},
        spark_name,
        False,
    ),
    # Spark with outputTimestampType=TIMESTAMP_MICROS: INT64 microseconds, adjusted to UTC.
    "spark-micros-utc": (
        pa.timestamp("us", tz="UTC"),
        {"compression": "snappy", "store_schema": False},
        spark_name,
        False,
    ),
    # Hive: INT96, gzip, files named by task (no extension).
    "hive-int96-gzip": (
        pa.timestamp("us"),
        {
            "use_deprecated_int96_timestamps": True,
            "compression": "gzip",
            "use_dictionary": False,
            "store_schema": False,
        },
        lambda task: f"{task:06d}_0",
        False,
    ),
    # pandas through pyarrow: nanosecond INT64 timestamps, a dictionary-typed column kept in
    # the stored Arrow schema, zstd.
    "pandas-nanos-zstd": (
        pa.timestamp("ns"),
        {"compression": "zstd"},
        lambda task: f"{uuid.uuid4().hex}.parquet",
        True,
    ),
    # A Parquet v2 writer: data page v2, delta and byte-stream-split encodings, milliseconds.
    "v2-delta-encodings": (
        pa.timestamp("ms"),
        {
            "compression": "zstd",
            "data_page_version": "2.0",
            "use_dictionary": False,
            "column_encoding": {
                "customer_id": "DELTA_LENGTH_BYTE_ARRAY",
                "is_married": "DELTA_BINARY_PACKED",
                "n_days_active": "BYTE_STREAM_SPLIT",
            },
            "store_schema": False,
        },
        spark_name,
        False,
    ),
}


def expected_rows(ids: list[str], time_type: pa.DataType) -> list[dict[str, str | None]]:
    # Milliseconds written as milliseconds keep their value; finer ones round half up.
    written, invoked = WRITTEN_TEXT, INVOKED_TEXT
    if time_type.unit == "ms":
        written, invoked = "2024-03-05 10:11:12.123", "2024-03-05 10:11:11.987"
    return [
        {
            "customer_id": customer,
            "n_days_active": repr(0.5 + i),
            "is_married": str(i % 2),
            "api_invocation_time": invoked,
            "write_time": written,
            "is_deleted": "false",
        }
        for i, customer in enumerate(ids)
    ]


@pytest.mark.clause("C-066", "C-061", "C-091", "C-065")
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_athena_reads_offline_files_other_engines_write(backend, writer):
    store = create_group(backend)
    time_type, options, name, dictionary = WRITERS[writer]
    first, second = ["c1", "c2", "c3"], ["c4", "c5"]
    put(
        backend,
        store,
        f"{PARTITION}/{name(0)}",
        parquet_bytes(rows_table(first, time_type), **options),
    )
    put(
        backend,
        store,
        f"{PARTITION}/{name(1)}",
        parquet_bytes(rows_table(second, time_type, dictionary=dictionary), **options),
    )
    found = query(
        backend,
        store,
        "SELECT customer_id, n_days_active, is_married, api_invocation_time, write_time, "
        f"is_deleted FROM {store.qualified} ORDER BY customer_id",
    )
    assert found == expected_rows(first, time_type) + expected_rows(second, time_type)


@pytest.mark.clause("C-061", "C-091")
def test_spark_markers_attempts_and_empty_files_are_not_rows(backend):
    store = create_group(backend)
    options = WRITERS["spark-int96-snappy"][1]
    put(
        backend,
        store,
        f"{PARTITION}/{spark_name()}",
        parquet_bytes(rows_table(["a", "b"], pa.timestamp("us")), **options),
    )
    # What a Spark job leaves beside its output: the job's success marker, a failed task
    # attempt under _temporary, a checksum file; and Hive's empty file for an empty insert.
    put(backend, store, "_SUCCESS", b"")
    put(
        backend,
        store,
        f"_temporary/0/_temporary/attempt_0001_m_000000_0/{PARTITION}/{spark_name()}",
        parquet_bytes(rows_table(["stale"], pa.timestamp("us")), **options),
    )
    put(backend, store, f"{PARTITION}/.{spark_name()}.crc", b"crc\x00\x01")
    put(backend, store, f"{PARTITION}/000001_0", b"")
    found = query(backend, store, f"SELECT customer_id FROM {store.qualified} ORDER BY 1")
    assert found == [{"customer_id": "a"}, {"customer_id": "b"}]


@pytest.mark.clause("C-094", "C-066")
def test_int96_times_from_spark_compare_as_timestamps(backend):
    store = create_group(backend)
    options = WRITERS["spark-int96-snappy"][1]
    put(
        backend,
        store,
        f"{PARTITION}/{spark_name()}",
        parquet_bytes(rows_table(["a", "b"], pa.timestamp("us")), **options),
    )
    found = query(
        backend,
        store,
        f"SELECT count(*) AS n FROM {store.qualified} "
        f"WHERE write_time = timestamp '{WRITTEN_TEXT}' AND write_time > api_invocation_time",
    )
    assert found == [{"n": "2"}]


@pytest.mark.clause("C-066", "C-090")
@pytest.mark.requires(packages=["pyarrow>=19"])
def test_decimal_and_date_columns_a_glue_table_declares(backend):
    """decimal(p,s) stored as Spark stores it (INT32 up to 9 digits, INT64 up to 18, fixed
    bytes beyond, as Hive does) and DATE, read into the table's declared types."""
    create_group(backend)  # the Feature Store database exists once a group does (C-080)
    bucket, prefix = s3_parts(f"{backend.athena_output.rstrip('/')}/decimals/")
    table = pa.table(
        {
            "id": pa.array(["a", "b"]),
            "small": pa.array(["12.34", "-0.05"], pa.string()).cast(pa.decimal128(9, 2)),
            "medium": pa.array(["123456789.0123", "0.0001"]).cast(pa.decimal128(18, 4)),
            "large": pa.array(["12345678901234567890.1234567890", "-1.5"]).cast(
                pa.decimal128(38, 10)
            ),
            "day": pa.array([dt.date(2024, 2, 29), dt.date(1969, 12, 31)], pa.date32()),
        }
    )
    spark = parquet_bytes(
        table.select(["id", "small", "medium", "day"]),
        compression="snappy",
        store_schema=False,
        store_decimal_as_integer=True,
    )
    hive = parquet_bytes(table.select(["id", "large"]), compression="gzip", store_schema=False)
    backend.s3.put_object(Bucket=bucket, Key=f"{prefix}{spark_name()}", Body=spark)
    backend.s3.put_object(Bucket=bucket, Key=f"{prefix}000000_0", Body=hive)
    name = table_name(backend, "engine_types")
    succeeded(
        backend,
        f"CREATE EXTERNAL TABLE {name} (id string, small decimal(9,2), medium decimal(18,4), "
        f"large decimal(38,10), day date) STORED AS PARQUET LOCATION 's3://{bucket}/{prefix}'",
    )
    with dropped_afterwards(backend, name):
        found = select(
            backend,
            f'SELECT id, small, medium, large, day FROM "{DATABASE}"."{name}" ORDER BY id, large',
        )
    # Each file fills its own columns; the other file's read NULL (C-092).
    assert found == [
        ["a", None, None, "12345678901234567890.1234567890", None],
        ["a", "12.34", "123456789.0123", None, "2024-02-29"],
        ["b", None, None, "-1.5000000000", None],
        ["b", "-0.05", "0.0001", None, "1969-12-31"],
    ]
