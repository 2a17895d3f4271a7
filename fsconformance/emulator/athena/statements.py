"""Athena's statements that read: SELECT, SHOW and DESCRIBE, and what every statement is.

Each statement runs in three steps so a long query never holds the account's lock:
``prepare`` (under the lock: resolve tables in Glue, load their rows), ``execute`` (outside
it: the sandboxed engine), ``commit`` (under the lock again: result files, Glue changes).
The statements that write (CTAS, UNLOAD, CREATE EXTERNAL TABLE, DROP TABLE) are ``writes``';
``sql`` turns a query's text into its statement.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import pyarrow as pa
import sqlglot
from sqlglot import exp

from .. import moto_seam
from . import catalog, trino
from .engine import EngineRun, QueryFailed, check_tree, first_line


@dataclass
class Context:
    """Where a query runs and what it may use."""

    account_id: str
    region: str
    database: str
    catalog: str
    query_id: str
    output_location: str  # the result object, ``<OutputLocation>/<id>.csv``
    parameters: list[str] = field(default_factory=list)

    @property
    def output_folder(self) -> str:
        return self.output_location.rsplit("/", 1)[0]


@dataclass
class Outcome:
    """What a finished statement reports."""

    table: pa.Table
    header: bool = True
    text: bool = False  # DDL/utility results are ``<id>.txt``
    scanned: int = 0
    update_count: int = 0
    manifest: str | None = None


class Statement:
    statement_type = "DML"
    substatement = "SELECT"
    result_suffix = ".csv"

    def prepare(self, ctx: Context) -> None:
        """Resolve and load what the statement reads (under the state lock)."""

    def execute(self, engine: EngineRun) -> None:
        """The engine work (outside the lock)."""

    def commit(self, ctx: Context) -> Outcome:
        """Apply the statement's effects (under the lock)."""
        return Outcome(pa.table({}), header=False, text=True)


class Failed(Statement):
    """A statement that cannot run; it fails once the query leaves the queue."""

    def __init__(self, failure: QueryFailed, statement_type: str = "DML") -> None:
        self.failure = failure
        self.statement_type = statement_type
        self.substatement = "UNKNOWN"

    def prepare(self, ctx: Context) -> None:
        raise self.failure


def unquote(name: str) -> str:
    return name.strip().strip('`"')


def split_name(text: str, default_db: str) -> tuple[str, str]:
    parts = [unquote(p) for p in re.split(r"\.(?=(?:[^\"`]*[\"`][^\"`]*[\"`])*[^\"`]*$)", text)]
    if len(parts) == 1:
        return default_db, parts[0]
    return parts[-2], parts[-1]


# -- SELECT ------------------------------------------------------------------------------------


class Select(Statement):
    """A query over Glue tables, run by the sandboxed engine."""

    def __init__(self, tree: exp.Query) -> None:
        self.tree = tree
        self.sql = ""
        self.tables: dict[str, pa.Table] = {}
        self.scanned = 0
        self.result: pa.Table | None = None

    def prepare(self, ctx: Context) -> None:
        tree: exp.Expr = self.tree.copy()
        _bind_parameters(tree, ctx.parameters)
        check_tree(tree)  # after binding: parameters are SQL too
        tree = trino.rewrite(tree)
        _name_unnamed_columns(tree)
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        views: dict[tuple[str, str], str] = {}
        for table in list(tree.find_all(exp.Table)):
            name = table.name
            if not table.db and not table.catalog and name.lower() in ctes:
                continue
            db = table.db or ctx.database
            table_catalog = table.catalog or ctx.catalog
            if table_catalog.lower() != catalog.DEFAULT_CATALOG.lower():
                raise QueryFailed(
                    f"CATALOG_NOT_FOUND: line 1:1: Catalog '{table_catalog.lower()}' does not exist"
                )
            key = (db.lower(), name.lower())
            if key not in views:
                loaded, size = catalog.load_table(
                    ctx.account_id, ctx.region, db, name, table_catalog
                )
                views[key] = f"__fsc_t{len(views)}"
                self.tables[views[key]] = loaded
                self.scanned += size
            alias = table.alias
            table.set("this", exp.to_identifier(views[key], quoted=True))
            table.set("db", None)
            table.set("catalog", None)
            if not alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(name, quoted=True)))
        try:
            self.sql = tree.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.SqlglotError as error:
            raise QueryFailed(f"NOT_SUPPORTED: {first_line(error)}") from None

    def execute(self, engine: EngineRun) -> None:
        self.result = athena_shaped(engine.execute(self.sql, self.tables))
        self.tables = {}  # the inputs are not needed any more

    def commit(self, ctx: Context) -> Outcome:
        assert self.result is not None
        return Outcome(self.result, scanned=self.scanned)


def _bind_parameters(tree: exp.Expr, parameters: list[str]) -> None:
    placeholders = list(tree.find_all(exp.Placeholder))
    if len(placeholders) != len(parameters):
        raise QueryFailed(
            f"INVALID_INPUT: the query has {len(placeholders)} parameters but "
            f"{len(parameters)} ExecutionParameters were given"
        )
    for placeholder, value in zip(placeholders, parameters, strict=True):
        try:
            bound = sqlglot.parse_one(value, read="trino")
        except sqlglot.errors.SqlglotError as error:
            raise QueryFailed(f"SYNTAX_ERROR: parameter {value!r}: {first_line(error)}") from None
        placeholder.replace(bound)


def _name_unnamed_columns(tree: exp.Expr) -> None:
    """Athena names an unnamed select expression ``_col<position>``."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    named: list[exp.Expr] = []
    for position, expression in enumerate(select.expressions):
        if isinstance(expression, (exp.Alias, exp.Column, exp.Star)):
            named.append(expression)
        else:
            named.append(exp.alias_(expression, f"_col{position}", quoted=True))
    select.set("expressions", named)


def athena_shaped(table: pa.Table) -> pa.Table:
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


# -- writing Parquet to S3 (CTAS, UNLOAD) -------------------------------------------------------


def require_database(ctx: Context, database: str) -> None:
    if not moto_seam.glue_database_exists(ctx.account_id, ctx.region, database):
        raise QueryFailed(f"SCHEMA_NOT_FOUND: line 1:1: Schema '{database.lower()}' does not exist")


def database_name(ctx: Context, database: str) -> str:
    """The database's own spelling in Glue (lookups are case-insensitive, C-083)."""
    for name in (database, database.lower()):
        if moto_seam.glue_database_exists(ctx.account_id, ctx.region, name):
            return name
    return database


class ShowTables(Statement):
    statement_type = "DDL"
    substatement = "SHOW_TABLES"

    def __init__(self, database: str | None, pattern: str | None) -> None:
        self.database, self.pattern = database, pattern

    def prepare(self, ctx: Context) -> None:
        self.db = unquote(self.database) if self.database else ctx.database
        require_database(ctx, self.db)

    def commit(self, ctx: Context) -> Outcome:
        names = moto_seam.glue_table_names(ctx.account_id, ctx.region, self.db)
        if self.pattern:
            # Athena's SHOW TABLES pattern: '*' matches anything, '|' separates choices.
            choices = [re.escape(p).replace(r"\*", ".*") for p in self.pattern.lower().split("|")]
            wanted = re.compile("|".join(f"(?:{c})" for c in choices))
            names = [n for n in names if wanted.fullmatch(n.lower())]
        return Outcome(
            pa.table({"tab_name": pa.array(names, pa.string())}), header=False, text=True
        )


class ShowDatabases(Statement):
    statement_type = "DDL"
    substatement = "SHOW_DATABASES"

    def commit(self, ctx: Context) -> Outcome:
        names = moto_seam.glue_database_names(ctx.account_id, ctx.region)
        return Outcome(
            pa.table({"database_name": pa.array(names, pa.string())}), header=False, text=True
        )


class ShowColumns(Statement):
    statement_type = "DDL"
    substatement = "SHOW_COLUMNS"

    def __init__(self, table: str, database: str | None) -> None:
        self.table, self.database = table, database

    def prepare(self, ctx: Context) -> None:
        db, name = split_name(self.table, ctx.database)
        if self.database:
            db = unquote(self.database)
        found = moto_seam.glue_table_input(ctx.account_id, ctx.region, db, name)
        if found is None:
            raise catalog.not_found(ctx.catalog, db, name)
        self.columns = catalog.table_columns(found)

    def commit(self, ctx: Context) -> Outcome:
        names = [c["Name"].lower() for c in self.columns]
        return Outcome(pa.table({"field": pa.array(names, pa.string())}), header=False, text=True)


class Describe(ShowColumns):
    statement_type = "UTILITY"
    substatement = "DESCRIBE_TABLE"

    def __init__(self, table: str) -> None:
        super().__init__(table, None)

    def commit(self, ctx: Context) -> Outcome:
        return Outcome(
            pa.table(
                {
                    "col_name": pa.array([c["Name"].lower() for c in self.columns], pa.string()),
                    "data_type": pa.array([c.get("Type", "") for c in self.columns], pa.string()),
                    "comment": pa.array([c.get("Comment", "") for c in self.columns], pa.string()),
                }
            ),
            header=False,
            text=True,
        )


class RepairTable(Statement):
    """C-082: never needed for Feature Store tables; accepted as a no-op."""

    statement_type = "DDL"
    substatement = "MSCK_REPAIR_TABLE"
