"""Self-tests of the emulated offline store: Glue table, Parquet replication and Athena."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyathena
import pytest
from pyathena.pandas.cursor import PandasCursor

from fsconformance import Delays, flush_offline_store, mock_featurestore
from fsconformance.emulator import athena, clock, moto_seam
from fsconformance.emulator.offline import flush, glue_tables, replication
from fsconformance.emulator.settings import delays_from_env
from fsconformance.emulator.state import state_for
from fsconformance.model.records import OfflineRow
from tests.helpers import create_request, query_ended

REGION = "us-east-1"
# Creation/updates finish at once; offline rows wait a minute unless flushed.
SLOW_OFFLINE = Delays(create=0, update=0, delete=0, data_plane=0, offline=60)
KEY = re.compile(
    r"/data/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/\d{8}T\d{6}Z_[A-Za-z0-9]{16}\.parquet$"
)


@pytest.fixture(autouse=True)
def account(fresh_account: str) -> str:
    return fresh_account


class Session:
    """Clients inside one mock, with helpers for a feature group named ``customers``."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sm = boto3.client("sagemaker", region_name=REGION)
        self.rt = boto3.client("sagemaker-featurestore-runtime", region_name=REGION)
        self.athena = boto3.client("athena", region_name=REGION)
        self.glue = boto3.client("glue", region_name=REGION)
        self.bucket = f"fsct-offline-{account_id}"
        self.output = f"s3://{self.bucket}/athena/"
        self.s3.create_bucket(Bucket=self.bucket)

    def create(
        self, name: str = "customers", features: dict[str, str] | None = None, **members: Any
    ) -> dict[str, str]:
        features = features or {
            "id": "String",
            "ts": "Fractional",
            "Age": "Integral",
            "age_18-29": "Fractional",
        }
        offline = f"s3://{self.bucket}/fs"
        self.sm.create_feature_group(**create_request(name, features, offline=offline, **members))
        return self.sm.describe_feature_group(FeatureGroupName=name)["OfflineStoreConfig"]

    def put(self, name: str = "customers", **values: Any) -> None:
        record = [{"FeatureName": k, "ValueAsString": str(v)} for k, v in values.items()]
        self.rt.put_record(FeatureGroupName=name, Record=record)

    def start(self, sql: str, **kwargs: Any) -> str:
        return self.athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": "sagemaker_featurestore"},
            ResultConfiguration={"OutputLocation": self.output},
            **kwargs,
        )["QueryExecutionId"]

    def finished(self, query_id: str) -> dict[str, Any]:
        return query_ended(self.athena, query_id)

    def rows(self, sql: str) -> list[list[str | None]]:
        query_id = self.start(sql)
        status = self.finished(query_id)
        assert status["Status"]["State"] == "SUCCEEDED", status["Status"]
        result = self.athena.get_query_results(QueryExecutionId=query_id)
        return [[c.get("VarCharValue") for c in r["Data"]] for r in result["ResultSet"]["Rows"]]

    def flush(self) -> int:
        """Write every pending row of this account now; the number of rows written."""
        state = state_for(self.account_id, REGION)
        with state.lock:
            return flush.flush_state(state, time.time(), force=True)

    def keys(self, prefix: str = "fs/") -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [o["Key"] for o in listing.get("Contents", [])]


@pytest.fixture
def session(account: str) -> Iterator[Session]:
    with mock_featurestore(delays=SLOW_OFFLINE):
        yield Session(account)


# -- pure helpers ----------------------------------------------------------------------------


def test_partition_and_file_name_follow_the_glue_layout() -> None:
    moment = 1709622900.0  # 2024-03-05T07:15:00Z
    assert replication.partition_path(moment) == "year=2024/month=03/day=05/hour=07"
    name = replication.file_name(moment)
    assert re.fullmatch(r"20240305T071500Z_[A-Za-z0-9]{16}\.parquet", name)
    assert replication.file_name(moment) != name


def test_a_partition_is_split_by_record_into_a_few_files() -> None:
    # C-061/C-063: files by hour partition; within one, records are dealt in turn to up to
    # FILES_PER_PARTITION files in the order they first arrived, a record's rows kept together.
    ids = ["a", "b", "a", "c", "d", "e", "b", "f"]
    hours = np.array([5] * len(ids))
    files = replication.file_rows(hours, pa.array(ids))
    assert [(hour, [ids[i] + str(i) for i in rows]) for hour, rows in files] == [
        (5, ["a0", "a2", "e5"]),
        (5, ["b1", "b6", "f7"]),
        (5, ["c3"]),
        (5, ["d4"]),
    ]
    [(hour, rows)] = replication.file_rows(np.array([9]), pa.array(["a"]))
    assert (hour, list(rows)) == (9, [0])
    many = replication.file_rows(
        np.zeros(500, dtype=np.int64), pa.array([f"r{n}" for n in range(500)])
    )
    assert len(many) == replication.FILES_PER_PARTITION


def test_files_follow_the_hour_of_each_row_and_keep_arrival_order() -> None:
    # Two hours interleaved: each hour deals its own records from slot 0 (C-063, C-061).
    ids = ["x", "y", "x", "z", "y", "w"]
    hours = np.array([1, 2, 1, 1, 2, 2])
    files = [
        (hour, [int(i) for i in rows]) for hour, rows in replication.file_rows(hours, pa.array(ids))
    ]
    assert files == [(1, [0, 2]), (1, [3]), (2, [1, 4]), (2, [5])]


def test_event_hours_floor_toward_the_past_and_clamp_the_unrepresentable() -> None:
    hours = replication.event_hours(np.array([0.0, 3599.9, 3600.0, -0.5, 1e300, -1e300]))
    assert list(hours[:4]) == [0, 0, 1, -1]
    # Both extremes are past what a datetime holds; their partition is utc()'s clamp.
    for hour in hours[4:]:
        assert replication.partition_path(float(hour) * 3600) == "year=0001/month=01/day=01/hour=00"


def test_due_before_batches_rows_in_windows_of_the_lag() -> None:
    assert flush.due_before(10.3, 0.25) == pytest.approx(10.0)
    assert flush.due_before(10.3, 0) == float("inf")


def test_parquet_file_types_and_nulls() -> None:
    definitions = [
        {"FeatureName": "ID", "FeatureType": "String"},
        {"FeatureName": "n", "FeatureType": "Integral"},
        {"FeatureName": "x", "FeatureType": "Fractional"},
        {"FeatureName": "tags", "FeatureType": "String", "CollectionType": "List"},
    ]
    rows = [
        OfflineRow({"ID": "a", "n": "5", "x": "1.5", "tags": ["p", "q"]}, 1.0, 10.0, False),
        OfflineRow({"ID": "b"}, 2.0, 11.0, True),
    ]
    table = pq.read_table(io.BytesIO(replication.parquet_file(rows, definitions, 12.0)))
    assert table.column_names == [
        "id",
        "n",
        "x",
        "tags",
        "write_time",
        "api_invocation_time",
        "is_deleted",
    ]
    assert table.schema.field("n").type == pa.int64()
    assert table.schema.field("x").type == pa.float64()
    assert table.schema.field("tags").type == pa.list_(pa.string())
    assert table.schema.field("write_time").type == pa.timestamp("ms", tz="UTC")
    assert table.to_pydict()["n"] == [5, None]
    assert table.to_pydict()["is_deleted"] == [False, True]
    written = table.column("write_time").cast(pa.int64()).to_pylist()
    invoked = table.column("api_invocation_time").cast(pa.int64()).to_pylist()
    assert all(w >= i for w, i in zip(written, invoked, strict=True))


def test_added_columns_go_before_the_bookkeeping_columns() -> None:
    current = {"StorageDescriptor": {"Columns": [{"Name": "id", "Type": "string"}]}}
    current["StorageDescriptor"]["Columns"] += glue_tables.BOOKKEEPING_COLUMNS
    definitions = [
        {"FeatureName": "id", "FeatureType": "String"},
        {"FeatureName": "Has_Kids", "FeatureType": "Integral"},
    ]
    updated = glue_tables.with_added_columns(current, definitions)
    names = [c["Name"] for c in updated["StorageDescriptor"]["Columns"]]
    assert names == ["id", "has_kids", "write_time", "api_invocation_time", "is_deleted"]
    assert glue_tables.with_added_columns(updated, definitions) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1657826274.0, "1.657826274E9"),
        (15.0, "15.0"),
        (0.5, "0.5"),
        (1e-4, "1.0E-4"),
        (-2.5e10, "-2.5E10"),
        (1234567.0, "1234567.0"),
        (0.0, "0.0"),
    ],
)
def test_doubles_print_as_athena_does(value: float, text: str) -> None:
    assert athena.java_double(value) == text


# -- Glue ------------------------------------------------------------------------------------


def test_glue_table_follows_the_group(session: Session) -> None:
    offline = session.create()
    catalog = offline["DataCatalogConfig"]
    table = session.glue.get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])
    descriptor = table["Table"]["StorageDescriptor"]
    assert descriptor["Location"] == offline["S3StorageConfig"]["ResolvedOutputS3Uri"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == glue_tables.PARQUET_SERDE
    assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == [
        ("id", "string"),
        ("ts", "double"),
        ("age", "bigint"),
        ("age_18-29", "double"),
        ("write_time", "timestamp"),
        ("api_invocation_time", "timestamp"),
        ("is_deleted", "boolean"),
    ]

    session.sm.update_feature_group(
        FeatureGroupName="customers",
        FeatureAdditions=[{"FeatureName": "has_kids", "FeatureType": "Integral"}],
    )
    session.sm.describe_feature_group(FeatureGroupName="customers")  # the update completes
    table = session.glue.get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])
    names = [c["Name"] for c in table["Table"]["StorageDescriptor"]["Columns"]]
    assert names.index("has_kids") == names.index("write_time") - 1

    session.sm.delete_feature_group(FeatureGroupName="customers")
    session.glue.get_table(DatabaseName=catalog["Database"], Name=catalog["TableName"])


def test_no_glue_table_when_creation_is_disabled(session: Session) -> None:
    session.create(
        OfflineStoreConfig={
            "S3StorageConfig": {"S3Uri": f"s3://{session.bucket}/fs"},
            "DisableGlueTableCreation": True,
            "DataCatalogConfig": {
                "TableName": "mine",
                "Catalog": "AwsDataCatalog",
                "Database": "d",
            },
        }
    )
    with pytest.raises(session.glue.exceptions.EntityNotFoundException):
        session.glue.get_table(DatabaseName="d", Name="mine")


# -- replication -----------------------------------------------------------------------------


def test_rows_wait_for_the_lag_and_are_written_exactly_once(session: Session) -> None:
    session.create()
    for index in range(5):
        session.put(id=f"c{index}", ts=1709622900 + index, Age=index)
    session.put(id="c0", ts=1709622910, Age=10)  # a second version of c0
    assert session.keys() == []  # the lag is a minute

    assert session.flush() == 6
    assert session.flush() == 0
    keys = session.keys()
    # Five records in one hour: four files (C-061), each record's rows in one of them, each
    # file named by its own latest event time.
    assert len(keys) == replication.FILES_PER_PARTITION == 4
    rows_by_file = {}
    for key in keys:
        assert KEY.search(key) and "/year=2024/month=03/day=05/hour=07/" in key, key
        body = session.s3.get_object(Bucket=session.bucket, Key=key)["Body"].read()
        table = pq.read_table(io.BytesIO(body))
        rows_by_file[key.rsplit("/", 1)[1][:16]] = sorted(
            zip(table["id"].to_pylist(), table["ts"].to_pylist(), strict=True)
        )
    assert sorted(rows_by_file.values()) == [
        [("c0", 1709622900.0), ("c0", 1709622910.0), ("c4", 1709622904.0)],
        [("c1", 1709622901.0)],
        [("c2", 1709622902.0)],
        [("c3", 1709622903.0)],
    ]
    assert set(rows_by_file) == {
        "20240305T071510Z",
        "20240305T071501Z",
        "20240305T071502Z",
        "20240305T071503Z",
    }


def test_delete_feature_group_writes_pending_rows_first(session: Session) -> None:
    session.create()
    session.put(id="a", ts=1, Age=1)
    session.sm.delete_feature_group(FeatureGroupName="customers")
    assert len(session.keys()) == 1


def test_lazy_flush_happens_on_a_later_request(account: str) -> None:
    with mock_featurestore(delays=Delays(create=0, update=0, delete=0, data_plane=0, offline=0)):
        session = Session(account)
        session.create()
        session.put(id="a", ts=1, Age=1)
        assert len(session.keys()) == 1


def test_missing_bucket_keeps_rows_until_it_exists(session: Session) -> None:
    later = f"fsct-later-{session.account_id}"
    session.create(OfflineStoreConfig={"S3StorageConfig": {"S3Uri": f"s3://{later}/fs"}})
    session.put(id="a", ts=1, Age=1)
    assert session.flush() == 0
    session.s3.create_bucket(Bucket=later)
    assert session.flush() == 1


# -- Athena ----------------------------------------------------------------------------------


def test_query_reads_files_of_both_schemas(session: Session) -> None:
    table = session.create()["DataCatalogConfig"]["TableName"]
    session.put(id="a", ts=1, Age=1, **{"age_18-29": 0.5})
    clock.flush_all()  # the mock's own hook: every account and region
    session.sm.update_feature_group(
        FeatureGroupName="customers",
        FeatureAdditions=[{"FeatureName": "has_kids", "FeatureType": "Integral"}],
    )
    session.sm.describe_feature_group(FeatureGroupName="customers")
    session.put(id="a", ts=2, Age=2, has_kids=1)
    flush_offline_store()  # the documented explicit flush; queries never flush (C-060)

    rows = session.rows(
        f'SELECT id, "age_18-29", has_kids, is_deleted FROM AwsDataCatalog.sagemaker_featurestore."{table}" ORDER BY ts'
    )
    assert rows == [
        ["id", "age_18-29", "has_kids", "is_deleted"],
        ["a", "0.5", None, "false"],
        ["a", None, "1", "false"],
    ]
    assert session.rows(f'SELECT count(*), sum(age) FROM "{table}"') == [
        ["_col0", "_col1"],
        ["2", "3"],
    ]


def test_string_event_time_stays_a_string(session: Session) -> None:
    offline = session.create(features={"id": "String", "ts": "String"})
    table = offline["DataCatalogConfig"]["TableName"]
    session.put(id="a", ts="2024-03-05T07:15:00Z")
    session.flush()
    assert session.rows(f'SELECT ts AS "When", is_deleted FROM "{table}"') == [
        ["when", "is_deleted"],
        ["2024-03-05T07:15:00Z", "false"],
    ]
    (key,) = session.keys()
    assert "/year=2024/month=03/day=05/hour=07/20240305T071500Z_" in key
    body = session.s3.get_object(Bucket=session.bucket, Key=key)["Body"].read()
    assert pq.read_table(io.BytesIO(body)).schema.field("ts").type == pa.string()


def test_results_paginate_with_the_header_first(session: Session) -> None:
    table = session.create()["DataCatalogConfig"]["TableName"]
    for index in range(5):
        session.put(id=f"c{index}", ts=index, Age=index)
    session.flush()
    query_id = session.start(f'SELECT id FROM "{table}" ORDER BY id')
    session.finished(query_id)
    seen: list[str | None] = []
    kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": 2}
    pages = 0
    while True:
        page = session.athena.get_query_results(**kwargs)
        pages += 1
        info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        assert [(c["Name"], c["Type"]) for c in info] == [("id", "varchar")]
        seen += [r["Data"][0].get("VarCharValue") for r in page["ResultSet"]["Rows"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == ["id", "c0", "c1", "c2", "c3", "c4"]
    assert pages == 3


def test_results_are_written_as_csv_with_metadata(session: Session) -> None:
    table = session.create()["DataCatalogConfig"]["TableName"]
    session.put(id='say "hi"', ts=1, Age=1)
    session.flush()
    query_id = session.start(f'SELECT id, "age_18-29" FROM "{table}"')
    execution = session.finished(query_id)
    assert execution["ResultConfiguration"]["OutputLocation"] == f"{session.output}{query_id}.csv"
    assert execution["Statistics"]["DataScannedInBytes"] > 0
    body = session.s3.get_object(Bucket=session.bucket, Key=f"athena/{query_id}.csv")["Body"].read()
    assert body.decode() == '"id","age_18-29"\n"say ""hi""",\n'
    assert list(csv.reader(io.StringIO(body.decode())))[1] == ['say "hi"', ""]
    session.s3.head_object(Bucket=session.bucket, Key=f"athena/{query_id}.csv.metadata")


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELEC 1", "SYNTAX_ERROR"),
        ('SELECT * FROM "nope"', "TABLE_NOT_FOUND"),
        ('SELECT no_such_column FROM "{table}"', "COLUMN_NOT_FOUND"),  # names the column too
        ("SELECT 1; SELECT 2", "Only one sql statement"),
        ("CREATE TABLE t (a int)", "NOT_SUPPORTED"),
    ],
    ids=["syntax", "missing table", "missing column", "two statements", "ddl"],
)
def test_bad_queries_fail_with_a_reason(session: Session, sql: str, reason: str) -> None:
    table = session.create()["DataCatalogConfig"]["TableName"]
    query_id = session.start(sql.format(table=table))
    status = session.finished(query_id)
    assert status["Status"]["State"] == "FAILED"
    assert reason in status["Status"]["StateChangeReason"]
    if "no_such_column" in sql:
        assert "no_such_column" in status["Status"]["StateChangeReason"]
    with pytest.raises(session.athena.exceptions.InvalidRequestException):
        session.athena.get_query_results(QueryExecutionId=query_id)


def test_list_stop_and_missing_executions(session: Session) -> None:
    first, second = session.start("SELECT 1"), session.start("SELECT 2")
    session.finished(first)
    listed = session.athena.list_query_executions()["QueryExecutionIds"]
    assert listed[:2] == [second, first]
    session.athena.stop_query_execution(QueryExecutionId=first)  # finished: no change
    state = session.athena.get_query_execution(QueryExecutionId=first)["QueryExecution"]
    assert state["Status"]["State"] == "SUCCEEDED"
    with pytest.raises(session.athena.exceptions.InvalidRequestException):
        session.athena.get_query_execution(QueryExecutionId="00000000-0000-0000-0000-0000000000")
    with pytest.raises(session.athena.exceptions.InvalidRequestException):
        session.athena.start_query_execution(QueryString="SELECT 1")  # no output location


def test_other_athena_operations_fall_through_to_moto(session: Session) -> None:
    session.athena.create_work_group(Name="fsct")
    names = [w["Name"] for w in session.athena.list_work_groups()["WorkGroups"]]
    assert "fsct" in names


def test_execution_parameters_are_bound(session: Session) -> None:
    table = session.create()["DataCatalogConfig"]["TableName"]
    session.put(id="a", ts=1, Age=7)
    session.put(id="b", ts=1, Age=8)
    session.flush()
    query_id = session.start(f'SELECT age FROM "{table}" WHERE id = ?', ExecutionParameters=["'b'"])
    session.finished(query_id)
    result = session.athena.get_query_results(QueryExecutionId=query_id)
    assert result["ResultSet"]["Rows"][1]["Data"] == [{"VarCharValue": "8"}]


def test_pyathena_cursors_read_the_results(session: Session) -> None:
    table = session.create()["DataCatalogConfig"]["TableName"]
    session.put(id="a", ts=1.5, Age=7)
    session.flush()
    connection = pyathena.connect(
        s3_staging_dir=session.output,
        region_name=REGION,
        schema_name="sagemaker_featurestore",
        poll_interval=0.02,  # pyathena's default polls once a second
    )
    cursor = connection.cursor()
    cursor.execute(f'SELECT id, ts, age, is_deleted FROM "{table}"')
    assert cursor.fetchall() == [("a", 1.5, 7, False)]

    frame = connection.cursor(PandasCursor).execute(f'SELECT id, age FROM "{table}"').as_pandas()
    assert frame.to_dict("records") == [{"id": "a", "age": 7}]


def test_bridge_reads_what_it_wrote(session: Session) -> None:
    account = session.account_id
    moto_seam.s3_put(account, REGION, session.bucket, "x/y", b"z")
    assert moto_seam.s3_get(account, REGION, session.bucket, "x/y") == b"z"
    listed = moto_seam.s3_objects(account, REGION, session.bucket, "x/")
    assert [key for key, _ in listed] == ["x/y"]


def test_offline_delay_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSCONFORMANCE_DELAY_OFFLINE", "2.5")
    assert delays_from_env().offline == 2.5
    monkeypatch.setenv("FSCONFORMANCE_DELAY_OFFLINE", "soon")
    with pytest.raises(ValueError, match="FSCONFORMANCE_DELAY_OFFLINE"):
        delays_from_env()
