"""Trino functions that sqlglot does not translate to DuckDB by itself (C-188).

sqlglot turns most Trino functions into typed nodes it can write as DuckDB SQL
(``from_unixtime``, ``from_iso8601_timestamp``, ``date_parse``, ``date_format``, ...). What
it leaves as an anonymous call is either rewritten here, allowed because DuckDB has the same
function with the same meaning, or refused with Athena's ``FUNCTION_NOT_FOUND``.
"""

from __future__ import annotations

import re

from sqlglot import exp

from .engine import QueryFailed

# Teradata/Oracle-style patterns (``to_timestamp``, ``to_char``, ``to_date``) -> strftime.
# Longest tokens first, so ``hh24`` wins over ``hh`` and ``yyyy`` over ``yy``.
_TERADATA_TOKENS = [
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("mm", "%m"),
    ("dd", "%d"),
    ("hh24", "%H"),
    ("hh12", "%I"),
    ("hh", "%I"),
    ("mi", "%M"),
    ("ss", "%S"),
]
_TERADATA = re.compile("|".join(re.escape(token) for token, _ in _TERADATA_TOKENS), re.I)
_TERADATA_MAP = dict(_TERADATA_TOKENS)

# Trino functions sqlglot passes through by name whose DuckDB namesake means the same.
SAME_IN_DUCKDB = {
    "typeof",
    "cbrt",
    "degrees",
    "radians",
    "sign",
    "pi",
    "e",
    "isnan",
    "isinf",
    "isfinite",
    "reverse",
    "chr",
    "lpad",
    "rpad",
    "split_part",
    "strpos",
    "translate",
    "levenshtein_distance",
    "hamming_distance",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "day_of_week",
    "day_of_year",
    "week_of_year",
    "year_of_week",
    "url_extract_host",
    "current_timezone",
}


def teradata_to_strftime(pattern: str) -> str:
    """``'yyyy-mm-dd hh24:mi:ss'`` -> ``'%Y-%m-%d %H:%M:%S'`` (case-insensitive tokens)."""
    return _TERADATA.sub(lambda m: _TERADATA_MAP[m.group(0).lower()], pattern.replace("%", "%%"))


def _pattern(node: exp.Anonymous, name: str) -> str:
    if len(node.expressions) != 2 or not isinstance(node.expressions[1], exp.Literal):
        raise QueryFailed(
            f"FUNCTION_NOT_FOUND: line 1:1: Unexpected parameters for function {name}: "
            "expected a string and a format literal"
        )
    return teradata_to_strftime(node.expressions[1].name)


MAX_SEQUENCE = 10000  # Trino refuses a sequence() longer than this


def _literal_number(node: exp.Expr | None) -> float | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        return float(node.this)
    if isinstance(node, exp.Neg):
        inner = _literal_number(node.this)
        return None if inner is None else -inner
    return None


def _check_sequence(node: exp.GenerateSeries) -> None:
    start, end = _literal_number(node.args.get("start")), _literal_number(node.args.get("end"))
    step = _literal_number(node.args.get("step")) or 1.0
    if start is not None and end is not None and abs((end - start) / step) + 1 > MAX_SEQUENCE:
        raise QueryFailed(
            f"INVALID_FUNCTION_ARGUMENT: result of sequence function must not have more than "
            f"{MAX_SEQUENCE} entries"
        )


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.GenerateSeries):
        _check_sequence(node)
        return node
    if not isinstance(node, exp.Anonymous):
        return node
    name = str(node.this).lower()
    if name == "to_timestamp":
        fmt = _pattern(node, name)
        # Trino's to_timestamp gives timestamp(3): parse, then drop below milliseconds.
        parsed = exp.Anonymous(
            this="strptime", expressions=[node.expressions[0], exp.Literal.string(fmt)]
        )
        return exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string("ms"), parsed])
    if name == "to_date":
        fmt = _pattern(node, name)
        parsed = exp.Anonymous(
            this="strptime", expressions=[node.expressions[0], exp.Literal.string(fmt)]
        )
        return exp.Cast(this=parsed, to=exp.DataType.build("date"))
    if name == "to_char":
        fmt = _pattern(node, name)
        return exp.Anonymous(
            this="strftime", expressions=[node.expressions[0], exp.Literal.string(fmt)]
        )
    if name in SAME_IN_DUCKDB:
        return node
    raise QueryFailed(f"FUNCTION_NOT_FOUND: line 1:1: Function '{name}' not registered")


def rewrite(tree: exp.Expr) -> exp.Expr:
    """Rewrite or refuse every function sqlglot left anonymous; returns the new tree."""
    return tree.transform(_rewrite)
