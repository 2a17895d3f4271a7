"""Self-tests of the Athena sandbox: no SQL reaches the host, and no query blocks others.

Every escape below must end FAILED, with no host data anywhere in the answer: no SQL
may read or write outside the emulation. The engine's own settings are tested separately from the SQL-tree
check, so either layer alone holds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fsconformance import Delays, mock_featurestore
from fsconformance.emulator import athena
from fsconformance.emulator.athena import engine
from tests.helpers import ATHENA_TERMINAL, ROLE, AthenaSession, create_request, record

# A query that would run for hours: 10^12 rows, with Trino's sequence limit respected.
HUGE = (
    "SELECT count(*) FROM UNNEST(sequence(1, 10000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 10000)) AS b(y) CROSS JOIN UNNEST(sequence(1, 10000)) AS c(z)"
)


@pytest.fixture(autouse=True)
def account(fresh_account: str) -> str:
    return fresh_account


@pytest.fixture
def host_file(tmp_path: Any) -> str:
    """A host file with a marker no emulated table holds."""
    path = tmp_path / "secret.csv"
    path.write_text("marker\nHOST-SECRET-7f3a\n")
    return str(path)


@pytest.fixture
def host_parquet(tmp_path: Any) -> str:
    path = tmp_path / "secret.parquet"
    pq.write_table(pa.table({"marker": ["HOST-SECRET-7f3a"]}), str(path))
    return str(path)


class Session(AthenaSession):
    def __init__(self, account_id: str) -> None:
        super().__init__(account_id, "fsct-sandbox")

    def everything_written(self) -> bytes:
        """Every object the queries wrote, concatenated (results, metadata, manifests)."""
        listing = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return b"".join(
            self.s3.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read() for o in listing
        )


@pytest.fixture
def session(account: str) -> Iterator[Session]:
    with mock_featurestore(delays=Delays(create=0, update=0, delete=0, data_plane=0, offline=0)):
        yield Session(account)


def escapes(csv_path: str, parquet_path: str) -> list[tuple[str, list[str]]]:
    """(query, ExecutionParameters) pairs that would read or change the host."""
    return [
        (f"SELECT * FROM read_csv('{csv_path}')", []),
        ("SELECT * FROM read_csv('/etc/passwd')", []),
        ("SELECT * FROM read_text('/proc/self/environ')", []),
        (f"SELECT * FROM read_blob('{csv_path}')", []),
        (f"SELECT * FROM read_parquet('{parquet_path}')", []),
        (f"SELECT * FROM sniff_csv('{csv_path}')", []),
        (f"SELECT * FROM parquet_metadata('{parquet_path}')", []),
        (f"SELECT * FROM glob('{csv_path}')", []),
        (f"SELECT * FROM '{csv_path}'", []),
        (f'SELECT * FROM "{csv_path}"', []),
        (f"WITH a AS (SELECT * FROM read_csv('{csv_path}')) SELECT * FROM a", []),
        (f"SELECT 1 AS x UNION ALL SELECT * FROM read_text('{csv_path}')", []),
        (f"SELECT (SELECT count(*) FROM read_csv('{csv_path}')) AS n", []),
        (f"SELECT * FROM (SELECT * FROM read_blob('{csv_path}')) AS t", []),
        (
            "SELECT x FROM (SELECT 1 AS x) AS t WHERE x = ?",
            [f"(SELECT count(*) FROM read_csv('{csv_path}'))"],
        ),
        ("SELECT ? AS x", [f"(SELECT content FROM read_text('{csv_path}'))"]),
        ("SELECT current_setting('home_directory') AS h", []),
        ("SELECT getenv('HOME') AS h", []),
        ("SELECT * FROM duckdb_settings()", []),
        (f"ATTACH '{csv_path}.db' AS host", []),
        ("INSTALL httpfs", []),
        ("LOAD httpfs", []),
        ("SET enable_external_access = true", []),
        ("SET threads = 64", []),
        ("PRAGMA enable_profiling", []),
        (f"COPY (SELECT 1) TO '{csv_path}.out'", []),
        ("SELECT count(*) FROM range(1000000000000)", []),
        ("SELECT count(*) FROM generate_series(1, 1000000000000)", []),
    ]


def test_every_escape_ends_failed_without_host_data(
    session: Session, host_file: str, host_parquet: str
) -> None:
    ids = []
    for sql, parameters in escapes(host_file, host_parquet):
        extra = {"ExecutionParameters": parameters} if parameters else {}
        ids.append((sql, session.start(sql, **extra)))
    for sql, query_id in ids:
        status = session.wait(query_id)["Status"]
        assert status["State"] == "FAILED", (sql, status)
        assert status["StateChangeReason"], sql
        assert status["AthenaError"]["ErrorMessage"] == status["StateChangeReason"]
        assert "HOST-SECRET" not in status["StateChangeReason"]
        assert "root:" not in status["StateChangeReason"]
        with pytest.raises(session.athena.exceptions.InvalidRequestException):
            session.athena.get_query_results(QueryExecutionId=query_id)
    written = session.everything_written()
    assert b"HOST-SECRET" not in written and b"root:" not in written
    with open(host_file) as handle:  # nothing changed on the host either
        assert handle.read() == "marker\nHOST-SECRET-7f3a\n"


def test_a_plain_query_still_runs(session: Session) -> None:
    query_id = session.start("SELECT count(*) AS n FROM UNNEST(sequence(1, 10)) AS t(x)")
    assert session.wait(query_id)["Status"]["State"] == "SUCCEEDED"
    rows = session.athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    assert rows[1]["Data"] == [{"VarCharValue": "10"}]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('{csv}')",
        "SELECT * FROM read_text('{csv}')",
        "SELECT * FROM read_parquet('{parquet}')",
        "ATTACH '{csv}.db' AS host",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "COPY (SELECT 1) TO '{csv}.out'",
    ],
)
def test_the_engine_alone_refuses_the_host(sql: str, host_file: str, host_parquet: str) -> None:
    """The connection's own settings, without the SQL-tree check in front of it."""
    connection = engine.sandboxed_connection(engine.Limits())
    try:
        with pytest.raises(duckdb.Error) as caught:
            connection.execute(sql.format(csv=host_file, parquet=host_parquet)).fetchall()
        assert "HOST-SECRET" not in str(caught.value)
    finally:
        connection.close()


def test_engine_settings_are_locked() -> None:
    connection = engine.sandboxed_connection(engine.Limits(memory="256MB", threads=1))
    try:
        settings = dict(
            connection.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('enable_external_access', 'lock_configuration', 'threads', "
                "'autoload_known_extensions', 'autoinstall_known_extensions')"
            ).fetchall()
        )
        assert settings == {
            "enable_external_access": "false",
            "lock_configuration": "true",
            "threads": "1",
            "autoload_known_extensions": "false",
            "autoinstall_known_extensions": "false",
        }
    finally:
        connection.close()


def test_a_query_past_the_time_bound_fails_like_a_timeout(session: Session) -> None:
    previous = engine.current_limits()
    athena.configure(engine.Limits(timeout=0.3))
    try:
        query_id = session.start(HUGE)
        status = session.wait(query_id)["Status"]
    finally:
        athena.configure(previous)
    assert status["State"] == "FAILED"
    assert "timeout" in status["StateChangeReason"].lower()
    assert status["AthenaError"]["ErrorCategory"] == 1  # system


def test_a_running_query_blocks_no_other_request(session: Session) -> None:
    """GetRecord on the same account stays fast while a huge query runs (limit 0.2 s)."""
    features = {"id": "String", "ts": "Fractional"}
    session.sm.create_feature_group(**create_request("fg", features, RoleArn=ROLE))
    written = record(id="a", ts="1")
    session.rt.put_record(FeatureGroupName="fg", Record=written)
    query_id = session.start(HUGE)
    session.wait(query_id, ("RUNNING",) + ATHENA_TERMINAL)
    latencies = []
    for _ in range(10):
        started = time.perf_counter()
        got = session.rt.get_record(FeatureGroupName="fg", RecordIdentifierValueAsString="a")
        latencies.append(time.perf_counter() - started)
        assert got["Record"] == written
    # The query was still running throughout, so every GetRecord overlapped it.
    assert session.status(query_id)["Status"]["State"] == "RUNNING"
    session.athena.stop_query_execution(QueryExecutionId=query_id)
    assert session.wait(query_id)["Status"]["State"] == "CANCELLED"
    assert max(latencies) < 0.2, latencies


def test_stopped_queries_free_their_engines(session: Session) -> None:
    """A stop that lands as the engine starts still ends the run, so later queries get an
    engine (more long queries are stopped here than there are engine slots)."""
    for _ in range(4):
        query_id = session.start(HUGE)
        session.wait(query_id, ("RUNNING", *ATHENA_TERMINAL))
        session.athena.stop_query_execution(QueryExecutionId=query_id)
        assert session.wait(query_id)["Status"]["State"] == "CANCELLED"
    follow_up = session.start("SELECT 1")
    assert session.wait(follow_up)["Status"]["State"] == "SUCCEEDED"
