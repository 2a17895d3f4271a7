"""Parsed Parquet objects of moto's S3, by object version, for Athena's reads (C-090).

Replication holds every file it writes as an Arrow table already, so it leaves that table
here and Athena's first query over fresh rows parses nothing it wrote. An entry is keyed by
the object's ETag (an object a user overwrites is parsed afresh) and lasts no longer than the
version it was made from: once moto lets go of that version (deleted, replaced, or reset),
the table goes too, so deleted data holds no memory.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import pyarrow as pa

from ..moto_seam import StoredObject

# (account, region, bucket, key, etag) -> (table, size of the object in bytes, its version)
FileKey = tuple[str, str, str, str, str]
_TABLES: OrderedDict[FileKey, tuple[pa.Table, int, weakref.ref]] = OrderedDict()
_LOCK = threading.RLock()  # a version may die, and call back, in any thread
CAPACITY = 4096  # files; past it the least recently used are parsed again when read


def file_key(account_id: str, region: str, bucket: str, key: str, etag: str) -> FileKey:
    return (account_id, region, bucket, key, etag)


def get(key: FileKey) -> tuple[pa.Table, int] | None:
    with _LOCK:
        found = _TABLES.get(key)
        if found is None or found[2]() is None:
            return None
        _TABLES.move_to_end(key)
        return found[0], found[1]


def put(key: FileKey, table: pa.Table, size: int, stored: StoredObject) -> None:
    """Keep ``table`` for ``key`` while moto keeps the object version ``stored``."""
    version = weakref.ref(stored.handle, lambda dead: _discard(key, dead))
    with _LOCK:
        _TABLES[key] = (table, size, version)
        _TABLES.move_to_end(key)
        while len(_TABLES) > CAPACITY:
            _TABLES.popitem(last=False)


def _discard(key: FileKey, version: weakref.ref) -> None:
    # Only the entry made from this version: the key may have been filled again since.
    with _LOCK:
        found = _TABLES.get(key)
        if found is not None and found[2] is version:
            del _TABLES[key]


def clear() -> None:
    """Forget every table: the next read of each file parses its stored bytes."""
    with _LOCK:
        _TABLES.clear()


def count(bucket: str | None = None) -> int:
    """How many files are held parsed (of one bucket, if given)."""
    with _LOCK:
        return sum(1 for key in _TABLES if bucket is None or key[2] == bucket)
