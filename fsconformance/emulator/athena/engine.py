"""The sandboxed DuckDB runner behind the emulated Athena.

DuckDB is a full local database: left alone, SQL could read host files (``read_csv``,
``read_text``), attach databases, install extensions or change its own settings. Two layers
keep user SQL inside the emulation:

1. the SQL tree (sqlglot) is checked before anything runs: table references must be plain
   names the emulation resolved, and no function that touches files, settings or the
   catalog may appear anywhere (CTEs, unions, subqueries and bound parameters included);
2. the connection itself has external access off, extension loading and installing off,
   its configuration locked, and bounded memory, threads and time.

The engine only ever sees the Arrow tables the emulation registers.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

# Every node of a parsed tree: sqlglot 30 put functions and queries under ``Expr``, beside (not
# under) ``Expression``; older releases have ``Expression`` alone.
SQL_NODE: type[exp.Expr] = getattr(exp, "Expr", exp.Expression)


class QueryFailed(Exception):
    """The query cannot run; the message becomes the StateChangeReason."""

    def __init__(self, message: str, *, category: int = 2, error_type: int = 1006) -> None:
        super().__init__(message)
        # AthenaError's ErrorCategory: 1 system, 2 user, 3 other (C-184).
        self.category = category
        self.error_type = error_type


class QueryCancelled(Exception):
    """StopQueryExecution interrupted the engine."""


@dataclass(frozen=True)
class Limits:
    """Bounds of one query's engine run."""

    timeout: float = 300.0  # seconds; past this a query ends FAILED as on Athena's timeout
    memory: str = "512MB"
    threads: int = 1  # the engine shares the host with the emulation's request threads

    @classmethod
    def from_env(cls) -> Limits:
        raw = os.environ.get("FSCONFORMANCE_ATHENA_TIMEOUT")
        if raw is None:
            return cls()
        try:
            return cls(timeout=float(raw))
        except ValueError:
            raise ValueError(
                f"FSCONFORMANCE_ATHENA_TIMEOUT={raw!r} is not a number of seconds"
            ) from None


_limits_lock = threading.Lock()
_limits = Limits.from_env()


def configure(limits: Limits) -> None:
    """Set the bounds for queries started from now on."""
    global _limits
    with _limits_lock:
        _limits = limits


def current_limits() -> Limits:
    return _limits


# Function names DuckDB would run against the host, its catalog or its settings. Trino has
# none of them, so they are refused wherever they appear, whatever the parser made of them.
_FORBIDDEN_PREFIXES = ("read_", "parquet_", "duckdb_", "pragma_", "sniff_", "iceberg_", "delta_")
_FORBIDDEN = {
    "glob",
    "sniff_csv",
    "read_csv",
    "read_csv_auto",
    "read_text",
    "read_blob",
    "read_json",
    "read_json_auto",
    "read_json_objects",
    "read_parquet",
    "read_ndjson",
    "parquet_scan",
    "parquet_metadata",
    "parquet_schema",
    "parquet_file_metadata",
    "parquet_kv_metadata",
    "csv_scan",
    "json_scan",
    "getenv",
    "current_setting",
    "query",
    "query_table",
    "load_extension",
    "install_extension",
    "which_secret",
    "checkpoint",
    "force_checkpoint",
    "enable_profiling",
    "export_database",
    "import_database",
    "sql_auto_complete",
    "test_all_types",
    "summary",
    "repeat_row",
    "range",
}

_FILE_FUNCTIONS = tuple(
    cls
    for cls in (getattr(exp, name, None) for name in ("ReadCSV", "ReadParquet", "ReadJSON"))
    if cls is not None
)


def function_name(node: exp.Expr) -> str:
    """The SQL name of a function node, lowercased."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return node.key.lower()


def forbidden(name: str) -> bool:
    lowered = name.lower()
    return lowered in _FORBIDDEN or lowered.startswith(_FORBIDDEN_PREFIXES)


def check_tree(tree: exp.Expr) -> None:
    """Refuse a tree that could reach beyond the tables the emulation hands the engine."""
    for node in tree.walk():
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            inner = node.this
            name = function_name(inner) if isinstance(inner, SQL_NODE) else str(inner)
            raise QueryFailed(
                f"NOT_SUPPORTED: line 1:1: Table function '{name}' is not available in Athena"
            )
        if isinstance(node, _FILE_FUNCTIONS) or (
            isinstance(node, exp.Func) and forbidden(function_name(node))
        ):
            raise QueryFailed(
                f"FUNCTION_NOT_FOUND: line 1:1: Function '{function_name(node)}' not registered"
            )
        if isinstance(node, (exp.Command, exp.Set, exp.Pragma, exp.Copy, exp.Attach, exp.Detach)):
            raise QueryFailed(f"NOT_SUPPORTED: {node.key.upper()} statements are not supported")


def check_engine_sql(sql: str) -> None:
    """The same check on the DuckDB text actually sent (a rewrite must not open a door)."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as error:
        raise QueryFailed(f"NOT_SUPPORTED: {error}") from None
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise QueryFailed("NOT_SUPPORTED: only one query reaches the engine")
    check_tree(trees[0])


def sandboxed_connection(limits: Limits) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that cannot touch the host: no files, no extensions, no settings."""
    connection = duckdb.connect(
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
            "allow_community_extensions": False,
            "allow_unsigned_extensions": False,
            "memory_limit": limits.memory,
            "threads": limits.threads,
            "max_temp_directory_size": "0B",
        }
    )
    # Trino on Athena runs in UTC; the time zone option exists only once ICU is loaded.
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET lock_configuration = true")
    return connection


class EngineRun:
    """One engine run that another thread may interrupt (StopQueryExecution, the timer)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or current_limits()
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._cancelled = False
        self._timed_out = False
        self._done = threading.Event()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
        self._interrupt_until_done()

    def _time_out(self) -> None:
        with self._lock:
            self._timed_out = True
        self._interrupt_until_done()

    def _interrupt_until_done(self) -> None:
        """Interrupt until the run ends: an interrupt that lands just before DuckDB starts
        the query is lost, so one call is not enough."""

        def keep_interrupting() -> None:
            while True:
                with self._lock:
                    if self._connection is None:
                        return
                    self._connection.interrupt()
                self._done.wait(0.05)

        threading.Thread(
            target=keep_interrupting, name="fsconformance-interrupt", daemon=True
        ).start()

    def execute(self, sql: str, tables: dict[str, pa.Table]) -> pa.Table:
        """Run one checked query over ``tables`` (view name -> Arrow) and return its rows."""
        check_engine_sql(sql)
        connection = sandboxed_connection(self.limits)
        timer = threading.Timer(self.limits.timeout, self._time_out)
        timer.daemon = True
        try:
            for view, data in tables.items():
                connection.register(view, data)
            with self._lock:
                if self._cancelled:
                    raise QueryCancelled
                self._connection = connection
            timer.start()
            result = connection.sql(sql)
            if result is None:
                raise QueryFailed("NOT_SUPPORTED: the statement returned no rows")
            return result.to_arrow_table()
        except duckdb.InterruptException:
            if self._cancelled:
                raise QueryCancelled from None
            raise QueryFailed(
                f"Query timeout: the query ran longer than {self.limits.timeout:g} seconds",
                category=1,
                error_type=401,
            ) from None
        except duckdb.OutOfMemoryException:
            raise QueryFailed(
                "EXCEEDED_MEMORY_LIMIT: Query exceeded the local memory limit", category=1
            ) from None
        except duckdb.Error as error:
            raise QueryFailed(duckdb_reason(error)) from None
        finally:
            timer.cancel()
            with self._lock:
                self._connection = None
            self._done.set()
            connection.close()


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


_UNPARSED = re.compile(r'^Invalid Input Error: Could not parse string "(.*)" according to format')


def unparsed_reason(error: Exception) -> str | None:
    """Trino's reason for a string its datetime parser rejects, or None for other errors.

    Trino parses ``to_timestamp``/``date_parse`` text with Joda, which refuses the text unless
    the pattern consumes all of it (so ``'2024-01-01 00:00:00+00:00'`` fails against
    ``'yyyy-mm-dd hh24:mi:ss'``), naming where parsing stopped. DuckDB's strptime error shows
    the same place with a caret under the text.
    """
    lines = str(error).strip().splitlines()
    found = _UNPARSED.match(lines[0]) if lines else None
    if found is None:
        return None
    text = found.group(1)
    where = len(lines[2]) - 1 if len(lines) > 2 and lines[2].endswith("^") else -1
    reason = f'INVALID_FUNCTION_ARGUMENT: Invalid format: "{text}"'
    if where <= 0:
        return reason
    if where >= len(text):
        return f"{reason} is too short"
    return f'{reason} is malformed at "{text[where:]}"'


def duckdb_reason(error: Exception) -> str:
    """An Athena-style reason for a DuckDB error (Trino's error names)."""
    unparsed = unparsed_reason(error)
    if unparsed is not None:
        return unparsed
    text = first_line(error).replace("__fsc_t", "table_")
    if isinstance(error, duckdb.BinderException):
        return f"COLUMN_NOT_FOUND: {text}"
    if isinstance(error, duckdb.ParserException):
        return f"SYNTAX_ERROR: {text}"
    if isinstance(error, duckdb.ConversionException):
        return f"INVALID_CAST_ARGUMENT: {text}"
    if isinstance(error, duckdb.CatalogException):
        return f"FUNCTION_NOT_FOUND: {text}"
    if isinstance(error, duckdb.PermissionException):
        return f"PERMISSION_DENIED: {text}"
    return f"GENERIC_INTERNAL_ERROR: {text}"
