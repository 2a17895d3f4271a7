"""Helpers for the offline-store suite: Athena queries, waiting for rows, reading S3 objects.

They only run queries and shape results; the expected values live in the tests and come from
the contract (docs/contract.md). Nothing here sleeps: every wait is ``eventually``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fsconformance.backends import Backend
from fsconformance.offline import OfflineStore

TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")


def record(**values: Any) -> list[dict[str, str]]:
    """A PutRecord ``Record``: every value as a string (C-021), None values left out (C-034)."""
    return [
        {"FeatureName": name, "ValueAsString": str(value)}
        for name, value in values.items()
        if value is not None
    ]


def put_after_update(backend: Backend, name: str, values: dict[str, Any], added: list[str]) -> None:
    """PutRecord with the ``added`` features, once the data plane accepts them (C-055)."""
    backend.put_when_accepted(name, record(**values), added)


def start_query(backend: Backend, store: OfflineStore, sql: str) -> str:
    return backend.athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Catalog": store.catalog, "Database": store.database},
        ResultConfiguration={"OutputLocation": backend.athena_output},
    )["QueryExecutionId"]


def finished(backend: Backend, query_id: str) -> dict[str, Any]:
    """Poll GetQueryExecution until the query leaves QUEUED/RUNNING (C-090)."""

    def probe() -> dict[str, Any] | None:
        execution = backend.athena.get_query_execution(QueryExecutionId=query_id)
        state = execution["QueryExecution"]["Status"]["State"]
        return execution["QueryExecution"] if state in TERMINAL_STATES else None

    return backend.poll(
        probe,
        budget="offline",
        what=f"Athena query {query_id}",
    )


def result_rows(backend: Backend, query_id: str) -> Iterator[list[str | None]]:
    """Every row of a finished query, header row included, NULL as None."""
    kwargs: dict[str, Any] = {"QueryExecutionId": query_id}
    while True:
        page = backend.athena.get_query_results(**kwargs)
        for row in page["ResultSet"]["Rows"]:
            yield [cell.get("VarCharValue") for cell in row["Data"]]
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def query(backend: Backend, store: OfflineStore, sql: str) -> list[dict[str, str | None]]:
    """Run a SELECT and return its rows as dicts (C-090: fail on FAILED, with the reason)."""
    query_id = start_query(backend, store, sql)
    execution = finished(backend, query_id)
    status = execution["Status"]
    assert status["State"] == "SUCCEEDED", (
        f"{sql!r} ended {status['State']}: {status.get('StateChangeReason')}"
    )
    rows = list(result_rows(backend, query_id))
    header, data = rows[0], rows[1:]
    return [dict(zip(header, row, strict=True)) for row in data]


def scalar(backend: Backend, store: OfflineStore, sql: str) -> str | None:
    rows = query(backend, store, sql)
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return next(iter(rows[0].values()))


def wait_for_rows(backend: Backend, store: OfflineStore, expected: int) -> None:
    """Poll ``SELECT count(*)`` until the table holds ``expected`` rows (C-060, C-091).

    Intermediate counts below ``expected`` are normal while replication runs; a count above
    it fails at once (the offline store only appends what was put, C-067).
    """

    def probe() -> bool:
        count = int(scalar(backend, store, f"SELECT count(*) FROM {store.qualified}") or 0)
        if count > expected:
            pytest.fail(f"{store.table} holds {count} offline rows, more than {expected}")
        assert count == expected, f"{count} of {expected} offline rows so far"
        return True

    backend.poll(
        probe,
        budget="offline",
        what=f"{expected} offline rows in {store.table}",
    )


def object_keys(backend: Backend, store: OfflineStore) -> list[str]:
    """Every object key under the group's ResolvedOutputS3Uri."""
    keys: list[str] = []
    paginator = backend.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=store.bucket, Prefix=f"{store.prefix}/"):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def read_parquet(backend: Backend, bucket: str, key: str) -> pa.Table:
    body = backend.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return pq.read_table(io.BytesIO(body))


def glue_columns(backend: Backend, store: OfflineStore) -> dict[str, str]:
    """Glue column name (lowercased, C-083) -> type."""
    table = backend.glue.get_table(DatabaseName=store.database, Name=store.table)["Table"]
    return {c["Name"].lower(): c["Type"] for c in table["StorageDescriptor"]["Columns"]}


def wait_for_glue_columns(
    backend: Backend, store: OfflineStore, wanted: set[str]
) -> dict[str, str]:
    """Poll the Glue table until its columns include ``wanted`` (C-054, bounded by update)."""

    def probe() -> dict[str, str]:
        columns = glue_columns(backend, store)
        assert wanted <= set(columns), f"Glue columns {sorted(columns)} lack {wanted}"
        return columns

    return backend.poll(
        probe,
        budget="update",
        what=f"columns {sorted(wanted)} in Glue table {store.table}",
    )
