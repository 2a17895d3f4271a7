"""Athena's view of the Glue Data Catalog: tables loaded from their S3 objects (C-090-C-092).

Glue is the single source of truth: every table a query names is looked up in moto's Glue
(names case-insensitive, C-083) and read from the objects under its ``Location`` in moto's
S3, as Parquet or, for the CSV SerDes DatasetBuilder's temporary tables use (C-187), as
delimited text. Columns come from the table, not the files: a file without a column reads
NULL for it (C-092).

Parquet is read as Athena's Hive connector reads what other engines write (C-061, C-066):
any physical timestamp (INT96 as Spark and Hive write it, INT64 in milliseconds,
microseconds or nanoseconds, with or without UTC adjustment) fills a ``timestamp`` column,
rounded to milliseconds, the precision of Athena's Hive timestamps; dictionary-encoded
columns read as their values; every compression codec pyarrow reads. Objects whose name or
folder starts with ``_`` or ``.`` (Spark's ``_SUCCESS``, ``_temporary/``, checksum files) and
empty objects are not data, as in Hive.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .. import moto_seam
from ..offline import flush, parsed_files
from ..offline.replication import split_s3_uri
from . import types
from .engine import QueryFailed, first_line

DEFAULT_CATALOG = "AwsDataCatalog"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


def not_found(catalog: str, database: str, name: str) -> QueryFailed:
    return QueryFailed(
        f"TABLE_NOT_FOUND: line 1:1: Table '{catalog.lower()}.{database.lower()}."
        f"{name.lower()}' does not exist"
    )


def table_columns(table_input: dict[str, Any]) -> list[dict[str, Any]]:
    """The table's columns then its partition keys, as Athena shows them."""
    descriptor = table_input.get("StorageDescriptor") or {}
    return list(descriptor.get("Columns") or []) + list(table_input.get("PartitionKeys") or [])


def is_text_table(table_input: dict[str, Any]) -> bool:
    descriptor = table_input.get("StorageDescriptor") or {}
    serde = (descriptor.get("SerdeInfo") or {}).get("SerializationLibrary") or ""
    return serde in (OPEN_CSV_SERDE, LAZY_SIMPLE_SERDE) or descriptor.get("InputFormat") == (
        TEXT_INPUT
    )


def table_objects(account_id: str, region: str, location: str) -> tuple[str, list[tuple[str, str]]]:
    """(bucket, [(key, etag)]) of the data objects under a table location."""
    try:
        bucket, prefix = split_s3_uri(location)
    except ValueError:
        raise QueryFailed(f"HIVE_METASTORE_ERROR: Table location {location!r} is not S3") from None
    prefix = f"{prefix}/" if prefix else ""
    objects = []
    for key, etag in moto_seam.s3_objects(account_id, region, bucket, prefix):
        if key.endswith("/") or is_hidden(key[len(prefix) :]):
            continue  # folder markers, and what Hive treats as hidden
        objects.append((key, etag))
    return bucket, objects


def is_hidden(relative_key: str) -> bool:
    """Hive's rule: a file is not data if its name or any folder below the table's location
    starts with ``_`` or ``.`` (``_SUCCESS``, a job's ``_temporary/`` attempts, ``.crc`` files).
    """
    return any(part.startswith(("_", ".")) for part in relative_key.split("/"))


def load_table(
    account_id: str, region: str, database: str, name: str, catalog: str = DEFAULT_CATALOG
) -> tuple[pa.Table, int]:
    """The rows of a Glue table as Arrow, shaped like its columns; (table, bytes read)."""
    table_input = moto_seam.glue_table_input(account_id, region, database, name)
    if table_input is None:
        raise not_found(catalog, database, name)
    columns = table_columns(table_input)
    schema = pa.schema(
        [(c["Name"].lower(), types.glue_arrow_type(c.get("Type", ""))) for c in columns]
    )
    read_own_layout = flush.reader_for(table_input)
    if read_own_layout is not None:
        # A format with a layout of its own is read through its metadata (C-179).
        data = read_own_layout(account_id, region, table_input)
        return _conform(data, schema, f"{database}.{name}"), data.nbytes
    descriptor = table_input.get("StorageDescriptor") or {}
    bucket, objects = table_objects(account_id, region, descriptor.get("Location") or "")
    text = is_text_table(table_input)
    pieces: list[pa.Table] = []
    scanned = 0
    if text:
        for key, _ in objects:
            body = moto_seam.s3_get(account_id, region, bucket, key)
            scanned += len(body)
            pieces.append(read_delimited(body, schema, table_input, key))
    else:
        # Consecutive files of one schema are conformed together: a batch writes hundreds.
        run: list[tuple[str, pa.Table]] = []
        for key, etag in objects:
            parsed = _read_parquet(account_id, region, bucket, key, etag)
            if parsed is None:
                continue
            data, size = parsed
            scanned += size
            if run and not data.schema.equals(run[0][1].schema):
                pieces.append(_conform_run(run, schema))
                run = []
            run.append((key, data))
        if run:
            pieces.append(_conform_run(run, schema))
    if not pieces:
        return schema.empty_table(), 0
    return pa.concat_tables(pieces), scanned


# -- delimited text (OpenCSVSerde, LazySimpleSerDe) ------------------------------------------


def _serde_char(parameters: dict[str, str], names: tuple[str, ...], default: str) -> str:
    for name in names:
        value = parameters.get(name)
        if value:
            # A lone backslash does not decode: it stands for itself.
            with contextlib.suppress(UnicodeDecodeError):
                value = value.encode().decode("unicode_escape")
            return value[:1] or default
    return default


def read_delimited(
    body: bytes, schema: pa.Schema, table_input: dict[str, Any], key: str
) -> pa.Table:
    """Rows of a CSV object, by position; OpenCSVSerde rules for typed columns (C-187)."""
    descriptor = table_input.get("StorageDescriptor") or {}
    serde = descriptor.get("SerdeInfo") or {}
    parameters = serde.get("Parameters") or {}
    open_csv = serde.get("SerializationLibrary") == OPEN_CSV_SERDE
    separator = _serde_char(
        parameters, ("separatorChar", "field.delim"), "," if open_csv else "\x01"
    )
    quote = _serde_char(parameters, ("quoteChar",), '"') if open_csv else None
    escape = _serde_char(parameters, ("escapeChar",), "\\") if open_csv else None
    reader = csv.reader(
        io.StringIO(body.decode("utf-8", errors="replace")),
        delimiter=separator,
        quotechar=quote or '"',
        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
        escapechar=escape,
        doublequote=False,
    )
    rows = [row for row in reader if row]
    skip = (table_input.get("Parameters") or {}).get("skip.header.line.count")
    if skip and skip.isdigit():
        rows = rows[int(skip) :]
    arrays = []
    for index, field in enumerate(schema):
        raw = [row[index] if index < len(row) else None for row in rows]
        arrays.append(_typed_column(raw, field, key, open_csv))
    return pa.Table.from_arrays(arrays, schema=schema)


def _typed_column(raw: list[str | None], field: pa.Field, key: str, open_csv: bool) -> pa.Array:
    kind = field.type
    if pa.types.is_string(kind):
        return pa.array(raw, type=kind)
    values: list[Any] = []
    for text in raw:
        if text is None or (text == "" and not open_csv) or text == "\\N":
            values.append(None)
            continue
        try:
            values.append(_parse_text(text, kind))
        except ValueError:
            # The Athena docs: OpenCSVSerde does not recognise empty or malformed values in
            # numeric columns; the query fails rather than guessing.
            raise QueryFailed(
                f"HIVE_BAD_DATA: Error parsing field value '{text}' for field {field.name} "
                f"as {kind} in {key}"
            ) from None
    return pa.array(values, type=kind)


def _parse_text(text: str, kind: pa.DataType) -> Any:
    if pa.types.is_integer(kind):
        return int(text)
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return float(text)
    if pa.types.is_boolean(kind):
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(text)
        return lowered == "true"
    if pa.types.is_timestamp(kind):
        # OpenCSVSerde reads a TIMESTAMP only as UNIX epoch milliseconds (C-187).
        return dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(text))
    if pa.types.is_date(kind):
        return dt.date.fromisoformat(text)
    return text


# -- Parquet ---------------------------------------------------------------------------------


def _read_parquet(
    account_id: str, region: str, bucket: str, key: str, etag: str
) -> tuple[pa.Table, int] | None:
    """The file's rows and size; None for an empty object, which Hive skips (HIVE-13040)."""
    cache_key = parsed_files.file_key(account_id, region, bucket, key, etag)
    cached = parsed_files.get(cache_key)
    if cached is not None:
        return cached
    body, stored = moto_seam.s3_read(account_id, region, bucket, key)
    if not body:
        return None
    try:
        # INT96 in microseconds: its range is every year Spark and Hive write (0001-9999),
        # where nanoseconds would wrap past 2262 without a word.
        table = pq.read_table(io.BytesIO(body), coerce_int96_timestamp_unit="us")
    except (pa.ArrowException, OSError) as error:
        raise QueryFailed(
            f"HIVE_CURSOR_ERROR: s3://{bucket}/{key} is not a valid Parquet file: "
            f"{first_line(error)}"
        ) from None
    if stored.etag == etag:  # not replaced since it was listed
        parsed_files.put(cache_key, table, len(body), stored)
    return table, len(body)


def _conform_run(run: list[tuple[str, pa.Table]], schema: pa.Schema) -> pa.Table:
    """Files of one schema, conformed as one table; a failure names its own file."""
    try:
        return _conform(pa.concat_tables([data for _, data in run]), schema, run[0][0])
    except QueryFailed:
        for key, data in run:
            _conform(data, schema, key)
        raise


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
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_timestamp(column.type) and pa.types.is_timestamp(target.type):
            column = _timestamp_column(column, target.type)
        if column.type != target.type:
            try:
                column = column.cast(target.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
                raise QueryFailed(
                    f"HIVE_BAD_DATA: Field {target.name}'s type {column.type} in parquet file "
                    f"{key} is incompatible with type {target.type} defined in table schema: "
                    f"{first_line(error)}"
                ) from None
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema)


_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _timestamp_column(column: pa.ChunkedArray, target: pa.TimestampType) -> pa.ChunkedArray:
    """A Parquet timestamp as Athena reads it into a Hive ``timestamp``: the instant's wall
    clock in UTC (a UTC-adjusted column loses its zone, not its value), and a finer unit
    rounded half up to the column's, as Athena's Hive connector rounds to its precision.
    """
    unit = column.type.unit
    if column.type.tz is not None:
        column = column.cast(pa.timestamp(unit))
    factor = _UNITS[unit] // _UNITS[target.unit]
    if factor <= 1:
        return column
    chunks = []
    for chunk in column.chunks:
        ticks = chunk.cast(pa.int64()).fill_null(0).to_numpy()
        # Half up, also below the epoch: floor((ticks + factor / 2) / factor).
        rounded = (ticks + factor // 2) // factor
        chunks.append(pa.array(rounded, type=pa.int64(), mask=chunk.is_null().to_numpy(False)))
    return pa.chunked_array(chunks, type=pa.int64()).cast(target)
