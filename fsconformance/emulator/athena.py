"""Athena over the emulated offline store (C-090-C-094): Trino SQL run by DuckDB.

``StartQueryExecution`` runs the query at once: the offline store is flushed, the SQL is
transpiled from Trino to DuckDB with sqlglot, every table reference is resolved against moto's
Glue and loaded from the table's Parquet objects in moto's S3 (files with fewer columns read
NULL for the missing ones, C-092), and the result is kept for ``GetQueryResults`` and written
as CSV (plus a ``.csv.metadata`` object) to ``<OutputLocation>/<QueryExecutionId>.csv``.
A query that cannot run ends ``FAILED`` with a ``StateChangeReason``; it never raises.

Only the query operations are answered here; every other Athena operation goes to moto.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import decimal
import io
import json
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from ..model.errors import ServiceError
from . import clock, moto_seam
from .offline.replication import split_s3_uri
from .state import FeatureStoreState
from .wire import WireRequest, WireResponse, json_error, json_response

OPERATIONS = (
    "StartQueryExecution",
    "GetQueryExecution",
    "BatchGetQueryExecution",
    "GetQueryResults",
    "StopQueryExecution",
    "ListQueryExecutions",
)
DEFAULT_CATALOG = "AwsDataCatalog"
MAX_RESULTS = 1000
_MSCK = re.compile(r"^\s*MSCK\s+REPAIR\s+TABLE\s", re.IGNORECASE)
_VARCHAR = re.compile(r"^(varchar|char)(\(\d+\))?$")
_DECIMAL = re.compile(r"^decimal\((\d+)\s*,\s*(\d+)\)$")


def invalid_request(message: str) -> ServiceError:
    return ServiceError("InvalidRequestException", message, 400)


class QueryFailed(Exception):
    """The query cannot run; the message becomes the StateChangeReason."""


@dataclass
class QueryExecution:
    id: str
    query: str
    work_group: str
    context: dict[str, str]
    output_location: str
    submitted: float
    state: str = "QUEUED"
    reason: str | None = None
    completed: float | None = None
    statement_type: str = "DML"
    result: pa.Table | None = None
    header: bool = True
    scanned_bytes: int = 0
    engine_ms: int = 0

    def describe(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.reason is not None:
            status["StateChangeReason"] = self.reason
            if self.state == "FAILED":
                status["AthenaError"] = {
                    "ErrorCategory": 2,
                    "ErrorType": 1006,
                    "Retryable": False,
                    "ErrorMessage": self.reason,
                }
        total_ms = int(((self.completed or time.time()) - self.submitted) * 1000)
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
            "Statistics": {
                "EngineExecutionTimeInMillis": self.engine_ms,
                "DataScannedInBytes": self.scanned_bytes,
                "TotalExecutionTimeInMillis": total_ms,
                "QueryQueueTimeInMillis": 0,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "ServiceProcessingTimeInMillis": max(0, total_ms - self.engine_ms),
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.work_group,
            "EngineVersion": {
                "SelectedEngineVersion": "AUTO",
                "EffectiveEngineVersion": "Athena engine version 3",
            },
            "SubstatementType": "SELECT" if self.statement_type == "DML" else "UNKNOWN",
        }


@dataclass
class AthenaState:
    """Query executions of one account and region, oldest first."""

    executions: dict[str, QueryExecution] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


# -- requests --------------------------------------------------------------------------------

CONTENT_TYPE = "application/x-amz-json-1.1"


def handle_request(
    request: WireRequest, operation: str, state_of: Callable[[], FeatureStoreState]
) -> WireResponse | None:
    """Athena's query operations run on the offline store; the rest is moto's (C-090)."""
    if operation not in OPERATIONS:
        return None
    try:
        params = request.json_body()
        state = state_of()
        with state.lock:
            result = handle(state, operation, params)
    except ServiceError as error:
        return json_error(error, CONTENT_TYPE)
    return json_response(result, CONTENT_TYPE)


def handle(state: FeatureStoreState, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Answer one Athena query operation (raises ``ServiceError`` for bad requests)."""
    athena = state.room("athena", AthenaState)
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
        execution = _find(athena, params.get("QueryExecutionId"))
        if execution.state in ("QUEUED", "RUNNING"):
            execution.state, execution.completed = "CANCELLED", time.time()
            execution.reason = "Query cancelled by user"
        return {}
    if operation == "ListQueryExecutions":
        return _list(athena, params)
    raise invalid_request(f"{operation} is not emulated")


def _find(athena: AthenaState, query_id: Any) -> QueryExecution:
    execution = athena.executions.get(str(query_id))
    if execution is None:
        raise invalid_request(f"QueryExecution {query_id} was not found")
    return execution


def _start(state: FeatureStoreState, athena: AthenaState, params: dict[str, Any]) -> dict[str, Any]:
    token = params.get("ClientRequestToken")
    if token and token in athena.tokens:
        return {"QueryExecutionId": athena.tokens[token]}
    query = params.get("QueryString")
    if not isinstance(query, str) or not query.strip():
        raise invalid_request("QueryString must not be empty")
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
    query_id = str(uuid.uuid4())
    execution = QueryExecution(
        id=query_id,
        query=query,
        work_group=params.get("WorkGroup") or "primary",
        context=context,
        output_location=f"{location.rstrip('/')}/{query_id}.csv",
        submitted=time.time(),
    )
    athena.executions[query_id] = execution
    if token:
        athena.tokens[token] = query_id
    _run(state, execution, params.get("ExecutionParameters"))
    return {"QueryExecutionId": query_id}


def _list(athena: AthenaState, params: dict[str, Any]) -> dict[str, Any]:
    work_group = params.get("WorkGroup") or "primary"
    ids = [e.id for e in reversed(athena.executions.values()) if e.work_group == work_group]
    start = _decode_token(params.get("NextToken"), "list") if params.get("NextToken") else 0
    limit = int(params.get("MaxResults") or 50)
    if not 0 < limit <= 50:
        raise invalid_request("MaxResults must be between 1 and 50")
    response: dict[str, Any] = {"QueryExecutionIds": ids[start : start + limit]}
    if start + limit < len(ids):
        response["NextToken"] = _encode_token(start + limit, "list")
    return response


def _results(athena: AthenaState, params: dict[str, Any]) -> dict[str, Any]:
    execution = _find(athena, params.get("QueryExecutionId"))
    if execution.state in ("QUEUED", "RUNNING"):
        raise invalid_request(f"Query has not yet finished. Current state: {execution.state}")
    if execution.state != "SUCCEEDED" or execution.result is None:
        raise invalid_request(
            f"Query did not finish successfully. Final query state: {execution.state}"
        )
    limit = int(params.get("MaxResults") or MAX_RESULTS)
    if not 0 < limit <= MAX_RESULTS:
        raise invalid_request(f"MaxResults must be between 1 and {MAX_RESULTS}")
    start = _decode_token(params.get("NextToken"), execution.id) if params.get("NextToken") else 0
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
        for values in format_rows(page)
    )
    response: dict[str, Any] = {
        "UpdateCount": 0,
        "ResultSet": {
            "Rows": rows,
            "ResultSetMetadata": {"ColumnInfo": column_info(table.schema)},
        },
    }
    if end < total:
        response["NextToken"] = _encode_token(end, execution.id)
    return response


def _encode_token(offset: int, scope: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([scope, offset]).encode()).decode()


def _decode_token(token: Any, scope: str) -> int:
    try:
        seen_scope, offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if seen_scope != scope or not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, TypeError):
        raise invalid_request("The NextToken is not valid.") from None


# -- running a query -------------------------------------------------------------------------


def _run(
    state: FeatureStoreState,
    execution: QueryExecution,
    parameters: list[str] | None,
) -> None:
    execution.state = "RUNNING"
    started = time.time()
    try:
        clock.flush_now(state)  # C-060: everything accepted, before the query
        if _MSCK.match(execution.query):
            # C-082: never needed for Feature Store tables; accepted as a no-op.
            execution.statement_type, execution.header = "DDL", False
            execution.result = pa.table({})
        else:
            execution.result, execution.scanned_bytes = run_sql(
                state.account_id,
                state.region_name,
                execution.query,
                database=execution.context["Database"],
                catalog=execution.context["Catalog"],
                parameters=parameters,
            )
        _write_result(state, execution)
    except QueryFailed as failure:
        execution.state, execution.reason = "FAILED", str(failure)
    except Exception as error:  # noqa: BLE001 - a query must end FAILED, never raise
        execution.state = "FAILED"
        execution.reason = f"INTERNAL_ERROR_QUERY_ENGINE: {type(error).__name__}: {error}"
    else:
        execution.state = "SUCCEEDED"
    execution.completed = time.time()
    execution.engine_ms = int((execution.completed - started) * 1000)


def run_sql(
    account_id: str,
    region: str,
    query: str,
    *,
    database: str = "default",
    catalog: str = DEFAULT_CATALOG,
    parameters: list[str] | None = None,
) -> tuple[pa.Table, int]:
    """Run Athena SQL over the Glue tables of an account; (result, bytes scanned).

    Raises ``QueryFailed`` with an Athena-style reason when the query cannot run.
    """
    try:
        statements = [s for s in sqlglot.parse(query, read="trino") if s is not None]
    except sqlglot.errors.SqlglotError as error:
        raise QueryFailed(f"SYNTAX_ERROR: {_first_line(error)}") from None
    if len(statements) != 1:
        raise QueryFailed("INVALID_INPUT: Only one sql statement is allowed.")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise QueryFailed(
            f"NOT_SUPPORTED: the Feature Store emulation runs SELECT queries only, not "
            f"{tree.key.upper()}"
        )
    _bind_parameters(tree, parameters or [])
    _name_unnamed_columns(tree)
    views: dict[tuple[str, str], str] = {}
    tables: dict[str, pa.Table] = {}
    scanned = 0
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue
        name = table.name
        db = table.db or database
        table_catalog = table.catalog or catalog
        if not table.db and not table.catalog and name.lower() in ctes:
            continue
        if table_catalog.lower() != DEFAULT_CATALOG.lower():
            raise QueryFailed(
                f"CATALOG_NOT_FOUND: line 1:1: Catalog '{table_catalog.lower()}' does not exist"
            )
        key = (db.lower(), name.lower())
        if key not in views:
            loaded, size = load_table(account_id, region, db, name, table_catalog)
            views[key] = f"__fsc_t{len(views)}"
            tables[views[key]] = loaded
            scanned += size
        alias = table.alias
        table.set("this", exp.to_identifier(views[key], quoted=True))
        table.set("db", None)
        table.set("catalog", None)
        if not alias:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(name, quoted=True)))
    try:
        sql = tree.sql(dialect="duckdb")
    except sqlglot.errors.SqlglotError as error:
        raise QueryFailed(f"NOT_SUPPORTED: {_first_line(error)}") from None
    connection = duckdb.connect()
    try:
        for view, data in tables.items():
            connection.register(view, data)
        result = connection.sql(sql)
        if result is None:
            raise QueryFailed("NOT_SUPPORTED: the statement returned no rows")
        arrow = result.to_arrow_table()
    except duckdb.Error as error:
        raise QueryFailed(_duckdb_reason(error)) from None
    finally:
        connection.close()
    return _athena_shaped(arrow), scanned


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _duckdb_reason(error: Exception) -> str:
    text = _first_line(error).replace("__fsc_t", "table_")
    if isinstance(error, duckdb.BinderException):
        return f"COLUMN_NOT_FOUND: {text}"
    if isinstance(error, duckdb.ParserException):
        return f"SYNTAX_ERROR: {text}"
    if isinstance(error, duckdb.ConversionException):
        return f"INVALID_CAST_ARGUMENT: {text}"
    return f"GENERIC_INTERNAL_ERROR: {text}"


def _bind_parameters(tree: exp.Expression, parameters: list[str]) -> None:
    placeholders = list(tree.find_all(exp.Placeholder))
    if len(placeholders) != len(parameters):
        raise QueryFailed(
            f"INVALID_INPUT: the query has {len(placeholders)} parameters but "
            f"{len(parameters)} ExecutionParameters were given"
        )
    for placeholder, value in zip(placeholders, parameters, strict=True):
        try:
            placeholder.replace(sqlglot.parse_one(value, read="trino"))
        except sqlglot.errors.SqlglotError as error:
            raise QueryFailed(f"SYNTAX_ERROR: parameter {value!r}: {_first_line(error)}") from None


def _name_unnamed_columns(tree: exp.Expression) -> None:
    """Athena names an unnamed select expression ``_col<position>``."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    named = []
    for position, expression in enumerate(select.expressions):
        if isinstance(expression, (exp.Alias, exp.Column, exp.Star)):
            named.append(expression)
        else:
            named.append(exp.alias_(expression, f"_col{position}", quoted=True))
    select.set("expressions", named)


def _athena_shaped(table: pa.Table) -> pa.Table:
    """Athena's shape of a DuckDB result: lowercased column names (Trino lowercases every
    identifier) and bigint for DuckDB's HUGEINT sums, which come back as decimal(38,0)."""
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_decimal(kind) and kind.scale == 0 and kind.precision == 38:
            with contextlib.suppress(pa.ArrowInvalid):
                column = column.cast(pa.int64())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=[name.lower() for name in table.column_names])


# -- loading a Glue table from S3 ------------------------------------------------------------

_FILE_CACHE: OrderedDict[tuple[str, ...], pa.Table] = OrderedDict()
_FILE_CACHE_LOCK = threading.Lock()
_FILE_CACHE_SIZE = 4096


def load_table(
    account_id: str, region: str, database: str, name: str, catalog: str = DEFAULT_CATALOG
) -> tuple[pa.Table, int]:
    """The rows of a Glue table as Arrow, shaped like its columns; (table, bytes read)."""
    table_input = moto_seam.glue_table_input(account_id, region, database, name)
    if table_input is None:
        raise QueryFailed(
            f"TABLE_NOT_FOUND: line 1:1: Table '{catalog.lower()}.{database.lower()}."
            f"{name.lower()}' does not exist"
        )
    descriptor = table_input.get("StorageDescriptor") or {}
    columns = list(descriptor.get("Columns") or []) + list(table_input.get("PartitionKeys") or [])
    schema = pa.schema([(c["Name"].lower(), glue_arrow_type(c.get("Type", ""))) for c in columns])
    location = descriptor.get("Location") or ""
    try:
        bucket, prefix = split_s3_uri(location)
    except ValueError:
        raise QueryFailed(f"HIVE_METASTORE_ERROR: Table location {location!r} is not S3") from None
    prefix = f"{prefix}/" if prefix else ""
    pieces: list[pa.Table] = []
    scanned = 0
    for key, etag in moto_seam.s3_objects(account_id, region, bucket, prefix):
        base = key.rsplit("/", 1)[-1]
        if not base or base.startswith(("_", ".")) or key.endswith("/"):
            continue  # Hive skips hidden files and folder markers
        data = _read_parquet(account_id, region, bucket, key, etag)
        scanned += data.nbytes
        pieces.append(_conform(data, schema, key))
    if not pieces:
        return schema.empty_table(), 0
    return pa.concat_tables(pieces), scanned


def _read_parquet(account_id: str, region: str, bucket: str, key: str, etag: str) -> pa.Table:
    cache_key = (account_id, region, bucket, key, etag)
    with _FILE_CACHE_LOCK:
        cached = _FILE_CACHE.get(cache_key)
        if cached is not None:
            _FILE_CACHE.move_to_end(cache_key)
            return cached
    body = moto_seam.s3_get(account_id, region, bucket, key)
    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError) as error:
        raise QueryFailed(
            f"HIVE_CURSOR_ERROR: s3://{bucket}/{key} is not a valid Parquet file: "
            f"{_first_line(error)}"
        ) from None
    with _FILE_CACHE_LOCK:
        _FILE_CACHE[cache_key] = table
        while len(_FILE_CACHE) > _FILE_CACHE_SIZE:
            _FILE_CACHE.popitem(last=False)
    return table


def _conform(data: pa.Table, schema: pa.Schema, key: str) -> pa.Table:
    """Columns by name, case-insensitively; missing ones NULL (C-092); extra ones ignored."""
    by_name = {name.lower(): i for i, name in enumerate(data.column_names)}
    arrays = []
    for target in schema:
        index = by_name.get(target.name)
        if index is None:
            arrays.append(pa.nulls(data.num_rows, type=target.type))
            continue
        column = data.column(index)
        if column.type != target.type:
            try:
                column = column.cast(target.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
                raise QueryFailed(
                    f"HIVE_BAD_DATA: Field {target.name}'s type {column.type} in parquet file "
                    f"{key} is incompatible with type {target.type} defined in table schema: "
                    f"{_first_line(error)}"
                ) from None
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema)


def glue_arrow_type(glue_type: str) -> pa.DataType:
    """The Arrow type Athena reads a Glue (Hive) column type as."""
    text = glue_type.strip().lower()
    simple = {
        "bigint": pa.int64(),
        "int": pa.int32(),
        "integer": pa.int32(),
        "smallint": pa.int16(),
        "tinyint": pa.int8(),
        "double": pa.float64(),
        "float": pa.float32(),
        "real": pa.float32(),
        "string": pa.string(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("ms"),
        "date": pa.date32(),
        "binary": pa.binary(),
    }
    if text in simple:
        return simple[text]
    if _VARCHAR.match(text):
        return pa.string()
    match = _DECIMAL.match(text)
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    if text.startswith("array<") and text.endswith(">"):
        return pa.list_(glue_arrow_type(text[len("array<") : -1]))
    return pa.string()


# -- result formatting -----------------------------------------------------------------------


def athena_type(kind: pa.DataType) -> tuple[str, int, int]:
    """(Athena type name, precision, scale) of a result column."""
    if pa.types.is_boolean(kind):
        return "boolean", 0, 0
    if pa.types.is_int8(kind):
        return "tinyint", 3, 0
    if pa.types.is_int16(kind):
        return "smallint", 5, 0
    if pa.types.is_int32(kind):
        return "integer", 10, 0
    if pa.types.is_integer(kind):
        return "bigint", 19, 0
    if pa.types.is_float32(kind):
        return "float", 7, 0
    if pa.types.is_floating(kind):
        return "double", 17, 0
    if pa.types.is_decimal(kind):
        return "decimal", kind.precision, kind.scale
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "varchar", 2147483647, 0
    if pa.types.is_timestamp(kind):
        return "timestamp", 3, 0
    if pa.types.is_date(kind):
        return "date", 0, 0
    if pa.types.is_time(kind):
        return "time", 3, 0
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return "array", 0, 0
    if pa.types.is_struct(kind):
        return "row", 0, 0
    if pa.types.is_map(kind):
        return "map", 0, 0
    if pa.types.is_binary(kind):
        return "varbinary", 1073741824, 0
    if pa.types.is_null(kind):
        return "unknown", 0, 0
    return "varchar", 2147483647, 0


def column_info(schema: pa.Schema) -> list[dict[str, Any]]:
    info = []
    for column in schema:
        name, precision, scale = athena_type(column.type)
        info.append(
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": column.name,
                "Label": column.name,
                "Type": name,
                "Precision": precision,
                "Scale": scale,
                "Nullable": "UNKNOWN",
                "CaseSensitive": name == "varchar",
            }
        )
    return info


def java_double(value: float) -> str:
    """A double as Athena prints it (Java's ``Double.toString``): ``15.0``, ``1.657826274E9``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        if "e" in text or "E" in text:
            text = f"{decimal.Decimal(text):f}"
        return text if "." in text else f"{text}.0"
    mantissa, _, exponent = f"{value!r}".partition("e")
    if not exponent:  # repr gave a plain number; rebuild in scientific notation
        mantissa, _, exponent = f"{value:.16e}".partition("e")
        mantissa = repr(float(mantissa))
    digits = decimal.Decimal(mantissa).normalize()
    sign, digit_tuple, exp10 = digits.as_tuple()
    text_digits = "".join(str(d) for d in digit_tuple)
    power = int(exponent) + len(text_digits) - 1 + exp10
    head, tail = text_digits[0], text_digits[1:] or "0"
    return f"{'-' if sign else ''}{head}.{tail}E{power}"


def _format_value(value: Any, kind: pa.DataType) -> str | None:
    if value is None:
        return None
    if pa.types.is_boolean(kind):
        return "true" if value else "false"
    if pa.types.is_floating(kind):
        return java_double(float(value))
    if pa.types.is_timestamp(kind):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        inner = kind.value_type
        items = [_format_value(v, inner) for v in value]
        return "[" + ", ".join("null" if v is None else v for v in items) + "]"
    if pa.types.is_struct(kind):
        parts = [f"{f.name}={_format_value(value.get(f.name), f.type)}" for f in kind]
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    return str(value)


def format_rows(table: pa.Table) -> list[list[str | None]]:
    """Every row of ``table`` as Athena's strings (``None`` for NULL)."""
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_string(kind):
            columns.append([None if v is None else str(v) for v in column.to_pylist()])
        else:
            columns.append([_format_value(v, kind) for v in column.to_pylist()])
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def result_csv(table: pa.Table, header: bool = True) -> bytes:
    """Athena's CSV: every value double-quoted, NULL as an empty field."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    if header and table.num_columns:
        writer.writerow(table.column_names)
    for row in format_rows(table):
        out.write(
            ",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in row) + "\n"
        )
    return out.getvalue().encode()


def _write_result(state: FeatureStoreState, execution: QueryExecution) -> None:
    bucket, key = split_s3_uri(execution.output_location)
    account, region = state.account_id, state.region_name
    if not moto_seam.s3_bucket_exists(account, region, bucket):
        raise QueryFailed(
            f"Unable to verify/create output bucket {bucket}. Make sure the bucket exists."
        )
    table = execution.result if execution.result is not None else pa.table({})
    moto_seam.s3_put(account, region, bucket, key, result_csv(table, execution.header))
    metadata = json.dumps({"ColumnInfo": column_info(table.schema)}).encode()
    moto_seam.s3_put(account, region, bucket, f"{key}.metadata", metadata)
