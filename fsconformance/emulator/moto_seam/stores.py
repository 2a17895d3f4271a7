"""The stores moto keeps that the emulation reads and writes: Glue (the offline store's catalog,
names matched ignoring case as Glue does), S3 (the offline store's files and Athena's results)
and KMS (the keys a group's stores are encrypted with, C-191)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

# -- Glue (the offline store's catalog, C-080-C-083) ----------------------------------------


def _glue(account_id: str, region: str) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region]


# Glue folds database and table names to lower case when it stores them, so any spelling
# finds them (an Iceberg group's DataCatalogConfig says "SageMaker_FeatureStore", C-080);
# moto looks names up as given. While the emulation is active (a request hook installed, or a
# server app made in this process), moto's Glue looks a name up as given, then ignoring case.
_glue_originals: dict[str, Any] = {}


def fold_glue_names(on: bool) -> None:
    """Patch moto's Glue to fold names (``on``), or leave it as moto shipped it. The seam
    counts the users (``_adjust_moto``)."""
    from moto.glue.models import GlueBackend

    if on and not _glue_originals:
        get_database, get_table = GlueBackend.get_database, GlueBackend.get_table

        def folded_database(self: Any, database_name: str) -> Any:
            found = _find_ci(self.databases, database_name)
            return found if found is not None else get_database(self, database_name)

        def folded_table(self: Any, database_name: str, table_name: str) -> Any:
            found = _find_ci(self.get_database(database_name).tables, table_name)
            return found if found is not None else get_table(self, database_name, table_name)

        _glue_originals.update(get_database=get_database, get_table=get_table)
        GlueBackend.get_database = folded_database  # type: ignore[method-assign]
        GlueBackend.get_table = folded_table  # type: ignore[method-assign]
    elif not on and _glue_originals:
        for name, original in _glue_originals.items():
            setattr(GlueBackend, name, original)
        _glue_originals.clear()


def glue_ensure_database(account_id: str, region: str, database: str) -> None:
    """Create the Glue database unless it exists in any case; stored lowercased, as Glue does."""
    glue = _glue(account_id, region)
    if _find_ci(glue.databases, database) is None:
        glue.create_database(database.lower(), {"Name": database.lower()})


def glue_table_input(account_id: str, region: str, database: str, table: str) -> dict | None:
    """The current ``TableInput`` of a Glue table, or ``None`` if there is no such table.

    Names are matched case-insensitively, as Athena does (C-083).
    """
    glue = _glue(account_id, region)
    found = _find_ci(glue.databases, database)
    if found is None:
        return None
    entry = _find_ci(found.tables, table)
    if entry is None:
        return None
    return entry.get_version(str(entry._current_version))


def glue_database(account_id: str, region: str, database: str) -> dict[str, Any] | None:
    """A Glue database as GetDatabase shows it (names case-insensitive, C-083), or ``None``."""
    found = _find_ci(_glue(account_id, region).databases, database)
    return None if found is None else found.as_dict()


def glue_table(account_id: str, region: str, database: str, table: str) -> dict[str, Any] | None:
    """A Glue table's current ``TableInput`` with its name, database and times, or ``None``."""
    found = _find_ci(_glue(account_id, region).databases, database)
    entry = None if found is None else _find_ci(found.tables, table)
    if entry is None:
        return None
    return {
        **entry.get_version(str(entry._current_version)),
        "Name": entry.name,
        "DatabaseName": found.name,
        "CreateTime": entry.created_time,
        "UpdateTime": entry.updated_time or entry.created_time,
    }


def glue_create_table(
    account_id: str, region: str, database: str, table: str, table_input: dict
) -> None:
    """Create a Glue table (the database must exist); an existing table is left alone."""
    glue = _glue(account_id, region)
    found = _find_ci(glue.databases, database)
    if found is None:
        raise KeyError(f"no Glue database {database}")
    if _find_ci(found.tables, table) is None:
        glue.create_table(found.name, table, table_input)


def glue_update_table(
    account_id: str, region: str, database: str, table: str, table_input: dict
) -> None:
    """Replace a Glue table's definition with a new version, as UpdateTable does."""
    found = _find_ci(_glue(account_id, region).databases, database)
    entry = _find_ci(found.tables, table) if found is not None else None
    if entry is None:
        raise KeyError(f"no Glue table {database}.{table}")
    entry.update(table_input)


def glue_database_exists(account_id: str, region: str, database: str) -> bool:
    """Whether a Glue database of that name exists (case-insensitive, C-083)."""
    return _find_ci(_glue(account_id, region).databases, database) is not None


def glue_database_names(account_id: str, region: str) -> list[str]:
    """Every Glue database name, sorted."""
    return sorted(_glue(account_id, region).databases)


def glue_table_names(account_id: str, region: str, database: str) -> list[str]:
    """The table names of a Glue database, sorted; [] if there is no such database."""
    found = _find_ci(_glue(account_id, region).databases, database)
    return sorted(found.tables) if found is not None else []


def glue_delete_table(account_id: str, region: str, database: str, table: str) -> bool:
    """Delete a Glue table (names case-insensitive); False if there was none."""
    glue = _glue(account_id, region)
    for db_name, found in list(glue.databases.items()):
        if db_name.lower() != database.lower():
            continue
        for name in list(found.tables):
            if name.lower() == table.lower():
                glue.delete_table(db_name, name)
                return True
    return False


def _find_ci(mapping: dict[str, Any], name: str) -> Any:
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    for key, value in mapping.items():
        if key.lower() == lowered:
            return value
    return None


# -- S3 (the offline store's files and Athena's results) ------------------------------------


def _s3(account_id: str, region: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account_id][get_partition(region)]


def s3_bucket_exists(account_id: str, region: str, bucket: str) -> bool:
    from moto.s3.exceptions import MissingBucket

    try:
        _s3(account_id, region).get_bucket(bucket)
    except MissingBucket:
        return False
    return True


@dataclass(frozen=True)
class StoredObject:
    """One version of an object in moto's S3, as a handle that lives exactly as long as moto
    keeps that version (a weak reference to it tells when it is gone)."""

    handle: Any

    @property
    def etag(self) -> str:
        # moto hashes the body on the first ask and keeps it: only callers that need the
        # ETag pay for it.
        return str(self.handle.etag)


def s3_put(
    account_id: str,
    region: str,
    bucket: str,
    key: str,
    body: bytes,
    *,
    kms_key_id: str | None = None,
) -> StoredObject:
    """Store an object in moto's S3 without a request (no re-entry into the mock).

    With ``kms_key_id`` the object is encrypted SSE-KMS under that key (HeadObject and
    GetObject say ``aws:kms`` and the key); without it, the bucket's default encryption
    applies, as for any PutObject that names none.
    """
    if kms_key_id is None:
        return StoredObject(_s3(account_id, region).put_object(bucket, key, body))
    return StoredObject(
        _s3(account_id, region).put_object(
            bucket, key, body, encryption="aws:kms", kms_key_id=kms_key_id
        )
    )


def s3_objects(account_id: str, region: str, bucket: str, prefix: str) -> list[tuple[str, str]]:
    """(key, etag) of every object under ``prefix``, sorted by key; [] if there is no bucket."""
    from moto.s3.exceptions import MissingBucket

    try:
        bucket_obj = _s3(account_id, region).get_bucket(bucket)
    except MissingBucket:
        return []
    found = []
    for name in list(bucket_obj.keys.keys()):
        if name.startswith(prefix):
            key = bucket_obj.keys.get(name)
            if key is not None and not getattr(key, "is_delete_marker", False):
                found.append((name, key.etag))
    return sorted(found)


def s3_get(account_id: str, region: str, bucket: str, key: str) -> bytes:
    return s3_read(account_id, region, bucket, key)[0]


def s3_read(account_id: str, region: str, bucket: str, key: str) -> tuple[bytes, StoredObject]:
    """An object's body and the version it was read from; KeyError if there is none."""
    obj = _s3(account_id, region).get_object(bucket, key)
    if obj is None:
        raise KeyError(key)
    return obj.value, StoredObject(obj)


def s3_delete(account_id: str, region: str, bucket: str, key: str) -> None:
    """Remove an object (the Iceberg FileIO's delete); a missing one is not an error."""
    from moto.s3.exceptions import MissingBucket

    with contextlib.suppress(MissingBucket):
        _s3(account_id, region).delete_object(bucket, key)


# -- KMS (the keys a group's stores are encrypted with, C-191) -------------------------------


def _kms(account_id: str, region: str) -> Any:
    from moto.kms.models import kms_backends

    return kms_backends[account_id][region]


def _key_home(account_id: str, region: str, key_id: str) -> tuple[str, str]:
    """The account and region a key lives in: a key or alias ARN names them."""
    parts = key_id.split(":")
    if key_id.startswith("arn:") and len(parts) >= 6 and parts[2] == "kms":
        return parts[4] or account_id, parts[3] or region
    return account_id, region


def kms_key_arn(account_id: str, region: str, key_id: str) -> str | None:
    """The ARN of the key ``key_id`` names (a key id, key ARN, alias or alias ARN), or None if
    moto's KMS has no such key."""
    home = _key_home(account_id, region, key_id)
    try:
        return str(_kms(*home).describe_key(key_id).arn)
    except Exception:  # moto raises its own not-found errors, or KeyError for an unknown alias
        return None


def kms_create_grant(
    account_id: str, region: str, key_id: str, name: str, grantee: str, operations: list[str]
) -> bool:
    """Create a grant on a key unless one of that name exists; False if there is no such key."""
    home = _key_home(account_id, region, key_id)
    kms = _kms(*home)
    try:
        key = kms.describe_key(key_id)
    except Exception:
        return False
    if any(grant.name == name for grant in key.grants.values()):
        return True
    kms.create_grant(key.id, grantee, list(operations), name, {}, grantee)
    return True


def kms_retire_grants(account_id: str, region: str, key_id: str, name: str) -> int:
    """Retire every grant of that name on a key; how many were retired."""
    home = _key_home(account_id, region, key_id)
    kms = _kms(*home)
    try:
        key = kms.describe_key(key_id)
    except Exception:
        return 0
    named = [grant_id for grant_id, grant in key.grants.items() if grant.name == name]
    for grant_id in named:
        kms.retire_grant(key.id, grant_id, "")
    return len(named)
