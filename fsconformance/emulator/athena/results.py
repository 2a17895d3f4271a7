"""Result formatting: Athena's type names, value strings, result and manifest files (C-185).

The result of a query goes to ``<OutputLocation>/<QueryExecutionId>.csv`` (every value
double-quoted, NULL as an empty field) with a ``.csv.metadata`` object beside it; DDL and
utility statements write ``<id>.txt`` (tab-separated, no header) as Athena does.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
from typing import Any

import pyarrow as pa

from .. import moto_seam
from ..offline.replication import split_s3_uri
from . import types
from .engine import QueryFailed


def column_info(schema: pa.Schema) -> list[dict[str, Any]]:
    info = []
    for column in schema:
        name, precision, scale = types.athena_type(column.type)
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
    assert isinstance(exp10, int)  # a finite number: 'n', 'N' and 'F' mark NaN and infinity
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
        text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        # Trino prints a timestamp with time zone with its zone; the engine runs in UTC.
        return f"{text} UTC" if kind.tz else text
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


def text_result(table: pa.Table) -> bytes:
    """A DDL/utility result as Athena writes it: one tab-separated line per row, no header."""
    out = io.StringIO()
    for row in format_rows(table):
        out.write("\t".join("" if v is None else v for v in row) + "\n")
    return out.getvalue().encode()


def write_result(
    account_id: str,
    region: str,
    output_location: str,
    table: pa.Table,
    *,
    header: bool = True,
    text: bool = False,
) -> moto_seam.StoredObject:
    """Store a finished query's result (and its metadata) at ``output_location``; the
    result object as stored."""
    bucket, key = split_s3_uri(output_location)
    if not moto_seam.s3_bucket_exists(account_id, region, bucket):
        raise QueryFailed(
            f"Unable to verify/create output bucket {bucket}. Make sure the bucket exists."
        )
    body = text_result(table) if text else result_csv(table, header)
    stored = moto_seam.s3_put(account_id, region, bucket, key, body)
    metadata = json.dumps({"ColumnInfo": column_info(table.schema)}).encode()
    moto_seam.s3_put(account_id, region, bucket, f"{key}.metadata", metadata)
    return stored


def write_manifest(account_id: str, region: str, location: str, paths: list[str]) -> None:
    """The data manifest of a CTAS or UNLOAD: one s3:// path per written file."""
    bucket, key = split_s3_uri(location)
    body = "".join(f"{path}\n" for path in paths).encode()
    moto_seam.s3_put(account_id, region, bucket, key, body)
