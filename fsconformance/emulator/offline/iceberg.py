"""The Iceberg table format of the offline store (C-064, C-085, C-179), written with pyiceberg.

A group created with ``OfflineStoreConfig.TableFormat=Iceberg`` gets a real Apache Iceberg
table: pyiceberg writes its metadata, manifest lists and manifests under
``<table>/metadata/``; the emulation writes the Parquet data files itself, so that their keys
follow the documented layout (C-064)::

    <table>/data/<8 alphanumerics>/<event time>_trunc=<YYYY-MM-DD>/<T>_<16 alphanumerics>.parquet

where ``<table>`` is ``ResolvedOutputS3Uri`` without its final ``/data``. Each replication
batch is one ``add_files`` commit, so one snapshot per batch. The table is registered in moto's
Glue as Athena registers Iceberg tables; that part is UNCERTAIN in the contract (C-179), and
this is the decided expectation (U-16):

* ``Parameters``: ``table_type=ICEBERG``, ``metadata_location`` (the current
  ``metadata/<version>-<uuid>.metadata.json``), ``previous_metadata_location`` after a commit;
* ``StorageDescriptor.Location``: the table location, columns as in the Glue format;
* the event-time column lowercased in the partition folder name, as every column (C-083).

Every byte goes through ``moto_seam`` (``SeamFileIO``), encrypted under the group's offline
KMS key when it has one (C-191); the current metadata location lives in the offline store's bookkeeping, so a
Glue table the owner deleted never stops replication (C-084).
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import MetastoreCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.io import FileIO, InputFile, InputStream, OutputFile, OutputStream
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table import CommitTableResponse, StaticTable, Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.name_mapping import create_mapping_from_schema
from pyiceberg.transforms import TruncateTransform
from pyiceberg.types import (
    BooleanType,
    DoubleType,
    IcebergType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from ... import s3_uri
from ...model.control_plane import FeatureGroup
from ...model.records import OfflineRow
from .. import encryption, moto_seam
from ..state import FeatureStoreState
from . import glue_tables
from .progress import progress
from .replication import file_name, parquet_file, random_alphanumerics, split_s3_uri

ICEBERG_TYPES: dict[str, type[IcebergType]] = {
    "Integral": LongType,
    "Fractional": DoubleType,
    "String": StringType,
}
BOOKKEEPING_TYPES: dict[str, type[IcebergType]] = {
    "write_time": TimestamptzType,
    "api_invocation_time": TimestamptzType,
    "is_deleted": BooleanType,
}
_ACCOUNT, _REGION = "fsconformance.account-id", "fsconformance.region"
_KMS_KEY = "fsconformance.kms-key-id"  # the key every file written is encrypted under (C-191)
_IO_IMPL = f"{__name__}.SeamFileIO"


def table_location(group: FeatureGroup) -> str:
    """C-064: the table is ``<…>/<group>-<creation epoch>``; its data goes under ``data/``."""
    resolved = glue_tables.location_of(group).rstrip("/")
    return resolved[: -len("/data")] if resolved.endswith("/data") else resolved


# -- a FileIO over moto's S3, through the seam ---------------------------------------------


class _Upload(io.BytesIO):
    """A buffer stored as one object when closed (Iceberg files are written whole)."""

    def __init__(self, target: _SeamFile) -> None:
        super().__init__()
        self._target = target

    def close(self) -> None:
        if not self.closed:
            self._target.store(self.getvalue())
        super().close()


class _SeamFile(InputFile, OutputFile):
    def __init__(
        self, location: str, account_id: str, region: str, kms_key_id: str | None = None
    ) -> None:
        super().__init__(location)
        self._account, self._region = account_id, region
        self._bucket, self._key = s3_uri.split_s3_uri(location)
        self._kms_key_id = kms_key_id

    def _body(self) -> bytes:
        try:
            return moto_seam.s3_get(self._account, self._region, self._bucket, self._key)
        except Exception as error:  # moto raises its own missing-key and missing-bucket errors
            raise FileNotFoundError(self.location) from error

    def __len__(self) -> int:
        return len(self._body())

    def exists(self) -> bool:
        try:
            self._body()
        except FileNotFoundError:
            return False
        return True

    def open(self, seekable: bool = True) -> InputStream:
        return io.BytesIO(self._body())

    def create(self, overwrite: bool = False) -> OutputStream:
        if not overwrite and self.exists():
            raise FileExistsError(self.location)
        return _Upload(self)

    def to_input_file(self) -> InputFile:
        return self

    def store(self, body: bytes) -> None:
        moto_seam.s3_put(
            self._account, self._region, self._bucket, self._key, body, kms_key_id=self._kms_key_id
        )


class SeamFileIO(FileIO):
    """pyiceberg's FileIO over moto's S3 for one account and region (named in properties)."""

    def _file(self, location: str) -> _SeamFile:
        return _SeamFile(
            location,
            self.properties[_ACCOUNT],
            self.properties[_REGION],
            self.properties.get(_KMS_KEY) or None,
        )

    def new_input(self, location: str) -> InputFile:
        return self._file(location)

    def new_output(self, location: str) -> OutputFile:
        return self._file(location)

    def delete(self, location: str | InputFile | OutputFile) -> None:
        path = location if isinstance(location, str) else location.location
        bucket, key = s3_uri.split_s3_uri(path)
        moto_seam.s3_delete(self.properties[_ACCOUNT], self.properties[_REGION], bucket, key)


def file_io_properties(
    account_id: str, region: str, kms_key_id: str | None = None
) -> dict[str, str]:
    properties = {"py-io-impl": _IO_IMPL, _ACCOUNT: account_id, _REGION: region}
    if kms_key_id:
        properties[_KMS_KEY] = kms_key_id
    return properties


# -- the catalog: the offline bookkeeping holds the pointer, Glue mirrors it ---------------


class SeamCatalog(MetastoreCatalog):
    """Just enough of a pyiceberg catalog to create, load and commit the groups' tables; one
    group's files are written through a catalog made for that group (its KMS key)."""

    def __init__(self, state: FeatureStoreState, group: FeatureGroup | None = None) -> None:
        key = encryption.offline_object_key(state, group) if group is not None else None
        super().__init__(
            "fsconformance", **file_io_properties(state.account_id, state.region_name, key)
        )
        self._state = state

    def _group(self, identifier: Any) -> FeatureGroup:
        wanted = (
            tuple(identifier) if not isinstance(identifier, str) else tuple(identifier.split("."))
        )
        for group in self._state.control_plane.groups():
            catalog = glue_tables.catalog_of(group) or {}
            if (catalog.get("Database"), catalog.get("TableName")) == wanted:
                return group
        raise NoSuchTableError(".".join(wanted))

    def load_table(self, identifier: Any) -> Table:
        group = self._group(identifier)
        location = progress(self._state).metadata_location.get((group.arn, group.created))
        if location is None:
            raise NoSuchTableError(".".join(identifier))
        io_ = self._load_file_io(location=location)
        metadata = StaticTable.from_metadata(location, self.properties).metadata
        return Table(tuple(identifier), metadata, location, io_, self)

    def commit_table(
        self, table: Table, requirements: tuple[Any, ...], updates: tuple[Any, ...]
    ) -> CommitTableResponse:
        staged = self._update_and_stage_table(table, table.name(), requirements, updates)
        self._write_metadata(staged.metadata, staged.io, staged.metadata_location)
        _publish(self._state, self._group(table.name()), staged.metadata, staged.metadata_location)
        # pydantic takes the field by name as well as by its alias, "metadata-location"
        return CommitTableResponse(
            metadata=staged.metadata,
            metadata_location=staged.metadata_location,  # type: ignore[call-arg]
        )

    # The rest of the Catalog interface is not needed by the emulation.
    def _unsupported(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the emulation's Iceberg catalog only creates and commits")

    create_table = register_table = drop_table = rename_table = _unsupported
    create_namespace = drop_namespace = list_tables = list_namespaces = _unsupported
    list_views = load_view = drop_view = view_exists = register_view = _unsupported
    load_namespace_properties = update_namespace_properties = _unsupported


def _glue_input(group: FeatureGroup, metadata: TableMetadata, location: str) -> dict[str, Any]:
    """The Glue ``TableInput`` of the Iceberg table (U-16, the decided expectation)."""
    catalog = glue_tables.catalog_of(group) or {}
    columns = [
        {"Name": field.name, "Type": _glue_type(field.field_type)}
        for field in metadata.schema().fields
    ]
    return {
        "Name": catalog.get("TableName", ""),
        "Description": f"Offline store of the SageMaker feature group {group.name}",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "table_type": "ICEBERG", "metadata_location": location},
        "PartitionKeys": [],
        "StorageDescriptor": {"Columns": columns, "Location": metadata.location},
    }


def _glue_type(kind: IcebergType) -> str:
    names: dict[type, str] = {
        LongType: "bigint",
        DoubleType: "double",
        StringType: "string",
        TimestamptzType: "timestamp",
        BooleanType: "boolean",
    }
    return names[type(kind)]


def _publish(
    state: FeatureStoreState, group: FeatureGroup, metadata: TableMetadata, location: str
) -> None:
    """Point the bookkeeping and the Glue table at a newly written metadata file."""
    pointers = progress(state).metadata_location
    key = (group.arn, group.created)
    previous = pointers.get(key)
    pointers[key] = location
    catalog = glue_tables.catalog_of(group)
    if catalog is None:
        return
    account, region = state.account_id, state.region_name
    database, name = catalog["Database"], catalog["TableName"]
    table_input = _glue_input(group, metadata, location)
    if previous is None:
        moto_seam.glue_ensure_database(account, region, database)
        moto_seam.glue_create_table(account, region, database, name, table_input)
        return
    if moto_seam.glue_table_input(account, region, database, name) is None:
        return  # the owner deleted the table (C-084); never re-create it
    table_input["Parameters"]["previous_metadata_location"] = previous
    moto_seam.glue_update_table(account, region, database, name, table_input)


# -- the schema, the table, the appends ------------------------------------------------------


def iceberg_schema(definitions: list[dict[str, Any]]) -> Schema:
    """C-066 types, lowercased names (C-083), then the bookkeeping columns (C-065)."""
    fields = [
        NestedField(i, d["FeatureName"].lower(), ICEBERG_TYPES[d["FeatureType"]](), required=False)
        for i, d in enumerate(definitions, 1)
    ]
    for name, kind in BOOKKEEPING_TYPES.items():
        fields.append(NestedField(len(fields) + 1, name, kind(), required=False))
    return Schema(*fields)


def partition_field_name(group: FeatureGroup) -> str:
    return f"{group.event_time_feature.lower()}_trunc"


def _create(state: FeatureStoreState, group: FeatureGroup) -> None:
    """Write the table's first metadata (no snapshot) and register it in Glue."""
    schema = iceberg_schema(group.definitions)
    source = schema.find_field(group.event_time_feature.lower()).field_id
    # C-064: daily partitions, the first 10 characters of the ISO event time (YYYY-MM-DD).
    spec = PartitionSpec(
        PartitionField(source, 1000, TruncateTransform(10), partition_field_name(group))
    )
    properties = {
        "schema.name-mapping.default": create_mapping_from_schema(schema).model_dump_json()
    }
    catalog = SeamCatalog(state, group)
    staged = catalog._create_staged_table(
        _identifier(group), schema, table_location(group), spec, properties=properties
    )
    catalog._write_metadata(staged.metadata, staged.io, staged.metadata_location)
    _publish(state, group, staged.metadata, staged.metadata_location)


def _identifier(group: FeatureGroup) -> tuple[str, str]:
    catalog = glue_tables.catalog_of(group) or {}
    return catalog.get("Database", ""), catalog.get("TableName", "")


def table_of(state: FeatureStoreState, group: FeatureGroup) -> Table:
    """The group's Iceberg table, created (first metadata, no snapshot) if it has none yet."""
    if (group.arn, group.created) not in progress(state).metadata_location:
        _create(state, group)
    return SeamCatalog(state, group).load_table(_identifier(group))


def sync(state: FeatureStoreState, group: FeatureGroup) -> None:
    """Create the table, or add the features an update added as columns (an Iceberg schema
    change, placed before the bookkeeping columns as in the Glue format)."""
    synced = progress(state).glue_synced  # the Glue-format sync skips Iceberg groups
    key, names = (group.arn, group.created), tuple(d["FeatureName"] for d in group.definitions)
    if synced.get(key) == names:
        return  # the common case on every request: nothing to read
    table = table_of(state, group)
    synced[key] = names
    have = {field.name for field in table.schema().fields}
    missing = [d for d in group.definitions if d["FeatureName"].lower() not in have]
    if not missing:
        return
    with table.update_schema() as update:
        for definition in missing:
            name = definition["FeatureName"].lower()
            update.add_column(name, ICEBERG_TYPES[definition["FeatureType"]]())
            update.move_before(name, "write_time")


def data_key(prefix: str, partition_name: str, day: str, file_name: str) -> str:
    """C-064: ``data/<8 alphanumerics>/<event time>_trunc=<YYYY-MM-DD>/<file name>``."""
    folder = random_alphanumerics(8)
    return f"{prefix}/data/{folder}/{partition_name}={day}/{file_name}"


def write_rows(
    state: FeatureStoreState, group: FeatureGroup, rows: list[OfflineRow], now: float
) -> None:
    """One file per event-time day, all appended in one commit: one snapshot per batch."""
    sync(state, group)
    table = table_of(state, group)
    bucket, prefix = split_s3_uri(table_location(group))
    sse = encryption.offline_object_key(state, group)
    days: dict[str, list[OfflineRow]] = {}
    for row in rows:
        days.setdefault(str(row.values.get(group.event_time_feature, ""))[:10], []).append(row)
    paths = []
    for day, members in days.items():
        key = data_key(
            prefix, partition_field_name(group), day, file_name(max(r.event_time for r in members))
        )
        body = parquet_file(members, group.definitions, now)
        moto_seam.s3_put(state.account_id, state.region_name, bucket, key, body, kms_key_id=sse)
        paths.append(f"s3://{bucket}/{key}")
    table.add_files(paths, check_duplicate_files=False)


def sync_all(state: FeatureStoreState, groups: list[FeatureGroup]) -> None:
    """Bring the Iceberg tables of ``groups`` (live Iceberg groups of ``state``) in line with
    their features (call with the state's lock)."""
    for group in groups:
        names = tuple(d["FeatureName"] for d in group.definitions)
        if progress(state).glue_synced.get((group.arn, group.created)) == names:
            continue  # every request ticks: skip the bucket lookup when nothing changed
        bucket, _ = split_s3_uri(table_location(group))
        if moto_seam.s3_bucket_exists(state.account_id, state.region_name, bucket):
            sync(state, group)  # without its bucket the table waits, as the rows do


def read_table(account_id: str, region: str, table_input: dict[str, Any]) -> pa.Table:
    """The rows of an Iceberg table as Arrow, from its Glue ``TableInput`` (for Athena).

    Reads the metadata file that ``Parameters.metadata_location`` names and scans the current
    snapshot with pyiceberg; every byte through moto's S3. Files written before a schema change
    come back with NULL in the added columns. Raises ``ValueError`` if the input is not an
    Iceberg table.
    """
    parameters = table_input.get("Parameters") or {}
    if str(parameters.get("table_type", "")).upper() != "ICEBERG":
        raise ValueError(f"{table_input.get('Name')!r} is not an Iceberg table")
    location = parameters.get("metadata_location")
    if not location:
        raise ValueError(f"{table_input.get('Name')!r} has no metadata_location")
    table = StaticTable.from_metadata(location, file_io_properties(account_id, region))
    return table.scan().to_arrow()
