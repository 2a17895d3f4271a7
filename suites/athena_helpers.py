"""Helpers for the Athena suites: run a statement, poll it to the end, read what it made.

Nothing here sleeps (every wait polls with the backend's budget) and nothing decides what
is right: the expected values live in the tests and come from the contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from fsconformance.backends import Backend

TERMINAL_STATES = ("SUCCEEDED", "FAILED", "CANCELLED")
ALL_STATES = ("QUEUED", "RUNNING", *TERMINAL_STATES)  # C-184
DATABASE = "sagemaker_featurestore"  # C-080: where Feature Store tables live


def start(backend: Backend, sql: str, database: str = DATABASE, **kwargs: Any) -> str:
    return backend.athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Catalog": "AwsDataCatalog", "Database": database},
        ResultConfiguration={"OutputLocation": backend.athena_output},
        **kwargs,
    )["QueryExecutionId"]


def execution(backend: Backend, query_id: str) -> dict[str, Any]:
    return backend.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]


def wait(
    backend: Backend, query_id: str, states: tuple[str, ...] = TERMINAL_STATES
) -> tuple[dict[str, Any], list[str]]:
    """Poll until the query is in one of ``states``; (execution, every state seen)."""
    seen: list[str] = []

    def probe() -> dict[str, Any] | None:
        found = execution(backend, query_id)
        seen.append(found["Status"]["State"])
        return found if seen[-1] in states else None

    found = backend.poll(probe, budget="offline", what=f"Athena query {query_id} in {states}")
    return found, seen


def run(backend: Backend, sql: str, database: str = DATABASE) -> dict[str, Any]:
    """Run a statement to a terminal state and return its execution."""
    found, _ = wait(backend, start(backend, sql, database))
    return found


def succeeded(backend: Backend, sql: str, database: str = DATABASE) -> dict[str, Any]:
    found = run(backend, sql, database)
    status = found["Status"]
    assert status["State"] == "SUCCEEDED", f"{sql!r}: {status.get('StateChangeReason')}"
    return found


def rows(backend: Backend, query_id: str) -> list[list[str | None]]:
    """Every row GetQueryResults returns (header row first for a SELECT)."""
    found: list[list[str | None]] = []
    kwargs: dict[str, Any] = {"QueryExecutionId": query_id}
    while True:
        page = backend.athena.get_query_results(**kwargs)
        found += [[c.get("VarCharValue") for c in r["Data"]] for r in page["ResultSet"]["Rows"]]
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def select(backend: Backend, sql: str, database: str = DATABASE) -> list[list[str | None]]:
    """The data rows of a SELECT (header dropped)."""
    return rows(backend, succeeded(backend, sql, database)["QueryExecutionId"])[1:]


def s3_parts(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def table_name(backend: Backend, kind: str) -> str:
    """A table name of this test only; Athena table names take no hyphens (C-083)."""
    return f"{kind}_{backend.unique_name()}".replace("-", "_").lower()


@contextmanager
def dropped_afterwards(backend: Backend, *tables: str) -> Iterator[None]:
    """Drop the Glue tables a test's DDL creates (Athena DDL creates real catalog entries)."""
    try:
        yield
    finally:
        for table in tables:
            with suppress(backend.glue.exceptions.EntityNotFoundException):
                backend.glue.delete_table(DatabaseName=DATABASE, Name=table)
