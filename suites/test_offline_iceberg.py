"""The Iceberg table format of the offline store (C-064, C-085, C-179, C-054, C-067).

The contract documents the file layout (C-064) and that the table is an Iceberg table of
Parquet files registered in Glue (C-085, C-179); the Glue ``Parameters`` are UNCERTAIN
(U-16), and the tests expect what Athena's own Iceberg tables carry: ``table_type=ICEBERG``
and a ``metadata_location`` under the table's ``metadata/`` prefix. The table is read with
pyiceberg over the backend's S3 client, so the same body runs on AWS.
"""

from __future__ import annotations

import dataclasses
import io
import re
from typing import Any

import pytest
from pyiceberg.io import FileIO, InputFile, InputStream, OutputFile
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import StaticTable
from pyiceberg.table.metadata import TableMetadata

from .helpers import feature
from .offline_helpers import OfflineStore, object_keys, put_after_update, record, wait_for_rows

pytestmark = [pytest.mark.offline_store, pytest.mark.slow]

U16 = pytest.mark.uncertain(
    "U-16: the Glue Parameters of an Iceberg table (table_type, metadata_location) and its "
    "Location are not documented"
)
# C-064: data/<8 alphanumerics>/<EventTimeFeatureName>_trunc=<YYYY-MM-DD>/<T>_<16>.parquet,
# the event-time name compared ignoring case (C-083).
DATA_KEY = re.compile(
    r"/data/[A-Za-z0-9]{8}/event_time_trunc=(\d{4}-\d{2}-\d{2})/(\d{8}T\d{6}Z)_[A-Za-z0-9]{16}"
    r"\.parquet$",
    re.IGNORECASE,
)
DEFINITIONS = [
    feature("customer_id", "String"),
    feature("event_time", "String"),  # C-015: Iceberg needs a String event time
    feature("n_days_active", "Fractional"),
]


class _S3Object(InputFile, OutputFile):
    """Read-only access to one object through the backend's S3 client."""

    def __init__(self, location: str, s3: Any) -> None:
        super().__init__(location)
        self._s3 = s3
        self._bucket, _, self._key = location[len("s3://") :].partition("/")

    def _body(self) -> bytes:
        return self._s3.get_object(Bucket=self._bucket, Key=self._key)["Body"].read()

    def __len__(self) -> int:
        return len(self._body())

    def exists(self) -> bool:
        return bool(self._s3.list_objects_v2(Bucket=self._bucket, Prefix=self._key)["KeyCount"])

    def open(self, seekable: bool = True) -> InputStream:
        return io.BytesIO(self._body())  # type: ignore[return-value]

    def create(self, overwrite: bool = False) -> Any:
        raise PermissionError("the suites never write the offline store's files")

    def to_input_file(self) -> InputFile:
        return self


class BackendS3FileIO(FileIO):
    def __init__(self, s3: Any) -> None:
        super().__init__({})
        self._s3 = s3

    def new_input(self, location: str) -> InputFile:
        return _S3Object(location, self._s3)

    def new_output(self, location: str) -> OutputFile:
        return _S3Object(location, self._s3)

    def delete(self, location: str | InputFile | OutputFile) -> None:
        raise PermissionError("the suites never delete the offline store's files")


def iceberg_table(backend, store: OfflineStore) -> StaticTable:
    """The table Glue points at, loaded with pyiceberg from its current metadata file."""
    table = backend.glue.get_table(DatabaseName=store.database, Name=store.table)["Table"]
    location = table["Parameters"]["metadata_location"]
    file_io = BackendS3FileIO(backend.s3)
    metadata: TableMetadata = FromInputFile.table_metadata(file_io.new_input(location))
    return StaticTable(("offline", store.table), metadata, location, file_io, catalog=None)  # type: ignore[arg-type]


def create_iceberg_group(backend) -> tuple[str, OfflineStore]:
    request = backend.feature_group_request(definitions=list(DEFINITIONS))
    request["OfflineStoreConfig"]["TableFormat"] = "Iceberg"
    description = backend.create_and_wait(request)
    return request["FeatureGroupName"], OfflineStore.of(description)


def put(backend, name: str, **values: Any) -> None:
    backend.runtime.put_record(FeatureGroupName=name, Record=record(**values))


def wait_for_iceberg_rows(backend, store: OfflineStore, expected: int) -> list[dict[str, Any]]:
    """Poll until the table's current snapshot holds ``expected`` rows (C-060); more fails."""

    def probe() -> list[dict[str, Any]]:
        rows = iceberg_table(backend, store).scan().to_arrow().to_pylist()
        if len(rows) > expected:
            pytest.fail(f"{store.table} holds {len(rows)} rows, more than {expected}")
        assert len(rows) == expected, f"{len(rows)} of {expected} Iceberg rows so far"
        return rows

    return backend.poll(probe, budget="offline", what=f"{expected} rows in Iceberg {store.table}")


def table_root(store: OfflineStore) -> str:
    """C-064: the table is ``…/<fg-name>-<creation-time>``, the parent of ``data``."""
    return store.s3_uri.rstrip("/").removesuffix("/data")


@pytest.mark.clause("C-179", "C-085")
@U16
def test_iceberg_group_is_registered_in_glue_as_an_iceberg_table(backend):
    _, store = create_iceberg_group(backend)

    def registered() -> dict[str, Any]:
        table = backend.glue.get_table(DatabaseName=store.database, Name=store.table)["Table"]
        assert "metadata_location" in table.get("Parameters", {}), table.get("Parameters")
        return table

    table = backend.poll(registered, budget="create", what=f"Iceberg table {store.table}")
    assert table["Parameters"]["table_type"].upper() == "ICEBERG"
    metadata = table["Parameters"]["metadata_location"]
    assert metadata.startswith(f"{table_root(store)}/metadata/")
    assert metadata.endswith(".metadata.json")
    assert table["StorageDescriptor"]["Location"].rstrip("/") == table_root(store)


@pytest.mark.no_snapshot(
    "it reads Iceberg files whose keys carry per-run random names and snapshot ids, which the normaliser cannot pair"
)
@pytest.mark.clause("C-064", "C-179", "C-061")
@U16
def test_iceberg_data_files_are_parquet_in_daily_event_time_partitions(backend):
    name, store = create_iceberg_group(backend)
    put(backend, name, customer_id="C1", event_time="2024-03-05T06:07:08Z", n_days_active=1)
    put(backend, name, customer_id="C2", event_time="2024-03-06T23:59:59Z", n_days_active=2)
    wait_for_iceberg_rows(backend, store, 2)

    keys = object_keys(backend, dataclasses.replace(store, s3_uri=table_root(store)))
    data = [key for key in keys if "/data/" in key]
    assert sorted(DATA_KEY.search(key).group(1) for key in data) == ["2024-03-05", "2024-03-06"]
    assert any("/metadata/" in key and key.endswith(".metadata.json") for key in keys)


@pytest.mark.no_snapshot(
    "it reads Iceberg files whose keys carry per-run random names and snapshot ids, which the normaliser cannot pair"
)
@pytest.mark.clause("C-179", "C-067", "C-060")
@U16
def test_each_replication_appends_a_snapshot_and_keeps_the_earlier_rows(backend):
    name, store = create_iceberg_group(backend)
    put(backend, name, customer_id="C1", event_time="2024-03-05T06:07:08Z", n_days_active=1)
    wait_for_iceberg_rows(backend, store, 1)
    put(backend, name, customer_id="C1", event_time="2024-03-05T07:00:00Z", n_days_active=2)
    rows = wait_for_iceberg_rows(backend, store, 2)

    assert sorted(row["n_days_active"] for row in rows) == [1.0, 2.0]
    assert {row["is_deleted"] for row in rows} == {False}
    assert len(iceberg_table(backend, store).metadata.snapshots) >= 2


@pytest.mark.no_snapshot(
    "it reads Iceberg files whose keys carry per-run random names and snapshot ids, which the normaliser cannot pair"
)
@pytest.mark.clause("C-054", "C-179", "C-067")
@U16
def test_an_added_feature_is_an_iceberg_schema_change(backend):
    name, store = create_iceberg_group(backend)
    put(backend, name, customer_id="C1", event_time="2024-03-05T06:07:08Z", n_days_active=1)
    wait_for_iceberg_rows(backend, store, 1)
    backend.sagemaker.update_feature_group(
        FeatureGroupName=name, FeatureAdditions=[feature("email", "String")]
    )
    backend.wait_for_update(name)
    put_after_update(
        backend,
        name,
        {
            "customer_id": "C1",
            "event_time": "2024-03-05T07:00:00Z",
            "n_days_active": 2,
            "email": "c1@example.com",
        },
        added=["email"],
    )
    rows = wait_for_iceberg_rows(backend, store, 2)

    table = iceberg_table(backend, store)
    assert "email" in {field.name.lower() for field in table.schema().fields}
    assert len(table.metadata.schemas) >= 2  # an evolved schema, not a new table
    by_time = {row["event_time"]: row for row in rows}
    assert by_time["2024-03-05T06:07:08Z"]["email"] is None  # C-067: the old row is untouched
    assert by_time["2024-03-05T07:00:00Z"]["email"] == "c1@example.com"


@pytest.mark.clause("C-179", "C-091", "C-090")
def test_athena_counts_the_rows_of_an_iceberg_table(backend):
    name, store = create_iceberg_group(backend)
    put(backend, name, customer_id="C1", event_time="2024-03-05T06:07:08Z", n_days_active=1)
    put(backend, name, customer_id="C2", event_time="2024-03-06T06:07:08Z", n_days_active=2)

    wait_for_rows(backend, store, 2)  # C-179: "Athena SELECT count(*) works"
