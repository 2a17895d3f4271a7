"""Athena over the emulated offline store (C-090-C-094, C-184-C-188): Trino SQL run by a
sandboxed DuckDB over the Glue tables in moto.

- ``service``: every Athena operation, dispatched: queries, catalogue, the rest to moto;
- ``handlers``: the query operations and the QueryExecution state machine (worker threads);
- ``metadata``: the catalogue operations, from the Glue Data Catalog;
- ``sql``: a query's text into its statement;
- ``statements``: SELECT, SHOW, DESCRIBE, and the three steps every statement runs in;
- ``writes``: CTAS, UNLOAD, CREATE EXTERNAL TABLE, DROP TABLE;
- ``engine``: the sandbox (SQL-tree checks, a locked-down DuckDB, time bound);
- ``catalog``: Glue tables read from their S3 objects (Parquet, CSV SerDes);
- ``trino``: Trino functions sqlglot leaves to us;
- ``results``: value strings and result files;
- ``types``: Arrow types as Athena and Glue name them.

Every Athena operation is answered here, whatever its protocol; the ones the emulation does
not model (workgroups, named queries, ...) are moto's, asked through the seam.
"""

from .catalog import DEFAULT_CATALOG, load_table
from .engine import Limits, QueryFailed, configure
from .handlers import OPERATIONS, AthenaState, QueryExecution
from .results import column_info, format_rows, java_double, result_csv
from .service import handle, owns
from .types import athena_type, glue_arrow_type

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
    "java_double",
    "owns",
    "load_table",
    "result_csv",
]
