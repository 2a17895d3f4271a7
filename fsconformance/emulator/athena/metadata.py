"""Athena's catalogue operations, answered from the Glue Data Catalog the engine reads.

Athena's ``AwsDataCatalog`` is the account's Glue catalogue, so a table the offline store
registered in Glue (C-080) is the table ``GetTableMetadata`` describes and a query reads;
pyathena's ``get_table_metadata`` and its SQLAlchemy dialect's reflection call these. A
missing database or table is a ``MetadataException``, as on Athena.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ...model.errors import ServiceError
from .. import moto_seam
from ..state import FeatureStoreState
from .catalog import DEFAULT_CATALOG
from .handlers import decode_token, encode_token

OPERATIONS = (
    "GetDataCatalog",
    "ListDataCatalogs",
    "GetDatabase",
    "ListDatabases",
    "GetTableMetadata",
    "ListTableMetadata",
)
_PAGE_LIMIT = 50  # MaxResults of ListDatabases and ListTableMetadata (the model's maximum)


def metadata_error(message: str) -> ServiceError:
    return ServiceError("MetadataException", message, 400)


def handle(
    state: FeatureStoreState, operation: str, params: dict[str, Any]
) -> dict[str, Any] | None:
    """Answer a catalogue operation; ``None`` for a data catalog other than the account's
    Glue catalogue (one created with CreateDataCatalog lives in moto's Athena)."""
    account, region = state.account_id, state.region_name
    if operation == "ListDataCatalogs":
        return {"DataCatalogsSummary": [{"CatalogName": DEFAULT_CATALOG, "Type": "GLUE"}]}
    catalog = params.get("Name") if operation == "GetDataCatalog" else params.get("CatalogName")
    if str(catalog).lower() != DEFAULT_CATALOG.lower():
        return None
    if operation == "GetDataCatalog":
        return {
            "DataCatalog": {
                "Name": DEFAULT_CATALOG,
                "Description": "The AWS Glue Data Catalog of this account and Region.",
                "Type": "GLUE",
                "Parameters": {"catalog-id": account},
            }
        }
    if operation == "ListDatabases":
        names = moto_seam.glue_database_names(account, region)
        databases = [_database(moto_seam.glue_database(account, region, n) or {}) for n in names]
        return _page(databases, "DatabaseList", params, f"databases/{catalog}")
    database = str(params.get("DatabaseName"))
    if moto_seam.glue_database(account, region, database) is None:
        raise metadata_error(f"Database {database} was not found in the data catalog {catalog}.")
    if operation == "GetDatabase":
        return {"Database": _database(moto_seam.glue_database(account, region, database) or {})}
    if operation == "GetTableMetadata":
        name = str(params.get("TableName"))
        table = moto_seam.glue_table(account, region, database, name)
        if table is None:
            raise metadata_error(f"Table {name} was not found in the database {database}.")
        return {"TableMetadata": table_metadata(table)}
    matches = _expression(params.get("Expression"))
    tables = [
        table_metadata(table)
        for name in moto_seam.glue_table_names(account, region, database)
        if matches(name)
        and (table := moto_seam.glue_table(account, region, database, name)) is not None
    ]
    return _page(tables, "TableMetadataList", params, f"tables/{catalog}/{database}")


def _database(found: dict[str, Any]) -> dict[str, Any]:
    database: dict[str, Any] = {"Name": found.get("Name")}
    if found.get("Description"):
        database["Description"] = found["Description"]
    database["Parameters"] = dict(found.get("Parameters") or {})
    return database


def table_metadata(table: dict[str, Any]) -> dict[str, Any]:
    """A Glue table as Athena's ``TableMetadata``: its columns with their Hive types, and the
    storage descriptor folded into ``Parameters`` under the keys Athena uses."""
    descriptor = table.get("StorageDescriptor") or {}
    serde = descriptor.get("SerdeInfo") or {}
    parameters = {str(k): str(v) for k, v in (table.get("Parameters") or {}).items()}
    for key, value in (
        ("inputformat", descriptor.get("InputFormat")),
        ("outputformat", descriptor.get("OutputFormat")),
        ("location", descriptor.get("Location")),
        ("serde.serialization.lib", serde.get("SerializationLibrary")),
    ):
        if value:
            parameters[key] = str(value)
    for key, value in (serde.get("Parameters") or {}).items():
        parameters[f"serde.param.{key}"] = str(value)
    return {
        "Name": table.get("Name"),
        "CreateTime": _epoch(table.get("CreateTime")),
        "LastAccessTime": _epoch(table.get("UpdateTime")),
        "TableType": table.get("TableType") or "EXTERNAL_TABLE",
        "Columns": [_column(c) for c in descriptor.get("Columns") or []],
        "PartitionKeys": [_column(c) for c in table.get("PartitionKeys") or []],
        "Parameters": parameters,
    }


def _column(column: dict[str, Any]) -> dict[str, str]:
    found = {"Name": str(column.get("Name")), "Type": str(column.get("Type", "string"))}
    if column.get("Comment"):
        found["Comment"] = str(column["Comment"])
    return found


def _epoch(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return value if isinstance(value, (int, float)) else None


def _expression(expression: Any) -> Any:
    """Athena's table-name filter: ``*`` matches anything and ``|`` separates alternatives,
    compared without case, as Glue names are."""
    if not expression:
        return lambda name: True
    alternatives = [
        ".*".join(re.escape(part) for part in alternative.split("*"))
        for alternative in str(expression).split("|")
    ]
    pattern = re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)
    return lambda name: pattern.fullmatch(name) is not None


def _page(items: list[Any], key: str, params: dict[str, Any], scope: str) -> dict[str, Any]:
    start = decode_token(params["NextToken"], scope) if params.get("NextToken") else 0
    limit = int(params.get("MaxResults") or _PAGE_LIMIT)
    page: dict[str, Any] = {key: items[start : start + limit]}
    if start + limit < len(items):
        page["NextToken"] = encode_token(start + limit, scope)
    return page
