"""Self-tests of how replicated files are built and read back (C-061, C-065, C-066, C-092).

Replication converts a batch to Arrow in bulk and leaves each file's table for Athena's
reads. These tests hold both shortcuts to what the slow, obvious way gives: Python's own
parse of each value, and a fresh parse of the stored bytes.
"""

from __future__ import annotations

import gc
import io
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsconformance import Delays, flush_offline_store, mock_featurestore
from fsconformance.emulator import moto_seam
from fsconformance.emulator.offline import parsed_files, replication
from fsconformance.model.records import OfflineRow
from fsconformance.waiters import eventually
from tests.helpers import ID_AND_TIME, create_request

REGION = "us-east-1"
BUCKET = "fsct-offline-reads"
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
DEFINITIONS = [
    {"FeatureName": "id", "FeatureType": "String"},
    {"FeatureName": "n", "FeatureType": "Integral"},
    {"FeatureName": "x", "FeatureType": "Fractional"},
]

# The value forms the data plane accepts (C-020, C-022): signed decimal integers of up to
# 19 digits, and decimal or exponent-form doubles.
integrals = st.from_regex(r"\A[+-]?[0-9]{1,18}\Z")
fractionals = st.from_regex(
    r"\A[+-]?([0-9]{1,20}\.?[0-9]{0,20}|\.[0-9]{1,20})([eE][+-]?[0-9]{1,3})?\Z"
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(st.none(), integrals), st.one_of(st.none(), fractionals)),
        min_size=1,
        max_size=30,
    )
)
def test_bulk_conversion_matches_pythons_parse_of_each_value(
    values: list[tuple[str | None, str | None]],
) -> None:
    # C-066: Integral is a 64-bit integer, Fractional a double; a missing value is NULL.
    rows = []
    for i, (n, x) in enumerate(values):
        record = {"id": f"r{i}"}
        if n is not None:
            record["n"] = n
        if x is not None:
            record["x"] = x
        rows.append(OfflineRow(record, float(i), 100.0 + i, i % 3 == 0))
    table = replication.offline_table(rows, DEFINITIONS, 200.0)
    assert table.column("n").to_pylist() == [None if n is None else int(n) for n, _ in values]
    expected_x = [None if x is None else float(x) for _, x in values]
    assert table.column("x").to_pylist() == expected_x
    assert table.column("is_deleted").to_pylist() == [i % 3 == 0 for i in range(len(values))]
    invoked = [int((100.0 + i) * 1000) for i in range(len(values))]
    as_ms = table.column("api_invocation_time").cast(pa.int64()).to_pylist()
    assert as_ms == invoked
    assert table.column("write_time").cast(pa.int64()).to_pylist() == [
        max(200_000, ms) for ms in invoked
    ]


def test_forms_arrow_does_not_parse_fall_back_to_python() -> None:
    rows = [OfflineRow({"id": "a", "n": "+7", "x": "-.5e1"}, 1.0, 1.0, False)]
    table = replication.offline_table(rows, DEFINITIONS, 2.0)
    assert table.column("n").to_pylist() == [7]
    assert table.column("x").to_pylist() == [-5.0]


# -- through the API -----------------------------------------------------------------------


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", f"{random.randrange(10**11, 10**12)}")
    with mock_featurestore(delays=Delays(create=0, update=0, delete=0, data_plane=0, offline=60)):
        found = {name: boto3.client(name, region_name=REGION) for name in ("s3", "athena", "glue")}
        found["sm"] = boto3.client("sagemaker", region_name=REGION)
        found["rt"] = boto3.client("sagemaker-featurestore-runtime", region_name=REGION)
        found["s3"].create_bucket(Bucket=BUCKET)
        yield found


def _query(clients: dict[str, Any], sql: str, database: str = "sagemaker_featurestore") -> Any:
    athena = clients["athena"]
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": database},
        ResultConfiguration={"OutputLocation": f"s3://{BUCKET}/athena/"},
    )["QueryExecutionId"]

    def probe() -> dict[str, Any] | None:
        found = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        return found if found["Status"]["State"] in TERMINAL else None

    status = eventually(probe, timeout=30, interval=0.01, what=sql)["Status"]
    if status["State"] != "SUCCEEDED":
        return status
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    return [[cell.get("VarCharValue") for cell in row["Data"]] for row in rows]


def _group(clients: dict[str, Any]) -> str:
    features = {**ID_AND_TIME, "n": "Integral", "s": "String"}
    request = create_request("reads", features, online=False, offline=f"s3://{BUCKET}/fs")
    clients["sm"].create_feature_group(**request)
    described = clients["sm"].describe_feature_group(FeatureGroupName="reads")
    return described["OfflineStoreConfig"]["DataCatalogConfig"]["TableName"]


def _put(clients: dict[str, Any], **values: Any) -> None:
    record = [{"FeatureName": k, "ValueAsString": str(v)} for k, v in values.items()]
    clients["rt"].put_record(FeatureGroupName="reads", Record=record)


def test_a_query_over_fresh_files_reads_what_a_fresh_parse_reads(
    clients: dict[str, Any],
) -> None:
    table = _group(clients)
    # Two hours of event time, several records an hour, missing values of both kinds.
    for i in range(12):
        values: dict[str, Any] = {"id": f"r{i % 5}", "t": 1_700_000_000 + 1800 * i}
        if i % 4:
            values["n"] = i - 6
        if i % 3 == 0:
            values["s"] = f"é{i}"
        _put(clients, **values)
    flush_offline_store()
    sql = f'SELECT id, t, n, s, is_deleted FROM "{table}" ORDER BY t'
    from_replication = _query(clients, sql)
    parsed_files.clear()  # every file is now parsed from its stored bytes
    assert _query(clients, sql) == from_replication
    assert len(from_replication) == 13
    assert from_replication[1] == ["r0", "1.7E9", None, "é0", "false"]


def test_an_overwritten_file_is_read_afresh(clients: dict[str, Any]) -> None:
    table = _group(clients)
    _put(clients, id="a", t=1_700_000_000, n=1)
    flush_offline_store()
    assert _query(clients, f'SELECT n FROM "{table}"') == [["n"], ["1"]]
    [key] = [
        o["Key"]
        for o in clients["s3"].list_objects_v2(Bucket=BUCKET, Prefix="fs/")["Contents"]
        if o["Key"].endswith(".parquet")
    ]
    stored = pq.read_table(
        io.BytesIO(clients["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read())
    )
    changed = stored.set_column(stored.column_names.index("n"), "n", pa.array([41], pa.int64()))
    sink = io.BytesIO()
    pq.write_table(changed, sink)
    clients["s3"].put_object(Bucket=BUCKET, Key=key, Body=sink.getvalue())
    assert _query(clients, f'SELECT n FROM "{table}"') == [["n"], ["41"]]


def test_a_bad_value_is_reported_in_the_file_that_holds_it(clients: dict[str, Any]) -> None:
    # Files of one schema are read together; the failure still names the second file.
    for name, value in (("part-1.parquet", "1"), ("part-2.parquet", "not a number")):
        sink = io.BytesIO()
        pq.write_table(pa.table({"v": pa.array([value])}), sink)
        clients["s3"].put_object(Bucket=BUCKET, Key=f"t/{name}", Body=sink.getvalue())
    clients["glue"].create_database(DatabaseInput={"Name": "db"})
    clients["glue"].create_table(
        DatabaseName="db",
        TableInput={
            "Name": "t",
            "StorageDescriptor": {
                "Columns": [{"Name": "v", "Type": "bigint"}],
                "Location": f"s3://{BUCKET}/t/",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                },
            },
        },
    )
    status = _query(clients, "SELECT v FROM t", database="db")
    assert status["State"] == "FAILED"
    assert "HIVE_BAD_DATA" in status["StateChangeReason"]
    assert "t/part-2.parquet" in status["StateChangeReason"]
    assert "part-1" not in status["StateChangeReason"]


def test_deleted_files_hold_no_parsed_tables(clients: dict[str, Any]) -> None:
    # A user's teardown gives memory back: once the objects are deleted, their tables go too.
    table = _group(clients)
    for i in range(8):
        _put(clients, id=f"r{i}", t=1_700_000_000 + 3600 * i, n=i)
    flush_offline_store()
    assert _query(clients, f'SELECT count(*) FROM "{table}"') == [["_col0"], ["8"]]
    assert parsed_files.count(BUCKET) >= 8  # one file an hour at least
    listing = clients["s3"].list_objects_v2(Bucket=BUCKET, Prefix="fs/")["Contents"]
    clients["s3"].delete_objects(
        Bucket=BUCKET, Delete={"Objects": [{"Key": o["Key"]} for o in listing]}
    )
    moto_seam.release_forgotten_models(force=True)
    gc.collect()  # in case moto's objects sit in a reference cycle
    assert parsed_files.count(BUCKET) == 0
    assert _query(clients, f'SELECT count(*) FROM "{table}"') == [["_col0"], ["0"]]
