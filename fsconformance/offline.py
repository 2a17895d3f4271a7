"""Verifying a feature group's offline store the way a user does on AWS: SQL through pyathena.

The queries follow the contract: the table is addressed by the names DescribeFeatureGroup
reports (C-080, C-090), identifiers are double-quoted and lowercased (C-083), and waiting for
replication polls a row count with a deadline (C-060, C-091).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyathena import connect
from pyathena.connection import Connection

from .backends.base import Backend
from .s3_uri import split_s3_uri


@dataclass(frozen=True)
class OfflineStore:
    """Where a group's offline data lives, as DescribeFeatureGroup reports it (C-062, C-080)."""

    catalog: str
    database: str
    table: str
    s3_uri: str

    @classmethod
    def of(cls, description: dict[str, Any]) -> OfflineStore:
        config = description["OfflineStoreConfig"]
        catalog = config["DataCatalogConfig"]
        return cls(
            catalog=catalog["Catalog"],
            database=catalog["Database"],
            table=catalog["TableName"],
            s3_uri=config["S3StorageConfig"]["ResolvedOutputS3Uri"],
        )

    @property
    def qualified(self) -> str:
        """``"<db>"."<table>"``, quoted as C-083 asks."""
        return f'"{self.database}"."{self.table}"'

    @property
    def bucket(self) -> str:
        return split_s3_uri(self.s3_uri)[0]

    @property
    def prefix(self) -> str:
        return split_s3_uri(self.s3_uri)[1].rstrip("/")


def quoted(name: str) -> str:
    """A feature name as an Athena column: lowercased and double-quoted (C-083)."""
    return '"' + name.lower().replace('"', '""') + '"'


class OfflineVerifier:
    """Runs Athena SQL on a backend's offline store through pyathena's DB-API cursor."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def connect(self, store: OfflineStore) -> Connection:
        return connect(
            s3_staging_dir=self.backend.athena_output,
            region_name=self.backend.region,
            schema_name=store.database,
            catalog_name=store.catalog,
            poll_interval=self.backend.budgets.poll_interval,
            **self.backend.client_options(),
        )

    def rows(self, store: OfflineStore, sql: str) -> list[dict[str, Any]]:
        """The rows of a SELECT as {column: value}, typed by pyathena from Athena's types."""
        with self.connect(store) as connection:
            cursor = connection.cursor()
            cursor.execute(sql)
            columns = [column[0] for column in cursor.description or []]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, store: OfflineStore, sql: str) -> Any:
        rows = self.rows(store, sql)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return next(iter(rows[0].values()))

    def count(self, store: OfflineStore, where: str = "") -> int:
        clause = f" WHERE {where}" if where else ""
        return int(self.scalar(store, f"SELECT count(*) FROM {store.qualified}{clause}"))

    def wait_for_rows(self, store: OfflineStore, expected: int) -> None:
        """Poll the row count until it is ``expected`` (C-060, C-091).

        Counts below it are normal while replication runs; a count above it fails at once,
        since the offline store holds exactly what was put (C-067).
        """

        def probe() -> bool:
            count = self.count(store)
            if count > expected:
                raise RuntimeError(
                    f"{store.table} holds {count} offline rows, more than {expected}"
                )
            assert count == expected, f"{count} of {expected} offline rows so far"
            return True

        self.backend.poll(
            probe,
            budget="offline",
            what=f"{expected} offline rows in {store.table}",
        )

    def latest_records(
        self, store: OfflineStore, record_identifier: str, event_time: str
    ) -> list[dict[str, Any]]:
        """The documented latest-snapshot query without deleted records (C-093 1 and 2)."""
        return self.rows(
            store,
            f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {quoted(record_identifier)} "
            f"ORDER BY {quoted(event_time)} DESC, api_invocation_time DESC, write_time DESC) "
            f"AS row_num FROM {store.qualified}) WHERE row_num = 1 AND NOT is_deleted",
        )
