"""A query's text into the statement that runs it: Athena's Trino SQL, Hive DDL for
CREATE EXTERNAL TABLE and DROP TABLE, and the statements sqlglot does not parse (SHOW,
DESCRIBE, MSCK REPAIR TABLE, UNLOAD)."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from .engine import QueryFailed, first_line
from .statements import (
    Describe,
    Failed,
    RepairTable,
    Select,
    ShowColumns,
    ShowDatabases,
    ShowTables,
    Statement,
)
from .writes import CreateExternalTable, CreateTableAs, DropTable, Unload

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
