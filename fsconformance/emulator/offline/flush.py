"""Offline rows reach S3 through the writer their group's table format names (C-060, C-064).

Replication is eventual: a row is written on the first request that arrives ``Delays.offline``
seconds or more after it was accepted (queries do not hasten it, C-060), and at once before a
group is deleted, before the mock stops, and on an explicit flush. Rows leave the buffer only
after their files are stored, so nothing accepted is ever lost; without the bucket the
offline store is Blocked and the rows wait, as on AWS.

Glue's hourly Parquet layout is ``replication``'s. The Iceberg format, a table with a layout
and a catalog registration of its own, is ``offline/iceberg.py``'s, imported only once a
group is an Iceberg table: pyiceberg takes half a second of a process's start. This is the
one place that chooses, for writing, for keeping tables in the catalog and for reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from ...model.control_plane import FeatureGroup
from ...model.errors import ServiceError
from ...model.records import OfflineRow
from .. import moto_seam
from ..state import FeatureStoreState
from . import glue_tables, replication
from .progress import progress

ICEBERG = "Iceberg"
Writer = Callable[[FeatureStoreState, FeatureGroup, list[OfflineRow], float], None]


def own_layout(group: FeatureGroup) -> bool:
    """Whether the group's table format lays out and registers its table itself (C-179)."""
    return (group.offline or {}).get("TableFormat") == ICEBERG


def writer_for(group: FeatureGroup) -> Writer:
    """The writer of a batch of the group's rows, by its table format."""
    if own_layout(group):
        from . import iceberg

        return iceberg.write_rows
    return replication.write


def reader_for(
    table_input: dict[str, Any],
) -> Callable[[str, str, dict[str, Any]], pa.Table] | None:
    """How Athena reads a Glue table whose format has a layout of its own (its current
    snapshot, for Iceberg: C-179); ``None`` for files under the table's location."""
    if (table_input.get("Parameters") or {}).get("table_type", "").upper() == ICEBERG.upper():
        from . import iceberg

        return iceberg.read_table
    return None


def sync_tables(state: FeatureStoreState) -> None:
    """Bring every live group's table in the catalog in line with its features (C-054, C-080):
    Glue's tables here, an own layout's through its writer. Call with ``state.lock``."""
    groups = state.control_plane.groups()
    glue_tables.sync(state, [g for g in groups if not own_layout(g)])
    own = [g for g in groups if own_layout(g) and g.deleted_at is None]
    if own:
        from . import iceberg

        iceberg.sync_all(state, own)


def _write(
    state: FeatureStoreState, group: FeatureGroup, rows: list[OfflineRow], now: float
) -> bool:
    """Store ``rows`` with the group's writer; False (nothing written) while its bucket is
    missing, which Blocks the offline store until it exists."""
    bucket, _ = replication.split_s3_uri(glue_tables.location_of(group))
    if not moto_seam.s3_bucket_exists(state.account_id, state.region_name, bucket):
        group.offline_blocked_reason = (
            f"The offline store cannot write to s3://{bucket}: the bucket does not exist or "
            "is not accessible. Rows accepted meanwhile are kept and written once it is."
        )
        return False
    group.offline_blocked_reason = None
    writer_for(group)(state, group, rows, now)
    return True


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
        rows = state.data_plane.data_for(group).offline
        end = len(rows)
        cutoff = math.inf if force else due_before(now, lag)
        if cutoff != math.inf:
            end = 0
            while end < len(rows) and rows[end].api_invocation_time < cutoff:
                end += 1
        if end and _write(state, group, rows[:end], now):
            del rows[:end]  # written rows leave memory; the rest of the buffer moves up
            written += end
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
