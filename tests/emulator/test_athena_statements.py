"""Self-tests of the emulated Athena statements: classification, Trino rewrites, CSV tables."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow as pa
import pytest

from fsconformance import Delays, mock_featurestore
from fsconformance.emulator.athena import catalog, statements, trino, types
from fsconformance.emulator.athena import sql as parsing
from fsconformance.waiters import eventually

REGION = "us-east-1"
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


@pytest.mark.parametrize(
    ("sql", "statement_type", "substatement"),
    [
        ("SELECT 1", "DML", "SELECT"),
        ("WITH a AS (SELECT 1 AS x) SELECT * FROM a", "DML", "SELECT"),
        (
            "CREATE TABLE t WITH (format = 'PARQUET') AS SELECT 1 AS x",
            "DML",
            "CREATE_TABLE_AS_SELECT",
        ),
        ("UNLOAD (SELECT 1) TO 's3://b/p/' WITH (format = 'PARQUET')", "DML", "UNLOAD"),
        (
            "CREATE EXTERNAL TABLE t (a int) STORED AS PARQUET LOCATION 's3://b/p/'",
            "DDL",
            "CREATE_TABLE",
        ),
        ("DROP TABLE IF EXISTS t", "DDL", "DROP_TABLE"),
        ("SHOW TABLES IN sagemaker_featurestore 'fs*'", "DDL", "SHOW_TABLES"),
        ("SHOW COLUMNS IN t", "DDL", "SHOW_COLUMNS"),
        ("DESCRIBE t", "UTILITY", "DESCRIBE_TABLE"),
        ("MSCK REPAIR TABLE t", "DDL", "MSCK_REPAIR_TABLE"),
    ],
)
def test_statements_are_classified(sql: str, statement_type: str, substatement: str) -> None:
    statement = parsing.classify(sql)
    assert not isinstance(statement, statements.Failed)
    assert (statement.statement_type, statement.substatement) == (statement_type, substatement)


def test_teradata_patterns_become_strftime() -> None:
    assert trino.teradata_to_strftime("yyyy-mm-dd hh24:mi:ss") == "%Y-%m-%d %H:%M:%S"
    assert trino.teradata_to_strftime("YYYY/MM/DD HH12") == "%Y/%m/%d %I"
    assert trino.teradata_to_strftime("100%") == "100%%"


def _schema(**columns: str) -> pa.Schema:
    return pa.schema([(name, types.glue_arrow_type(kind)) for name, kind in columns.items()])


def _open_csv(**parameters: str) -> dict[str, Any]:
    return {
        "StorageDescriptor": {
            "SerdeInfo": {
                "SerializationLibrary": catalog.OPEN_CSV_SERDE,
                "Parameters": {"separatorChar": ",", "quoteChar": "`", "escapeChar": "\\"},
            }
        },
        "Parameters": parameters,
    }


def test_open_csv_serde_reads_typed_columns() -> None:
    body = b"1,`a,b`,1.5,true,1700000000000\n2,c,2,false,0\n"
    schema = _schema(id="int", name="string", x="double", flag="boolean", at="timestamp")
    table = catalog.read_delimited(body, schema, _open_csv(), "k")
    assert table.column("name").to_pylist() == ["a,b", "c"]
    assert table.column("x").to_pylist() == [1.5, 2.0]
    assert table.column("flag").to_pylist() == [True, False]
    # C-187: OpenCSVSerde reads a TIMESTAMP as UNIX epoch milliseconds.
    assert str(table.column("at")[0].as_py()) == "2023-11-14 22:13:20"


def test_open_csv_serde_refuses_an_empty_numeric_value() -> None:
    with pytest.raises(statements.QueryFailed, match="HIVE_BAD_DATA"):
        catalog.read_delimited(b"1,\n", _schema(id="int", n="bigint"), _open_csv(), "k")


def test_header_lines_are_skipped_when_the_table_says_so() -> None:
    table_input = _open_csv(**{"skip.header.line.count": "1"})
    table = catalog.read_delimited(b"id\n7\n", _schema(id="int"), table_input, "k")
    assert table.column("id").to_pylist() == [7]


# -- through the API ---------------------------------------------------------------------------


@pytest.fixture
def athena(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", f"{random.randrange(10**11, 10**12)}")
    with mock_featurestore(delays=Delays(create=0, update=0, delete=0, data_plane=0, athena=0)):
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="fsct-statements")
        boto3.client("glue", region_name=REGION).create_database(DatabaseInput={"Name": "db"})
        yield boto3.client("athena", region_name=REGION)


def _run(athena: Any, sql: str) -> dict[str, Any]:
    query_id = athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": "db"},
        ResultConfiguration={"OutputLocation": "s3://fsct-statements/out/"},
    )["QueryExecutionId"]

    def probe() -> dict[str, Any] | None:
        found = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        return found if found["Status"]["State"] in TERMINAL else None

    return eventually(probe, timeout=30, interval=0.01, what=sql)


def test_ctas_without_a_location_writes_under_the_output_location(athena: Any) -> None:
    found = _run(athena, "CREATE TABLE t AS SELECT 1 AS x")
    assert found["Status"]["State"] == "SUCCEEDED", found["Status"]
    manifest = found["Statistics"]["DataManifestLocation"]
    assert manifest.startswith("s3://fsct-statements/out/tables/")
    glue = boto3.client("glue", region_name=REGION)
    location = glue.get_table(DatabaseName="db", Name="t")["Table"]["StorageDescriptor"]["Location"]
    assert location == f"s3://fsct-statements/out/tables/{found['QueryExecutionId']}/"
    assert athena.get_query_results(QueryExecutionId=found["QueryExecutionId"])["UpdateCount"] == 1
    again = _run(athena, "CREATE TABLE t AS SELECT 2 AS x")
    assert again["Status"]["State"] == "FAILED"
    assert "already exists" in again["Status"]["StateChangeReason"]


def test_ddl_in_a_missing_database_fails(athena: Any) -> None:
    found = _run(
        athena, "CREATE EXTERNAL TABLE nowhere.t (a int) STORED AS PARQUET LOCATION 's3://b/p/'"
    )
    assert found["Status"]["State"] == "FAILED"
    assert "SCHEMA_NOT_FOUND" in found["Status"]["StateChangeReason"]


def test_unload_refuses_a_location_that_holds_objects(athena: Any) -> None:
    boto3.client("s3", region_name=REGION).put_object(
        Bucket="fsct-statements", Key="u/x", Body=b"x"
    )
    found = _run(athena, "UNLOAD (SELECT 1) TO 's3://fsct-statements/u/' WITH (format = 'PARQUET')")
    assert found["Status"]["State"] == "FAILED"
    assert "HIVE_PATH_ALREADY_EXISTS" in found["Status"]["StateChangeReason"]


def test_a_sequence_over_trinos_limit_fails(athena: Any) -> None:
    found = _run(athena, "SELECT cardinality(sequence(1, 10001))")
    assert found["Status"]["State"] == "FAILED"
    assert "10000" in found["Status"]["StateChangeReason"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "2024-01-01 00:00:00+00:00",
            'Invalid format: "2024-01-01 00:00:00+00:00" is malformed at "+00:00"',
        ),
        ("2024-01-01", 'Invalid format: "2024-01-01" is too short'),
        ("x2024-01-01 00:00:00", 'Invalid format: "x2024-01-01 00:00:00"'),
    ],
)
def test_to_timestamp_refuses_text_its_pattern_does_not_consume(
    athena: Any, text: str, reason: str
) -> None:
    # Trino parses with Joda's parseMillis: all of the text, or INVALID_FUNCTION_ARGUMENT
    # naming where parsing stopped (DatasetBuilder.as_of with an aware datetime sends "+00:00").
    found = _run(athena, f"SELECT to_timestamp('{text}', 'yyyy-mm-dd hh24:mi:ss')")
    assert found["Status"]["State"] == "FAILED"
    assert found["Status"]["StateChangeReason"] == f"INVALID_FUNCTION_ARGUMENT: {reason}"


def test_ddl_results_are_text_without_a_header(athena: Any) -> None:
    _run(
        athena,
        "CREATE EXTERNAL TABLE shown (a int) STORED AS PARQUET LOCATION 's3://fsct-statements/p/'",
    )
    found = _run(athena, "SHOW TABLES")
    assert found["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    rows = athena.get_query_results(QueryExecutionId=found["QueryExecutionId"])["ResultSet"]["Rows"]
    assert [r["Data"][0]["VarCharValue"] for r in rows] == ["shown"]
