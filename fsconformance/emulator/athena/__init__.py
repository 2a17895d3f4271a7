"""Athena over the emulated offline store (C-090-C-094, C-184-C-188): Trino SQL run by a
sandboxed DuckDB over the Glue tables in moto.

- ``handlers``: the query operations and the QueryExecution state machine (worker threads);
- ``statements``: SELECT, CTAS, UNLOAD, CREATE EXTERNAL TABLE, DROP TABLE, SHOW, DESCRIBE;
- ``engine``: the sandbox (SQL-tree checks, a locked-down DuckDB, time bound);
- ``catalog``: Glue tables read from their S3 objects (Parquet, CSV SerDes);
- ``trino``: Trino functions sqlglot leaves to us;
- ``results``: Athena's types, value strings and result files.

Only the query operations are answered here; every other Athena operation goes to moto.
"""

from .catalog import DEFAULT_CATALOG, glue_arrow_type, load_table
from .engine import Limits, QueryFailed, configure
from .handlers import OPERATIONS, AthenaState, QueryExecution, handle, handle_request
from .results import athena_type, column_info, format_rows, java_double, result_csv

__all__ = [
    "DEFAULT_CATALOG",
    "OPERATIONS",
    "AthenaState",
    "Limits",
    "QueryExecution",
    "QueryFailed",
    "athena_type",
    "column_info",
    "configure",
    "format_rows",
    "glue_arrow_type",
    "handle",
    "handle_request",
    "java_double",
    "load_table",
    "result_csv",
]
