"""Replication of offline rows to Parquet files in moto's S3 (C-060-C-065, C-067, C-102).

The data-plane model appends an ``OfflineRow`` for every put or delete that targets the
offline store. This module writes those rows, exactly once each, as Parquet files under the
group's ``ResolvedOutputS3Uri`` in the Glue-format layout of C-063::

    <ResolvedOutputS3Uri>/year=YYYY/month=MM/day=DD/hour=HH/<yyyyMMddTHHmmssZ>_<16 chars>.parquet

When rows are written, and which writer writes them, is ``offline.flush``'s: this module is
the Glue format's writer and the layout helpers the Iceberg writer shares.

A batch is converted to Arrow once, column by column, and each file is a slice of it; the
tables are left in ``parsed_files`` so the first query over them parses nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
import math
import operator
import os
import string
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ... import s3_uri
from ...model.control_plane import FeatureGroup
from ...model.records import OfflineRow
from .. import encryption, moto_seam
from ..state import FeatureStoreState
from . import glue_tables, parsed_files

ARROW_TYPES = {"Integral": pa.int64(), "Fractional": pa.float64(), "String": pa.string()}
TIMESTAMP = pa.timestamp("ms", tz="UTC")
_ALPHANUMERICS = string.ascii_letters + string.digits
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix without a trailing slash)."""
    bucket, prefix = s3_uri.split_s3_uri(uri)
    return bucket, prefix.rstrip("/")


def utc(epoch: float) -> dt.datetime:
    """Epoch seconds as an aware UTC datetime, clamped to what datetime can hold."""
    try:
        return _EPOCH + dt.timedelta(seconds=epoch)
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def partition_path(event_time: float) -> str:
    """C-063: hourly partition folders from the event time, in UTC, zero-padded."""
    return _hour_path(math.floor(event_time / 3600))


@functools.lru_cache(maxsize=4096)
def _hour_path(hour: int) -> str:
    # Cached by the hour: a batch's rows share a few hours, and a million rows would
    # otherwise build a million datetimes.
    moment = utc(hour * 3600)
    return (
        f"year={moment.year:04d}/month={moment.month:02d}/day={moment.day:02d}/"
        f"hour={moment.hour:02d}"
    )


def file_name(latest_event_time: float) -> str:
    """C-063: ``<yyyyMMdd'T'HHmmss'Z'>_<16 alphanumerics>.parquet``."""
    stamp = utc(latest_event_time).strftime("%Y%m%dT%H%M%SZ")
    if len(stamp) < 16:  # years before 1000 are not zero-padded by strftime everywhere
        stamp = stamp.zfill(16)
    return f"{stamp}_{random_alphanumerics(16)}.parquet"


def random_alphanumerics(count: int) -> str:
    """``count`` random letters and digits from one read of the system's random source."""
    # A byte a character holds more than the log2(62) bits each needs; one read instead of
    # a read per character (secrets.choice) keeps a batch of a thousand files cheap.
    number = int.from_bytes(os.urandom(count), "big")
    characters = []
    for _ in range(count):
        number, digit = divmod(number, len(_ALPHANUMERICS))
        characters.append(_ALPHANUMERICS[digit])
    return "".join(characters)


def arrow_type(definition: dict[str, Any]) -> pa.DataType:
    """C-066: Integral -> int64, Fractional -> double, String -> string (lists for collections)."""
    scalar = ARROW_TYPES[definition["FeatureType"]]
    return pa.list_(scalar) if definition.get("CollectionType") else scalar


# C-level field readers: a batch can hold a million rows.
_VALUES = operator.attrgetter("values")
_EVENT_TIME = operator.attrgetter("event_time")
_INVOKED = operator.attrgetter("api_invocation_time")
_DELETED = operator.attrgetter("is_deleted")
_CONVERSIONS: dict[str, Callable[[str], Any]] = {"Integral": int, "Fractional": float}


def _python_column(values: list[Any], definition: dict[str, Any]) -> list[Any]:
    """``values`` in Python types, None kept: the exact reference conversion."""
    convert = _CONVERSIONS.get(definition["FeatureType"])
    if convert is None:
        return values
    if definition.get("CollectionType"):
        return [None if v is None else [convert(item) for item in v] for v in values]
    return [None if v is None else convert(v) for v in values]


def _column(records: list[dict[str, Any]], definition: dict[str, Any]) -> pa.Array:
    """One feature's values as an Arrow column, NULL where a row has none.

    Scalars are parsed by Arrow, about ten times faster than int() and float() a value; where
    Arrow will not parse a form Python does ("+5"), the column falls back to Python's parse,
    which the values were validated against.
    """
    values = list(map(dict.get, records, itertools.repeat(definition["FeatureName"])))
    kind = arrow_type(definition)
    if not definition.get("CollectionType"):
        try:
            strings = pa.array(values, type=pa.string())
            return strings if kind == pa.string() else strings.cast(kind)
        except pa.ArrowException:
            pass
    return pa.array(_python_column(values, definition), type=kind)


def offline_table(
    rows: list[OfflineRow], definitions: list[dict[str, Any]], write_time: float
) -> pa.Table:
    """``rows`` as a table: a column per feature (NULL where a row has no value), then
    ``write_time``, ``api_invocation_time`` (ms, UTC) and ``is_deleted`` (C-065)."""
    records = list(map(_VALUES, rows))
    arrays = [_column(records, definition) for definition in definitions]
    names = [definition["FeatureName"].lower() for definition in definitions]
    count = len(rows)
    seconds = np.fromiter(map(_INVOKED, rows), np.float64, count)
    invoked = (seconds * 1000).astype(np.int64)  # truncates as int() does
    written = np.maximum(invoked, int(write_time * 1000))
    deleted = np.fromiter(map(_DELETED, rows), np.bool_, count)
    arrays += [
        pa.array(written, type=TIMESTAMP),
        pa.array(invoked, type=TIMESTAMP),
        pa.array(deleted, type=pa.bool_()),
    ]
    names += ["write_time", "api_invocation_time", "is_deleted"]
    return pa.Table.from_arrays(arrays, names=names)


def parquet_bytes(table: pa.Table) -> bytes:
    """A Parquet file of ``table``: snappy, with dictionaries for string columns only (where
    values repeat; for numbers they cost a third of the write and rarely pay)."""
    strings = [field.name for field in table.schema if pa.types.is_string(field.type)]
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy", use_dictionary=strings)
    return sink.getvalue()


def parquet_file(
    rows: list[OfflineRow], definitions: list[dict[str, Any]], write_time: float
) -> bytes:
    """One Parquet file of ``rows`` (see ``offline_table``)."""
    return parquet_bytes(offline_table(rows, definitions, write_time))


def write(
    state: FeatureStoreState, group: FeatureGroup, rows: list[OfflineRow], now: float
) -> None:
    """Store ``rows`` in the Glue-format layout: a few files per hour partition (C-061, C-063)."""
    bucket, prefix = split_s3_uri(glue_tables.location_of(group))
    account, region = state.account_id, state.region_name
    table = offline_table(rows, group.definitions, now)
    event_times = np.fromiter(map(_EVENT_TIME, rows), np.float64, len(rows))
    identifier = [d["FeatureName"] for d in group.definitions].index(group.record_identifier)
    files = file_rows(event_hours(event_times), table.column(identifier).combine_chunks())
    # One take puts every file's rows together; each file is then a slice (no copy).
    in_file_order = table.take(pa.array(np.concatenate([members for _, members in files])))
    sse = encryption.offline_object_key(state, group)  # C-191: None for the bucket's default
    start = 0
    for hour, members in files:
        name = file_name(float(event_times[members].max()))
        path = partition_path(hour * 3600)
        key = f"{prefix}/{path}/{name}" if prefix else f"{path}/{name}"
        part = in_file_order.slice(start, len(members))
        start += len(members)
        body = parquet_bytes(part)
        stored = moto_seam.s3_put(account, region, bucket, key, body, kms_key_id=sse)
        parsed_files.put(
            parsed_files.file_key(account, region, bucket, key, stored.etag),
            part,
            len(body),
            stored,
        )


FILES_PER_PARTITION = 4  # at most this many files per hour partition and batch (C-061)


def event_hours(event_times: np.ndarray) -> np.ndarray:
    """C-063: the hour (since the epoch) of each event time, the partition it goes to."""
    # Times beyond +-1e13 s are all past what a datetime holds; utc() clamps them alike.
    return np.floor(np.clip(event_times, -1e13, 1e13) / 3600).astype(np.int64)


def file_rows(hours: np.ndarray, record_ids: pa.Array) -> list[tuple[int, Any]]:
    """A batch's files as (hour, row indices): up to ``FILES_PER_PARTITION`` an hour (C-061).

    AWS spreads even a small ingest over several objects (README, C-061), so within an hour
    partition the distinct record identifiers are dealt in turn, in the order they first
    arrived, to that many files: k records make min(k, FILES_PER_PARTITION) files, and every
    row of one record stays in one file, in the order it was accepted.
    """
    order = np.argsort(hours, kind="stable")
    starts = np.flatnonzero(np.diff(hours[order])) + 1
    files: list[tuple[int, Any]] = []
    for members in np.split(order, starts):
        if len(members) == 0:
            continue
        # dictionary_encode numbers values in the order they first appear.
        ids = pc.dictionary_encode(record_ids.take(pa.array(members)), null_encoding="encode")
        slots = ids.indices.to_numpy(zero_copy_only=False) % FILES_PER_PARTITION
        by_slot = np.argsort(slots, kind="stable")
        bounds = np.flatnonzero(np.diff(slots[by_slot])) + 1
        hour = int(hours[members[0]])
        files += [(hour, members[part]) for part in np.split(by_slot, bounds)]
    return files
