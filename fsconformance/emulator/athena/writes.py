"""Athena's statements that write: CTAS and UNLOAD (Parquet under an S3 location, with a data
manifest), CREATE EXTERNAL TABLE and DROP TABLE; the tables are real Glue tables in moto's
Glue, the one catalog every query reads (C-187)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from .. import moto_seam
from ..offline.replication import split_s3_uri
from . import catalog, types
from .engine import EngineRun, QueryFailed
from .statements import (
    Context,
    Outcome,
    Select,
    Statement,
    database_name,
    require_database,
)


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
        require_database(ctx, self.database)
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
        columns = [{"Name": f.name, "Type": types.glue_type(f.type)} for f in result.schema]
        moto_seam.glue_create_table(
            ctx.account_id,
            ctx.region,
            database_name(ctx, self.database),
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
        require_database(ctx, self.database)
        exists = moto_seam.glue_table_input(ctx.account_id, ctx.region, self.database, self.name)
        if exists and not self.tree.args.get("exists"):
            raise QueryFailed(
                f"AlreadyExistsException: Table {self.name} already exists in database "
                f"{self.database}"
            )
        self.create = exists is None

    def commit(self, ctx: Context) -> Outcome:
        if self.create:
            db = database_name(ctx, self.database)
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
        require_database(ctx, self.database)
        found = moto_seam.glue_table_input(ctx.account_id, ctx.region, self.database, self.name)
        if found is None and not self.tree.args.get("exists"):
            raise QueryFailed(
                f"SemanticException: Table not found {self.database.lower()}.{self.name.lower()}"
            )

    def commit(self, ctx: Context) -> Outcome:
        # An external table's data stays in S3, as on Athena.
        moto_seam.glue_delete_table(ctx.account_id, ctx.region, self.database, self.name)
        return Outcome(pa.table({}), header=False, text=True)
