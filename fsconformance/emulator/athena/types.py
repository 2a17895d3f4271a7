"""Arrow types as SQL names them: Athena's result column types (``ResultSetMetadata``, with
precision and scale) and the Glue (Hive) column types a table declares, in one table; and
the Arrow type Athena reads a Glue column type as."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa

_VARCHAR = re.compile(r"^(varchar|char)(\(\d+\))?$")
_DECIMAL = re.compile(r"^decimal\((\d+)\s*,\s*(\d+)\)$")
_STRING = ("varchar", 2147483647, 0, "string")
# Arrow type family -> (Athena's name, precision, scale, Glue's name), first match wins.
_NAMES: list[tuple[Callable[[pa.DataType], bool], tuple[str, int, int, str]]] = [
    (pa.types.is_boolean, ("boolean", 0, 0, "boolean")),
    (pa.types.is_int8, ("tinyint", 3, 0, "tinyint")),
    (pa.types.is_int16, ("smallint", 5, 0, "smallint")),
    (pa.types.is_int32, ("integer", 10, 0, "int")),
    (pa.types.is_integer, ("bigint", 19, 0, "bigint")),
    (pa.types.is_float32, ("float", 7, 0, "float")),
    (pa.types.is_floating, ("double", 17, 0, "double")),
    (pa.types.is_decimal, ("decimal", 0, 0, "decimal")),  # precision and scale: the type's
    (pa.types.is_string, _STRING),
    (pa.types.is_large_string, _STRING),
    (pa.types.is_timestamp, ("timestamp", 3, 0, "timestamp")),
    (pa.types.is_date, ("date", 0, 0, "date")),
    (pa.types.is_time, ("time", 3, 0, "string")),
    (pa.types.is_list, ("array", 0, 0, "array")),
    (pa.types.is_large_list, ("array", 0, 0, "array")),
    (pa.types.is_struct, ("row", 0, 0, "string")),
    (pa.types.is_map, ("map", 0, 0, "string")),
    (pa.types.is_binary, ("varbinary", 1073741824, 0, "binary")),
    (pa.types.is_null, ("unknown", 0, 0, "string")),
]


def _names(kind: pa.DataType) -> tuple[str, int, int, str]:
    return next((names for test, names in _NAMES if test(kind)), _STRING)


def athena_type(kind: pa.DataType) -> tuple[str, int, int]:
    """(Athena type name, precision, scale) of a result column."""
    name, precision, scale, _ = _names(kind)
    if name == "decimal":
        return name, kind.precision, kind.scale
    if name == "timestamp" and kind.tz:
        return "timestamp with time zone", precision, scale
    return name, precision, scale


def glue_type(kind: pa.DataType) -> str:
    """The Glue (Hive) column type a CTAS writes for an Arrow result column."""
    name = _names(kind)[3]
    if name == "decimal":
        return f"decimal({kind.precision},{kind.scale})"
    if name == "array":
        return f"array<{glue_type(kind.value_type)}>"
    return name


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
