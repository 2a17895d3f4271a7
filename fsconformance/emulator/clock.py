"""The emulated clock: what is due happens on the next request, in every account and region.

Finished creations and updates take effect (C-010, C-054), the Glue tables follow the groups
(C-080), expired records leave the online store for the offline one (C-180), and offline
rows past their lag reach S3 (C-060). ``flush_all`` is the explicit
"write everything now" that the mock's stop, the server's shutdown and users call.
"""

from __future__ import annotations

import time
from typing import Any

from . import moto_seam
from .offline import formats, glue_tables
from .offline.replication import flush_state, release_deleted
from .state import FeatureStoreState, all_states


def _iceberg() -> Any:
    from .offline import iceberg  # loaded by formats.load_writers once a group needs it

    return iceberg


def tick(now: float | None = None) -> None:
    """The emulator's clock: apply what is due in every account and region (every request).

    Rows of groups being deleted are written first, as the group is about to go away; then
    finished updates reach the Glue table (C-054) and due rows reach S3 (C-060). Last, moto
    forgets the objects deleted meanwhile (amortised, see ``moto_seam``).
    """
    now = time.time() if now is None else now
    for state in all_states():
        with state.lock:
            iceberg = formats.load_writers(state)
            deleting = [g for g in state.control_plane.groups() if g.deleted_at is not None]
            if deleting:
                flush_state(state, now, force=True, groups=deleting)
            state.control_plane.advance(now)
            state.data_plane.expire_due(now)  # C-180: expiry needs no read of the record
            if deleting:
                release_deleted(state)  # the deleted groups' rows were written just above
            glue_tables.sync(state)
            if iceberg:
                _iceberg().sync_all(state)
            flush_state(state, now)
    # What was deleted (an S3 key, a Glue table) leaves moto's instance tracker, so memory is
    # given back.
    moto_seam.release_forgotten_models()


def flush_now(state: FeatureStoreState, now: float | None = None) -> int:
    """Write every accepted row of ``state`` and bring its Glue tables up to date (the
    explicit flush). Takes ``state.lock`` (re-entrant)."""
    now = time.time() if now is None else now
    with state.lock:
        iceberg = formats.load_writers(state)
        state.data_plane.expire_due(now)
        written = flush_state(state, now, force=True)
        state.control_plane.advance(now)
        glue_tables.sync(state)
        if iceberg:
            _iceberg().sync_all(state)
    return written


def flush_all(now: float | None = None) -> int:
    """Write every accepted row now, in every account and region (on stop).

    The states are flushed one after another, never holding two locks at once.
    """
    return sum(flush_now(state, now) for state in all_states())
