"""Athena's query lifecycle as clients see it (C-184, C-185, C-186, C-090).

Expected values come from the contract: the five states, the Status and Statistics members,
the result object ``<OutputLocation>/<QueryExecutionId>.csv``, CANCELLED after a stop.
"""

from __future__ import annotations

import csv
import io

import pytest

from fsconformance.offline import OfflineStore

from .athena_helpers import (
    ALL_STATES,
    TERMINAL_STATES,
    execution,
    run,
    s3_parts,
    start,
    succeeded,
    wait,
)

pytestmark = [pytest.mark.offline_store]

# A query that cannot finish soon: 10^12 rows (each sequence within Trino's 10,000 limit).
LONG_QUERY = (
    "SELECT count(*) FROM UNNEST(sequence(1, 10000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 10000)) AS b(y) "
    "CROSS JOIN UNNEST(sequence(1, 10000)) AS c(z)"
)
STATISTICS = {
    "EngineExecutionTimeInMillis",
    "DataScannedInBytes",
    "TotalExecutionTimeInMillis",
    "QueryQueueTimeInMillis",
}


@pytest.fixture
def store(backend) -> OfflineStore:
    """An offline group, so the Feature Store database exists in the catalog (C-080)."""
    request = backend.feature_group_request(online=False)
    return OfflineStore.of(backend.create_and_wait(request))


@pytest.mark.clause("C-184", "C-090")
def test_a_query_passes_only_through_documented_states(backend, store):
    query_id = start(backend, "SELECT 1 AS one")
    found, seen = wait(backend, query_id)

    assert set(seen) <= set(ALL_STATES), seen
    assert all(state not in TERMINAL_STATES for state in seen[:-1]), seen
    status = found["Status"]
    assert status["State"] == "SUCCEEDED"
    assert status["CompletionDateTime"] >= status["SubmissionDateTime"]


@pytest.mark.clause("C-184")
def test_a_missing_table_fails_with_a_reason_and_an_athena_error(backend, store):
    found = run(backend, f'SELECT * FROM "{store.database}"."fsct_no_such_table_here"')

    status = found["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"]
    error = status["AthenaError"]
    assert error["ErrorCategory"] in (1, 2, 3)
    assert isinstance(error["Retryable"], bool)
    # FAILED is terminal: polling again never shows another state.
    assert execution(backend, found["QueryExecutionId"])["Status"]["State"] == "FAILED"


@pytest.mark.clause("C-184", "C-188")
def test_an_unknown_function_fails_naming_it(backend, store):
    found = run(backend, "SELECT fsct_no_such_function(1)")

    assert found["Status"]["State"] == "FAILED"
    assert "fsct_no_such_function" in found["Status"]["StateChangeReason"].lower()


@pytest.mark.clause("C-185")
def test_the_result_is_a_csv_object_named_after_the_query(backend, store):
    sql = "SELECT 'a,b' AS text, 2 AS number"
    found = succeeded(backend, sql)
    query_id = found["QueryExecutionId"]

    assert found["Query"] == sql
    assert found["StatementType"] == "DML"
    location = found["ResultConfiguration"]["OutputLocation"]
    assert location.endswith(f"{query_id}.csv")
    assert location.startswith(backend.athena_output.rstrip("/"))
    assert set(found["Statistics"]) >= STATISTICS
    bucket, key = s3_parts(location)
    body = backend.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert list(csv.reader(io.StringIO(body))) == [["text", "number"], ["a,b", "2"]]


@pytest.mark.clause("C-186")
def test_a_stopped_query_ends_cancelled(backend, store):
    query_id = start(backend, LONG_QUERY)

    assert backend.athena.stop_query_execution(QueryExecutionId=query_id) is not None
    found, _ = wait(backend, query_id)
    assert found["Status"]["State"] == "CANCELLED"
