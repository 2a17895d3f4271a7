"""Athena's statements: SELECT, CTAS, UNLOAD, CREATE EXTERNAL TABLE, DROP TABLE, SHOW, DESCRIBE.

Each statement runs in three steps so a long query never holds the account's lock:
``prepare`` (under the lock: resolve tables in Glue, load their rows), ``execute`` (outside
it: the sandboxed engine), ``commit`` (under the lock again: result files, Glue changes).
Tables created here are real Glue tables in moto's Glue, the one catalog every query reads.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from .. import moto_seam
from ..offline.replication import split_s3_uri
from . import catalog, trino
from .engine import EngineRun, QueryFailed, check_tree, first_line

_MSCK = re.compile(r"^\s*MSCK\s+REPAIR\s+TABLE\s", re.I)
_SHOW_TABLES = re.compile(
    r"^\s*SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+(?P<db>[`\"]?[\w-]+[`\"]?))?"
    r"(?:\s+(?:LIKE\s+)?'(?P<pattern>[^']*)')?\s*;?\s*$",
    re.I,
)
_SHOW_COLUMNS = re.compile(
    r"^\s*SHOW\s+COLUMNS\s+(?:IN|FROM)\s+(?P<table>[`\"]?[\w.\-`\"]+?[`\"]?)"
    r"(?:\s+(?:IN|FROM)\s+(?P<db>[`\"]?[\w-]+[`\"]?))?\s*;?\s*$",
    re.I,
)
_SHOW_DATABASES = re.compile(r"^\s*SHOW\s+(?:DATABASES|SCHEMAS)\s*;?\s*$", re.I)
_DESCRIBE = re.compile(
    r"^\s*(?:DESCRIBE|DESC)\s+(?:FORMATTED\s+|EXTENDED\s+)?(?P<table>[`\"]?[\w.\-`\"]+)\s*;?\s*$",
    re.I,
)
_UNLOAD = re.compile(
    r"^\s*UNLOAD\s*\((?P<query>.*)\)\s*TO\s*'(?P<location>[^']*)'\s*(?:WITH\s*\((?P<props>.*)\))?"
    r"\s*;?\s*$",
    re.I | re.S,
)
_HIVE_DDL = re.compile(r"^\s*(CREATE\s+EXTERNAL\s+TABLE|DROP\s+TABLE)\b", re.I)


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


def _unquote(name: str) -> str:
    return name.strip().strip('`"')


def _split_name(text: str, default_db: str) -> tuple[str, str]:
    parts = [_unquote(p) for p in re.split(r"\.(?=(?:[^\"`]*[\"`][^\"`]*[\"`])*[^\"`]*$)", text)]
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
        self.result = _athena_shaped(engine.execute(self.sql, self.tables))
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


# -- writing Parquet to S3 (CTAS, UNLOAD) -------------------------------------------------------


def _require_empty(ctx: Context, location: str, what: str) -> tuple[str, str]:
    try:
        bucket, prefix = split_s3_uri(location)
    except ValueError:
        raise QueryFailed(f"INVALID_INPUT: {location!r} is not an s3:// location") from None
    if not moto_seam.s3_bucket_exists(ctx.account_id, ctx.region, bucket):
        raise QueryFailed(f"HIVE_PATH_ALREADY_EXISTS: bucket {bucket} does not exist")
    if moto_seam.s3_objects(ctx.account_id, ctx.region, bucket, f"{prefix}/" if prefix else ""):
        raise QueryFailed(
            f"HIVE_PATH_ALREADY_EXISTS: Target directory for {what} already exists: {location}"
        )
    return bucket, prefix


def _write_parquet(ctx: Context, bucket: str, prefix: str, table: pa.Table) -> str:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    key = f"{prefix}/{ctx.query_id}_00000" if prefix else f"{ctx.query_id}_00000"
    moto_seam.s3_put(ctx.account_id, ctx.region, bucket, key, sink.getvalue())
    return f"s3://{bucket}/{key}"


def _properties(node: exp.Expr | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if node is None:
        return found
    for prop in node.expressions if isinstance(node, exp.Properties) else []:
        if isinstance(prop, exp.FileFormatProperty):
            found["format"] = prop.this.name
        elif isinstance(prop, exp.Property) and prop.args.get("value") is not None:
            found[prop.name.lower()] = prop.args["value"].name
        elif isinstance(prop, exp.LocationProperty):
            found["external_location"] = prop.this.name
        elif isinstance(prop, exp.PartitionedByProperty):
            found["partitioned_by"] = prop.sql()
    return found


class CreateTableAs(Statement):
    """``CREATE TABLE x WITH (format='PARQUET', external_location='s3://...') AS SELECT``."""

    substatement = "CREATE_TABLE_AS_SELECT"

    def __init__(self, tree: exp.Create) -> None:
        self.tree = tree
        self.select = Select(tree.expression)
        self.properties = _properties(tree.args.get("properties"))

    def prepare(self, ctx: Context) -> None:
        table = self.tree.this
        self.database, self.name = table.db or ctx.database, table.name
        fmt = self.properties.get("format", "PARQUET").upper()
        if fmt != "PARQUET" or "partitioned_by" in self.properties:
            raise QueryFailed(
                "NOT_SUPPORTED: the emulation writes unpartitioned PARQUET tables only"
            )
        _require_database(ctx, self.database)
        if moto_seam.glue_table_input(ctx.account_id, ctx.region, self.database, self.name):
            if self.tree.args.get("exists"):
                self.skip = True
                return
            raise QueryFailed(
                f"ALREADY_EXISTS: Table '{ctx.catalog.lower()}.{self.database.lower()}."
                f"{self.name.lower()}' already exists"
            )
        self.skip = False
        # Athena's default place for a CTAS table without external_location.
        self.location = self.properties.get("external_location") or (
            f"{ctx.output_folder}/tables/{ctx.query_id}/"
        )
        _require_empty(ctx, self.location, f"table '{self.database}.{self.name}'")
        self.select.prepare(ctx)

    def execute(self, engine: EngineRun) -> None:
        if not self.skip:
            self.select.execute(engine)

    def commit(self, ctx: Context) -> Outcome:
        if self.skip:
            return Outcome(pa.table({"rows": pa.array([0], pa.int64())}))
        result = self.select.result
        assert result is not None
        bucket, prefix = _require_empty(ctx, self.location, f"table '{self.name}'")
        path = _write_parquet(ctx, bucket, prefix, result)
        columns = [{"Name": f.name, "Type": catalog.glue_type(f.type)} for f in result.schema]
        moto_seam.glue_create_table(
            ctx.account_id,
            ctx.region,
            _database_name(ctx, self.database),
            self.name.lower(),
            parquet_table_input(self.name.lower(), columns, self.location),
        )
        manifest = f"{ctx.output_folder}/tables/{ctx.query_id}-manifest.csv"
        from .results import write_manifest

        write_manifest(ctx.account_id, ctx.region, manifest, [path])
        return Outcome(
            pa.table({"rows": pa.array([result.num_rows], pa.int64())}),
            scanned=self.select.scanned,
            update_count=result.num_rows,
            manifest=manifest,
        )


class Unload(Statement):
    """``UNLOAD (SELECT ...) TO 's3://...' WITH (format = 'PARQUET')``."""

    substatement = "UNLOAD"

    def __init__(self, select: Select, location: str, properties: dict[str, str]) -> None:
        self.select, self.location, self.properties = select, location, properties

    def prepare(self, ctx: Context) -> None:
        if self.properties.get("format", "PARQUET").upper() != "PARQUET":
            raise QueryFailed("NOT_SUPPORTED: the emulation unloads PARQUET only")
        _require_empty(ctx, self.location, "UNLOAD")
        self.select.prepare(ctx)

    def execute(self, engine: EngineRun) -> None:
        self.select.execute(engine)

    def commit(self, ctx: Context) -> Outcome:
        result = self.select.result
        assert result is not None
        bucket, prefix = _require_empty(ctx, self.location, "UNLOAD")
        path = _write_parquet(ctx, bucket, prefix, result)
        manifest = f"{ctx.output_folder}/{ctx.query_id}-manifest.csv"
        from .results import write_manifest

        write_manifest(ctx.account_id, ctx.region, manifest, [path])
        return Outcome(
            pa.table({}),
            header=False,
            scanned=self.select.scanned,
            update_count=result.num_rows,
            manifest=manifest,
        )


def parquet_table_input(name: str, columns: list[dict[str, str]], location: str) -> dict:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet"},
        "PartitionKeys": [],
        "StorageDescriptor": {
            "Columns": columns,
            "Location": location,
            "InputFormat": catalog.PARQUET_INPUT,
            "OutputFormat": catalog.PARQUET_OUTPUT,
            "SerdeInfo": {
                "SerializationLibrary": catalog.PARQUET_SERDE,
                "Parameters": {"serialization.format": "1"},
            },
        },
    }


# -- DDL -------------------------------------------------------------------------------------


def _require_database(ctx: Context, database: str) -> None:
    if not moto_seam.glue_database_exists(ctx.account_id, ctx.region, database):
        raise QueryFailed(f"SCHEMA_NOT_FOUND: line 1:1: Schema '{database.lower()}' does not exist")


def _database_name(ctx: Context, database: str) -> str:
    """The database's own spelling in Glue (lookups are case-insensitive, C-083)."""
    for name in (database, database.lower()):
        if moto_seam.glue_database_exists(ctx.account_id, ctx.region, name):
            return name
    return database


class CreateExternalTable(Statement):
    """Hive DDL: columns, a SerDe or STORED AS, a LOCATION (C-187)."""

    statement_type = "DDL"
    substatement = "CREATE_TABLE"

    def __init__(self, tree: exp.Create) -> None:
        self.tree = tree

    def prepare(self, ctx: Context) -> None:
        schema = self.tree.this
        if not isinstance(schema, exp.Schema):
            raise QueryFailed("SYNTAX_ERROR: CREATE EXTERNAL TABLE needs a column list")
        table = schema.this
        self.database, self.name = table.db or ctx.database, table.name.lower()
        columns = []
        for column in schema.expressions:
            if not isinstance(column, exp.ColumnDef) or column.args.get("kind") is None:
                raise QueryFailed(f"SYNTAX_ERROR: bad column definition {column.sql()!r}")
            kind = column.args["kind"].sql(dialect="hive").lower().replace(" ", "")
            columns.append({"Name": column.name.lower(), "Type": kind})
        serde, serde_parameters, fmt, location = None, {}, None, None
        table_parameters = {"EXTERNAL": "TRUE"}
        for prop in (self.tree.args.get("properties") or exp.Properties()).expressions:
            if isinstance(prop, exp.RowFormatSerdeProperty):
                serde = prop.this.name
                props = prop.args.get("serde_properties")
                for item in props.expressions if props is not None else []:
                    serde_parameters[item.name] = item.args["value"].name
            elif isinstance(prop, exp.RowFormatDelimitedProperty):
                serde = catalog.LAZY_SIMPLE_SERDE
                fields = prop.args.get("fields")
                if fields is not None:
                    serde_parameters["field.delim"] = fields.name
            elif isinstance(prop, exp.FileFormatProperty):
                fmt = prop.this.name.upper()
            elif isinstance(prop, exp.LocationProperty):
                location = prop.this.name
            elif isinstance(prop, exp.PartitionedByProperty):
                raise QueryFailed("NOT_SUPPORTED: partitioned external tables are not emulated")
            elif isinstance(prop, exp.Property) and prop.args.get("value") is not None:
                table_parameters[prop.name] = prop.args["value"].name
        if not location or not location.startswith("s3://"):
            raise QueryFailed("SYNTAX_ERROR: an external table needs an s3:// LOCATION")
        if serde is None and fmt in (None, "TEXTFILE"):
            serde = catalog.LAZY_SIMPLE_SERDE
        if fmt == "PARQUET" or serde == catalog.PARQUET_SERDE:
            self.table_input = parquet_table_input(self.name, columns, location)
            self.table_input["Parameters"].update(table_parameters)
        elif serde in (catalog.OPEN_CSV_SERDE, catalog.LAZY_SIMPLE_SERDE):
            table_parameters["classification"] = "csv"
            self.table_input = {
                "Name": self.name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": table_parameters,
                "PartitionKeys": [],
                "StorageDescriptor": {
                    "Columns": columns,
                    "Location": location,
                    "InputFormat": catalog.TEXT_INPUT,
                    "OutputFormat": catalog.TEXT_OUTPUT,
                    "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters},
                },
            }
        else:
            raise QueryFailed(
                f"NOT_SUPPORTED: the emulation reads PARQUET and CSV tables, not {serde or fmt}"
            )
        _require_database(ctx, self.database)
        exists = moto_seam.glue_table_input(ctx.account_id, ctx.region, self.database, self.name)
        if exists and not self.tree.args.get("exists"):
            raise QueryFailed(
                f"AlreadyExistsException: Table {self.name} already exists in database "
                f"{self.database}"
            )
        self.create = exists is None

    def commit(self, ctx: Context) -> Outcome:
        if self.create:
            db = _database_name(ctx, self.database)
            moto_seam.glue_create_table(ctx.account_id, ctx.region, db, self.name, self.table_input)
        return Outcome(pa.table({}), header=False, text=True)


class DropTable(Statement):
    statement_type = "DDL"
    substatement = "DROP_TABLE"

    def __init__(self, tree: exp.Drop) -> None:
        self.tree = tree

    def prepare(self, ctx: Context) -> None:
        table = self.tree.this if self.tree.this is not None else self.tree.args["tables"][0]
        self.database, self.name = table.db or ctx.database, table.name
        _require_database(ctx, self.database)
        found = moto_seam.glue_table_input(ctx.account_id, ctx.region, self.database, self.name)
        if found is None and not self.tree.args.get("exists"):
            raise QueryFailed(
                f"SemanticException: Table not found {self.database.lower()}.{self.name.lower()}"
            )

    def commit(self, ctx: Context) -> Outcome:
        # An external table's data stays in S3, as on Athena.
        moto_seam.glue_delete_table(ctx.account_id, ctx.region, self.database, self.name)
        return Outcome(pa.table({}), header=False, text=True)


class ShowTables(Statement):
    statement_type = "DDL"
    substatement = "SHOW_TABLES"

    def __init__(self, database: str | None, pattern: str | None) -> None:
        self.database, self.pattern = database, pattern

    def prepare(self, ctx: Context) -> None:
        self.db = _unquote(self.database) if self.database else ctx.database
        _require_database(ctx, self.db)

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
        db, name = _split_name(self.table, ctx.database)
        if self.database:
            db = _unquote(self.database)
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


# -- parsing ------------------------------------------------------------------------------------


def _parse_one(query: str, dialect: str) -> exp.Expr:
    try:
        trees = [t for t in sqlglot.parse(query, read=dialect) if t is not None]
    except sqlglot.errors.SqlglotError as error:
        raise QueryFailed(f"SYNTAX_ERROR: {first_line(error)}") from None
    if len(trees) != 1:
        raise QueryFailed("INVALID_INPUT: Only one sql statement is allowed.")
    return trees[0]


def classify(query: str) -> Statement:
    """The statement a query string holds; a ``Failed`` one if it cannot run."""
    try:
        return _classify(query)
    except QueryFailed as failure:
        return Failed(failure)


def _classify(query: str) -> Statement:
    if _MSCK.match(query):
        return RepairTable()
    if match := _SHOW_TABLES.match(query):
        return ShowTables(match.group("db"), match.group("pattern"))
    if _SHOW_DATABASES.match(query):
        return ShowDatabases()
    if match := _SHOW_COLUMNS.match(query):
        return ShowColumns(match.group("table"), match.group("db"))
    if match := _DESCRIBE.match(query):
        return Describe(match.group("table"))
    if match := _UNLOAD.match(query):
        inner = _parse_one(match.group("query"), "trino")
        if not isinstance(inner, exp.Query):
            raise QueryFailed("SYNTAX_ERROR: UNLOAD needs a SELECT")
        props: dict[str, str] = {}
        for item in (match.group("props") or "").split(","):
            key, _, value = item.partition("=")
            if key.strip():
                props[key.strip().lower()] = value.strip().strip("'")
        return Unload(Select(inner), match.group("location"), props)
    tree = _parse_one(query, "hive" if _HIVE_DDL.match(query) else "trino")
    if isinstance(tree, exp.Query):
        return Select(tree)
    if isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() == "TABLE":
        if isinstance(tree.expression, exp.Query):
            return CreateTableAs(tree)
        properties = tree.args.get("properties")
        external = properties is not None and any(
            isinstance(p, exp.ExternalProperty) for p in properties.expressions
        )
        if external:
            return CreateExternalTable(tree)
        raise QueryFailed(
            "NOT_SUPPORTED: CREATE TABLE without AS SELECT creates Iceberg tables on Athena, "
            "which the emulation does not have; use CREATE EXTERNAL TABLE"
        )
    if isinstance(tree, exp.Drop) and str(tree.args.get("kind")).upper() == "TABLE":
        return DropTable(tree)
    raise QueryFailed(f"NOT_SUPPORTED: {tree.key.upper()} statements are not supported")
