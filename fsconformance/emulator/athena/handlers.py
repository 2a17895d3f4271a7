"""Athena's query operations and the QueryExecution state machine (C-184-C-186).

``StartQueryExecution`` answers at once with the id of a ``QUEUED`` execution. A worker
thread waits out the emulated queue time (``Delays.athena``), moves the emulated clock so
offline rows past their replication lag are in S3 (C-060; nothing is flushed early), then
runs the statement: ``RUNNING`` while the engine works, ``SUCCEEDED`` or ``FAILED`` (with
``AthenaError``) after. ``StopQueryExecution`` interrupts it: ``CANCELLED``.

The account's lock is held only to read the catalog and load rows and to store the outcome,
never while the engine runs, so a long query blocks no other request.

An execution is kept as history (GetQueryExecution, ListQueryExecutions), but what it ran
goes once it ends: the parsed statement and its inputs at once, the result's rows when the
result object goes from S3. GetQueryResults streams a result from the query results location
(the Athena model's documentation of it), so a result whose object was deleted has nothing
to give; the emulation keeps the rows only for as long as the object exists.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ...model import pagination
from ...model.errors import ServiceError
from .. import clock
from ..moto_seam import StoredObject
from ..state import FeatureStoreState
from . import results
from .catalog import DEFAULT_CATALOG
from .engine import EngineRun, QueryCancelled, QueryFailed
from .sql import classify
from .statements import Context, Statement

OPERATIONS = (
    "StartQueryExecution",
    "GetQueryExecution",
    "BatchGetQueryExecution",
    "GetQueryResults",
    "StopQueryExecution",
    "ListQueryExecutions",
)
MAX_RESULTS = 1000
MAX_QUERY_LENGTH = 262144  # C-185
# Engines running at once in this process; queries beyond it stay QUEUED, as on Athena
# ("waiting for resources", C-184). Small, since the host is shared.
_ENGINE_SLOTS = threading.BoundedSemaphore(2)
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
# Workers still alive; interrupted at interpreter exit so no engine dies mid-query.
_workers: dict[threading.Thread, QueryExecution] = {}
_workers_lock = threading.Lock()


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequestException", message, 400)


@dataclass
class QueryExecution:
    id: str
    query: str
    work_group: str
    context: dict[str, str]
    output_location: str
    submitted: float
    # The parsed statement and what it loaded, until the query ends (``finish``).
    statement: Statement | None
    parameters: list[str] = field(default_factory=list)
    state: str = "QUEUED"
    reason: str | None = None
    error_category: int = 2
    error_type: int = 1006
    started: float | None = None
    completed: float | None = None
    result: pa.Table | None = None
    header: bool = True
    scanned_bytes: int = 0
    update_count: int = 0
    manifest: str | None = None
    run: EngineRun = field(default_factory=EngineRun)
    wake: threading.Event = field(default_factory=threading.Event)
    statement_type: str = field(init=False)
    substatement: str = field(init=False)
    _result_version: weakref.ref[Any] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        assert self.statement is not None
        self.statement_type = self.statement.statement_type
        self.substatement = self.statement.substatement

    def finish(self, state: str) -> None:
        """Enter the terminal ``state``; what ran is no longer needed (history stays)."""
        self.state, self.completed, self.statement = state, time.time(), None

    def keep_result(self, table: pa.Table, stored: StoredObject) -> None:
        """Hold ``table`` for GetQueryResults while S3 holds its result object ``stored``."""
        self.result = table
        this = weakref.ref(self)

        def forget(_: object) -> None:
            execution = this()
            if execution is not None:
                execution.result = None

        self._result_version = weakref.ref(stored.handle, forget)

    def describe(self, now: float | None = None) -> dict[str, Any]:
        now = time.time() if now is None else now
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.reason is not None:
            status["StateChangeReason"] = self.reason
        if self.state == "FAILED":
            status["AthenaError"] = {
                "ErrorCategory": self.error_category,
                "ErrorType": self.error_type,
                "Retryable": False,
                "ErrorMessage": self.reason or "",
            }
        end = self.completed if self.completed is not None else now
        started = self.started if self.started is not None else end
        statistics: dict[str, Any] = {
            "EngineExecutionTimeInMillis": int((end - started) * 1000),
            "DataScannedInBytes": self.scanned_bytes,
            "TotalExecutionTimeInMillis": int((end - self.submitted) * 1000),
            "QueryQueueTimeInMillis": int((started - self.submitted) * 1000),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }
        if self.manifest is not None:
            statistics["DataManifestLocation"] = self.manifest
        return {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output_location},
            "ResultReuseConfiguration": {
                "ResultReuseByAgeConfiguration": {"Enabled": False},
            },
            "QueryExecutionContext": dict(self.context),
            "Status": status,
            "Statistics": statistics,
            "WorkGroup": self.work_group,
            "EngineVersion": {
                "SelectedEngineVersion": "AUTO",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
            "SubstatementType": self.substatement,
        }


@dataclass
class AthenaState:
    """Query executions of one account and region, oldest first."""

    executions: dict[str, QueryExecution] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


# -- requests --------------------------------------------------------------------------------


def handle(state: FeatureStoreState, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Answer one Athena query operation (raises ``ServiceError`` for bad requests).

    Called with ``state.lock`` held; it never waits for a query.
    """
    athena = state.store("athena", AthenaState)
    if operation == "StartQueryExecution":
        return _start(state, athena, params)
    if operation == "GetQueryExecution":
        return {"QueryExecution": _find(athena, params.get("QueryExecutionId")).describe()}
    if operation == "BatchGetQueryExecution":
        ids = params.get("QueryExecutionIds") or []
        found = [athena.executions[i].describe() for i in ids if i in athena.executions]
        missing = [
            {"QueryExecutionId": i, "ErrorCode": "INVALID_INPUT", "ErrorMessage": "not found"}
            for i in ids
            if i not in athena.executions
        ]
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}
    if operation == "GetQueryResults":
        return _results(athena, params)
    if operation == "StopQueryExecution":
        _stop(_find(athena, params.get("QueryExecutionId")))
        return {}
    if operation == "ListQueryExecutions":
        return _list(athena, params)
    raise invalid_request(f"{operation} is not emulated")


def _find(athena: AthenaState, query_id: Any) -> QueryExecution:
    execution = athena.executions.get(str(query_id))
    if execution is None:
        raise invalid_request(f"QueryExecution {query_id} was not found")
    return execution


def _stop(execution: QueryExecution) -> None:
    """C-186: a queued or running query ends CANCELLED; a finished one is left alone."""
    if execution.state in TERMINAL:
        return
    execution.finish("CANCELLED")
    execution.reason = "Query cancelled by user"
    execution.run.cancel()
    execution.wake.set()


def _start(state: FeatureStoreState, athena: AthenaState, params: dict[str, Any]) -> dict[str, Any]:
    token = params.get("ClientRequestToken")
    if token and token in athena.tokens:
        return {"QueryExecutionId": athena.tokens[token]}
    query = params.get("QueryString")
    if not isinstance(query, str) or not query.strip():
        raise invalid_request("QueryString must not be empty")
    if len(query) > MAX_QUERY_LENGTH:
        raise invalid_request(f"QueryString is longer than {MAX_QUERY_LENGTH} characters")
    location = (params.get("ResultConfiguration") or {}).get("OutputLocation")
    if not location:
        raise invalid_request(
            "No output location provided. An output location is required either through the "
            "Workgroup result configuration setting or as an API input."
        )
    if not str(location).startswith("s3://"):
        raise invalid_request(f"OutputLocation {location} is not an s3:// URI")
    context = dict(params.get("QueryExecutionContext") or {})
    context.setdefault("Catalog", DEFAULT_CATALOG)
    context.setdefault("Database", "default")
    statement = classify(query)
    # Athena writes DDL and utility results as text (<id>.txt), query results as CSV.
    suffix = ".txt" if statement.statement_type in ("DDL", "UTILITY") else ".csv"
    query_id = str(uuid.uuid4())
    execution = QueryExecution(
        id=query_id,
        query=query,
        work_group=params.get("WorkGroup") or "primary",
        context=context,
        output_location=f"{location.rstrip('/')}/{query_id}{suffix}",
        submitted=time.time(),
        statement=statement,
        parameters=[str(p) for p in params.get("ExecutionParameters") or []],
    )
    athena.executions[query_id] = execution
    if token:
        athena.tokens[token] = query_id
    queue_time = max(0.0, float(state.control_plane.delays.athena))
    worker = threading.Thread(
        target=_work,
        args=(state, execution, execution.submitted + queue_time),
        name=f"fsconformance-athena-{query_id[:8]}",
        daemon=True,
    )
    with _workers_lock:
        _workers[worker] = execution
    worker.start()
    return {"QueryExecutionId": query_id}


def _list(athena: AthenaState, params: dict[str, Any]) -> dict[str, Any]:
    work_group = params.get("WorkGroup") or "primary"
    ids = [e.id for e in reversed(athena.executions.values()) if e.work_group == work_group]
    start = decode_token(params.get("NextToken"), "list") if params.get("NextToken") else 0
    limit = int(params.get("MaxResults") or 50)
    if not 0 < limit <= 50:
        raise invalid_request("MaxResults must be between 1 and 50")
    response: dict[str, Any] = {"QueryExecutionIds": ids[start : start + limit]}
    if start + limit < len(ids):
        response["NextToken"] = encode_token(start + limit, "list")
    return response


def _results(athena: AthenaState, params: dict[str, Any]) -> dict[str, Any]:
    execution = _find(athena, params.get("QueryExecutionId"))
    if execution.state in ("QUEUED", "RUNNING"):
        raise invalid_request(f"Query has not yet finished. Current state: {execution.state}")
    if execution.state != "SUCCEEDED":
        raise invalid_request(
            f"Query did not finish successfully. Final query state: {execution.state}"
        )
    if execution.result is None:  # its result object was deleted (see the module's notes)
        raise invalid_request(
            f"The result of query {execution.id} is no longer in S3: "
            f"{execution.output_location} was deleted."
        )
    limit = int(params.get("MaxResults") or MAX_RESULTS)
    if not 0 < limit <= MAX_RESULTS:
        raise invalid_request(f"MaxResults must be between 1 and {MAX_RESULTS}")
    start = decode_token(params.get("NextToken"), execution.id) if params.get("NextToken") else 0
    table = execution.result
    header = 1 if execution.header else 0
    total = table.num_rows + header  # the header row counts as the first row
    end = min(start + limit, total)
    rows: list[dict[str, Any]] = []
    if header and start == 0 and end > 0:
        rows.append({"Data": [{"VarCharValue": name} for name in table.column_names]})
    data_from = max(start - header, 0)
    page = table.slice(data_from, max(end - header - data_from, 0))
    rows.extend(
        {"Data": [{"VarCharValue": v} if v is not None else {} for v in values]}
        for values in results.format_rows(page)
    )
    response: dict[str, Any] = {
        "UpdateCount": execution.update_count,
        "ResultSet": {
            "Rows": rows,
            "ResultSetMetadata": {"ColumnInfo": results.column_info(table.schema)},
        },
    }
    if end < total:
        response["NextToken"] = encode_token(end, execution.id)
    return response


def encode_token(offset: int, scope: str) -> str:
    """A NextToken for the page that starts at ``offset`` of the listing ``scope`` names."""
    return pagination.encode_token(offset, {"scope": scope})


def decode_token(token: Any, scope: str) -> int:
    """The offset a NextToken of ``scope``'s listing names; InvalidRequestException if none."""
    return int(pagination.decode_token(token, {"scope": scope}, invalid=_invalid_token))


def _invalid_token() -> ServiceError:
    return invalid_request("The NextToken is not valid.")


# -- the worker --------------------------------------------------------------------------------


def _fail(execution: QueryExecution, failure: QueryFailed) -> None:
    execution.finish("FAILED")
    execution.reason = str(failure)
    execution.error_category, execution.error_type = failure.category, failure.error_type


def _internal(error: Exception) -> QueryFailed:
    return QueryFailed(
        f"INTERNAL_ERROR_QUERY_ENGINE: {type(error).__name__}: {error}", category=1, error_type=0
    )


def _work(state: FeatureStoreState, execution: QueryExecution, ready_at: float) -> None:
    """Run one query to a terminal state; never raises (a query ends FAILED instead)."""
    _lower_priority()
    try:
        execution.wake.wait(max(0.0, ready_at - time.time()))  # the queue; Stop wakes it
        with _ENGINE_SLOTS:
            _run(state, execution)
    except Exception as error:  # noqa: BLE001 - e.g. moto reset under a running query
        with state.lock:
            if execution.state not in TERMINAL:
                _fail(execution, _internal(error))
    finally:
        with _workers_lock:
            _workers.pop(threading.current_thread(), None)


def _lower_priority() -> None:
    """Let request threads win the CPU over a long engine run (Linux: per-thread nice)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


@atexit.register
def _stop_workers() -> None:
    with _workers_lock:
        running = list(_workers.items())
    for _, execution in running:
        execution.run.cancel()
        execution.wake.set()
    for worker, _ in running:
        worker.join(timeout=5)


def _run(state: FeatureStoreState, execution: QueryExecution) -> None:
    statement = execution.statement
    if statement is None or execution.state != "QUEUED":
        return
    # The emulated clock moves first: rows past their replication lag reach S3 (C-060).
    clock.tick()
    ctx = Context(
        account_id=state.account_id,
        region=state.region_name,
        database=execution.context["Database"],
        catalog=execution.context["Catalog"],
        query_id=execution.id,
        output_location=execution.output_location,
        parameters=execution.parameters,
    )
    with state.lock:
        if execution.state != "QUEUED":
            return
        execution.state, execution.started = "RUNNING", time.time()
        try:
            statement.prepare(ctx)
        except QueryFailed as failure:
            _fail(execution, failure)
            return
    try:
        statement.execute(execution.run)
    except QueryCancelled:
        return  # StopQueryExecution already set CANCELLED
    except QueryFailed as failure:
        with state.lock:
            if execution.state == "RUNNING":
                _fail(execution, failure)
        return
    with state.lock:
        if execution.state != "RUNNING":
            return
        try:
            outcome = statement.commit(ctx)
            stored = results.write_result(
                ctx.account_id,
                ctx.region,
                execution.output_location,
                outcome.table,
                header=outcome.header,
                text=execution.output_location.endswith(".txt"),
            )
        except QueryFailed as failure:
            _fail(execution, failure)
            return
        execution.keep_result(outcome.table, stored)
        execution.header = outcome.header
        execution.scanned_bytes, execution.update_count = outcome.scanned, outcome.update_count
        execution.manifest = outcome.manifest
        execution.finish("SUCCEEDED")
