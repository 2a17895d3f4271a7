"""Replication of offline rows to Parquet files in moto's S3 (C-060-C-065, C-067, C-102).

The data-plane model appends an ``OfflineRow`` for every put or delete that targets the
offline store. This module writes those rows, exactly once each, as Parquet files under the
group's ``ResolvedOutputS3Uri`` in the Glue-format layout of C-063::

    <ResolvedOutputS3Uri>/year=YYYY/month=MM/day=DD/hour=HH/<yyyyMMddTHHmmssZ>_<16 chars>.parquet

Replication is eventual: a row is written on the first request that arrives
``Delays.offline`` seconds or more after it was accepted, and at once before an Athena query
runs, before a group is deleted, and before the mock stops. A row is marked written only
after its file is stored, so nothing accepted is ever lost.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import secrets
import string
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ...model.control_plane import FeatureGroup
from ...model.errors import ServiceError
from ...model.records import OfflineRow
from .. import moto_seam
from ..state import FeatureStoreState
from . import glue_tables
from .progress import progress

ARROW_TYPES = {"Integral": pa.int64(), "Fractional": pa.float64(), "String": pa.string()}
TIMESTAMP = pa.timestamp("ms", tz="UTC")
_ALPHANUMERICS = string.ascii_letters + string.digits
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix without a trailing slash)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
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
    suffix = "".join(secrets.choice(_ALPHANUMERICS) for _ in range(16))
    return f"{stamp}_{suffix}.parquet"


def arrow_type(definition: dict[str, Any]) -> pa.DataType:
    """C-066: Integral -> int64, Fractional -> double, String -> string (lists for collections)."""
    scalar = ARROW_TYPES[definition["FeatureType"]]
    return pa.list_(scalar) if definition.get("CollectionType") else scalar


_CONVERSIONS: dict[str, Callable[[str], Any]] = {"Integral": int, "Fractional": float}


def _column(rows: list[OfflineRow], definition: dict[str, Any]) -> list[Any]:
    """One feature's values in Python types, None where a row has none (one pass a column)."""
    name = definition["FeatureName"]
    values = [row.values.get(name) for row in rows]
    convert = _CONVERSIONS.get(definition["FeatureType"])
    if convert is None:
        return values
    if definition.get("CollectionType"):
        return [None if v is None else [convert(item) for item in v] for v in values]
    return [None if v is None else convert(v) for v in values]


def parquet_file(
    rows: list[OfflineRow], definitions: list[dict[str, Any]], write_time: float
) -> bytes:
    """One Parquet file of ``rows``: a column per feature (NULL where a row has no value),
    then ``write_time``, ``api_invocation_time`` (ms, UTC) and ``is_deleted`` (C-065)."""
    arrays: list[pa.Array] = []
    names: list[str] = []
    for definition in definitions:
        arrays.append(pa.array(_column(rows, definition), type=arrow_type(definition)))
        names.append(definition["FeatureName"].lower())
    invoked = [int(row.api_invocation_time * 1000) for row in rows]
    written = [max(int(write_time * 1000), ms) for ms in invoked]
    arrays += [
        pa.array(written, type=TIMESTAMP),
        pa.array(invoked, type=TIMESTAMP),
        pa.array([row.is_deleted for row in rows], type=pa.bool_()),
    ]
    names += ["write_time", "api_invocation_time", "is_deleted"]
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=names), sink, compression="snappy")
    return sink.getvalue()


# TableFormat -> the writer of a batch for formats other than Glue's hourly Parquet layout;
# offline/iceberg.py registers "Iceberg" (it builds on this module, so it cannot be imported).
TableFormatWriter = Callable[[FeatureStoreState, FeatureGroup, list[OfflineRow], float], None]
TABLE_FORMAT_WRITERS: dict[str, TableFormatWriter] = {}


def _write(
    state: FeatureStoreState, group: FeatureGroup, rows: list[OfflineRow], now: float
) -> bool:
    """Store ``rows``, a few files per hour partition; False (nothing marked) if impossible."""
    bucket, prefix = split_s3_uri(glue_tables.location_of(group))
    account, region = state.account_id, state.region_name
    if not moto_seam.s3_bucket_exists(account, region, bucket):
        # The offline store is Blocked (as on AWS) and the rows wait until the bucket exists.
        group.offline_blocked_reason = (
            f"The offline store cannot write to s3://{bucket}: the bucket does not exist or "
            "is not accessible. Rows accepted meanwhile are kept and written once it is."
        )
        return False
    group.offline_blocked_reason = None
    writer = TABLE_FORMAT_WRITERS.get(group.offline.get("TableFormat", "Glue"))
    if writer is not None:
        writer(state, group, rows, now)  # C-064: a table format with a layout of its own
        return True
    partitions: dict[str, list[OfflineRow]] = {}
    for row in rows:
        partitions.setdefault(partition_path(row.event_time), []).append(row)
    for path, in_partition in partitions.items():
        for members in split_by_record(in_partition, group.record_identifier):
            latest = max(row.event_time for row in members)
            name = file_name(latest)
            key = f"{prefix}/{path}/{name}" if prefix else f"{path}/{name}"
            body = parquet_file(members, group.definitions, now)
            moto_seam.s3_put(account, region, bucket, key, body)
    return True


FILES_PER_PARTITION = 4  # at most this many files per hour partition and batch (C-061)


def split_by_record(rows: list[OfflineRow], identifier: str) -> list[list[OfflineRow]]:
    """One partition's rows of a batch as up to ``FILES_PER_PARTITION`` files (C-061).

    AWS spreads even a small ingest over several objects (README, C-061), so the batch's
    distinct record identifiers are dealt in turn, in the order they first arrived, to that
    many files: k records make min(k, FILES_PER_PARTITION) files, and every row of one record
    stays in one file, in the order it was accepted.
    """
    slot_of: dict[Any, int] = {}
    files: list[list[OfflineRow]] = []
    for row in rows:
        record = row.values.get(identifier)
        slot = slot_of.setdefault(record, len(slot_of) % FILES_PER_PARTITION)
        if slot == len(files):
            files.append([])
        files[slot].append(row)
    return files


def due_before(now: float, lag: float) -> float:
    """Rows accepted before this time are due at ``now``.

    Rows are buffered in windows of ``lag`` seconds and a window is written once it has
    been closed for ``lag`` seconds, so every row waits between ``lag`` and ``2 * lag`` and a
    group gets at most one batch of files per window (C-060: "buffered, batched").
    """
    if lag <= 0:
        return math.inf
    return (math.floor(now / lag) - 1) * lag


def flush_state(
    state: FeatureStoreState,
    now: float,
    *,
    force: bool = False,
    groups: Iterable[FeatureGroup] | None = None,
) -> int:
    """Write the rows of ``state`` that are due at ``now`` (all of them if ``force``).

    Call with ``state.lock`` held. Returns the number of rows written.
    """
    lag = state.control_plane.delays.offline
    written = 0
    for group in list(groups if groups is not None else state.control_plane.groups()):
        if group.offline is None:
            continue
        key = (group.arn, group.created)
        start = progress(state).flushed.get(key, 0)
        rows = state.data_plane.data_for(group).offline
        end = len(rows)
        cutoff = math.inf if force else due_before(now, lag)
        if cutoff != math.inf:
            end = start
            while end < len(rows) and rows[end].api_invocation_time < cutoff:
                end += 1
        if end > start and _write(state, group, rows[start:end], now):
            # Written rows leave memory; the rest of the buffer moves up.
            del rows[:end]
            progress(state).flushed.pop(key, None)
            written += end - start
    return written


def release_deleted(state: FeatureStoreState) -> None:
    """Give back the memory of deleted groups (their rows are in S3 by now, C-084)."""
    for key in state.data_plane.release_deleted():
        progress(state).glue_synced.pop(key, None)


def flush_group(state: FeatureStoreState, name_or_arn: str, now: float) -> int:
    """Write every pending row of one group now (before it is deleted); 0 if no such group."""
    try:
        group = state.control_plane.find(name_or_arn)
    except ServiceError:
        return 0
    return flush_state(state, now, force=True, groups=[group])
